"""The declarative feature spec: families -> columns -> transforms, and a weight per family.

A :class:`FeatureSpec` says which columns of the feature frame enter the model
matrix, how each is transformed, and how much each *family* counts in the
distance (see :class:`~segml.features.encoders.FamilyWeight`: weight ``w``
gives the family a squared-distance budget proportional to ``w`` whatever its
number of columns). It round-trips through plain dicts and TOML::

    version = 1

    [families.value]
    weight = 2.0

    [families.value.columns]
    "recency_days" = "robust"
    "monetary" = "log"

    [levels]
    "education" = ["basic", "secondary", "bachelor", "master", "phd"]

``levels`` (optional) gives the ordered levels of ``ordinal`` string columns
(canonical ordered columns need none) and, for ``onehot`` columns, the allowed
vocabulary: any other label is mapped to ``unknown`` and counted by
:func:`~segml.features.build_features`.

The ``forward`` family is computed only when the spec has it: BG/NBD and Gamma-Gamma are
fitted at the builder's ``fit`` date and applied frozen afterwards (:mod:`segml.value.family`;
columns ``p_alive``, ``expected_purchases``, ``expected_spend``, ``forward_clv``,
``forward_growth_potential``). Its ``options`` table sets the model time unit, the horizon (in
time units), the annual discount rate and the margin rate; :meth:`FeatureSpec.with_forward`
adds it::

    [families.forward]
    weight = 1.0

    [families.forward.columns]
    "p_alive" = "standard"
    "expected_purchases" = "log"

    [families.forward.options]
    time_unit = "W"
    horizon = 52
    discount_rate = 0.1
    margin = 0.3

Two top-level keys keep customer data out of saved models (see
:mod:`segml.features.privacy`)::

    min_level_customers = 5             # rarer levels fold into <column>_other, never stored
    allow_identifiers = ["member_code"] # identifier-like columns included deliberately
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segml._atomic import write_text
from segml.errors import ConfigError

__all__ = [
    "DEFAULT_WEIGHTS", "DESCRIBE_ONLY_FAMILIES", "FAMILIES", "TRANSFORMS", "FORWARD_TRANSFORMS",
    "FamilySpec", "FeatureSpec", "SPEC_VERSION",
]

SPEC_VERSION = 1

#: Feature families, in model-matrix order.
FAMILIES: tuple[str, ...] = (
    "value",
    "behaviour",
    "seasonality",
    "payment",
    "relationship",
    "demographic",
    "firmographic",
    "geographic",
    "psychographic",
    "forward",
)

#: Column transforms (what each does is in :func:`segml.features.make_preprocessor`).
TRANSFORMS: tuple[str, ...] = (
    "log",
    "yeo-johnson",
    "robust",
    "standard",
    "winsor",
    "onehot",
    "ordinal",
    "frequency",
    "passthrough",
)

_TOP_KEYS = ("version", "families", "levels", "min_level_customers", "allow_identifiers")

#: Default of :attr:`FeatureSpec.min_level_customers`: a category level held by fewer
#: customers is folded into ``<column>_other`` and never stored in a model (k-anonymity
#: style floor for nominal levels). Measured on the demo portfolio (seed 2, 3,520 buyers):
#: a floor of 10 folds 511 of 612 postcodes (60 % of buyers) and select_k then recommends
#: k=4 instead of the planted 5; a floor of 5 folds 305 postcodes and keeps k=5 for every
#: seed of tests/cluster/test_planted.py.
MIN_LEVEL_CUSTOMERS = 5
_FAMILY_KEYS = ("columns", "weight", "options")

#: Default transform of each ``forward`` family column (see :meth:`FeatureSpec.with_forward`).
FORWARD_TRANSFORMS: dict[str, str] = {
    "p_alive": "standard",
    "expected_purchases": "log",
    "expected_spend": "log",
    "forward_clv": "log",
    "forward_growth_potential": "log",
}

#: Default family weights that differ from 1. Demographic, firmographic, geographic and
#: psychographic attributes have weight 0 by default: they *describe* segments (profiles, lifts)
#: and enter the distance only when the user gives them a weight (``[features.weights]
#: firmographic = 1`` or ``spec.with_weights(firmographic=1)``). Value, behaviour, payment,
#: relationship and forward value drive the segments. Issue 15: on real retail invoices the
#: default segments split domestic from foreign customers, one segment being exactly the
#: foreign ones.
#:
#: ``firmographic`` (industry, company size, the B2B flag) is the B2B counterpart of the
#: demographics and is structurally missing for consumers (filled at the accounts' median and
#: standardised over all buyers), so its whole variance falls inside the B2B minority. It had
#: weight 0.5, tuned on the demo portfolio with the old largest-stable k rule; at 0.5 k-means
#: still split ``make_portfolio``'s planted B2B accounts by ``company_size`` in every case
#: measured (3k / 4k / 20k customers x 3 / 5 / 8 planted; ARI at the planted k 0.72-0.75 with 5
#: and 8 planted). At weight 0 (3k customers, seeds 0-2) ARI at the planted k is 0.936-0.942 /
#: 0.958-0.961 / 0.822-0.949 with 3 / 5 / 8 planted; the B2B accounts are one segment at the
#: planted k in 8 of 9 cases (8 planted, seed 0: split by ``unpaid_share``), and the profiles
#: still describe it as B2B (bench/RESULTS.md, "Issue 15: generator segments as one behavioural
#: group" and "Issue 15: firmographic attributes describe-only").
#:
#: ``seasonality`` (``spend_q1_share`` .. ``spend_q4_share``, ``season_peak_share``): a
#: customer's spend by calendar quarter. For a one-time buyer it is an atom (one quarter = 1),
#: and on CDNOW as of 1997-09-30 (every customer first bought in Q1 1997) that atom alone made
#: the one-time / repeat split look like two separated segments (without these columns the pair
#: projects unimodally, dip p = 1; bench/RESULTS.md, "Why CDNOW's 1997-09-30 split is
#: separated"). Issue 15 named it: "CDNOW's repeat buyers are split by the calendar quarter of
#: their spend". The shares describe segments; ``[features.weights] seasonality = 1`` puts them
#: back in the distance.
DEFAULT_WEIGHTS: dict[str, float] = {
    "seasonality": 0.0,
    "demographic": 0.0, "firmographic": 0.0, "geographic": 0.0, "psychographic": 0.0,
}

#: Families that only describe segments unless given a weight (see :data:`DEFAULT_WEIGHTS`).
DESCRIBE_ONLY_FAMILIES: tuple[str, ...] = (
    "seasonality", "demographic", "firmographic", "geographic", "psychographic",
)

# Default family/transform per canonical feature-frame column; prefixes below.
_DEFAULTS: dict[str, tuple[str, str]] = {
    # value / RFM / CLV / growth
    "recency_days": ("value", "robust"),
    "frequency": ("value", "log"),
    "monetary": ("value", "log"),
    "avg_order_value": ("value", "log"),
    "clv": ("value", "log"),
    "net_margin": ("value", "log"),
    "growth_potential": ("value", "standard"),
    "spending_score": ("value", "standard"),  # a retailer's own spending score (Mall)
    # forward (BG/NBD + Gamma-Gamma): computed only when the spec has the family
    **{c: ("forward", t) for c, t in FORWARD_TRANSFORMS.items()},
    # behaviour
    "tenure_days": ("behaviour", "robust"),
    "interpurchase_mean_days": ("behaviour", "log"),
    "interpurchase_cv": ("behaviour", "winsor"),
    "active_month_share": ("behaviour", "standard"),
    "spend_trend": ("behaviour", "winsor"),
    "season_peak_share": ("seasonality", "standard"),
    "n_channels": ("behaviour", "standard"),
    "return_rate": ("behaviour", "winsor"),
    # payment
    "days_late_mean": ("payment", "winsor"),
    "days_late_max": ("payment", "winsor"),
    "late_share": ("payment", "standard"),
    "unpaid_share": ("payment", "standard"),
    "payment_risk": ("payment", "passthrough"),
    # relationship
    "journey_stage_ord": ("relationship", "ordinal"),
    "response_rate": ("relationship", "standard"),
    "satisfaction_ord": ("relationship", "ordinal"),
    "complaints": ("relationship", "log"),
    "showed_interest": ("relationship", "passthrough"),
    "lead_source": ("relationship", "onehot"),
    # demographic
    "age": ("demographic", "standard"),
    "gender": ("demographic", "onehot"),
    "income": ("demographic", "log"),
    "profession": ("demographic", "onehot"),
    "education": ("demographic", "ordinal"),
    "marital_status": ("demographic", "onehot"),
    "household_size": ("demographic", "robust"),
    "children": ("demographic", "robust"),
    "life_stage": ("demographic", "onehot"),
    # firmographic
    "is_b2b": ("firmographic", "passthrough"),
    "industry": ("firmographic", "onehot"),
    "company_size": ("firmographic", "ordinal"),
    # geographic
    "country": ("geographic", "onehot"),
    "region": ("geographic", "onehot"),
    "macro_area": ("geographic", "onehot"),
    "province": ("geographic", "frequency"),
    "city": ("geographic", "frequency"),
    "postcode": ("geographic", "frequency"),
    "latitude": ("geographic", "standard"),
    "longitude": ("geographic", "standard"),
}
_PREFIX_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("spend_q", "seasonality", "standard"),
    ("category_share_", "behaviour", "standard"),
    ("channel_share_", "behaviour", "standard"),
    ("interest_", "psychographic", "passthrough"),
    ("survey_", "psychographic", "standard"),
)


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


@dataclass
class FamilySpec:
    """One family: its columns (column -> transform) and its weight.

    Attributes
    ----------
    columns : dict of str to str
        Feature-frame column -> transform name (one of :data:`TRANSFORMS`).
    weight : float
        Share of the squared-distance budget, >= 0 (1.0 = as much as any other
        family with weight 1; 0 = describe only: the family's columns stay in the
        feature frame and the profiles but not in the distance).
    options : dict
        Family options; only the ``forward`` family has any (``time_unit``, ``horizon``,
        ``discount_rate``, ``margin``: see :func:`segml.value.check_forward_options`).
    """

    columns: dict[str, str] = field(default_factory=dict)
    weight: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class FeatureSpec:
    """Families of model features, their transforms and weights.

    Parameters
    ----------
    families : dict of str to FamilySpec
        Family name (one of :data:`FAMILIES`) -> :class:`FamilySpec`.
    levels : dict of str to list of str, optional
        Ordered levels for ``ordinal`` string columns; allowed vocabulary for
        ``onehot`` columns.
    version : int, default 1
        Spec format version.
    min_level_customers : int, default 5
        Levels of ``onehot`` / ``frequency`` columns held by fewer customers are folded
        into ``<column>_other`` (counted) and never stored in a fitted or saved model.
    allow_identifiers : list of str, optional
        Columns that look like personal identifiers (e-mail, phone, name, address, mostly
        unique free text) but are included in the model deliberately. Any other such
        column is refused by :func:`~segml.features.make_preprocessor`.

    Examples
    --------
    >>> spec = FeatureSpec.default(["recency_days", "monetary", "region", "customer_id"])
    >>> spec.columns()
    {'recency_days': 'robust', 'monetary': 'log', 'region': 'onehot'}
    >>> FeatureSpec.from_toml(spec.to_toml()) == spec
    True
    """

    families: dict[str, FamilySpec] = field(default_factory=dict)
    levels: dict[str, list[str]] = field(default_factory=dict)
    version: int = SPEC_VERSION
    min_level_customers: int = MIN_LEVEL_CUSTOMERS
    allow_identifiers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> FeatureSpec:
        """Check families, transforms, weights and levels.

        Returns
        -------
        FeatureSpec
            ``self``.

        Raises
        ------
        ConfigError
            Naming the bad family, column, transform or weight and the allowed values.
        """
        if self.version != SPEC_VERSION:
            raise ConfigError(
                f"feature spec version={self.version!r} is not supported; "
                f"this segml reads version {SPEC_VERSION}."
            )
        if not isinstance(self.families, Mapping):
            raise ConfigError(
                f"families should be a mapping of family name -> {{columns, weight}}, "
                f"got {type(self.families).__name__}."
            )
        owner: dict[str, str] = {}
        for fam, fspec in self.families.items():
            if fam not in FAMILIES:
                raise ConfigError(f"unknown family {fam!r}; allowed: {_allowed(FAMILIES)}.")
            if not isinstance(fspec, FamilySpec):
                raise ConfigError(
                    f"family {fam!r} should be a FamilySpec (or a table with keys "
                    f"{_allowed(_FAMILY_KEYS)}), got {type(fspec).__name__}."
                )
            w = fspec.weight
            if (
                isinstance(w, bool)
                or not isinstance(w, int | float)
                or not math.isfinite(w)
                or w < 0
            ):
                raise ConfigError(
                    f"family {fam!r}: weight should be a finite number >= 0 (0 = describe "
                    f"only), got {w!r}. Fix: set [features.weights] {fam} = 1 in the config, "
                    f"or spec.with_weights({fam}=1) / weight = 1 in the spec file."
                )
            if not isinstance(fspec.columns, Mapping):
                raise ConfigError(
                    f"family {fam!r}: columns should be a mapping of column -> transform, "
                    f"got {type(fspec.columns).__name__}."
                )
            for col, tr in fspec.columns.items():
                if not isinstance(col, str) or not col:
                    raise ConfigError(
                        f"family {fam!r}: column names should be non-empty strings, got {col!r}."
                    )
                if tr not in TRANSFORMS:
                    raise ConfigError(
                        f"family {fam!r}, column {col!r}: unknown transform {tr!r}; "
                        f"allowed: {_allowed(TRANSFORMS)}."
                    )
                if col in owner:
                    raise ConfigError(
                        f"column {col!r} is in families {owner[col]!r} and {fam!r}; "
                        "a column belongs to one family."
                    )
                owner[col] = fam
            _check_options(fam, fspec)
        if not isinstance(self.levels, Mapping):
            raise ConfigError(
                f"levels should be a mapping of column -> list of levels, "
                f"got {type(self.levels).__name__}."
            )
        for col, lv in self.levels.items():
            if isinstance(lv, str) or not isinstance(lv, list | tuple) or not all(
                isinstance(v, str) for v in lv
            ):
                raise ConfigError(
                    f"levels for column {col!r} should be a list of strings, got {lv!r}."
                )
            if len(set(lv)) != len(lv):
                raise ConfigError(f"levels for column {col!r} repeat a level: {list(lv)!r}.")
        mlc = self.min_level_customers
        if isinstance(mlc, bool) or not isinstance(mlc, int) or mlc < 1:
            raise ConfigError(
                f"min_level_customers={mlc!r} should be a whole number >= 1 (customers per "
                "category level). Fix: set it in the spec (min_level_customers = 5), config "
                "[features] min_level_customers, or FeatureSpec(min_level_customers=5)."
            )
        ids = self.allow_identifiers
        if isinstance(ids, str) or not isinstance(ids, list | tuple) or not all(
            isinstance(c, str) for c in ids
        ):
            raise ConfigError(
                f"allow_identifiers={ids!r} should be a list of column names. Fix: "
                'allow_identifiers = ["column"] in the spec or config [features], or '
                'FeatureSpec(allow_identifiers=["column"]).'
            )
        return self

    # ------------------------------------------------------------------ views
    def columns(self) -> dict[str, str]:
        """All model columns -> transform, in family order.

        Returns
        -------
        dict of str to str
        """
        return {
            col: tr for fam in self.families.values() for col, tr in fam.columns.items()
        }

    def family_of(self, column: str) -> str:
        """Family a column belongs to.

        Parameters
        ----------
        column : str
            A model column.

        Returns
        -------
        str

        Raises
        ------
        ConfigError
            When the column is in no family.
        """
        for name, fam in self.families.items():
            if column in fam.columns:
                return name
        raise ConfigError(f"column {column!r} is in no family of this feature spec.")

    def select(self, frame_columns: Iterable[str]) -> FeatureSpec:
        """Return a copy keeping only the columns in ``frame_columns`` (empty families dropped).

        Parameters
        ----------
        frame_columns : iterable of str
            Columns available.

        Returns
        -------
        FeatureSpec
        """
        present = set(frame_columns)
        fams = {}
        for name, fam in self.families.items():
            cols = {c: t for c, t in fam.columns.items() if c in present}
            if cols:
                fams[name] = FamilySpec(columns=cols, weight=fam.weight,
                                        options=dict(fam.options))
        return FeatureSpec(families=fams, levels=dict(self.levels), version=self.version,
                           min_level_customers=self.min_level_customers,
                           allow_identifiers=list(self.allow_identifiers))

    def with_weights(self, **weights: float) -> FeatureSpec:
        """Return a copy with some family weights changed, e.g. ``spec.with_weights(value=2)``.

        Parameters
        ----------
        **weights : float
            Family name -> new weight.

        Returns
        -------
        FeatureSpec

        Raises
        ------
        ConfigError
            For a family not in the spec, or a bad weight.
        """
        d = self.to_dict()
        for fam, w in weights.items():
            if fam not in d["families"]:
                raise ConfigError(
                    f"family {fam!r} is not in this feature spec; "
                    f"it has: {_allowed(d['families'])}."
                )
            d["families"][fam]["weight"] = w
        return FeatureSpec.from_dict(d)

    def with_forward(
        self, columns: Iterable[str] | None = None, *, weight: float = 1.0, **options: Any
    ) -> FeatureSpec:
        """Return a copy with the ``forward`` family switched on.

        Parameters
        ----------
        columns : iterable of str, optional
            Forward columns to model (default all five, transforms of
            :data:`FORWARD_TRANSFORMS`).
        weight : float, default 1.0
            Family weight.
        **options
            ``time_unit``, ``horizon``, ``discount_rate``, ``margin``.

        Returns
        -------
        FeatureSpec

        Raises
        ------
        ConfigError
            On an unknown column or option, or a bad value.

        Examples
        --------
        >>> spec = FeatureSpec.default(["monetary"]).with_forward(["p_alive"], horizon=26)
        >>> spec.columns(), spec.forward_options()["horizon"]
        ({'monetary': 'log', 'p_alive': 'standard'}, 26)
        """
        cols = list(FORWARD_TRANSFORMS) if columns is None else list(columns)
        bad = [c for c in cols if c not in FORWARD_TRANSFORMS]
        if bad:
            raise ConfigError(
                f"with_forward: unknown column(s) {bad}; the forward family has "
                f"{_allowed(FORWARD_TRANSFORMS)}."
            )
        d = self.to_dict()
        d["families"]["forward"] = {"weight": weight, "options": dict(options),
                                    "columns": {c: FORWARD_TRANSFORMS[c] for c in cols}}
        d["families"] = {f: d["families"][f] for f in FAMILIES if f in d["families"]}
        return FeatureSpec.from_dict(d)

    def forward_options(self) -> dict[str, Any] | None:
        """Return the ``forward`` family options with defaults filled in; None when it is off.

        Returns
        -------
        dict or None
        """
        fam = self.families.get("forward")
        if fam is None or not fam.columns:
            return None
        from segml.value.family import check_forward_options

        return check_forward_options(fam.options)

    # ------------------------------------------------------------------ defaults
    @classmethod
    def default(cls, frame_columns: Iterable[str]) -> FeatureSpec:
        """Sensible defaults for the canonical feature columns present.

        Money goes through a signed log, day counts through robust scaling,
        bounded shares through standard scaling, heavy-tailed ratios through
        winsorising, nominal attributes through rare-grouped one-hot,
        high-cardinality geography (province, city, postcode) through frequency
        encoding, ordered attributes through ordinal codes, flags pass through.
        Every family gets weight 1 except the demographic, firmographic, geographic
        and psychographic attributes (0: describe only; see :data:`DEFAULT_WEIGHTS`).
        Identifiers, dates, scores derived from other columns (``r_score``,
        ``rfm_code``, ``abc_class``), raw inputs replaced by derived columns
        (``birth_year``, ``age_band``, ``journey_stage``, ``satisfaction``, campaign
        counts) and unknown columns are left out.

        Parameters
        ----------
        frame_columns : iterable of str
            Columns of the feature frame.

        Returns
        -------
        FeatureSpec
        """
        fams: dict[str, dict[str, str]] = {}
        for col in frame_columns:
            col = str(col)
            hit = _DEFAULTS.get(col)
            if hit is None:
                for prefix, fam, tr in _PREFIX_DEFAULTS:
                    if col.startswith(prefix):
                        hit = (fam, tr)
                        break
            if hit is None:
                continue
            fams.setdefault(hit[0], {})[col] = hit[1]
        families = {
            f: FamilySpec(columns=fams[f], weight=DEFAULT_WEIGHTS.get(f, 1.0))
            for f in FAMILIES
            if f in fams
        }
        return cls(families=families)

    # ------------------------------------------------------------------ dict round trip
    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON/TOML friendly).

        Returns
        -------
        dict
        """
        return {
            "version": self.version,
            "families": {
                name: {"weight": float(fam.weight), "columns": dict(fam.columns),
                       **({"options": dict(fam.options)} if fam.options else {})}
                for name, fam in self.families.items()
            },
            "levels": {c: list(v) for c, v in self.levels.items()},
            "min_level_customers": self.min_level_customers,
            "allow_identifiers": list(self.allow_identifiers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Build and validate a spec from :meth:`to_dict` output.

        Parameters
        ----------
        data : mapping
            Keys ``families`` (required), ``levels``, ``version``.

        Returns
        -------
        FeatureSpec

        Raises
        ------
        ConfigError
            Naming the bad key, family, column or transform and the allowed values.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a feature spec should be a mapping, got {type(data).__name__}.")
        for key in data:
            if key not in _TOP_KEYS:
                raise ConfigError(
                    f"unknown key {key!r} in feature spec; allowed: {_allowed(_TOP_KEYS)}."
                )
        if "families" not in data:
            raise ConfigError("feature spec has no 'families' table; it needs at least one family.")
        raw = data["families"]
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"families should be a mapping of family name -> {{columns, weight}}, "
                f"got {type(raw).__name__}."
            )
        families: dict[str, FamilySpec] = {}
        for name, fam in raw.items():
            if not isinstance(fam, Mapping):
                raise ConfigError(
                    f"family {name!r} should be a table with keys {_allowed(_FAMILY_KEYS)}, "
                    f"got {type(fam).__name__}."
                )
            for key in fam:
                if key not in _FAMILY_KEYS:
                    raise ConfigError(
                        f"family {name!r}: unknown key {key!r}; allowed: {_allowed(_FAMILY_KEYS)}."
                    )
            cols = fam.get("columns", {})
            opts = fam.get("options", {})
            families[str(name)] = FamilySpec(
                columns=dict(cols) if isinstance(cols, Mapping) else cols,
                weight=fam.get("weight", 1.0),
                options=dict(opts) if isinstance(opts, Mapping) else opts,
            )
        levels = data.get("levels", {})
        return cls(
            families=families,
            levels={c: list(v) if isinstance(v, list | tuple) else v for c, v in levels.items()}
            if isinstance(levels, Mapping)
            else levels,
            version=data.get("version", SPEC_VERSION),
            min_level_customers=data.get("min_level_customers", MIN_LEVEL_CUSTOMERS),
            allow_identifiers=data.get("allow_identifiers", []),
        )

    # ------------------------------------------------------------------ TOML round trip
    def to_toml(
        self, path: str | os.PathLike[str] | None = None, *, overwrite: bool = False
    ) -> str:
        """TOML text of the spec; written atomically to ``path`` when given.

        Parameters
        ----------
        path : path-like, optional
            Where to write (never overwritten silently).
        overwrite : bool, default False
            Allow replacing an existing file.

        Returns
        -------
        str
            The TOML text.
        """
        lines = [f"version = {int(self.version)}"]
        if self.min_level_customers != MIN_LEVEL_CUSTOMERS:
            lines.append(f"min_level_customers = {int(self.min_level_customers)}")
        if self.allow_identifiers:
            names = ", ".join(_str(c) for c in self.allow_identifiers)
            lines.append(f"allow_identifiers = [{names}]")
        lines.append("")
        if not self.families:
            lines += ["[families]", ""]
        for name, fam in self.families.items():
            lines += [f"[families.{_key(name)}]", f"weight = {_toml_float(fam.weight)}", ""]
            lines.append(f"[families.{_key(name)}.columns]")
            lines += [f"{_key(c)} = {_str(t)}" for c, t in fam.columns.items()]
            lines.append("")
            if fam.options:
                lines.append(f"[families.{_key(name)}.options]")
                lines += [f"{_key(k)} = {_toml_value(v)}" for k, v in fam.options.items()]
                lines.append("")
        if self.levels:
            lines.append("[levels]")
            lines += [
                f"{_key(c)} = [{', '.join(_str(v) for v in lv)}]" for c, lv in self.levels.items()
            ]
            lines.append("")
        text = "\n".join(lines)
        if path is not None:
            write_text(path, text, overwrite=overwrite)
        return text

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> FeatureSpec:
        """Read a spec from TOML text (``str``) or a file (``Path``/path-like).

        Parameters
        ----------
        source : str or path-like
            TOML text, or the path of a ``.toml`` file (a ``pathlib.Path`` or
            any ``os.PathLike``; a plain string is always parsed as text).

        Returns
        -------
        FeatureSpec

        Raises
        ------
        ConfigError
            When the TOML is malformed or the spec invalid.
        """
        if isinstance(source, os.PathLike):
            where = str(source)
            text = Path(source).read_text(encoding="utf-8")
        else:
            where = "feature spec text"
            text = source
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where} is not valid TOML: {exc}") from exc
        return cls.from_dict(data)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _str(value: str) -> str:
    """TOML basic string: escape backslash, quote and every control character (DEL too)."""
    out = []
    for ch in str(value):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _str(name)


def _toml_float(x: float) -> str:
    return repr(float(x))


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return _toml_float(v)


def _check_options(name: str, fam: FamilySpec) -> None:
    """Only the ``forward`` family takes options; check them (segml.value's rules)."""
    if not isinstance(fam.options, Mapping):
        raise ConfigError(
            f"family {name!r}: options should be a table, got {type(fam.options).__name__}."
        )
    if not fam.options:
        return
    if name != "forward":
        raise ConfigError(
            f"family {name!r} takes no options (got {sorted(fam.options)}); only the "
            "'forward' family has options. Fix: remove [families." + name + ".options]."
        )
    from segml.value.family import check_forward_options

    check_forward_options(fam.options)
