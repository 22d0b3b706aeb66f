"""Chunked generation of a large portfolio to Parquet for the scale harness (issue 19).

``make_portfolio`` draws a whole portfolio in memory; at a million customers that is tens of
millions of lines. Here the portfolio is drawn in chunks of ``chunk`` customers (each with its
own seed), the ids are renumbered so they are unique across chunks, and each chunk is appended
to one Parquet file as a row group: memory stays at one chunk.

The files are cached under ``bench/.data/<size>-<n>-s<seed>/`` (git-ignored) with a
``meta.json`` holding the sizes and what generation cost.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: The generator's end date: the explicit ``as_of`` of every stage.
AS_OF = "2024-12-31"


def _renumber(col: pd.Series, fmt: str, offset: int = 0) -> pd.Series:
    """Give the distinct values of ``col`` new ids ``fmt.format(offset + rank)`` (order kept)."""
    codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
    new = np.array([fmt.format(offset + i + 1) for i in range(len(uniques))] + [None],
                   dtype=object)
    return pd.Series(new[codes], index=col.index, dtype=col.dtype)


def generate(folder: Path, n_customers: int, *, seed: int = 0, chunk: int = 50_000,
             log=print) -> dict:
    """Write ``transactions.parquet`` and ``customers.parquet`` into ``folder`` (cached).

    Returns the meta dict (``n_customers``, ``n_lines``, ``seconds``, ``peak_rss_mb``).
    """
    from segml.datasets import make_portfolio

    meta_path = folder / "meta.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    width = len(str(n_customers))
    writers: dict[str, pq.ParquetWriter] = {}
    n_lines = 0
    done = 0
    part = 0
    tmp = {name: folder / f".{name}.parquet.tmp" for name in ("transactions", "customers")}
    try:
        while done < n_customers:
            m = min(chunk, n_customers - done)
            pf = make_portfolio(m, random_state=seed * 100_003 + part)
            cust, tx = pf.customers, pf.transactions
            ids = pd.concat([cust["customer_id"], tx["customer_id"]], ignore_index=True)
            new_ids = _renumber(ids, f"C{{:0{width}d}}", done)
            cust = cust.assign(customer_id=new_ids.iloc[:len(cust)].to_numpy())
            tx = tx.assign(customer_id=new_ids.iloc[len(cust):].to_numpy())
            if "order_id" in tx.columns:
                tx = tx.assign(order_id=_renumber(tx["order_id"], f"O{part:04d}-{{:07d}}"))
            for name, frame in (("transactions", tx), ("customers", cust)):
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(tmp[name], table.schema,
                                                     compression="zstd")
                writers[name].write_table(table.cast(writers[name].schema))
            n_lines += len(tx)
            done += m
            part += 1
            log(f"  generated {done:,}/{n_customers:,} customers, {n_lines:,} lines "
                f"({time.perf_counter() - t0:.0f} s)")
            del pf, tx, cust, ids, new_ids
    finally:
        for w in writers.values():
            w.close()
    for name, p in tmp.items():
        p.rename(folder / f"{name}.parquet")
    meta = {
        "n_customers": n_customers, "n_lines": n_lines, "seed": seed, "chunk": chunk,
        "as_of": AS_OF, "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "bytes": {n: (folder / f"{n}.parquet").stat().st_size
                  for n in ("transactions", "customers")},
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta
