"""``segml run --loader mall_customers`` (issue 15): income x spending score, the textbook k=5."""

import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segml.cli import main


@pytest.mark.slow
def test_mall_run_recovers_the_textbook_five_segments(shared_data, tmp_path, monkeypatch,
                                                      capsys):
    raw = pd.read_csv(shared_data / "Mall_Customers.csv", dtype={"CustomerID": str})
    # the textbook answer: k-means, k=5, on standardised income x spending score
    z = StandardScaler().fit_transform(
        raw[["Annual Income (k$)", "Spending Score (1-100)"]].to_numpy(dtype=float))
    textbook = pd.Series(KMeans(5, n_init=100, random_state=0).fit_predict(z),
                         index=raw["CustomerID"])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text("[segmentation]\nalgorithms = ['kmeans']\n"
                                     "stability = false\n")
    code = main(["run", "--config", "c.toml", "--loader", "mall_customers", "--path",
                 str(shared_data / "Mall_Customers.csv"), "--k", "5", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    # no dates in the file: as_of only names the run
    seg = pd.read_csv(tmp_path / "reports" / "mall_customers-20000101" / "segments.csv",
                      dtype={"customer_id": str}).set_index("customer_id")
    assert len(seg) == 200 and (seg["segment_id"] >= 0).all()
    assert adjusted_rand_score(textbook.loc[seg.index], seg["segment_id"]) == 1.0
    assert sorted(seg["segment_id"].value_counts().tolist()) == [22, 23, 35, 39, 81]
    # both columns drive the split; age and gender only describe it
    assert "drivers (share of between-segment SS): spending_score" in out
    assert "income" in out.split("drivers")[1].splitlines()[0]
    assert "age" not in out.split("drivers")[1].splitlines()[0]
