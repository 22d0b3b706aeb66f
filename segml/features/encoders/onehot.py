"""One-hot encoding with rare levels folded and an unknown policy: :class:`RareOneHot`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import _check_feature_names_in, validate_data

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.features.encoders._common import _as_frame, _Base, _check_2d

__all__ = ["RareOneHot"]


def _infrequent_name(feature: str, category: Any) -> str:
    """Feature-name combiner for :class:`RareOneHot`: ``infrequent_sklearn`` -> ``other``."""
    cat = "other" if str(category) == "infrequent_sklearn" else str(category)
    return f"{feature}_{cat}"


_UNKNOWN_POLICIES = {"infrequent": "infrequent_if_exist", "error": "error", "ignore": "ignore"}
#: Stored in place of the levels folded below ``min_count`` (they are never stored).
_FOLDED = "<folded>"
#: Padding of the synthetic fit frame; not a category, so the encoder ignores it.
_PAD = "\x00pad"


class RareOneHot(_Base):
    """One-hot encoding with rare levels grouped and an explicit unknown policy.

    A thin, configured :class:`sklearn.preprocessing.OneHotEncoder`
    (``sparse_output=False``): levels seen fewer than ``min_frequency`` times,
    or beyond the ``max_levels`` most frequent, are grouped into one
    ``<column>_other`` column. Missing values become the level ``missing``.

    **No rare level is stored.** A level held by fewer than ``min_count`` rows (customers)
    is folded into ``<column>_other`` *before* the wrapped encoder is fitted, so the fitted
    (and pickled) encoder never holds it; at transform time such a level is unknown and,
    with ``unknown="infrequent"``, lands in ``<column>_other`` again. The wrapped encoder is
    fitted on the kept vocabulary only (each kept level twice, each grouped level once,
    ``min_frequency=2``), which reproduces the grouping decided here.

    Parameters
    ----------
    min_frequency : int or float, optional
        Minimum count (int) or share (float in (0, 1)) for a level to get its own
        column.
    max_levels : int, optional
        At most this many columns per feature, the ``_other`` column included.
    unknown : {"infrequent", "error", "ignore"}, default "infrequent"
        Level unseen in ``fit`` at transform time: ``"infrequent"`` puts it in
        the ``_other`` column when one exists (else all zeros), ``"ignore"``
        gives all zeros, ``"error"`` raises ``ValueError``.
    min_count : int, default 1
        Levels held by fewer rows are not stored at all (privacy floor; see above).

    Attributes
    ----------
    encoder_ : OneHotEncoder
        The fitted encoder.
    categories_ : list of ndarray
        Levels stored per column (those held by at least ``min_count`` rows, plus a
        placeholder for the folded ones).
    n_folded_ : dict of str to int
        Rows per column whose level was held by fewer than ``min_count`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"region": ["n", "n", "s", "s", "x"]})
    >>> enc = RareOneHot(min_frequency=2).fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['region_n', 'region_s', 'region_other']
    >>> enc.transform(pd.DataFrame({"region": ["n", "zz"]})).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> enc.quality(pd.DataFrame({"region": ["n", "zz"]}))
    {'n_unknown': 1}
    >>> private = RareOneHot(min_count=2).fit(X)
    >>> [c.tolist() for c in private.categories_]
    [['n', 's', '<folded>']]
    """

    def __init__(
        self,
        *,
        min_frequency: int | float | None = None,
        max_levels: int | None = None,
        unknown: str = "infrequent",
        min_count: int = 1,
    ) -> None:
        self.min_frequency = min_frequency
        self.max_levels = max_levels
        self.unknown = unknown
        self.min_count = min_count

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    @staticmethod
    def _prepare(X: pd.DataFrame) -> pd.DataFrame:
        """Object-dtype strings with missing -> ``"missing"`` (numbers become their str)."""
        out = {}
        for col in X.columns:
            s = X[col]
            if not isinstance(s.dtype, pd.StringDtype):
                s = s.astype("str")  # numbers/booleans become their text, missing stays missing
            out[col] = s.fillna("missing").to_numpy(dtype=object)
        return pd.DataFrame(out, index=X.index)

    def _check_params(self) -> None:
        if self.unknown not in _UNKNOWN_POLICIES:
            raise ConfigError(
                f"unknown={self.unknown!r} should be one of {sorted(_UNKNOWN_POLICIES)}."
            )
        mc = self.min_count
        if isinstance(mc, bool) or not isinstance(mc, int | np.integer) or mc < 1:
            raise ConfigError(f"min_count={mc!r} should be an integer >= 1 (rows per level).")
        mf = self.min_frequency
        if mf is not None and (
            isinstance(mf, bool)
            or not isinstance(mf, int | float | np.integer | np.floating)
            or mf < 0
            or (isinstance(mf, float | np.floating) and mf >= 1)
        ):
            raise ConfigError(
                f"min_frequency={mf!r} should be a count >= 0 or a share in [0, 1)."
            )
        ml = self.max_levels
        if ml is not None and (isinstance(ml, bool) or not isinstance(ml, int) or ml < 1):
            raise ConfigError(f"max_levels={ml!r} should be an integer >= 1 or None.")

    def _vocabulary(self, values: np.ndarray) -> tuple[list[str], list[str], int]:
        """Kept levels, grouped-but-stored levels and rows folded below ``min_count``."""
        counts = pd.Series(values).value_counts()
        n = len(values)
        mf = self.min_frequency
        floor = 0.0 if mf is None else (float(mf) if isinstance(mf, int | np.integer) else mf * n)
        private = counts < self.min_count
        n_folded = int(counts[private].sum())
        stored = counts[~private]
        kept = stored[stored >= floor]
        grouped = [str(v) for v in stored.index[stored < floor]]
        has_other = bool(grouped) or n_folded > 0
        if self.max_levels is not None and len(kept) + int(has_other) > self.max_levels:
            order = sorted(kept.items(), key=lambda kv: (-kv[1], str(kv[0])))
            top = max(self.max_levels - 1, 0)
            grouped += [str(v) for v, _ in order[top:]]
            kept = kept.loc[[v for v, _ in order[:top]]]
        return sorted(str(v) for v in kept.index), sorted(grouped), n_folded

    def fit(self, X: Any, y: Any = None) -> RareOneHot:
        """Learn the levels (those held by fewer than ``min_count`` rows are not kept).

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
        self._check_params()
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        frame = self._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        cats: list[list[str]] = []
        columns: list[list[str]] = []
        folded: dict[str, int] = {}
        for col in frame.columns:
            kept, grouped, n_folded = self._vocabulary(frame[col].to_numpy())
            if n_folded:
                grouped.append(_FOLDED)
                folded[str(col)] = n_folded
            cats.append(kept + grouped)
            columns.append([v for v in kept for _ in range(2)] + grouped)
        length = max((len(c) for c in columns), default=0)
        # the synthetic frame holds the vocabulary, not rows: each kept level twice and each
        # grouped level once, so min_frequency=2 reproduces the grouping; padding is unknown
        synthetic = pd.DataFrame(
            {col: np.array(c + [_PAD] * (length - len(c)), dtype=object)
             for col, c in zip(frame.columns, columns, strict=True)}
        )
        enc = OneHotEncoder(
            categories=[np.array(c, dtype=object) for c in cats],
            sparse_output=False,
            min_frequency=2,
            handle_unknown="ignore" if self.unknown == "ignore" else "infrequent_if_exist",
            feature_name_combiner=_infrequent_name,
            dtype=np.float64,
        )
        enc.fit(synthetic)
        if self.unknown == "error":
            enc.set_params(handle_unknown="error")
        self.encoder_ = enc
        self.categories_ = enc.categories_
        self.n_folded_ = folded
        return self

    def _frame(self, X: Any) -> pd.DataFrame:
        check_fitted(self, "encoder_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        frame = self._prepare(_as_frame(X, getattr(self, "feature_names_in_", None)))
        frame.columns = self.encoder_.feature_names_in_
        return frame

    def transform(self, X: Any) -> np.ndarray:
        """One-hot encode.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_output_features)
        """
        return self.encoder_.transform(self._frame(X))

    def quality(self, X: Any) -> dict[str, int]:
        """Count the values of a batch unseen in ``fit`` (or folded there).

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
        frame = self._frame(X)
        n_unknown = 0
        for j, col in enumerate(frame.columns):
            n_unknown += int((~frame[col].isin(self.categories_[j])).sum())
        return {"n_unknown": n_unknown}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<column>_<level>`` names (``<column>_other`` for the grouped levels).

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "encoder_")
        names = _check_feature_names_in(self, input_features)
        return self.encoder_.get_feature_names_out(names)
