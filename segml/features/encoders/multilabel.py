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

    Usually one column is encoded. Several columns (e.g. ``interests`` and
    ``channels_liked``) are encoded independently: each learns its own labels and
    its flags are named ``<prefix><column>_<label>``.

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
    labels_ : list of list of str
        Per input column, the frozen labels (sorted) that get a column.
    n_unknown_ : int
        Label occurrences without a column in the training data (:meth:`quality`
        counts them in any batch; ``transform`` records nothing).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"interests": ["Price; Brand", "price", None]})
    >>> enc = MultiLabelFlags().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['interest_brand', 'interest_price']
    >>> enc.transform(X).tolist()
    [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    >>> enc.quality(pd.DataFrame({"interests": ["golf; price"]}))
    {'n_unknown': 1}
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

    def _split(self, X: Any) -> list[list[list[str]]]:
        """Per input column, per row: the sorted distinct normalised labels."""
        frame = _as_frame(X, getattr(self, "feature_names_in_", None))
        columns: list[list[list[str]]] = []
        for j in range(frame.shape[1]):
            rows: list[list[str]] = []
            for value in frame.iloc[:, j].astype(object).to_numpy():
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    rows.append([])
                    continue
                parts = (normalize_level(p) for p in str(value).split(self.sep))
                rows.append(sorted({p for p in parts if isinstance(p, str) and p}))
            columns.append(rows)
        return columns

    def _labels(self) -> list[list[str]]:
        """Frozen labels per input column (a model saved before 0.x kept one flat list)."""
        labels = self.labels_
        if labels and isinstance(labels[0], str):
            return [list(labels)]
        return labels

    def fit(self, X: Any, y: Any = None) -> MultiLabelFlags:
        """Learn the labels of each column.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Delimited labels, usually one column.
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
        labels: list[list[str]] = []
        n_unknown = 0
        for rows in self._split(X):
            counts: dict[str, int] = {}
            for row in rows:
                for lbl in row:
                    counts[lbl] = counts.get(lbl, 0) + 1
            kept = sorted(k for k, v in counts.items() if v >= self.min_count)
            n_unknown += sum(v for k, v in counts.items() if v < self.min_count)
            labels.append(kept)
        self.labels_ = labels
        self.n_unknown_ = n_unknown
        return self

    def _flags(self, X: Any) -> tuple[np.ndarray, int]:
        check_fitted(self, "labels_")
        _check_2d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        labels = self._labels()
        blocks = []
        n_unknown = 0
        for rows, kept in zip(self._split(X), labels, strict=True):
            pos = {lbl: j for j, lbl in enumerate(kept)}
            block = np.zeros((len(rows), len(kept)), dtype=np.float64)
            for i, row in enumerate(rows):
                for lbl in row:
                    j = pos.get(lbl)
                    if j is None:
                        n_unknown += 1
                    else:
                        block[i, j] = 1.0
            blocks.append(block)
        return np.hstack(blocks), n_unknown

    def transform(self, X: Any) -> np.ndarray:
        """Return one 0/1 column per learned label (of each input column in turn).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Delimited labels, the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_labels), float64
        """
        return self._flags(X)[0]

    def quality(self, X: Any) -> dict[str, int]:
        """Count the label occurrences of a batch that have no column.

        A pure read: the encoder is not changed (``transform`` records nothing).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Delimited labels, the columns seen in ``fit``.

        Returns
        -------
        dict
            ``{"n_unknown": int}``.
        """
        return {"n_unknown": self._flags(X)[1]}

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return ``<prefix><label>`` per learned label.

        With several input columns the names are ``<prefix><column>_<label>``.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against ``feature_names_in_``.

        Returns
        -------
        ndarray of str
        """
        check_fitted(self, "labels_")
        features = _check_feature_names_in(self, input_features)
        labels = self._labels()
        if len(labels) == 1:
            return np.asarray([f"{self.prefix}{lbl}" for lbl in labels[0]], dtype=object)
        return np.asarray(
            [f"{self.prefix}{f}_{lbl}" for f, kept in zip(features, labels, strict=True)
             for lbl in kept],
            dtype=object,
        )
