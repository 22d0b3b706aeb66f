"""Monte Carlo table of the dip of Uniform(0, 1) samples, for ``segml.cluster.dip.dip_pvalue``.

For each sample size ``n`` in :data:`SIZES` the script draws ``draws(n)`` samples of ``n``
Uniform(0, 1) values (``numpy.random.default_rng``, one child of ``SeedSequence(SEED)`` per
``n``, so a row does not depend on the others), computes their dip with segml's own
:func:`segml.cluster.dip.dip_statistic`, and prints the empirical quantiles at :data:`PROBS`
(``numpy.quantile``, linear) as the Python constants ``DIP_TABLE_N``, ``DIP_TABLE_P`` and
``DIP_TABLE_Q`` that ``segml/cluster/dip.py`` holds between its ``BEGIN/END GENERATED TABLE``
markers. The uniform is the least favourable unimodal null of Hartigan & Hartigan (1985), so the
p-value read in this table is conservative for any other unimodal distribution. Beyond the
largest ``n`` the p-value reads the last row at ``sqrt(n) * dip`` (``sqrt(n) * dip`` converges
in distribution).

Monte Carlo error. ``draws(n)`` is 20,000 up to n = 1,000, 10,000 at 2,000, 5,000 at 5,000 and
4,000 at 10,000 (about 2-3 CPU minutes in all on the build box). The standard error of the
empirical 0.95 quantile, in probability, is ``sqrt(0.95 * 0.05 / draws)``: 0.0015 at 20,000
draws, 0.0035 at 4,000. The script also prints, per ``n``, the distribution-free 95% interval of
the 0.95 quantile (order statistics ``N p +- 1.96 sqrt(N p (1 - p))``) relative to it.

Usage (from the repository root)::

    PYTHONPATH=. python bench/dip_table.py              # print the table and the MC errors
    PYTHONPATH=. python bench/dip_table.py --paste      # also rewrite the table in dip.py
    PYTHONPATH=. python bench/dip_table.py --sizes 4 5 --scale 0.01   # a quick smoke run
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from segml.cluster.dip import dip_statistic

SEED = 20261201
SIZES: tuple[int, ...] = (*range(4, 21), 30, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
PROBS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                            0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 1.0)
DIP_MODULE = Path(__file__).resolve().parents[1] / "segml" / "cluster" / "dip.py"


def draws(n: int) -> int:
    """Number of Monte Carlo samples at size ``n`` (fewer for the costly large n)."""
    if n <= 1000:
        return 20_000
    if n <= 2000:
        return 10_000
    if n <= 5000:
        return 5_000
    return 4_000


def simulate(n: int, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Dips of ``n_draws`` samples of ``n`` Uniform(0, 1) values."""
    return np.array([dip_statistic(rng.uniform(size=n)) for _ in range(n_draws)])


def quantile_ci(dips: np.ndarray, p: float) -> tuple[float, float]:
    """Distribution-free 95% interval of the ``p`` quantile from the order statistics."""
    s = np.sort(dips)
    m = s.size
    half = 1.96 * np.sqrt(m * p * (1 - p))
    lo = int(max(0, np.floor(m * p - half)))
    hi = int(min(m - 1, np.ceil(m * p + half)))
    return float(s[lo]), float(s[hi])


def render(sizes: list[int], n_draws: list[int], rows: list[np.ndarray],
           notes: list[str]) -> str:
    """The constants as Python source, with the generation notes as comments."""
    pairs = ", ".join(f"{n}:{d}" for n, d in zip(sizes, n_draws, strict=True))
    out = textwrap.wrap(f"seed {SEED}; draws per n: {pairs}", width=96,
                        initial_indent="# ", subsequent_indent="# ")
    out += [f"# {line}" for line in notes]
    out.append("DIP_TABLE_N: tuple[int, ...] = (")
    out += textwrap.wrap(", ".join(str(n) for n in sizes) + ",", width=96,
                         initial_indent="    ", subsequent_indent="    ")
    out.append(")")
    out.append("DIP_TABLE_P: tuple[float, ...] = (")
    for i in range(0, len(PROBS), 10):
        out.append("    " + ", ".join(repr(p) for p in PROBS[i:i + 10]) + ",")
    out.append(")")
    out.append("DIP_TABLE_Q: tuple[tuple[float, ...], ...] = (")
    for n, row in zip(sizes, rows, strict=True):
        out.append(f"    (  # n={n}")
        for i in range(0, len(row), 7):
            out.append("        " + ", ".join(f"{v:.6g}" for v in row[i:i + 7]) + ",")
        out.append("    ),")
    out.append(")")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the simulation, print the table, optionally paste it into ``dip.py``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply the draws per n (a smoke run: 0.01)")
    ap.add_argument("--paste", action="store_true",
                    help="rewrite the generated table in segml/cluster/dip.py")
    args = ap.parse_args(argv)
    children = np.random.SeedSequence(SEED).spawn(len(SIZES))
    seeds = dict(zip(SIZES, children, strict=True))
    rows, notes, used = [], [], []
    t_all = time.process_time()
    for n in args.sizes:
        n_draws = max(10, int(draws(n) * args.scale))
        used.append(n_draws)
        rng = np.random.default_rng(seeds.get(n, np.random.SeedSequence([SEED, n])))
        t0 = time.process_time()
        dips = simulate(n, n_draws, rng)
        cpu = time.process_time() - t0
        row = np.quantile(dips, PROBS)
        lo, hi = quantile_ci(dips, 0.95)
        q95 = float(np.quantile(dips, 0.95))
        notes.append(f"n={n}: q95={q95:.5g}, 95% CI [{lo:.5g}, {hi:.5g}] "
                     f"({100 * (hi - lo) / 2 / q95:.2f}% half-width), {cpu:.1f} CPU s")
        print(notes[-1], file=sys.stderr, flush=True)
        rows.append(row)
    notes.append(f"total {time.process_time() - t_all:.0f} CPU s")
    text = render(list(args.sizes), used, rows, notes)
    print(text)
    if args.paste:
        src = DIP_MODULE.read_text()
        new, k = re.subn(r"(# BEGIN GENERATED TABLE\n).*?(# END GENERATED TABLE)",
                         lambda m: m.group(1) + text + "\n" + m.group(2), src, flags=re.S)
        if k != 1:
            raise SystemExit(f"{DIP_MODULE}: the GENERATED TABLE markers were not found once")
        DIP_MODULE.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
