"""Rule sets as data: an ordered list of named conditions plus a default segment.

A :class:`RuleSet` is declarative and serialisable (TOML); :class:`~segml.rules.RuleSegmenter`
fits and applies it. The TOML layout is flat::

    name = "abc"
    description = "ABC classes on revenue share"
    default = "none"

    [[rules]]
    name = "A"
    expr = "abc_class == 'A'"
    description = "top 20% of customers by revenue"
    action = "protect: account manager, service level"
"""

from __future__ import annotations

import importlib.resources
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from segml._atomic import write_text
from segml.errors import ConfigError
from segml.rules import expr as _expr

__all__ = ["Rule", "RuleSet", "BUILTIN_RULESETS"]

BUILTIN_RULESETS = ("rfm_groups", "abc", "portfolio_roles", "lifecycle")


@dataclass(frozen=True)
class Rule:
    """One named condition.

    Parameters
    ----------
    name : str
        Segment name given to the rows the condition matches.
    expr : str
        Condition in the rule language (see :mod:`segml.rules.expr`).
    description : str, optional
        What the segment is.
    action : str, optional
        What sales/marketing should do with it.
    """

    name: str
    expr: str
    description: str = ""
    action: str = ""


@dataclass(frozen=True)
class RuleSet:
    """An ordered list of rules and a default segment; the first matching rule wins.

    Parameters
    ----------
    rules : tuple of Rule
        The rules, in priority order.
    default : str, default "other"
        Segment of rows that no rule matches.
    name : str, default "custom"
        Name of the rule set.
    description : str, optional
        Free text.
    default_description, default_action : str, optional
        Description/action of the default segment.

    Examples
    --------
    >>> rs = RuleSet.from_rules([("big", "monetary >= 100")], default="small")
    >>> rs.segment_names
    ['big', 'small']
    """

    rules: tuple[Rule, ...]
    default: str = "other"
    name: str = "custom"
    description: str = ""
    default_description: str = ""
    default_action: str = ""
    _parsed: tuple[_expr.Node, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        if not rules:
            raise ConfigError(
                f"rule set {self.name!r} is empty: give at least one (name, condition) rule"
            )
        for r in rules:
            if not isinstance(r, Rule):
                raise ConfigError(f"rule set {self.name!r}: expected Rule objects, got {r!r}")
            if not isinstance(r.name, str) or not r.name.strip():
                raise ConfigError(f"rule set {self.name!r}: a rule has an empty name ({r!r})")
        if not isinstance(self.default, str) or not self.default.strip():
            raise ConfigError(f"rule set {self.name!r}: the default segment needs a non-empty name")
        names = [r.name for r in rules] + [self.default]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(
                f"rule set {self.name!r}: segment names must be unique (rules and default); "
                f"duplicated: {dupes}"
            )
        parsed = tuple(_expr.parse(r.expr, rule=r.name) for r in rules)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "_parsed", parsed)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_rules(
        cls,
        rules: Iterable[tuple[str, str]] | Mapping[str, str],
        default: str = "other",
        *,
        name: str = "custom",
    ) -> RuleSet:
        """Build a rule set from ``(name, condition)`` pairs or an ordered mapping.

        Parameters
        ----------
        rules : iterable of (str, str) or mapping
            Rules in priority order.
        default : str, default "other"
            Segment for rows no rule matches.
        name : str, default "custom"
            Name of the rule set.

        Returns
        -------
        RuleSet
        """
        if isinstance(rules, RuleSet):
            return rules
        items = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
        out = []
        for item in items:
            if isinstance(item, Rule):
                out.append(item)
                continue
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise ConfigError(
                    f"rule set {name!r}: each rule must be a (name, condition) pair, got {item!r}"
                )
            out.append(Rule(str(item[0]), item[1]))
        return cls(tuple(out), default=default, name=name)

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, source: str = "rule set") -> RuleSet:
        """Build a rule set from the dictionary form of its TOML.

        Parameters
        ----------
        data : mapping
            Keys ``name``, ``description``, ``default``, ``default_description``,
            ``default_action`` and ``rules`` (a list of tables with ``name``, ``expr``
            and optional ``description``/``action``).
        source : str
            Where the data came from, for messages.

        Returns
        -------
        RuleSet
        """
        allowed = {
            "name",
            "description",
            "default",
            "default_description",
            "default_action",
            "rules",
        }
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(
                f"{source}: unknown top-level keys {unknown}; allowed: {sorted(allowed)}"
            )
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ConfigError(f"{source}: 'rules' must be an array of tables ([[rules]])")
        rules = []
        for i, r in enumerate(raw_rules):
            if not isinstance(r, Mapping):
                raise ConfigError(f"{source}: rules[{i}] must be a table with 'name' and 'expr'")
            missing = [k for k in ("name", "expr") if k not in r]
            if missing:
                raise ConfigError(f"{source}: rules[{i}] lacks {missing} (needs 'name' and 'expr')")
            extra = sorted(set(r) - {"name", "expr", "description", "action"})
            if extra:
                raise ConfigError(
                    f"{source}: rules[{i}] ({r['name']!r}) has unknown keys {extra}; "
                    "allowed: name, expr, description, action"
                )
            for k in r:
                if not isinstance(r[k], str):
                    raise ConfigError(f"{source}: rules[{i}].{k} must be a string, got {r[k]!r}")
            rules.append(Rule(r["name"], r["expr"], r.get("description", ""), r.get("action", "")))
        for k in ("name", "description", "default", "default_description", "default_action"):
            if k in data and not isinstance(data[k], str):
                raise ConfigError(f"{source}: {k!r} must be a string, got {data[k]!r}")
        return cls(
            tuple(rules),
            default=str(data.get("default", "other")),
            name=str(data.get("name", "custom")),
            description=str(data.get("description", "")),
            default_description=str(data.get("default_description", "")),
            default_action=str(data.get("default_action", "")),
        )

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> RuleSet:
        """Load a rule set from a TOML file or TOML text.

        Parameters
        ----------
        source : str or path-like
            A path (``Path`` objects, or strings without a newline that name an
            existing file or end in ``.toml``) or the TOML text itself.

        Returns
        -------
        RuleSet

        Raises
        ------
        ConfigError
            Bad TOML (with line and column), missing keys, empty rule set.
        RuleSyntaxError
            A condition that does not parse.
        """
        if isinstance(source, os.PathLike) or (
            isinstance(source, str)
            and "\n" not in source
            and (source.endswith(".toml") or Path(source).is_file())
        ):
            path = Path(source)
            if not path.is_file():
                raise ConfigError(f"rule set file {path} does not exist")
            text, where = path.read_text(encoding="utf-8"), str(path)
        else:
            text, where = str(source), "rule set TOML"
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: invalid TOML: {exc}") from exc
        return cls.from_dict(data, source=where)

    @classmethod
    def builtin(cls, name: str) -> RuleSet:
        """Load a rule set shipped with segml.

        Parameters
        ----------
        name : {"rfm_groups", "abc", "portfolio_roles", "lifecycle"}
            Which one; see ``segml/rulesets/<name>.toml``.

        Returns
        -------
        RuleSet

        Examples
        --------
        >>> RuleSet.builtin("abc").segment_names
        ['A', 'B', 'C', 'none']
        """
        if name not in BUILTIN_RULESETS:
            raise ConfigError(
                f"unknown built-in rule set {name!r}; available: {', '.join(BUILTIN_RULESETS)}"
            )
        return cls.from_toml(_read_packaged(f"{name}.toml"))

    # ----------------------------------------------------------------- output
    def to_dict(self) -> dict[str, object]:
        """Plain-dict form (the TOML structure)."""
        out: dict[str, object] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["default"] = self.default
        if self.default_description:
            out["default_description"] = self.default_description
        if self.default_action:
            out["default_action"] = self.default_action
        rules = []
        for r in self.rules:
            d = {"name": r.name, "expr": r.expr}
            if r.description:
                d["description"] = r.description
            if r.action:
                d["action"] = r.action
            rules.append(d)
        out["rules"] = rules
        return out

    def to_toml(
        self, path: str | os.PathLike[str] | None = None, *, overwrite: bool = False
    ) -> str:
        """Serialise to TOML; write it atomically to ``path`` when given.

        Parameters
        ----------
        path : path-like, optional
            Where to write (never overwritten silently).
        overwrite : bool, default False
            Allow replacing an existing file.

        Returns
        -------
        str
            The TOML text (``RuleSet.from_toml(text) == self``).
        """
        lines = []
        data = self.to_dict()
        for key, value in data.items():
            if key != "rules":
                lines.append(f"{key} = {_toml_str(str(value))}")
        for r in data["rules"]:  # type: ignore[union-attr]
            lines.append("")
            lines.append("[[rules]]")
            for key, value in r.items():
                lines.append(f"{key} = {_toml_str(value)}")
        text = "\n".join(lines) + "\n"
        if path is not None:
            write_text(path, text, overwrite=overwrite)
        return text

    # ------------------------------------------------------------- inspection
    @property
    def segment_names(self) -> list[str]:
        """Rule names in order, then the default."""
        return [r.name for r in self.rules] + [self.default]

    @property
    def parsed(self) -> tuple[_expr.Node, ...]:
        """The parsed condition of each rule."""
        return self._parsed

    @property
    def columns(self) -> list[str]:
        """Columns the rules read, in order of first appearance."""
        seen: dict[str, None] = {}
        for node in self._parsed:
            for c in _expr.columns_of(node):
                seen.setdefault(c, None)
        return list(seen)


def _read_packaged(filename: str) -> str:
    """Read ``segml/rulesets/<filename>`` (package data)."""
    try:
        res = importlib.resources.files("segml") / "rulesets" / filename
        return res.read_text(encoding="utf-8")
    except (NotADirectoryError, FileNotFoundError):
        # setuptools' editable finder can add a non-directory entry to segml.__path__,
        # which makes importlib.resources refuse the package; fall back to the source tree.
        return (Path(__file__).resolve().parents[1] / "rulesets" / filename).read_text(
            encoding="utf-8"
        )


def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
