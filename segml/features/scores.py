"""RFM quintile scores, ABC classes and the revenue-concentration (Pareto) view.

Both estimators learn their cut points at ``fit`` and freeze them, so scoring new customers (or
the same customers at a later ``as_of``) uses the training thresholds.

**RFM tie policy** (one policy, used everywhere). At ``fit``, for each column the cut points are
the ``k / n_bins`` quantiles (``k = 1 … n_bins - 1``, numpy's default linear interpolation) of the
*buyers'* values (prospects and NaN left out). At ``transform`` a value's score is
``1 + the number of cut points strictly below it`` (for ``lower_is_better`` columns such as
recency: ``1 + the number of cut points strictly above it``). Consequences:

* the score is a function of the value alone, so **tied values always share one score** and the
  result does not depend on row order (deterministic, no random tie breaking);
* a value equal to a cut point goes to the lower bin (bins are right-closed, like ``pd.cut``);
* coinciding cut points are **kept, not merged**: on CDNOW more than half of the buyers bought
  once, so the 20 % and 40 % frequency cut points are both 1; every one-time buyer gets
  ``f_score == 1`` and the next value gets 3 (score 2 is skipped). A score therefore always means
  "above that many quintile cut points of the training buyers", and the top score stays reachable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

from segml._validation import check_fitted
from segml.errors import ConfigError, SchemaError

__all__ = ["RFMScorer", "rfm_code", "ABCClassifier", "ParetoResult", "pareto", "RFM_INPUT"]

#: The canonical RFM input columns, in the order the scorer uses them when all are present.
RFM_INPUT = ("recency_days", "frequency", "monetary")
_SCORE_NAMES = {"recency_days": "r_score", "frequency": "f_score", "monetary": "m_score"}


def _select_rfm(X: Any) -> Any:
    if isinstance(X, pd.DataFrame) and all(c in X.columns for c in RFM_INPUT):
        return X[list(RFM_INPUT)]
    return X


class RFMScorer(TransformerMixin, BaseEstimator):
    """Quintile scores 1–5 per column, learned on buyers at fit and frozen; 0 for prospects.

    Parameters
    ----------
    n_bins : int, default 5
        Number of scores (``n_bins - 1`` cut points per column).
    lower_is_better : tuple of str, default ("recency_days",)
        Columns where a *lower* value earns a higher score.
    prospect_column : str or None, default "frequency"
        Rows where this column is 0 (or NaN) are prospects: excluded from the cut points and
        scored 0 in every column. Ignored when the input has no such column.

    Attributes
    ----------
    cut_points_ : numpy.ndarray of shape (n_features_in_, n_bins - 1)
        Frozen cut points per column (sorted; duplicates kept, see the module tie policy).
    reverse_ : numpy.ndarray of bool
        Which columns score lower values higher.
    n_buyers_ : int
        Rows the cut points were learned on.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str
        Present when fitted on a DataFrame. Given a frame with ``recency_days``, ``frequency``
        and ``monetary``, only those three columns are used (in that order).

    Notes
    -----
    NaN in a column scores 0 in that column (recency is NaN for prospects). Scores are int64.
    Use :func:`rfm_code` to turn the three scores into ``"545"``-style codes.

    Examples
    --------
    >>> f = pd.DataFrame({"recency_days": [1.0, 10, 100, 200, 300, np.nan],
    ...                   "frequency": [9, 5, 3, 1, 1, 0], "monetary": [90.0, 50, 30, 10, 5, 0]})
    >>> scores = RFMScorer().set_output(transform="pandas").fit(f).transform(f)
    >>> rfm_code(scores).tolist()
    ['555', '444', '333', '212', '111', '000']
    """

    def __init__(
        self,
        *,
        n_bins: int = 5,
        lower_is_better: tuple[str, ...] = ("recency_days",),
        prospect_column: str | None = "frequency",
    ) -> None:
        self.n_bins = n_bins
        self.lower_is_better = lower_is_better
        self.prospect_column = prospect_column

    def _prospects(self, X: np.ndarray) -> np.ndarray:
        names = getattr(self, "feature_names_in_", None)
        if self.prospect_column is None or names is None or self.prospect_column not in names:
            return np.zeros(X.shape[0], dtype=bool)
        col = X[:, list(names).index(self.prospect_column)]
        return np.isnan(col) | (col <= 0)

    def fit(self, X: Any, y: Any = None) -> RFMScorer:
        """Learn the cut points on the buyers of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Typically the feature frame (``recency_days``, ``frequency``, ``monetary``).
        y : None
            Ignored.

        Returns
        -------
        RFMScorer
            Fitted.

        Raises
        ------
        ConfigError
            When ``n_bins`` is not an integer >= 2.
        ValueError
            When a column has no buyer value to learn from.
        """
        if isinstance(self.n_bins, bool) or not isinstance(self.n_bins, int | np.integer) or (
            self.n_bins < 2
        ):
            raise ConfigError(f"n_bins={self.n_bins!r} should be an integer >= 2.")
        arr = validate_data(self, _select_rfm(X), ensure_all_finite="allow-nan",
                            dtype="float64", reset=True)
        prospects = self._prospects(arr)
        names = getattr(self, "feature_names_in_", None)
        qs = np.arange(1, self.n_bins) / self.n_bins
        cuts = np.empty((arr.shape[1], self.n_bins - 1))
        for j in range(arr.shape[1]):
            col = arr[~prospects, j]
            col = col[~np.isnan(col)]
            if col.size == 0:
                name = names[j] if names is not None else f"column {j}"
                raise ValueError(
                    f"{name} has no buyer value to learn cut points from (all rows are prospects "
                    "or NaN); fit on a frame with purchases."
                )
            cuts[j] = np.quantile(col, qs)
        reverse = np.array(
            [names is not None and str(n) in set(self.lower_is_better) for n in
             (names if names is not None else [None] * arr.shape[1])], dtype=bool)
        self.n_buyers_ = int((~prospects).sum())
        self.reverse_ = reverse
        self.cut_points_ = cuts
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Score ``X`` with the frozen cut points.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in_)
            Same columns as at fit.

        Returns
        -------
        numpy.ndarray of int64, shape (n_samples, n_features_in_)
            Scores 1..n_bins; 0 for prospects and NaN values (a DataFrame with
            ``set_output(transform="pandas")``).
        """
        check_fitted(self)
        arr = validate_data(self, _select_rfm(X), ensure_all_finite="allow-nan",
                            dtype="float64", reset=False)
        out = np.zeros(arr.shape, dtype="int64")
        for j in range(arr.shape[1]):
            col = arr[:, j][:, None]
            cuts = self.cut_points_[j][None, :]
            above = (cuts < col) if not self.reverse_[j] else (cuts > col)
            out[:, j] = 1 + above.sum(axis=1)
        out[np.isnan(arr)] = 0
        out[self._prospects(arr)] = 0
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output names: ``r_score``, ``f_score``, ``m_score`` (else ``<name>_score``).

        Parameters
        ----------
        input_features : array-like of str, optional
            Ignored beyond the usual consistency check.

        Returns
        -------
        numpy.ndarray of str
        """
        check_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray([_SCORE_NAMES.get(str(n), f"{n}_score") for n in names], dtype=object)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []  # scores are int64 whatever the input
        return tags


def rfm_code(scores: pd.DataFrame) -> pd.Series:
    """Join ``r_score``, ``f_score`` and ``m_score`` into codes like ``"545"``.

    Parameters
    ----------
    scores : pandas.DataFrame
        With integer columns ``r_score``, ``f_score``, ``m_score`` (scores 0–9).

    Returns
    -------
    pandas.Series of str
        Named ``rfm_code``, same index; prospects (all 0) get ``"000"``.

    Raises
    ------
    SchemaError
        When a score column is missing.

    Examples
    --------
    >>> rfm_code(pd.DataFrame({"r_score": [5, 0], "f_score": [4, 0], "m_score": [5, 0]})).tolist()
    ['545', '000']
    """
    missing = [c for c in ("r_score", "f_score", "m_score") if c not in scores.columns]
    if missing:
        raise SchemaError(f"rfm_code needs columns {missing}; got {list(scores.columns)}.")
    parts = [scores[c].astype("int64").astype(str) for c in ("r_score", "f_score", "m_score")]
    return (parts[0] + parts[1] + parts[2]).astype("str").rename("rfm_code")


# --------------------------------------------------------------------------------------------
# ABC
# --------------------------------------------------------------------------------------------
_ABC_DEFAULTS = {"count": (0.2, 0.5), "revenue": (0.8, 0.95)}


def _abc_input(X: Any) -> tuple[Any, np.ndarray | None]:
    """Monetary values and the prospect mask (from ``is_prospect`` or ``frequency``)."""
    if isinstance(X, pd.DataFrame) and "monetary" in X.columns:
        if "is_prospect" in X.columns:
            prospect = X["is_prospect"].to_numpy(dtype=bool)
        elif "frequency" in X.columns:
            prospect = X["frequency"].fillna(0).to_numpy(dtype="float64") <= 0
        else:
            prospect = None
        return X[["monetary"]], prospect
    return X, None


class ABCClassifier(BaseEstimator):
    """ABC classes on customer revenue, thresholds frozen at fit.

    Parameters
    ----------
    method : {"count", "revenue"}, default "count"
        ``"count"``: the domain rule, A = the top ``a`` share of buyers by revenue, B = down to the
        top ``b`` share, C = the rest (defaults 0.2 / 0.5: top 20 %, next 30 %, last 50 %).
        ``"revenue"``: A = the buyers (largest first) who make the first ``a`` of revenue, B =
        up to ``b`` of revenue, C = the rest (defaults 0.8 / 0.95). A buyer whose revenue
        crosses the ``a`` mark is in A.
    a, b : float, optional
        Cumulative shares, ``0 < a < b <= 1``; None takes the method's defaults.

    Attributes
    ----------
    threshold_a_, threshold_b_ : float
        Frozen revenue thresholds: ``monetary >= threshold_a_`` is A, ``>= threshold_b_`` is B,
        else C. Ties at a threshold all take the higher class, so A can hold slightly more than
        its share when values tie.
    n_buyers_ : int
    feature_names_in_ : numpy.ndarray of str
        ``["monetary"]`` when fitted on a frame.

    Notes
    -----
    Input is the feature frame (column ``monetary``; rows with ``is_prospect`` True, or
    ``frequency == 0``, are prospects and get ``"none"``), a Series of revenue, or a 2-D array
    whose *first* column is revenue (other columns are ignored; NaN = prospect). For the revenue
    method negative revenue counts as 0. ``predict`` returns strings ``"A"``, ``"B"``, ``"C"``,
    ``"none"``.

    Examples
    --------
    >>> f = pd.DataFrame({"monetary": [100.0, 50, 20, 10, 5, 0], "frequency": [3, 2, 1, 1, 1, 0]})
    >>> ABCClassifier().fit(f).predict(f).tolist()
    ['A', 'B', 'B', 'C', 'C', 'none']
    """

    def __init__(self, *, method: str = "count", a: float | None = None,
                 b: float | None = None) -> None:
        self.method = method
        self.a = a
        self.b = b

    def _shares(self) -> tuple[float, float]:
        if self.method not in _ABC_DEFAULTS:
            raise ConfigError(f"method={self.method!r} should be 'count' or 'revenue'.")
        da, db = _ABC_DEFAULTS[self.method]
        a = da if self.a is None else self.a
        b = db if self.b is None else self.b
        if not (0.0 < float(a) < float(b) <= 1.0):
            raise ConfigError(f"a={a!r}, b={b!r} should satisfy 0 < a < b <= 1.")
        return float(a), float(b)

    def _values(self, X: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(X, pd.Series):
            X = X.to_frame()
        if isinstance(X, pd.DataFrame) and "monetary" not in X.columns and len(X.columns) > 1:
            raise SchemaError(
                "ABCClassifier needs a 'monetary' column (or a single revenue column); got "
                f"columns {list(X.columns)[:10]}."
            )
        mon, prospect = _abc_input(X)
        arr = validate_data(self, mon, ensure_all_finite="allow-nan", dtype="float64",
                            reset=reset)[:, 0]
        mask = np.isnan(arr)
        if prospect is not None:
            mask = mask | prospect
        return arr, mask

    def fit(self, X: Any, y: Any = None) -> ABCClassifier:
        """Learn the revenue thresholds on the buyers of ``X``.

        Parameters
        ----------
        X : DataFrame with ``monetary`` or array-like of revenue
            Customers to learn from.
        y : None
            Ignored.

        Returns
        -------
        ABCClassifier
            Fitted.

        Raises
        ------
        ConfigError
            When ``method``, ``a`` or ``b`` are invalid.
        ValueError
            When there is no buyer.
        """
        a, b = self._shares()
        values, prospect = self._values(X, reset=True)
        m = np.sort(values[~prospect])[::-1]
        n = m.size
        if n == 0:
            raise ValueError("ABCClassifier found no buyer to learn thresholds from.")
        if self.method == "count":
            k_a = max(1, math.ceil(a * n - 1e-9))
            k_b = max(k_a, math.ceil(b * n - 1e-9))
        else:
            pos = np.clip(m, 0.0, None)
            total = pos.sum()
            if total <= 0:
                k_a = k_b = 0
            else:
                before = (np.cumsum(pos) - pos) / total
                k_a = max(1, int((before < a - 1e-12).sum()))
                k_b = max(k_a, int((before < b - 1e-12).sum()))
        self.n_buyers_ = n
        self.threshold_a_ = float(m[k_a - 1]) if k_a else np.inf
        self.threshold_b_ = float(m[k_b - 1]) if k_b else np.inf
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Assign ``"A"``, ``"B"``, ``"C"`` (``"none"`` for prospects) with the frozen thresholds.

        Parameters
        ----------
        X : DataFrame with ``monetary`` or array-like of revenue
            Customers to classify.

        Returns
        -------
        numpy.ndarray of str
        """
        check_fitted(self)
        values, prospect = self._values(X, reset=False)
        out = np.where(values >= self.threshold_a_, "A",
                       np.where(values >= self.threshold_b_, "B", "C")).astype(object)
        out[prospect] = "none"
        return out

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then predict on the same customers.

        Parameters
        ----------
        X : DataFrame with ``monetary`` or array-like of revenue
            Customers.
        y : None
            Ignored.

        Returns
        -------
        numpy.ndarray of str
        """
        return self.fit(X).predict(X)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


# --------------------------------------------------------------------------------------------
# Pareto / concentration
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParetoResult:
    """Revenue concentration: the Pareto curve and summary figures.

    Attributes
    ----------
    curve : pandas.DataFrame
        Columns ``customer_share`` and ``revenue_share``, from (0, 0) to (1, 1), customers sorted
        by revenue, largest first (n + 1 rows).
    top20_share : float
        Revenue share of the top ``ceil(0.2 * n)`` customers.
    gini : float
        Gini coefficient of revenue (0 = everyone equal, ``(n-1)/n`` = one customer has all).
    n_customers : int
    total_revenue : float
    """

    curve: pd.DataFrame = field(repr=False)
    top20_share: float
    gini: float
    n_customers: int
    total_revenue: float

    def share_of_top(self, customer_share: float) -> float:
        """Revenue share of the top ``ceil(customer_share * n)`` customers.

        Parameters
        ----------
        customer_share : float
            Between 0 and 1.

        Returns
        -------
        float
        """
        if not 0.0 <= customer_share <= 1.0:
            raise ConfigError(f"customer_share={customer_share!r} should be between 0 and 1.")
        k = math.ceil(customer_share * self.n_customers - 1e-9)
        return float(self.curve["revenue_share"].iloc[k])

    def to_dict(self) -> dict[str, Any]:
        """Summary figures plus the curve sampled at every 1 % of customers.

        Returns
        -------
        dict
            ``top20_share``, ``gini``, ``n_customers``, ``total_revenue`` and ``curve`` (a dict
            of two lists, 101 points, linear interpolation).
        """
        grid = np.linspace(0.0, 1.0, 101)
        rev = np.interp(grid, self.curve["customer_share"], self.curve["revenue_share"])
        return {
            "top20_share": self.top20_share,
            "gini": self.gini,
            "n_customers": self.n_customers,
            "total_revenue": self.total_revenue,
            "curve": {"customer_share": grid.round(2).tolist(), "revenue_share": rev.tolist()},
        }


def pareto(monetary: Any) -> ParetoResult:
    """Pareto curve, top-20 % revenue share and Gini of customer revenue.

    Parameters
    ----------
    monetary : array-like or Series
        Revenue per customer (pass buyers only to leave prospects out). NaN values are dropped;
        negative values count as 0.

    Returns
    -------
    ParetoResult

    Raises
    ------
    SchemaError
        When there is no value or total revenue is not positive.

    Examples
    --------
    >>> r = pareto([60.0, 20, 10, 5, 5])
    >>> r.top20_share, round(r.gini, 2)
    (0.6, 0.5)
    """
    x = np.asarray(pd.Series(monetary, dtype="float64").dropna().to_numpy(), dtype="float64")
    x = np.clip(x, 0.0, None)
    n = x.size
    total = float(x.sum())
    if n == 0 or total <= 0:
        raise SchemaError(
            f"pareto needs positive total revenue; got {n} value(s) summing to {total}."
        )
    desc = np.sort(x)[::-1]
    rev = np.concatenate([[0.0], np.cumsum(desc) / total])
    curve = pd.DataFrame({"customer_share": np.arange(n + 1) / n, "revenue_share": rev})
    k = math.ceil(0.2 * n - 1e-9)
    asc = desc[::-1]
    i = np.arange(1, n + 1)
    gini = float(np.sum((2 * i - n - 1) * asc) / (n * total))
    return ParetoResult(curve, float(rev[k]), gini, n, total)
