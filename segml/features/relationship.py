"""Relationship features and the growth-potential score.

- :func:`relationship_features`: buyer-journey stage and satisfaction as ordinal
  codes, campaign response rate (the lead-score input) and complaints.
- :class:`GrowthPotential` / :func:`growth_potential`: how far a customer's
  spend is below the median spend of *peers*, i.e. buyers with the same profile.

The growth-potential score
--------------------------
For a customer ``i`` in profile cell ``c`` (the combination of the ``by``
columns, missing values forming their own level)::

    peer_median[c] = median(monetary of buyers in c)          (learned in fit, frozen)
    growth_potential[i] = clip((peer_median[c] - monetary[i]) / peer_median[c], 0, 1)

*Buyers* are rows with ``monetary > 0``. A cell with fewer than ``min_peers``
buyers in ``fit`` (or unseen in ``fit``) uses the median of all buyers. The
score is 0 for a customer who already spends at least as much as the typical
peer and 1 for a customer who spends nothing (a prospect) in a cell whose
peers do; when the peer median is not positive there is no room to measure,
and the score is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from segml._validation import check_fitted, check_frame
from segml.errors import ConfigError, SchemaError
from segml.features.encoders import OrdinalScale

__all__ = ["relationship_features", "GrowthPotential", "growth_potential"]

RELATIONSHIP_COLUMNS = ("journey_stage_ord", "response_rate", "satisfaction_ord", "complaints")


def _relationship(customers: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Compute the relationship frame and the unknown-level counts."""
    if "customer_id" in customers.columns:
        index = pd.Index(customers["customer_id"].astype("str"), name="customer_id")
    else:
        index = pd.Index(customers.index.astype("str"), name="customer_id")
    out = pd.DataFrame(index=index)
    unknown: dict[str, int] = {}
    for src, dst in (("journey_stage", "journey_stage_ord"), ("satisfaction", "satisfaction_ord")):
        if src in customers.columns:
            enc = OrdinalScale().fit(customers[[src]])
            out[dst] = enc.transform(customers[[src]])[:, 0]
            unknown[src] = enc.quality(customers[[src]])["n_unknown"]
    if "campaigns_sent" in customers.columns and "campaigns_responded" in customers.columns:
        sent = pd.to_numeric(customers["campaigns_sent"], errors="coerce").astype("float64")
        resp = pd.to_numeric(customers["campaigns_responded"], errors="coerce").astype("float64")
        rate = (resp / sent.where(sent > 0)).to_numpy(dtype=np.float64)
        out["response_rate"] = rate
    if "complaints" in customers.columns:
        out["complaints"] = (
            pd.to_numeric(customers["complaints"], errors="coerce").astype("float64").to_numpy()
        )
    return out[[c for c in RELATIONSHIP_COLUMNS if c in out.columns]], unknown


def relationship_features(customers: pd.DataFrame) -> pd.DataFrame:
    """Relationship features from the canonical customers table.

    Columns (each only when its source columns exist):

    - ``journey_stage_ord``: ``first_contact`` 0, ``meeting`` 1, ``offer`` 2,
      ``negotiation`` 3, ``won`` 4, ``lost`` -1; unknown labels NaN.
    - ``response_rate``: ``campaigns_responded / campaigns_sent``; NaN when no
      campaign was sent.
    - ``satisfaction_ord``: ``very_dissatisfied`` 0 ... ``very_satisfied`` 4.
    - ``complaints``: the complaint count as float.

    Parameters
    ----------
    customers : DataFrame
        Canonical customers frame (``customer_id`` column, or the index).

    Returns
    -------
    DataFrame
        Indexed by string ``customer_id`` in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"customer_id": ["a", "b"], "campaigns_sent": [4.0, 0.0],
    ...                   "campaigns_responded": [1.0, 0.0], "satisfaction": ["satisfied", None]})
    >>> relationship_features(c).to_dict("list")
    {'response_rate': [0.25, nan], 'satisfaction_ord': [3.0, nan]}
    """
    return _relationship(customers)[0]


def _cell_keys(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """One string key per row for the profile cell (missing -> ``<missing>``)."""
    if not by:
        return pd.Series("<all>", index=frame.index, dtype=object)
    parts = [
        frame[c].astype(object).where(frame[c].notna(), "<missing>").map(str) for c in by
    ]
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key.astype(object)


class GrowthPotential(TransformerMixin, BaseEstimator):
    """Spend gap to the median of same-profile buyers (see the module docstring).

    Parameters
    ----------
    by : sequence of str, default ()
        Profile columns defining the peer cells (e.g. ``("age_band", "region")``).
        Empty: every customer is compared with all buyers.
    min_peers : int, default 5
        Cells with fewer buyers fall back to the median of all buyers.
    monetary : str, default "monetary"
        Spend column.

    Attributes
    ----------
    cell_medians_ : dict of str to float
        Frozen peer medians per cell key (cells with at least ``min_peers`` buyers).
    global_median_ : float
        Median spend of all buyers in ``fit`` (NaN when there were none).
    n_fallback_ : int
        Training rows whose cell falls back to the global median (:meth:`quality`
        counts them in any batch; ``transform`` records nothing).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"monetary": [0.0, 50.0, 100.0, 150.0]})
    >>> GrowthPotential(min_peers=1).fit(f).transform(f).ravel().tolist()
    [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(
        self, *, by: Sequence[str] = (), min_peers: int = 5, monetary: str = "monetary"
    ) -> None:
        self.by = by
        self.min_peers = min_peers
        self.monetary = monetary

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing spend is no spend; a missing profile is a cell
        return tags

    def _check_frame(self, X: Any) -> pd.DataFrame:
        frame = check_frame(X, "GrowthPotential")
        missing = [c for c in [self.monetary, *self.by] if c not in frame.columns]
        if missing:
            hint = "" if isinstance(X, pd.DataFrame) else (
                f" (a {type(X).__name__} has no column names: its columns are x0, x1, ...; "
                "pass a DataFrame, or name them, e.g. monetary='x0')"
            )
            raise SchemaError(
                f"GrowthPotential: column(s) {missing} not in the frame; "
                f"it has {list(frame.columns)[:20]}{hint}."
            )
        return frame

    def fit(self, X: pd.DataFrame, y: Any = None) -> GrowthPotential:
        """Learn the peer medians.

        Parameters
        ----------
        X : DataFrame
            With the ``monetary`` and ``by`` columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if isinstance(self.by, str):
            raise ConfigError(f"by={self.by!r} should be a list of column names, not a string.")
        if isinstance(self.min_peers, bool) or not isinstance(self.min_peers, int | np.integer) or (
            self.min_peers < 1
        ):
            raise ConfigError(f"min_peers={self.min_peers!r} should be an integer >= 1.")
        X = self._check_frame(X)
        m = self._spend(X)
        buyers = m > 0
        keys = _cell_keys(X, list(self.by))
        grouped = m[buyers].groupby(keys[buyers])
        counts = grouped.size()
        medians = grouped.median()
        self.cell_medians_ = {
            str(k): float(medians[k]) for k in medians.index if counts[k] >= self.min_peers
        }
        self.global_median_ = float(m[buyers].median()) if buyers.any() else float("nan")
        self.feature_names_in_ = np.asarray([self.monetary, *self.by], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.n_fallback_ = int((~keys.isin(list(self.cell_medians_))).sum())
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Score each row.

        Parameters
        ----------
        X : DataFrame
            With the ``monetary`` and ``by`` columns.

        Returns
        -------
        ndarray of shape (n_samples, 1)
        """
        check_fitted(self, "cell_medians_")
        X = self._check_frame(X)
        m = self._spend(X).to_numpy()
        peer, fallback = self._peers(X)
        peer = np.where(fallback, self.global_median_, peer.to_numpy())
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(peer > 0, (peer - np.nan_to_num(m, nan=0.0)) / peer, 0.0)
        score = np.clip(np.nan_to_num(score, nan=0.0), 0.0, 1.0)
        return score[:, None]

    def _spend(self, X: pd.DataFrame) -> pd.Series:
        """Return the spend column as float64 (a value that is not a number is an error)."""
        raw = X[self.monetary]
        m = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = m.isna() & raw.notna()
        if bad.any():
            raise TypeError(
                f"GrowthPotential: column {self.monetary!r} holds {int(bad.sum())} value(s) that "
                f"are not numbers, e.g. {raw[bad].head(3).tolist()}; each argument must be a "
                "string or a number that parses as a number. Fix: clean the column (or set "
                "monetary= to the spend column)."
            )
        return m

    def _peers(self, X: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
        """Peer median of each row's cell (NaN where it falls back) and the fallback mask."""
        peer = _cell_keys(X, list(self.by)).map(self.cell_medians_).astype("float64")
        return peer, peer.isna().to_numpy()

    def quality(self, X: pd.DataFrame) -> dict[str, int]:
        """Count the rows of a batch scored with the global median (cell too small or unseen).

        A pure read: the estimator is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : DataFrame
            With the ``monetary`` and ``by`` columns.

        Returns
        -------
        dict
            ``{"n_fallback": int}``.
        """
        check_fitted(self, "cell_medians_")
        return {"n_fallback": int(self._peers(self._check_frame(X))[1].sum())}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``["growth_potential"]``.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "cell_medians_")
        return np.asarray(["growth_potential"], dtype=object)


def growth_potential(
    frame: pd.DataFrame, by: Sequence[str] = (), *, min_peers: int = 5
) -> pd.Series:
    """Growth-potential score of every row (fits :class:`GrowthPotential` on ``frame``).

    Parameters
    ----------
    frame : DataFrame
        Feature frame with ``monetary`` and the ``by`` columns.
    by : sequence of str, default ()
        Profile columns defining the peers.
    min_peers : int, default 5
        Minimum buyers per cell before falling back to all buyers.

    Returns
    -------
    Series
        Named ``growth_potential``, same index as ``frame``.
    """
    gp = GrowthPotential(by=tuple(by), min_peers=min_peers).fit(frame)
    return pd.Series(gp.transform(frame)[:, 0], index=frame.index, name="growth_potential")
