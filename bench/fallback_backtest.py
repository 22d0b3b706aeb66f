"""Issue 15: the two "no clear segments" partitions side by side in the backtest.

Usage::

    python bench/fallback_backtest.py cdnow 1997-06-30 1998-03-31 /tmp/ev/fallback-cdnow
    python bench/fallback_backtest.py complete_journey 2017-03-31 2017-09-30 /tmp/ev/fallback-cj

At every cutoff of the issue-15 backtests in bench/RESULTS.md the verdict was "no clear
segments", so segml's ``clusters`` there is its fallback partition. This skips the k sweep
(the expensive part) and backtests the two fallbacks directly: ``tiers`` is
:func:`segml.cluster.tiers.value_tiers` (``no_segments = "value_tiers"``) and
``rfm_fallback`` is :class:`segml.cluster.fallback.RuleGroupSegmenter`
(``no_segments = "rfm_groups"``), next to the ``rfm_groups`` rule set, ABC and the forecast
deciles. Writes ``summary.txt`` (with the load average and seconds) and the tables.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.base import BaseEstimator

from segml.backtest import backtest
from segml.cluster.fallback import RuleGroupSegmenter
from segml.cluster.tiers import value_tiers
from segml.config import validate_config
from segml.pipeline import load_data


class Tiers(BaseEstimator):
    """Three value tiers of monetary, refitted per cutoff (``no_segments = "value_tiers"``)."""

    def fit(self, X: pd.DataFrame, y: object = None) -> Tiers:
        """Fit the tiers on the cutoff's buyers."""
        self.seg_ = value_tiers(X, 3, random_state=0)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Tier of each row, as text."""
        return pd.Series(self.seg_.predict(X).astype(str), index=X.index, name="segment")


class RFMFallback(BaseEstimator):
    """The RFM groups as segmented by ``no_segments = "rfm_groups"`` (frame's own scores)."""

    def fit(self, X: pd.DataFrame, y: object = None) -> RFMFallback:
        """Fit the groups on the cutoff's buyers."""
        self.seg_ = RuleGroupSegmenter("rfm_groups").fit(X)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Group id of each row, as text."""
        return pd.Series(self.seg_.predict(X).astype(str), index=X.index, name="segment")


def main(loader: str, start: str, end: str, out: str) -> None:
    """Run the backtest and write the tables under ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    data = load_data(validate_config({"data": {"loader": loader}}), progress=lambda m: None)
    load0 = Path("/proc/loadavg").read_text().strip()
    t = time.perf_counter()
    segs = {"tiers": Tiers(), "rfm_fallback": RFMFallback(), "rfm_groups": "rfm_groups",
            "abc": "abc", "forecast_deciles": "forecast_deciles"}
    res = backtest(data.transactions, data.customers, cutoffs="quarterly", horizon="3M",
                   segmenters=segs, start=start, end=end, random_state=0,
                   progress=lambda m: print(time.strftime("%H:%M:%S"), m, flush=True))
    seconds = time.perf_counter() - t
    load1 = Path("/proc/loadavg").read_text().strip()
    text = res.summary()
    (folder / "summary.txt").write_text(
        f"load before: {load0}\nload after: {load1}\nseconds: {seconds:.0f}\n\n{text}\n")
    res.stability.to_csv(folder / "stability.csv", index=False)
    res.overall.to_csv(folder / "overall.csv", index=False)
    print(text)


if __name__ == "__main__":
    main(*sys.argv[1:5])
