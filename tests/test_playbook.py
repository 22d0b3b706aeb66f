"""The playbook: shipped TOML, validation with a Fix, first match wins, evidence, custom files."""

import importlib.resources

import numpy as np
import pandas as pd
import pytest

from segml.cli import main
from segml.cluster import profile_segments
from segml.config import validate_config
from segml.errors import ConfigError
from segml.playbook import apply_playbook, load_playbook, parse_condition

GOOD = """
name = "mine"
default_role = "other"
default_action = "look again"

[[rules]]
role = "vip"
when = ["value_tier in (top-value, high-value)", "recency_state != lapsed"]
action = "lunch with the CEO"
"""


def _write(tmp_path, text, name="book.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_playbook_ships_with_the_package():
    text = (importlib.resources.files("segml") / "playbooks" / "default.toml").read_text()
    assert "[[rules]]" in text
    book = load_playbook()
    assert book.source == "default"
    assert book.rules[0].text() == "to reach: prospect_share >= 0.5"
    roles = {r.role for r in book.rules}
    assert {"to reach", "precious", "to retain", "to win back", "to develop"} <= roles
    assert book.default_role == "to review"


def test_first_rule_that_holds_wins_with_evidence():
    book = load_playbook()
    stats = pd.DataFrame(
        {"value_tier": ["high-value", "high-value", "low-value", "typical"],
         "recency_state": ["active", "cooling", "lapsed", "typical"],
         "trend_state": ["typical"] * 4, "payment_state": ["typical"] * 4,
         "tenure_state": ["typical"] * 4, "frequency_state": ["typical"] * 4,
         "prospect_share": [0.0, 0.0, 0.0, 0.0], "is_top_revenue": [1.0, 0.0, 0.0, 0.0]},
        index=pd.Index([0, 1, 2, 3], name="segment"),
    )
    ev = {1: {"recency_state": "recency_days mean 120 days vs 60 days overall"}}
    r = apply_playbook(book, stats, ev)
    assert r.roles.tolist() == ["precious", "to retain", "to win back", "to review"]
    assert r.actions[1].startswith("personal call from the account manager")
    assert r.evidence[1] == (
        "rule 'to retain: value_tier in (top-value, high-value) and recency_state in (cooling, "
        "lapsed)': value_tier=high-value; recency_state=cooling (recency_days mean 120 days vs "
        "60 days overall)"
    )
    assert r.actions[2].startswith("low-cost reactivation")
    assert r.evidence[3].startswith("no playbook rule matched (value_tier=typical, ")
    assert r.reasons[3] == "to review: no playbook rule matched"


def test_late_payers_get_tighter_terms():
    stats = pd.DataFrame({"payment_state": ["late-paying"], "value_tier": ["top-value"]})
    r = apply_playbook(load_playbook(), stats)
    assert r.roles.tolist() == ["to secure"]
    assert r.actions[0].startswith("tighter payment terms")


def test_same_role_twice_only_when_both_meet_it():
    stats = pd.DataFrame({"value_tier": ["top-value", "high-value"],
                          "recency_state": ["active", "typical"]})
    r = apply_playbook(load_playbook(), stats)
    assert r.roles.tolist() == ["precious", "precious"]
    assert r.evidence[0].endswith("value_tier=top-value")
    assert r.evidence[1].endswith("value_tier=high-value")


def test_numeric_conditions_and_missing_statistics():
    c = parse_condition("days_late_mean_z >= 0.5", "t")
    assert c.holds({"days_late_mean_z": 0.7}) and not c.holds({"days_late_mean_z": 0.2})
    assert not c.holds({})  # a statistic the data lacks never holds
    assert c.text() == "days_late_mean_z >= 0.5"
    w = parse_condition("trend_state not in (declining)", "t")
    assert w.holds({"trend_state": "growing"}) and not w.holds({"trend_state": "declining"})


def _frame():
    rng = np.random.default_rng(3)
    f = pd.DataFrame({
        "recency_days": np.r_[rng.uniform(0, 30, 60), rng.uniform(300, 400, 60)],
        "monetary": np.r_[rng.uniform(800, 900, 60), rng.uniform(50, 70, 60)],
    })
    return f, [0] * 60 + [1] * 60


def test_custom_playbook_changes_the_action(tmp_path):
    f, lab = _frame()
    default = profile_segments(f, lab)
    assert default.roles[0] == "precious"
    custom = profile_segments(f, lab, playbook=_write(tmp_path, GOOD))
    assert custom.roles.tolist() == ["vip", "other"]
    assert custom.actions.tolist() == ["lunch with the CEO", "look again"]
    assert custom.role_rules == [
        "vip: value_tier in (top-value, high-value) and recency_state != lapsed"]
    assert custom.evidence[0].startswith(
        "rule 'vip: value_tier in (top-value, high-value) and recency_state != lapsed': "
        "value_tier=high-value (")
    assert custom.evidence[1].startswith("no playbook rule matched (value_tier=low-value, ")
    same = profile_segments(f, lab, playbook=load_playbook(_write(tmp_path, GOOD, "b.toml")))
    assert same.actions.tolist() == custom.actions.tolist()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("name = [", r"playbook book.toml: not valid TOML .*Fix: correct the rule"),
        (GOOD.replace("value_tier in", "value_teir in"),
         r"rule 1: unknown statistic 'value_teir'. Did you mean 'value_tier'\?.*Fix:"),
        (GOOD.replace("recency_state != lapsed", "recency_state >= lapsed"),
         r"operator '>=' cannot compare the word-valued 'recency_state'.*Fix:"),
        (GOOD.replace("recency_state != lapsed", "recency_state == gone"),
         r"compares 'recency_state' with \['gone'\]; its values are active, cooling.*Fix:"),
        (GOOD.replace("recency_state != lapsed", "value_index >= lots"),
         r"'value_index' is a number but 'lots' is not.*Fix:"),
        (GOOD.replace("recency_state != lapsed", "value_index ~ 2"),
         r"condition 'value_index ~ 2' is not 'statistic operator value'.*Fix:"),
        (GOOD.replace("recency_state != lapsed", "value_index in (1, 2)"),
         r"operator 'in' needs words; 'value_index' is a number.*Fix:"),
        (GOOD.replace('default_role = "other"\n', ""),
         r"default_role is missing or not text. Fix:"),
        (GOOD.replace('when = ["value_tier in (top-value, high-value)", '
                      '"recency_state != lapsed"]', "when = []"),
         r"rule 1: when = \[\] should be a non-empty list.*Fix:"),
        (GOOD.replace('action = "lunch with the CEO"', 'actoin = "x"'),
         r"rule 1: missing \['action'\], unknown \['actoin'\].*Fix:"),
        ("colour = 1\n" + GOOD, r"unknown key\(s\) \['colour'\].*Fix:"),
        ('default_role = "a"\ndefault_action = "b"\n', r"no \[\[rules\]\]. Fix:"),
    ],
)
def test_playbook_errors(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        load_playbook(_write(tmp_path, text))


def test_missing_file_and_bad_argument(tmp_path):
    with pytest.raises(ConfigError, match=r"playbook file '.*nope.toml' does not exist. Fix:"):
        load_playbook(tmp_path / "nope.toml")
    f, lab = _frame()
    with pytest.raises(ConfigError, match=r"playbook should be a Playbook, a path or None; "
                                          r"got int. Fix:"):
        profile_segments(f, lab, playbook=3)


def test_config_key_and_cli_flag(tmp_path, capsys):
    assert validate_config({"profiles": {"playbook": "x.toml"}})["profiles"]["playbook"] == "x.toml"
    assert validate_config({})["profiles"]["playbook"] is None
    with pytest.raises(ConfigError, match=r"profiles.playbook must be a path \(text\), got 3. "
                                          r"Fix: \[profiles\] playbook"):
        validate_config({"profiles": {"playbook": 3}})
    bad = _write(tmp_path, GOOD.replace("value_tier in", "value_teir in"))
    assert main(["run", "--playbook", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "segml: error: playbook book.toml rule 1: unknown statistic 'value_teir'" in err
