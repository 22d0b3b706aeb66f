"""Bench: segml's model-matrix preprocessor vs the plain scikit-learn ColumnTransformer.

Same run, same feature frame, each side in its own subprocess (peak RSS from
``resource.getrusage`` in the child). The frame is ``build_features`` on a
``segml.datasets.make_portfolio`` portfolio (every family of the contract), written once to
Parquet with the default ``FeatureSpec`` as TOML.

- **segml**: ``make_preprocessor(spec, frame).fit_transform(frame)`` -- per family, one block
  per transform (signed log, robust, winsor, Yeo-Johnson, rare-grouped one-hot, ordinal codes,
  frequency encoding, median imputation with indicators) and a ``FamilyWeight``.
- **plain**: the usual hand-written ColumnTransformer over the same columns: numeric ->
  ``SimpleImputer(median, add_indicator) + StandardScaler``, text ->
  ``OneHotEncoder(min_frequency=0.01, handle_unknown="infrequent_if_exist")``; no family weights.

Both report wall time of ``fit_transform``, rows/s, peak RSS, the output width and the share of
the expected squared distance (sum of column variances) that each family gets -- the thing the
family weights are for. A third child times ``build_features`` itself (transactions +
customers from Parquet -> feature frame) for the record; its plain-pandas RFM comparison is in
``bench/bench_features.py``.

Usage::

    .venv/bin/python bench/bench_build.py                     # 20k customers, ~1 min
    .venv/bin/python bench/bench_build.py --customers 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _frame_and_spec(folder: str) -> tuple:
    """The feature frame and spec both preprocessor sides read (written once by the parent)."""
    import pandas as pd

    from segml.features import FeatureSpec

    return pd.read_parquet(Path(folder) / "frame.parquet"), FeatureSpec.from_toml(
        Path(folder) / "spec.toml"
    )


def _family_shares(X, spec) -> dict[str, float]:
    var = X.var(ddof=0)
    total = float(var.sum())
    shares: dict[str, float] = {}
    for col, v in var.items():
        fam = None
        for name, f in spec.families.items():
            for src in f.columns:
                if col == src or col.startswith(src + "_") or col == f"missingindicator_{src}":
                    fam = name
                    break
            if fam:
                break
        shares[fam or "?"] = shares.get(fam or "?", 0.0) + float(v)
    return {k: round(v / total, 3) for k, v in sorted(shares.items())} if total else {}


def child_segml(folder: str) -> dict:
    import numpy as np

    from segml.features import make_preprocessor

    frame, spec = _frame_and_spec(folder)
    t0 = time.perf_counter()
    X = make_preprocessor(spec, frame).fit_transform(frame)
    wall = time.perf_counter() - t0
    assert np.isfinite(X.to_numpy()).all()
    return {"wall_s": wall, "rows": len(frame), "width": X.shape[1],
            "shares": _family_shares(X, spec), "peak_rss_mb": _peak_rss_mb()}


def child_plain(folder: str) -> dict:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame, spec = _frame_and_spec(folder)
    cols = list(spec.columns())
    sub = frame[cols]
    text = [c for c in cols if sub[c].dtype.kind in "OTU" or str(sub[c].dtype) == "str"]
    num = [c for c in cols if c not in text]
    t0 = time.perf_counter()
    sub = sub.astype({c: "float64" for c in num})
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                keep_empty_features=True),
                                  StandardScaler()), num),
            ("cat", OneHotEncoder(min_frequency=0.01, handle_unknown="infrequent_if_exist",
                                  sparse_output=False), text),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    X = ct.fit_transform(sub.astype({c: object for c in text}).where(sub.notna(), None)
                         if text else sub)
    wall = time.perf_counter() - t0
    assert np.isfinite(X.to_numpy()).all()
    return {"wall_s": wall, "rows": len(frame), "width": X.shape[1],
            "shares": _family_shares(X, spec), "peak_rss_mb": _peak_rss_mb()}


def child_build(folder: str) -> dict:
    import pandas as pd

    from segml.features import build_features

    tx = pd.read_parquet(Path(folder) / "tx.parquet")
    cu = pd.read_parquet(Path(folder) / "customers.parquet")
    as_of = json.loads((Path(folder) / "meta.json").read_text())["as_of"]
    t0 = time.perf_counter()
    fs = build_features(tx, cu, as_of)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "rows": len(tx), "customers": len(fs.frame),
            "columns": fs.frame.shape[1], "peak_rss_mb": _peak_rss_mb()}


def child_prepare(folder: str) -> dict:
    import numpy as np
    import pandas as pd
    import sklearn

    from segml.datasets import make_portfolio
    from segml.features import build_features

    n = int((Path(folder) / "n.txt").read_text())
    t0 = time.perf_counter()
    p = make_portfolio(n, random_state=0)
    fs = build_features(p.transactions, p.customers, p.as_of)
    fs.frame.to_parquet(Path(folder) / "frame.parquet")
    fs.spec.to_toml(Path(folder) / "spec.toml")
    p.transactions.to_parquet(Path(folder) / "tx.parquet")
    p.customers.to_parquet(Path(folder) / "customers.parquet")
    (Path(folder) / "meta.json").write_text(json.dumps({"as_of": str(p.as_of)}))
    return {"wall_s": time.perf_counter() - t0, "tx_rows": len(p.transactions),
            "versions": f"numpy {np.__version__}, pandas {pd.__version__}, "
                        f"scikit-learn {sklearn.__version__}"}


CHILDREN = {
    "prepare": child_prepare,
    "segml": child_segml,
    "plain": child_plain,
    "build": child_build,
}


def _run_child(kind: str, folder: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, folder],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](args.child[1])))
        return

    # The parent stays small (stdlib only): on Linux ru_maxrss survives fork+exec, so a child
    # started from a big parent would report the parent's peak. Data are prepared in a child.
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "n.txt").write_text(str(args.customers))
        prep = _run_child("prepare", folder)
        print(f"data: {args.customers:,} customers, {prep['tx_rows']:,} transaction rows "
              f"(prepared in {prep['wall_s']:.1f} s)")
        print(prep["versions"])
        results = {kind: _run_child(kind, folder) for kind in ("segml", "plain", "build")}
    for kind in ("segml", "plain"):
        r = results[kind]
        print(f"{kind:6s} fit_transform {r['wall_s']:.2f} s  "
              f"{r['rows'] / r['wall_s']:,.0f} rows/s  "
              f"width {r['width']}  peak RSS {r['peak_rss_mb']:.0f} MiB")
        print(f"       variance share by family: {r['shares']}")
    b = results["build"]
    print(f"build_features {b['wall_s']:.2f} s  {b['rows'] / b['wall_s']:,.0f} tx rows/s  "
          f"{b['customers']:,} customers x {b['columns']} columns  "
          f"peak RSS {b['peak_rss_mb']:.0f} MiB")


if __name__ == "__main__":
    main()
