"""The forecast-deciles baseline: deciles of the BG/NBD x Gamma-Gamma spend forecast fitted on
the rows up to the cutoff, by name in backtest() and the CLI, frozen mode, no leakage."""

import numpy as np
import pandas as pd
import pytest
from backtest_data import tiny_transactions

from segml.backtest import ForecastDeciles, backtest
from segml.cli import main
from segml.errors import ConfigError, NotFittedError
from segml.value import ForwardValuePredictor

CUTS = ["2024-03-31", "2024-06-30"]


def _past(tx, c):
    return tx[tx["timestamp"] < pd.Timestamp(c) + pd.Timedelta(days=1)]


def _tiers(pred, tx, c, edges):
    s = pred.predict(_past(tx, c), None, c)
    t = len(edges) + 1 - np.searchsorted(edges, s.to_numpy(), side="right")
    return pd.Series([f"f{i:02d}" for i in t], index=s.index, dtype=object).sort_index()


@pytest.fixture(scope="module")
def res(tx):
    return backtest(tx, cutoffs=CUTS, horizon="3M", segmenters=["forecast_deciles"], n_boot=0)


def test_labels_are_deciles_of_the_forecast_as_of_the_cutoff(tx, res):
    for c in res.cutoffs:
        pred = ForwardValuePredictor(time_unit="W", horizon=13, target="spend").fit(
            _past(tx, c), None, c)
        s = pred.predict(_past(tx, c), None, c)
        edges = np.unique(np.quantile(s.to_numpy(), np.linspace(0, 1, 11))[1:-1])
        got = res.assignments["forecast_deciles"][c].dropna().sort_index()
        pd.testing.assert_series_equal(got, _tiers(pred, tx, c, edges), check_names=False)
        # f01 holds the highest forecasts
        assert s[got.index[got == "f01"]].min() >= s[got.index[got != "f01"]].max()
    assert res.n_segments.loc["forecast_deciles"].tolist() == [10, 10]


def test_frozen_mode_applies_the_first_cutoff_forecast(tx):
    fz = backtest(tx, cutoffs=CUTS, horizon="3M", segmenters=["forecast_deciles"],
                  mode="frozen", n_boot=0)
    c0, c1 = fz.cutoffs
    pred = ForwardValuePredictor(time_unit="W", horizon=13, target="spend").fit(
        _past(tx, c0), None, c0)
    s0 = pred.predict(_past(tx, c0), None, c0)
    edges = np.unique(np.quantile(s0.to_numpy(), np.linspace(0, 1, 11))[1:-1])
    got = fz.assignments["forecast_deciles"][c1].dropna().sort_index()
    pd.testing.assert_series_equal(got, _tiers(pred, tx, c1, edges), check_names=False)


def test_rows_after_the_cutoff_change_nothing(tx, res):
    late = tx.copy()
    after = late["timestamp"] >= pd.Timestamp(CUTS[0]) + pd.Timedelta(days=1)
    late.loc[after, "amount"] *= 7.0
    late = pd.concat([late, pd.DataFrame({
        "customer_id": ["c001", "zz"], "amount": [500.0, 80.0],
        "timestamp": pd.to_datetime(["2024-04-02 10:00", "2024-04-03 11:00"])})],
        ignore_index=True)
    b = backtest(late, cutoffs=CUTS[:1], horizon="3M", segmenters=["forecast_deciles"],
                 n_boot=0)
    pd.testing.assert_series_equal(b.assignments["forecast_deciles"].iloc[:, 0],
                                   res.assignments["forecast_deciles"].iloc[:, 0].dropna())


def test_errors():
    frame = pd.DataFrame(index=pd.Index(["a", "b"], name="customer_id"))
    with pytest.raises(ConfigError, match=r"ForecastDeciles needs the transactions.*Fix: call "
                                          r"set_history"):
        ForecastDeciles().fit(frame)
    with pytest.raises(NotFittedError, match=r"ForecastDeciles is not fitted yet. Fix"):
        ForecastDeciles().predict(frame)
    tx = tiny_transactions()
    past = _past(tx, CUTS[0])
    frame = pd.DataFrame(index=pd.Index(sorted(past["customer_id"].unique()), name="customer_id"))
    fd = ForecastDeciles().set_history(past, None, CUTS[0]).fit(frame)
    assert fd.predict(frame).notna().all()
    with pytest.raises(ConfigError, match=r"needs the transactions"):  # released by predict
        fd.predict(frame)
    with pytest.raises(ConfigError, match=r"n_tiers=1 should be an integer >= 2. Fix"):
        ForecastDeciles(n_tiers=1).set_history(_past(tx, CUTS[0]), None, CUTS[0]).fit(frame)


def test_cli_by_name(tmp_path, capsys):
    path = tmp_path / "tx.csv"
    tx = tiny_transactions()
    tx.assign(timestamp=tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path,
                                                                                   index=False)
    args = ["backtest", "--transactions", str(path), "--cutoffs", ",".join(CUTS), "--horizon",
            "3M", "--segmenters", "abc,forecast_deciles", "--n-boot", "3", "--n-folds", "3",
            "--out", str(tmp_path / "bt")]
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "forecast_deciles" in shown and "other 2 of 3 folds" in shown
    overall = pd.read_csv(tmp_path / "bt" / "overall.csv")
    assert {"abc", "forecast_deciles", "none", "recency_deciles"} == set(overall["name"])
    page = (tmp_path / "bt" / "backtest.html").read_text(encoding="utf-8")
    assert "cross-fitted over 3 folds" in page and "Segments per cutoff (k)" in page
    assert main([*args[:-2], "--n-folds", "0", "--out", str(tmp_path / "bt2")]) == 2
    assert "n_folds=0 should be an integer >= 1" in capsys.readouterr().err
