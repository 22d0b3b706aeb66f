"""The feature frame as a fitted estimator: learn the state at one date, rebuild at any date.

:class:`FeatureBuilder` is the one implementation behind
:func:`~segml.features.build.build_features`. ``fit`` learns, at one ``as_of``, everything a
:class:`~segml.features.build.FeatureState` holds (category/channel share levels, RFM cut
points, ABC thresholds, age bands, growth-potential peer medians, the column order);
``transform`` builds the frame of every customer as of any date with that state frozen and
returns it, with its data-quality report, as a :class:`~segml.features.build.FeatureSet`.

The frame is built in steps; the steps that learn something take the frozen piece (when
transforming) or None (when fitting, they learn it and hand it back):

1. the as-of universe (customers first seen after ``as_of`` are left out and counted);
2. transaction features (learn: share levels);
3. customer attributes (learn: age bands);
4. RFM scores, ABC class, historical CLV (learn: RFM cut points, ABC thresholds);
5. attributes joined, the frame reindexed to the fitted columns (learn: the columns);
6. growth potential (learn: peer medians);
7. the ``forward`` family when the spec has it (learn: BG/NBD and Gamma-Gamma parameters and
   the peer spend references; :mod:`segml.value.family`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.base import BaseEstimator

from segml.errors import ConfigError, NotFittedError
from segml.features._time import cutoff, to_as_of
from segml.features.build import (
    FeatureSet,
    FeatureState,
    _aggregates,
    _attributes,
    _check_range,
    _customer_table,
    _growth_by,
    _not_yet,
    _tx_dates,
    _TxDates,
)
from segml.features.clv import historical_clv
from segml.features.encoders import AgeEncoder
from segml.features.forward import forward_block
from segml.features.privacy import rare_level_rows
from segml.features.relationship import GrowthPotential
from segml.features.scores import ABCClassifier, RFMScorer, rfm_code
from segml.features.spec import FORWARD_TRANSFORMS, FeatureSpec
from segml.features.transactions import ShareLevels, transaction_features
from segml.features.transactions.sorted import feature_frame

__all__ = ["FeatureBuilder"]

_RFM = ("recency_days", "frequency", "monetary")


class FeatureBuilder(BaseEstimator):
    """Learn the feature state at one ``as_of``; build the raw feature frame at any date.

    Follows the scikit-learn estimator conventions where they apply: the constructor only
    stores its parameters (``get_params`` / ``set_params`` / ``clone`` work), fitted
    attributes end with ``_``, and :meth:`transform` before :meth:`fit` raises
    :class:`~segml.errors.NotFittedError`. It takes tables (transactions, customers) and an
    ``as_of`` date rather than ``X, y``, so ``sklearn.utils.estimator_checks.check_estimator``
    does not apply.

    :meth:`transform` reads the fitted state and never writes to the builder: the frame and
    its data-quality counts come back as the returned :class:`FeatureSet`.

    Parameters
    ----------
    spec : FeatureSpec, optional
        Model spec; None uses :meth:`FeatureSpec.default` of each frame's columns. Its
        ``levels`` normalise ordinal labels and restrict nominal vocabularies; its
        ``min_level_customers`` decides which rare levels are counted as folded.
    lookback_days : int, optional
        Lookback window for the transaction features (fitted into the state: a transform uses
        the one of the fit).
    min_peers : int, default 5
        Minimum buyers of a profile cell for its own growth-potential median.

    Attributes
    ----------
    state_ : FeatureState
        Everything learned at fit, no customer rows (what ``build_features(..., state=)``
        takes).

    See Also
    --------
    segml.features.build_features : one call: fit at ``as_of`` (or reuse a state) and build.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01",
    ...                                  "2024-05-01"]),
    ...     "amount": [10.0, 30.0, 5.0, 8.0]})
    >>> fb = FeatureBuilder().fit(tx, as_of="2024-03-05")
    >>> later = fb.transform(tx, as_of="2024-05-05")
    >>> later.frame["frequency"].to_dict(), later.report["state_reused"]
    ({'a': 2, 'b': 1, 'c': 1}, True)
    >>> fb.transform(tx, as_of="2024-03-05").report["not_yet_customers"]
    1
    """

    def __init__(
        self,
        spec: FeatureSpec | None = None,
        *,
        lookback_days: int | None = None,
        min_peers: int = 5,
    ) -> None:
        self.spec = spec
        self.lookback_days = lookback_days
        self.min_peers = min_peers

    @classmethod
    def from_state(
        cls, state: FeatureState, spec: FeatureSpec | None = None, *, min_peers: int = 5
    ) -> FeatureBuilder:
        """Make a fitted builder around an existing state (e.g. one saved with a model).

        Parameters
        ----------
        state : FeatureState
            A state from an earlier fit or ``build_features`` call; used as it is.
        spec : FeatureSpec, optional
            Model spec for the builds (see the class parameters).
        min_peers : int, default 5
            Stored as a parameter only (the state's growth medians are frozen).

        Returns
        -------
        FeatureBuilder
            Fitted: ``state_`` is ``state``, ``lookback_days`` the state's.

        Raises
        ------
        ConfigError
            When ``state`` is not a :class:`FeatureState`.
        """
        if not isinstance(state, FeatureState):
            raise ConfigError(
                f"state should be a FeatureState, got {type(state).__name__}. "
                "Fix: pass FeatureSet.state or FeatureBuilder(...).fit(...).state_."
            )
        builder = cls(spec, lookback_days=state.lookback_days, min_peers=min_peers)
        builder.state_ = state
        return builder

    def fit(
        self,
        transactions: Any,
        customers: pd.DataFrame | None = None,
        *,
        as_of: Any,
        aggregates: pd.DataFrame | None = None,
    ) -> FeatureBuilder:
        """Learn the feature state as of ``as_of``.

        Parameters
        ----------
        transactions : DataFrame or None
            Canonical transactions (pandas, or polars DataFrame / LazyFrame). Rows after
            ``as_of`` are ignored. None for customer-only data.
        customers : DataFrame, optional
            Canonical customers table (``customer_id`` column or index).
        as_of : str, date, datetime or pandas.Timestamp
            The as-of date (required, keyword only; ISO text).
        aggregates : DataFrame, optional
            Per-customer aggregates in canonical feature names, instead of ``transactions``.

        Returns
        -------
        FeatureBuilder
            self, with ``state_`` set.

        Raises
        ------
        SchemaError, ConfigError
            As :func:`~segml.features.build_features`.
        """
        self.fit_transform(transactions, customers, as_of=as_of, aggregates=aggregates)
        return self

    def fit_transform(
        self,
        transactions: Any,
        customers: pd.DataFrame | None = None,
        *,
        as_of: Any,
        aggregates: pd.DataFrame | None = None,
    ) -> FeatureSet:
        """Learn the state as of ``as_of`` and return the frame built with it.

        Parameters
        ----------
        transactions, customers, as_of, aggregates
            See :meth:`fit`.

        Returns
        -------
        FeatureSet
            The frame, spec, as-of date, the fitted state (also ``state_``) and the
            data-quality report (``report["state_reused"]`` is False).
        """
        fs = _build(transactions, customers, aggregates, as_of, self.spec,
                    lookback=self.lookback_days, min_peers=self.min_peers, state=None)
        self.state_ = fs.state
        return fs

    def transform(
        self,
        transactions: Any,
        customers: pd.DataFrame | None = None,
        *,
        as_of: Any,
        aggregates: pd.DataFrame | None = None,
    ) -> FeatureSet:
        """Build the frame as of ``as_of`` with the fitted state frozen.

        Levels, cut points, thresholds, age bands and growth medians are those of the fit;
        the frame is reindexed to the fitted columns (columns this data lacks are NaN and
        listed in ``report["columns_absent_vs_state"]``). Nothing is written to the builder.

        Parameters
        ----------
        transactions, customers, as_of, aggregates
            See :meth:`fit`; ``as_of`` may be any date inside the data.

        Returns
        -------
        FeatureSet
            The frame and its data-quality report (``report["state_reused"]`` is True);
            ``state`` is ``state_``.

        Raises
        ------
        NotFittedError
            When the builder has not been fitted.
        """
        state = getattr(self, "state_", None)
        if state is None:
            raise NotFittedError(
                "This FeatureBuilder is not fitted yet: transform needs the state learned by "
                "fit. Fix: call .fit(transactions, customers, as_of=...) first, or build one "
                "from a saved state with FeatureBuilder.from_state(state)."
            )
        return _build(transactions, customers, aggregates, as_of, self.spec,
                      lookback=state.lookback_days, min_peers=self.min_peers, state=state)

    def __sklearn_is_fitted__(self) -> bool:  # noqa: D105
        return getattr(self, "state_", None) is not None


# ------------------------------------------------------------------------------------ steps


def _build(
    transactions: Any,
    customers: Any,
    aggregates: Any,
    as_of: Any,
    spec: FeatureSpec | None,
    *,
    lookback: int | None,
    min_peers: int,
    state: FeatureState | None,
) -> FeatureSet:
    """Build the frame as of ``as_of``: learn the state (``state=None``) or use it frozen."""
    as_of = to_as_of(as_of)
    if spec is not None and not isinstance(spec, FeatureSpec):
        raise ConfigError(
            f"spec should be a FeatureSpec (FeatureSpec.from_dict / from_toml), "
            f"got {type(spec).__name__}."
        )
    if transactions is not None and aggregates is not None:
        raise ConfigError("pass transactions or aggregates, not both.")
    table = _customer_table(customers)
    report: dict[str, Any] = {"state_reused": state is not None}
    source = transactions  # the forward family reads the log as given
    transactions = feature_frame(transactions)  # converted to polars once, for every step

    # 1. the as-of universe: customers first seen after as_of do not exist yet
    dates, table, late = _universe(transactions, table, as_of, lookback, report)

    # 2. transaction features (share levels)
    frozen_levels = None
    if state is not None:
        frozen_levels = ShareLevels(state.category_levels, state.channel_levels)
    tf, levels = _transaction_block(transactions, aggregates, table, late, dates, as_of,
                                    lookback, frozen_levels, report)
    ids = table.index if table is not None else pd.Index([], dtype="str", name="customer_id")
    only_tx = tf.index.difference(ids) if tf is not None else pd.Index([], dtype="str")
    if tf is not None:
        ids = ids.union(tf.index)
    ids = pd.Index(ids.astype("str"), dtype="str", name="customer_id").sort_values()
    report["customers_only_in_transactions"] = len(only_tx)

    # 3. attributes (age bands)
    attrs, age_enc = _attribute_block(
        table, ids, as_of, spec, state.age_encoder if state is not None else None, report
    )

    # 4. value: RFM scores, ABC, CLV (cut points, thresholds)
    frame = pd.DataFrame(index=ids)
    rfm = abc = None
    if tf is not None:
        frozen_value = (state.rfm_scorer, state.abc) if state is not None else None
        frame, rfm, abc = _value_block(frame, tf, attrs, as_of, transactions is not None,
                                       frozen_value)
    report["n_prospects"] = int(frame["is_prospect"].sum()) if "is_prospect" in frame else 0

    # 5. attributes joined; frozen column set
    if attrs is not None:
        frame = frame.join(attrs.drop(columns=[c for c in attrs if c in frame]))
    if state is not None and state.columns:
        # columns the state knows but this data lacks are NaN
        report["columns_absent_vs_state"] = [
            c for c in state.columns if c not in frame.columns and c != "growth_potential"
            and c not in FORWARD_TRANSFORMS
        ]
        frame = frame.reindex(columns=state.columns)

    # 6. growth potential (peer medians)
    growth = None
    if "monetary" in frame:
        if state is not None:
            growth = state.growth
        else:
            growth = GrowthPotential(by=_growth_by(frame), min_peers=min_peers).fit(frame)
        if growth is not None:
            frame["growth_potential"] = growth.transform(frame)[:, 0]

    # 7. forward value (BG/NBD + Gamma-Gamma parameters), only when the spec has the family
    forward = forward_block(frame, source, as_of, spec, state, min_peers, report)

    if state is None:
        state = FeatureState(
            as_of=as_of,
            lookback_days=lookback,
            category_levels=list(levels.category) if levels.category is not None else None,
            channel_levels=list(levels.channel) if levels.channel is not None else None,
            rfm_scorer=rfm,
            abc=abc,
            growth=growth,
            age_encoder=age_enc,
            columns=list(frame.columns),
            forward=forward,
        )
    frame.index.name = "customer_id"
    report["n_customers"] = len(frame)
    if spec is None:
        spec = FeatureSpec.default(frame.columns)
    report["rare_levels_folded"] = rare_level_rows(frame, spec)
    return FeatureSet(frame=frame, spec=spec, as_of=as_of, state=state, report=report)


def _universe(
    transactions: Any,
    table: pd.DataFrame | None,
    as_of: pd.Timestamp,
    lookback: int | None,
    report: dict[str, Any],
) -> tuple[_TxDates | None, pd.DataFrame | None, pd.Index]:
    """Transaction dates, the customers table without not-yet customers, and those ids."""
    dates = None
    if transactions is not None:
        dates = _tx_dates(transactions, as_of, lookback)
        _check_range(dates, as_of, report)
    late = _not_yet(table, None if dates is None else dates.first, as_of)
    n_late_tx = 0
    if dates is not None:
        known = table.index if table is not None else pd.Index([], dtype="str")
        only_tx = dates.first[~_isin(dates.first.index, known)]
        n_late_tx = int((only_tx >= cutoff(as_of)).sum())
    report["not_yet_customers"] = len(late) + n_late_tx
    if table is not None and len(late):
        table = table.drop(index=late)
    return dates, table, late


def _isin(values: pd.Index, known: pd.Index) -> np.ndarray:
    """``values.isin(known)`` for text ids through Arrow (pandas lists Arrow text in Python)."""
    try:
        left = pa.array(values.astype("str"), type=pa.large_string())
        right = pa.array(known.astype("str"), type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # pragma: no cover - ids are text here
        return np.asarray(values.isin(known), dtype=bool)
    return pc.is_in(left, value_set=right).to_numpy(zero_copy_only=False).astype(bool)


def _transaction_block(
    transactions: Any,
    aggregates: Any,
    table: pd.DataFrame | None,
    late: pd.Index,
    dates: _TxDates | None,
    as_of: pd.Timestamp,
    lookback: int | None,
    levels: ShareLevels | None,
    report: dict[str, Any],
) -> tuple[pd.DataFrame | None, ShareLevels]:
    """Transaction features (or the given aggregates) and the share levels used."""
    used = ShareLevels()
    report["rows_after_as_of"] = report["rows_before_window"] = report["rows_cancelled"] = 0
    if transactions is not None:
        tf, used = transaction_features(
            transactions,
            as_of,
            customers=None if table is None else table.index,
            lookback_days=lookback,
            category_levels=levels.category if levels is not None else None,
            channel_levels=levels.channel if levels is not None else None,
            return_levels=True,
        )
        if dates is not None:
            report["rows_after_as_of"] = dates.n_after_as_of
            report["rows_before_window"] = dates.n_before_window
            report["rows_cancelled"] = dates.n_cancelled
        return tf, used
    if aggregates is not None:
        tf = _aggregates(aggregates)
        return tf.drop(index=tf.index.intersection(late)), used
    return None, used


def _attribute_block(
    table: pd.DataFrame | None,
    ids: pd.Index,
    as_of: pd.Timestamp,
    spec: FeatureSpec | None,
    age_encoder: AgeEncoder | None,
    report: dict[str, Any],
) -> tuple[pd.DataFrame | None, AgeEncoder | None]:
    """Build the attributes on the frame's ids; return them and the age encoder (bands) used."""
    if table is None:
        report.update(missing={}, missing_income=0, implausible_birth_years=0,
                      implausible_ages=0, unknown_levels={}, dropped_customer_columns=[])
        return None, None
    attrs, age_enc = _attributes(table, as_of, spec, age_encoder, report)
    # flags stay boolean (nullable) when customers only in transactions add missing rows
    attrs = attrs.astype({c: "boolean" for c in attrs.columns if attrs[c].dtype == bool})
    return attrs.reindex(ids), age_enc


def _value_block(
    frame: pd.DataFrame,
    tf: pd.DataFrame,
    attrs: pd.DataFrame | None,
    as_of: pd.Timestamp,
    from_transactions: bool,
    frozen: tuple[RFMScorer | None, ABCClassifier | None] | None,
) -> tuple[pd.DataFrame, RFMScorer | None, ABCClassifier | None]:
    """Transaction columns joined, with RFM scores, ABC class and historical CLV."""
    tf = tf.reindex(frame.index)
    if "is_prospect" in tf:
        tf["is_prospect"] = tf["is_prospect"].fillna(True).astype(bool)
    if "frequency" in tf and from_transactions:
        tf["frequency"] = tf["frequency"].fillna(0).astype("int64")
    if "monetary" in tf and from_transactions:
        tf["monetary"] = tf["monetary"].fillna(0.0)
    if attrs is not None and "tenure_days" not in tf and "signup_date" in attrs:
        signup = pd.to_datetime(attrs["signup_date"])
        tf["tenure_days"] = (as_of.normalize() - signup.dt.normalize()).dt.days.astype(
            "float64"
        )
    frame = frame.join(tf)
    rfm = abc = None
    if frozen is not None:
        rfm, abc = frozen
    elif (~frame["is_prospect"].to_numpy(dtype=bool)).any():
        rfm_cols = [c for c in _RFM if c in frame]
        rfm = RFMScorer().fit(frame[rfm_cols]) if len(rfm_cols) == 3 else None
        abc = ABCClassifier().fit(frame)
    if rfm is not None:
        # np.asarray: a scorer set to pandas output (older saved states) gives the same values
        values = np.asarray(rfm.transform(frame[list(_RFM)]))
        scores = pd.DataFrame(values, index=frame.index,
                              columns=[str(c) for c in rfm.get_feature_names_out()])
        for c in scores.columns:
            frame[c] = scores[c].astype("int64")
        frame["rfm_code"] = rfm_code(scores)
    else:
        for c in ("r_score", "f_score", "m_score"):
            frame[c] = np.zeros(len(frame), dtype="int64")
        frame["rfm_code"] = pd.Series("000", index=frame.index, dtype="str")
    if abc is not None:
        frame["abc_class"] = pd.Series(abc.predict(frame), index=frame.index, dtype="str")
    else:
        frame["abc_class"] = pd.Series("none", index=frame.index, dtype="str")
    if "tenure_days" in frame:
        cost = None
        if attrs is not None and "acquisition_cost" in attrs:
            cost = attrs["acquisition_cost"].astype("float64")
        clv = historical_clv(frame, acquisition_cost=cost)
        for c in clv.columns:
            frame[c] = clv[c]
    return frame, rfm, abc

