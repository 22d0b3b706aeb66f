"""The builder's hook for the ``forward`` family (BG/NBD + Gamma-Gamma, :mod:`segml.value`).

Called by :class:`~segml.features.builder.FeatureBuilder` as its last step: it adds the columns
the spec's ``forward`` family lists, fitting the models at the fit date or applying the frozen
:class:`segml.value.ForwardState` of a fitted state. Peers for ``forward_growth_potential`` are
the profile cells of the growth-potential score (the same ``by`` columns).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from segml.errors import ConfigError
from segml.features.build import FeatureState, _growth_by
from segml.features.relationship import _cell_keys
from segml.features.spec import FeatureSpec

__all__ = ["forward_block", "frozen_forward"]


def frozen_forward(state: FeatureState) -> Any:
    """Return the fitted state's forward parameters, refusing a state fitted without them.

    Shared by the pandas/polars builder and the Spark engine, so both refuse the same way.

    Parameters
    ----------
    state : FeatureState
        A fitted feature state whose spec has the ``forward`` family.

    Returns
    -------
    segml.value.ForwardState

    Raises
    ------
    ConfigError
        When ``state.forward`` is None (the state was fitted without the family).
    """
    if state.forward is None:
        raise ConfigError(
            "the feature spec has the forward family but the fitted feature state has no "
            "forward parameters (it was fitted without the family). Fix: refit the "
            "FeatureBuilder (or the model) with this spec, or drop [families.forward]."
        )
    return state.forward


def forward_block(
    frame: pd.DataFrame,
    transactions: Any,
    as_of: pd.Timestamp,
    spec: FeatureSpec | None,
    state: FeatureState | None,
    min_peers: int,
    report: dict[str, Any],
) -> Any:
    """Add the ``forward`` columns the spec asks for (in place); return the forward state used.

    Fitting learns the parameters at ``as_of``; with a state they are frozen (no refit).

    Parameters
    ----------
    frame : DataFrame
        The feature frame so far (index ``customer_id``); the columns are added to it.
    transactions : DataFrame
        Canonical transactions (the whole history up to ``as_of`` is used).
    as_of : pandas.Timestamp
        The build's date.
    spec : FeatureSpec or None
        Nothing happens unless it has a ``forward`` family.
    state : FeatureState or None
        None when fitting; else its ``forward`` parameters are applied.
    min_peers : int
        Fewest repeat buyers of a profile cell for its own peer spend.
    report : dict
        The build report; ``report["forward"]`` is set.

    Returns
    -------
    segml.value.ForwardState or None
        The parameters used (None when the family is off).

    Raises
    ------
    ConfigError
        When the state has no forward parameters, and the errors of
        :func:`segml.value.fit_forward` / :func:`segml.value.forward_features`.
    """
    options = spec.forward_options() if spec is not None else None
    if options is None:
        return None
    # imported here: segml.value builds on segml.features (its summary uses features._time)
    from segml.value.family import (
        SPEND_COLUMNS,
        check_forward_columns,
        fit_forward,
        forward_features,
    )

    columns = check_forward_columns(list(spec.families["forward"].columns))
    by = _growth_by(frame)
    profile = _cell_keys(frame, list(by)) if by else None
    if state is None:
        need_spend = any(c in SPEND_COLUMNS for c in columns)
        forward = fit_forward(transactions, as_of, options=options, profile=profile,
                              min_peers=min_peers, need_spend=need_spend)
    else:
        forward = frozen_forward(state)
    cols, rep = forward_features(forward, transactions, as_of, index=frame.index,
                                 profile=profile, columns=columns)
    for c in columns:
        frame[c] = cols[c].to_numpy()
    report["forward"] = {**rep, "as_of_fit": forward.as_of, "peer_by": list(by),
                         "fit": dict(forward.fit_report)}
    return forward
