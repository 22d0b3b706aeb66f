"""A sales playbook as data: conditions on segment statistics -> role + suggested action.

The default playbook ships with the package (``segml/playbooks/default.toml``, read with
:mod:`importlib.resources`); a sales team edits a copy and passes its path. See that file for
the format. :func:`apply_playbook` gives every segment a role, an action and the evidence:
the numbers that made each condition hold.
"""

from __future__ import annotations

import difflib
import importlib.resources
import operator
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segml.errors import ConfigError

__all__ = ["Condition", "PlaybookRule", "Playbook", "load_playbook", "apply_playbook",
           "PlaybookResult", "STATE_VALUES", "NUMERIC_STATISTICS"]

#: Word-valued statistics and their possible values (segml.cluster.naming computes them).
STATE_VALUES: dict[str, tuple[str, ...]] = {
    "value_tier": ("top-value", "high-value", "mid-value", "low-value", "typical"),
    "recency_state": ("active", "cooling", "lapsed", "typical"),
    "frequency_state": ("frequent", "occasional", "one-off", "typical"),
    "trend_state": ("growing", "declining", "typical"),
    "tenure_state": ("new", "long-standing", "typical"),
    "payment_state": ("late-paying", "prompt-paying", "typical"),
}
#: Number-valued statistics besides ``<feature>_z`` / ``_mean`` / ``_median``.
NUMERIC_STATISTICS = ("share", "revenue_share", "value_index", "prospect_share", "n",
                      "is_top_revenue")
_FEATURE_STAT = re.compile(r"^[A-Za-z0-9_]+_(z|mean|median)$")
_NUM_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}
_WORD_OPS = ("==", "!=", "in", "not in")
_COND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*"
                   r"(>=|<=|==|!=|>|<|(?<=\s)not\s+in\b|(?<=\s)in\b)\s*(.+?)\s*$")
_FIX = "Fix: correct the rule in the playbook TOML (segml run --playbook / [profiles] playbook)"


@dataclass(frozen=True)
class Condition:
    """``statistic operator value``; ``value`` is a float or a tuple of words."""

    statistic: str
    op: str
    value: float | tuple[str, ...]

    def text(self) -> str:
        """Return the condition as written, e.g. ``value_tier in (top-value, high-value)``."""
        if isinstance(self.value, tuple):
            v = self.value[0] if self.op in ("==", "!=") else f"({', '.join(self.value)})"
            return f"{self.statistic} {self.op} {v}"
        return f"{self.statistic} {self.op} {self.value:g}"

    def holds(self, stats: Mapping[str, Any]) -> bool:
        """Whether the condition holds; a statistic the segment lacks never does."""
        v = stats.get(self.statistic)
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return False
        if isinstance(self.value, tuple):
            inside = str(v) in self.value
            return inside if self.op in ("==", "in") else not inside
        try:
            return bool(_NUM_OPS[self.op](float(v), self.value))
        except (TypeError, ValueError):
            return False


@dataclass(frozen=True)
class PlaybookRule:
    """One rule: all ``conditions`` hold -> ``role`` and ``action``."""

    role: str
    action: str
    conditions: tuple[Condition, ...]

    def text(self) -> str:
        """Return ``"role: cond and cond"`` (``"role: otherwise"`` without conditions)."""
        if not self.conditions:
            return f"{self.role}: otherwise"
        return f"{self.role}: " + " and ".join(c.text() for c in self.conditions)


@dataclass(frozen=True)
class Playbook:
    """Ordered rules, first match wins, and the role/action of a segment none matches."""

    name: str
    rules: tuple[PlaybookRule, ...]
    default_role: str
    default_action: str
    source: str = "default"


@dataclass
class PlaybookResult:
    """Per-segment ``roles``, ``actions``, ``evidence`` and ``reasons`` (rule text + values)."""

    roles: pd.Series
    actions: pd.Series
    evidence: pd.Series
    reasons: pd.Series


def parse_condition(text: Any, where: str) -> Condition:
    """Parse ``"statistic operator value"`` and check it against the known statistics.

    Parameters
    ----------
    text : str
        E.g. ``"value_index >= 1.5"`` or ``"recency_state in (cooling, lapsed)"``.
    where : str
        Where the condition sits, for the error message.

    Returns
    -------
    Condition

    Raises
    ------
    ConfigError
        Not a string, no operator, unknown statistic, operator or word, or a non-number.
    """
    m = _COND.match(text) if isinstance(text, str) else None
    if m is None:
        raise ConfigError(
            f"playbook {where}: condition {text!r} is not 'statistic operator value' "
            f"(operators {', '.join([*_NUM_OPS, 'in', 'not in'])}). {_FIX}, e.g. "
            "\"value_index >= 1.5\"."
        )
    stat, op, raw = m.group(1), re.sub(r"\s+", " ", m.group(2)), m.group(3).strip()
    if stat in STATE_VALUES:
        allowed = STATE_VALUES[stat]
        if op not in _WORD_OPS:
            raise ConfigError(
                f"playbook {where}: operator {op!r} cannot compare the word-valued {stat!r} "
                f"(use {', '.join(_WORD_OPS)}). {_FIX}, e.g. \"{stat} == {allowed[0]}\"."
            )
        words = tuple(w.strip().strip("'\"") for w in raw.strip("()[]").split(",") if w.strip())
        bad = [w for w in words if w not in allowed]
        if bad or not words or (op in ("==", "!=") and len(words) != 1):
            raise ConfigError(
                f"playbook {where}: {text!r} compares {stat!r} with {bad or raw!r}; its values "
                f"are {', '.join(allowed)} (one word for == / !=). {_FIX}."
            )
        return Condition(stat, op, words)
    if stat not in NUMERIC_STATISTICS and not _FEATURE_STAT.match(stat):
        known = [*STATE_VALUES, *NUMERIC_STATISTICS]
        close = difflib.get_close_matches(stat, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"playbook {where}: unknown statistic {stat!r}.{hint} Known: "
            f"{', '.join(known)}, or <feature>_z / _mean / _median. {_FIX}."
        )
    if op not in _NUM_OPS:
        raise ConfigError(f"playbook {where}: operator {op!r} needs words; {stat!r} is a number "
                          f"(use {', '.join(_NUM_OPS)}). {_FIX}.")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"playbook {where}: {stat!r} is a number but {raw!r} is not. "
                          f"{_FIX}, e.g. \"{stat} {op} 1.5\".") from None
    return Condition(stat, op, value)


def playbook_from_dict(raw: Mapping[str, Any], *, source: str = "<dict>") -> Playbook:
    """Build and check a :class:`Playbook` from parsed TOML.

    Parameters
    ----------
    raw : mapping
        Keys ``name``, ``description``, ``default_role``, ``default_action`` and ``rules``
        (a list of tables with ``role``, ``action`` and ``when``, a list of conditions).
    source : str, default="<dict>"
        Where it came from, for messages.

    Returns
    -------
    Playbook

    Raises
    ------
    ConfigError
        Unknown or missing keys, empty rules, or a bad condition.
    """
    top = {"name", "description", "default_role", "default_action", "rules"}
    unknown = sorted(set(raw) - top)
    if unknown:
        raise ConfigError(f"playbook {source}: unknown key(s) {unknown}; valid: {sorted(top)}. "
                          f"{_FIX}.")
    for key in ("default_role", "default_action"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"playbook {source}: {key} is missing or not text. {_FIX}: add "
                              f"{key} = \"...\" (what a segment no rule matches gets).")
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise ConfigError(f"playbook {source}: no [[rules]]. {_FIX}: add at least one "
                          "[[rules]] table with role, action and when.")
    rules = []
    for i, r in enumerate(rules_raw, start=1):
        where = f"{source} rule {i}"
        if not isinstance(r, Mapping):
            raise ConfigError(f"playbook {where}: {r!r} is not a table. {_FIX}.")
        extra = sorted(set(r) - {"role", "action", "when"})
        missing = [k for k in ("role", "action", "when") if k not in r]
        if extra or missing:
            raise ConfigError(f"playbook {where}: missing {missing}, unknown {extra}; a rule "
                              f"has role, action and when. {_FIX}.")
        if not isinstance(r["when"], list) or not r["when"]:
            raise ConfigError(f"playbook {where}: when = {r['when']!r} should be a non-empty "
                              "list of conditions (a segment no rule matches gets "
                              f"default_role). {_FIX}.")
        conds = tuple(parse_condition(c, where) for c in r["when"])
        rules.append(PlaybookRule(str(r["role"]), str(r["action"]), conds))
    return Playbook(str(raw.get("name", source)), tuple(rules), raw["default_role"],
                    raw["default_action"], source)


def load_playbook(path: str | Path | None = None) -> Playbook:
    """Read a playbook TOML; ``None`` reads the one shipped with segml.

    Parameters
    ----------
    path : str, pathlib.Path or None, default=None
        A playbook file (format: ``segml/playbooks/default.toml``).

    Returns
    -------
    Playbook

    Raises
    ------
    ConfigError
        Missing file, invalid TOML or an invalid rule.

    Examples
    --------
    >>> pb = load_playbook()
    >>> pb.rules[0].text()
    'to reach: prospect_share >= 0.5'
    """
    if path is None:
        text = (importlib.resources.files("segml") / "playbooks" / "default.toml").read_text(
            encoding="utf-8")
        source = "default"
    else:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"playbook file {str(p)!r} does not exist. Fix: give an existing "
                              "TOML file (segml run --playbook / [profiles] playbook / "
                              "load_playbook(path)); copy segml/playbooks/default.toml to start.")
        text = p.read_text(encoding="utf-8")
        source = p.name
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"playbook {source}: not valid TOML ({exc}). {_FIX}.") from None
    return playbook_from_dict(raw, source=source)


def playbook_from_role_rules(rules: Sequence[Any]) -> Playbook:
    """Wrap the older ``role_rules`` form ``[(role, [(signal, op, threshold), ...]), ...]``.

    A rule without conditions is a catch-all; without one, unmatched segments are
    ``unassigned``.

    Raises
    ------
    ConfigError
        A malformed rule or an unknown operator.
    """
    checked = []
    for item in rules:
        try:
            role, conds = item
            conds = tuple((str(s), str(op), float(t)) for s, op, t in conds)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"role rule {item!r} should be (role, [(signal, operator, threshold), ...]). "
                "Fix: pass role_rules like [('vip', [('monetary_z', '>', 1.0)]), ('others', "
                "[])], or use a playbook TOML (playbook=...)."
            ) from exc
        for _, op, _ in conds:
            if op not in ("<", "<=", ">", ">="):
                raise ConfigError(f"role rule operator {op!r} is not one of "
                                  "('>=', '>', '<=', '<'). Fix: use one of those in role_rules.")
        checked.append(PlaybookRule(str(role), "", tuple(Condition(s, op, t)
                                                          for s, op, t in conds)))
    if not checked:
        raise ConfigError("role_rules is empty; give at least a catch-all (role, []). Fix: "
                          "role_rules=[..., ('to retain', [])], or leave it None.")
    return Playbook("role_rules", tuple(checked), "unassigned", "", "role_rules")


def _value_text(v: Any) -> str:
    return v if isinstance(v, str) else f"{float(v):.2f}"


def apply_playbook(
    playbook: Playbook,
    statistics: pd.DataFrame,
    evidence: Mapping[Any, Mapping[str, str]] | None = None,
) -> PlaybookResult:
    """Give every segment the role and action of the first rule that holds, with evidence.

    Parameters
    ----------
    playbook : Playbook
        From :func:`load_playbook`.
    statistics : pandas.DataFrame
        Indexed by segment, one column per statistic (states as words, the rest numbers).
    evidence : mapping or None, default=None
        Segment -> {statistic -> text with the numbers behind it}; statistics without text
        are shown as ``statistic=value``.

    Returns
    -------
    PlaybookResult
    """
    evidence = {} if evidence is None else evidence
    roles, actions, evid, reasons = [], [], [], []
    for s in statistics.index:
        row = {k: v for k, v in statistics.loc[s].items() if not (
            not isinstance(v, str) and pd.isna(v))}
        texts = evidence.get(s, {})
        for rule in playbook.rules:
            if all(c.holds(row) for c in rule.conditions):
                roles.append(rule.role)
                actions.append(rule.action)
                if rule.conditions:
                    parts = []
                    for c in rule.conditions:
                        base = f"{c.statistic}={_value_text(row[c.statistic])}"
                        more = texts.get(c.statistic)
                        parts.append(f"{base} ({more})" if more else base)
                    evid.append(f"rule '{rule.text()}': " + "; ".join(parts))
                    vals = ", ".join(f"{c.statistic}={_value_text(row[c.statistic])}"
                                     for c in rule.conditions)
                    reasons.append(f"{rule.text()} ({vals})")
                else:
                    evid.append(f"no playbook rule matched (catch-all '{rule.text()}')")
                    reasons.append(rule.text())
                break
        else:
            roles.append(playbook.default_role)
            actions.append(playbook.default_action)
            states = ", ".join(f"{k}={row[k]}" for k in STATE_VALUES if k in row)
            evid.append("no playbook rule matched" + (f" ({states})" if states else ""))
            reasons.append("no rule matched" if playbook.source == "role_rules"
                           else f"{playbook.default_role}: no playbook rule matched")
    idx = statistics.index
    return PlaybookResult(
        roles=pd.Series(roles, index=idx, name="role", dtype=object),
        actions=pd.Series(actions, index=idx, name="action", dtype=object),
        evidence=pd.Series(evid, index=idx, name="evidence", dtype=object),
        reasons=pd.Series(reasons, index=idx, name="role_rule", dtype=object),
    )
