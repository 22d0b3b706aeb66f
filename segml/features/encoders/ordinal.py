"""Ordered and high-cardinality levels: :class:`OrdinalScale`, :class:`FrequencyEncoder`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import OneToOneFeatureMixin
from sklearn.utils.validation import _check_feature_names_in, validate_data

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.features.encoders._common import _as_frame, _Base, _check_2d
from segml.features.encoders.levels import (
    CANONICAL_LEVELS,
    OFF_SCALE_LEVELS,
    normalize_level,
    normalize_levels,
)
from segml.features.encoders.onehot import RareOneHot

__all__ = ["FrequencyEncoder", "OrdinalScale"]


class OrdinalScale(OneToOneFeatureMixin, _Base):
    """Ordered levels to codes ``0, 1, 2, ...`` (lowest first); unknown -> NaN, counted.

    Labels are normalised with :func:`normalize_level` before lookup
    (``"Very Satisfied"`` matches ``very_satisfied``). Missing stays NaN; a
    non-missing label outside the levels becomes NaN and is counted by
    :meth:`quality`.

    Parameters
    ----------
    levels : mapping of str to sequence, sequence, or None
        Ordered levels per column name, or one sequence for every column.
        ``None`` uses :data:`CANONICAL_LEVELS` for columns named like a
        canonical ordered attribute (``education``, ``satisfaction``,
        ``journey_stage``, ``company_size``) and the sorted training levels
        otherwise. Off-scale levels of canonical columns (``lost`` for
        ``journey_stage``, coded -1) are known, not unknown, unless the given
        levels place them on the scale.

    Attributes
    ----------
    levels_ : dict of str to list of str
        Frozen levels per input column.
    maps_ : dict of str to dict of str to float
        Normalised label -> code per input column: the levels' positions plus the
        known off-scale labels of canonical columns (read-only).
    n_unknown_ : int
        Unknown labels in the training data (:meth:`quality` counts them in any
        batch; ``transform`` records nothing).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"education": ["PhD", "basic", "Graduation", None]})
    >>> enc = OrdinalScale().fit(X)
    >>> enc.transform(X).ravel().tolist()
    [4.0, 0.0, nan, nan]
    >>> enc.n_unknown_, enc.quality(pd.DataFrame({"education": ["meh", "phd"]}))
    (1, {'n_unknown': 1})
    """

    def __init__(
        self, *, levels: Mapping[str, Sequence[str]] | Sequence[str] | None = None
    ) -> None:
        self.levels = levels

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    @property
    def maps_(self) -> dict[str, dict[str, float]]:
        """Normalised label -> code per input column (set by ``fit``)."""
        check_fitted(self, "levels_")
        return self._maps_

    def _codes(self, X: Any) -> tuple[np.ndarray, int]:
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        out = np.full(frame.shape, np.nan, dtype=np.float64)
        n_unknown = 0
        for j, col in enumerate(self.levels_):
            mapping = self._maps_[col]
            vals = frame.iloc[:, j]
            norm = normalize_levels(vals)
            known = norm.map(mapping)
            codes = pd.to_numeric(known, errors="coerce").to_numpy(dtype=np.float64)
            n_unknown += int((norm.notna() & known.isna()).sum())
            out[:, j] = codes
        return out, n_unknown

    def fit(self, X: Any, y: Any = None) -> OrdinalScale:
        """Freeze the levels of each column and count unknown labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Ordinal labels.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        levels: dict[str, list[str]] = {}
        maps: dict[str, dict[str, float]] = {}
        for j, col in enumerate(frame.columns):
            col = str(col)
            if isinstance(self.levels, Mapping):
                if col not in self.levels:
                    raise ConfigError(
                        f"OrdinalScale has no levels for column {col!r}; "
                        f"levels are given for {sorted(self.levels)}."
                    )
                lv = [normalize_level(v) for v in self.levels[col]]
            elif self.levels is not None and not isinstance(self.levels, str):
                lv = [normalize_level(v) for v in self.levels]
            elif self.levels is None and col in CANONICAL_LEVELS:
                lv = list(CANONICAL_LEVELS[col])
            elif self.levels is None:
                seen = normalize_levels(frame.iloc[:, j]).dropna().astype(str)
                lv = sorted(set(seen))
            else:
                raise ConfigError(
                    f"levels={self.levels!r} should be a mapping of column -> ordered levels, "
                    "a sequence of ordered levels, or None."
                )
            if len(set(lv)) != len(lv):
                raise ConfigError(f"levels for column {col!r} repeat a level: {lv}.")
            mapping = {v: float(i) for i, v in enumerate(lv)}
            for label, code in OFF_SCALE_LEVELS.get(col, {}).items():
                mapping.setdefault(label, code)
            levels[col] = lv
            maps[col] = mapping
        self.levels_ = levels
        self._maps_ = maps
        _, self.n_unknown_ = self._codes(frame)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Map labels to codes.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        return self._checked_codes(X)[0]

    def _checked_codes(self, X: Any) -> tuple[np.ndarray, int]:
        check_fitted(self, "levels_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        return self._codes(X)

    def quality(self, X: Any) -> dict[str, int]:
        """Count the non-missing labels of a batch outside the levels.

        A pure read: the encoder is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        dict
            ``{"n_unknown": int}``.
        """
        return {"n_unknown": self._checked_codes(X)[1]}


class FrequencyEncoder(_Base):
    """Replace each level with its share of the training rows (``<column>_freq``).

    Meant for high-cardinality geography (city, postcode). Missing values are
    a level of their own (``missing``); a level unseen in ``fit`` gets 0.0 and
    is counted by :meth:`quality`.

    Parameters
    ----------
    min_count : int, default 1
        Levels held by fewer rows (customers) are not stored: they are treated as
        unseen (0.0), in ``fit`` as at transform time, and counted in ``n_folded_``.

    Attributes
    ----------
    frequencies_ : dict of str to dict of str to float
        Frozen shares per column (levels held by at least ``min_count`` rows only).
    n_folded_ : dict of str to int
        Rows per column whose level was held by fewer than ``min_count`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"city": ["a", "a", "b", "c"]})
    >>> FrequencyEncoder().fit(X).transform(pd.DataFrame({"city": ["a", "z"]})).ravel().tolist()
    [0.5, 0.0]
    """

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def __init__(self, *, min_count: int = 1) -> None:
        self.min_count = min_count

    def fit(self, X: Any, y: Any = None) -> FrequencyEncoder:
        """Learn the level shares (of levels held by at least ``min_count`` rows).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Categorical columns.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        mc = self.min_count
        if isinstance(mc, bool) or not isinstance(mc, int | np.integer) or mc < 1:
            raise ConfigError(f"min_count={mc!r} should be an integer >= 1 (rows per level).")
        frame = RareOneHot._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        self.frequencies_ = {}
        self.n_folded_ = {}
        for col in frame.columns:
            counts = frame[col].value_counts()
            rare = counts < mc
            if rare.any():
                self.n_folded_[str(col)] = int(counts[rare].sum())
            n = max(len(frame), 1)
            self.frequencies_[str(col)] = {str(k): float(v) / n for k, v in counts[~rare].items()}
        return self

    def _shares(self, X: Any) -> tuple[np.ndarray, int]:
        check_fitted(self, "frequencies_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        frame = RareOneHot._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        out = np.zeros(frame.shape, dtype=np.float64)
        n_unknown = 0
        for j, col in enumerate(self.frequencies_):
            mapped = frame.iloc[:, j].map(self.frequencies_[col])
            n_unknown += int(mapped.isna().sum())
            out[:, j] = mapped.fillna(0.0).to_numpy(dtype=np.float64)
        return out, n_unknown

    def transform(self, X: Any) -> np.ndarray:
        """Map levels to their training shares.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float64
        """
        return self._shares(X)[0]

    def quality(self, X: Any) -> dict[str, int]:
        """Count the values of a batch unseen in ``fit`` (or held by fewer than ``min_count``).

        A pure read: the encoder is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        dict
            ``{"n_unknown": int}``.
        """
        return {"n_unknown": self._shares(X)[1]}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<column>_freq`` for each input column.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "frequencies_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray([f"{n}_freq" for n in names], dtype=object)
