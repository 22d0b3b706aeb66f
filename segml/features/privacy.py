"""Personal identifiers stay out of the model: detection and refusal of identifier-like columns.

A model spec column that looks like a personal identifier would put customer data into every
saved model (its levels are vocabularies of the encoders). :func:`check_identifiers`, called
by :func:`~segml.features.make_preprocessor`, refuses such columns unless the spec lists them
in ``allow_identifiers``. A text column looks like an identifier when

* its **name** has a token such as ``email``, ``phone``, ``mobile``, ``address``, ``street``,
  ``name``, ``surname``, ``ssn``, ``passport``, ``iban`` (``customer_name``, ``E-Mail``...);
* at least half its values **look like e-mail addresses** or **phone numbers** (7+ digits,
  only digits, spaces, ``+ - ( ) .``);
* or it is **free text with mostly unique values**: over half the values distinct among at
  least 20 non-missing values (not checked for ``frequency`` columns, which exist for
  high-cardinality geography and whose rare levels are never stored anyway).

Even an allowed column keeps no level held by fewer than ``min_level_customers`` customers
(see :class:`~segml.features.encoders.RareOneHot`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from segml.errors import ConfigError

__all__ = ["identifier_reasons", "check_identifiers", "rare_level_rows"]

_NAME_TOKENS = frozenset({
    "email", "mail", "phone", "mobile", "telephone", "tel", "fax", "address", "street",
    "addr", "name", "surname", "firstname", "lastname", "fullname", "ssn", "passport",
    "iban", "password",
})
_EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
_PHONE = r"\+?[\d\s().-]{7,}"
#: Share of values that must look like e-mails / phone numbers, and the unique-share rule.
_PATTERN_SHARE = 0.5
_UNIQUE_SHARE = 0.5
_UNIQUE_MIN_VALUES = 20


def _name_hit(column: str) -> str | None:
    tokens = [t for t in re.split(r"[^a-z0-9]+", re.sub(r"e-mail", "email", column.lower())) if t]
    joined = "".join(tokens)
    for tok in (*tokens, joined):
        if tok in _NAME_TOKENS:
            return tok
    return None


def _is_text(s: pd.Series) -> bool:
    return s.dtype.kind in "OTU" or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype)


def identifier_reasons(
    frame: pd.DataFrame, columns: Mapping[str, str]
) -> dict[str, str]:
    """Return why each identifier-like text column looks like one.

    Parameters
    ----------
    frame : DataFrame
        The feature frame.
    columns : mapping of str to str
        Spec columns -> transform (only text columns present in ``frame`` are checked).

    Returns
    -------
    dict of str to str
        Column -> short reason (never quoting values), for the columns that look like
        personal identifiers.

    Examples
    --------
    >>> f = pd.DataFrame({"contact_email": ["a", "b"], "region": ["n", "s"]})
    >>> identifier_reasons(f, {"contact_email": "onehot", "region": "onehot"})
    {'contact_email': "name contains 'email'"}
    """
    out: dict[str, str] = {}
    for col, transform in columns.items():
        if col not in frame.columns or not _is_text(frame[col]):
            continue
        tok = _name_hit(str(col))
        if tok is not None:
            out[col] = f"name contains {tok!r}"
            continue
        # each distinct value checked once, weighted by its count: a 1M-row column of a
        # few levels costs a few regex matches, not a million
        raw = frame[col].dropna().astype("str").value_counts(sort=False)
        stripped = pd.Index(raw.index.astype("str"), dtype="str").str.strip()
        counts = pd.Series(raw.to_numpy(), index=stripped).groupby(level=0, sort=False).sum()
        values = pd.Series(counts.index, dtype="str")
        weights = counts.to_numpy()
        n = int(weights.sum())
        if not n:
            continue
        for label, pattern in (("e-mail addresses", _EMAIL), ("phone numbers", _PHONE)):
            match = values.str.fullmatch(pattern).to_numpy(dtype=bool)
            if pattern == _PHONE:
                match = match & values.str.count(r"\d").ge(7).to_numpy(dtype=bool)
            hits = int(weights[match].sum())
            if hits >= _PATTERN_SHARE * n:
                out[col] = f"{hits:,} of {n:,} values look like {label}"
                break
        if col in out or transform == "frequency":
            continue
        n_unique = len(counts)
        if n >= _UNIQUE_MIN_VALUES and n_unique > _UNIQUE_SHARE * n:
            out[col] = f"free text, {n_unique:,} of {n:,} values distinct"
    return out


def check_identifiers(
    frame: pd.DataFrame, columns: Mapping[str, str], allow: list[str] | tuple[str, ...]
) -> None:
    """Refuse identifier-like model columns that are not explicitly allowed.

    Parameters
    ----------
    frame : DataFrame
        The feature frame.
    columns : mapping of str to str
        Spec columns -> transform.
    allow : list of str
        Columns the spec includes deliberately (``allow_identifiers``).

    Raises
    ------
    ConfigError
        Naming each refused column and why (no values quoted), and how to include it
        deliberately or leave it out.
    """
    found = {c: r for c, r in identifier_reasons(frame, columns).items() if c not in allow}
    if not found:
        return
    shown = list(found.items())[:5]
    more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
    what = "; ".join(f"{c!r}: {r}" for c, r in shown) + more
    names = ", ".join(f'"{c}"' for c, _ in shown)
    raise ConfigError(
        f"model column(s) look like personal identifiers ({what}); they are refused so that "
        "no saved model holds customer data. Fix: leave them out of the data or the feature "
        f"spec, or include them deliberately with config [features] allow_identifiers = "
        f"[{names}] (Python: FeatureSpec(allow_identifiers=[...]) or spec TOML "
        "allow_identifiers); their levels held by fewer than min_level_customers customers "
        "are still never stored."
    )


def rare_level_rows(frame: pd.DataFrame, spec: object) -> dict[str, int]:
    """Count, per ``onehot``/``frequency`` column, the rows whose level is too rare to store.

    Parameters
    ----------
    frame : DataFrame
        The feature frame.
    spec : FeatureSpec
        Its ``min_level_customers`` and transforms are used.

    Returns
    -------
    dict of str to int
        Column -> rows whose level is held by fewer than ``spec.min_level_customers`` rows
        (folded into ``<column>_other`` by the encoders); columns with none are left out.

    Examples
    --------
    >>> from segml.features.spec import FeatureSpec
    >>> f = pd.DataFrame({"region": ["n"] * 10 + ["s", "s", None]})
    >>> rare_level_rows(f, FeatureSpec.default(f.columns))
    {'region': 3}
    """
    floor = int(getattr(spec, "min_level_customers", 1))
    out: dict[str, int] = {}
    for col, transform in spec.columns().items():  # type: ignore[attr-defined]
        if transform not in ("onehot", "frequency") or col not in frame.columns:
            continue
        counts = frame[col].astype("str").fillna("missing").value_counts()
        n = int(counts[counts < floor].sum())
        if n:
            out[col] = n
    return out
