"""Fixtures of the service tests: one small fitted model, saved; a real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

TOKEN = "test-token-7f3a"
ACTIONS = {0: "call within a week", 1: "monthly newsletter"}


@dataclass
class Fitted:
    model: Any
    portfolio: Any
    features: pd.DataFrame


def fit_model(name: str = "svc", k: int = 4, seed: int = 0) -> Any:
    """A k-means model on ``make_portfolio(800)`` (k fixed, one init: ~3 s here)."""
    from segml.cluster import Segmenter
    from segml.datasets import make_portfolio
    from segml.features import build_features
    from segml.features.build import make_preprocessor
    from segml.persistence import SegmentModel

    p = make_portfolio(800, random_state=0)
    fs = build_features(p.transactions, p.customers, p.as_of)
    seg = Segmenter(n_clusters=k, preprocessor=make_preprocessor(fs.spec, fs.frame),
                    random_state=seed, n_init=1).fit(fs.frame)
    model = SegmentModel.from_training(seg, fs.frame, feature_set=fs, name=name,
                                       segment_roles={0: "retain"},
                                       profiles={"actions": ACTIONS})
    return Fitted(model=model, portfolio=p, features=fs.frame)


@pytest.fixture(scope="session")
def fitted() -> Fitted:
    return fit_model()


@pytest.fixture(scope="session")
def reference(fitted: Fitted) -> pd.DataFrame:
    """What ``segml score`` computes (segml.scoring.score on the raw tables), by customer."""
    from segml.scoring import score

    p = fitted.portfolio
    return score(fitted.model, p.transactions, p.customers, p.as_of).frame.set_index(
        "customer_id")


@pytest.fixture(scope="module")
def model_path(fitted: Fitted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from segml.persistence import save_model

    return save_model(fitted.model, root=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def loaded(model_path: Path) -> Any:
    """The saved model as the server loads it."""
    from segml.persistence import load_model

    return load_model(model_path)


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[str]:
    """Base URL of a real uvicorn server on a free loopback port, token required."""
    from segml.service import create_app, run_in_thread

    with run_in_thread(create_app(model_path, token=TOKEN), log_level="info") as url:
        yield url


@pytest.fixture()
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30) as c:
        yield c


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as a CRM would send them: JSON objects, ISO dates, null for missing."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))
