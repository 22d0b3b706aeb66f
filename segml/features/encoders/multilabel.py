"""A multi-select answer (``"price; brand"``) to 0/1 flags: :class:`MultiLabelFlags`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import _check_feature_names_in, validate_data

from segml._validation import check_fitted
from segml.errors import ConfigError
from segml.features.encoders._common import _as_frame, _Base, _check_2d
from segml.features.encoders.levels import normalize_level

__all__ = ["MultiLabelFlags"]


class MultiLabelFlags(_Base):
    """A multi-select text column (``"Sustainability; price"``) to 0/1 flag columns.

    Psychographic surveys often store interests as one delimited answer; the
    contract wants one boolean ``interest_<name>`` column per interest. Labels
    are split on ``sep`` and normalised with :func:`normalize_level`; missing
    or empty answers give all zeros.

    Parameters
    ----------
    sep : str, default ";"
        Separator between labels.
    prefix : str, default "interest_"
        Output column prefix (``interest_sustainability``).
    min_count : int, default 1
        Labels seen in fewer rows at ``fit`` get no column (their values count as unknown).

    Attributes
    ----------
    labels_ : list of str
        Frozen labels (sorted) that get a column.
    n_unknown_ : int
        Label occurrences without a column in the last data seen by ``fit``/``transform``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"interests": ["Price; Brand", "price", None]})
    >>> enc = MultiLabelFlags().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['interest_brand', 'interest_price']
    >>> enc.transform(X).tolist()
    [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    """

    def __init__(self, *, sep: str = ";", prefix: str = "interest_", min_count: int = 1) -> None:
        self.sep = sep
        self.prefix = prefix
        self.min_count = min_count

    def __sklearn_tags__(self):  # noqa: D401 - sklearn hook
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def _split(self, X: Any) -> list[list[str]]:
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        if frame.shape[1] != 1:
            raise ValueError(
                f"MultiLabelFlags expects exactly one column of delimited labels, "
                f"got {frame.shape[1]}."
            )
        rows: list[list[str]] = []
        for value in frame.iloc[:, 0].astype(object).to_numpy():
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                rows.append([])
                continue
            parts = (normalize_level(p) for p in str(value).split(self.sep))
            rows.append(sorted({p for p in parts if isinstance(p, str) and p}))
        return rows

    def fit(self, X: Any, y: Any = None) -> MultiLabelFlags:
        """Learn the labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Delimited labels.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        if not isinstance(self.sep, str) or not self.sep:
            raise ConfigError(f"sep={self.sep!r} should be a non-empty string.")
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or (
            self.min_count < 1
        ):
            raise ConfigError(f"min_count={self.min_count!r} should be an integer >= 1.")
        _check_2d(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        rows = self._split(X)
        counts: dict[str, int] = {}
        for labels in rows:
            for lbl in labels:
                counts[lbl] = counts.get(lbl, 0) + 1
        self.labels_ = sorted(k for k, v in counts.items() if v >= self.min_count)
        kept = set(self.labels_)
        self.n_unknown_ = sum(1 for labels in rows for lbl in labels if lbl not in kept)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return one 0/1 column per learned label.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, 1)
            Delimited labels.

        Returns
        -------
        ndarray of shape (n_samples, n_labels), float64
        """
        check_fitted(self, "labels_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        rows = self._split(X)
        pos = {lbl: j for j, lbl in enumerate(self.labels_)}
        out = np.zeros((len(rows), len(self.labels_)), dtype=np.float64)
        n_unknown = 0
        for i, labels in enumerate(rows):
            for lbl in labels:
                j = pos.get(lbl)
                if j is None:
                    n_unknown += 1
                else:
                    out[i, j] = 1.0
        self.n_unknown_ = n_unknown
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<prefix><label>`` per learned label.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "labels_")
        _check_feature_names_in(self, input_features)
        return np.asarray([f"{self.prefix}{lbl}" for lbl in self.labels_], dtype=object)
