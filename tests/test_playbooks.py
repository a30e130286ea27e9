"""Playbook files: every bundled one loads; bad ones fail with the key and the fix named; includes merge."""

from __future__ import annotations

from pathlib import Path

import pytest

from dladvisor.errors import UserError
from dladvisor.playbooks import (
    BUNDLED_DIR,
    CRITERIA,
    STAKES_PLAYBOOK,
    available,
    is_bundled,
    load_playbook,
    resolve,
    shadowed,
    user_dirs,
)

BUNDLED = sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))  # not available(): that also lists this user's own

REQUIRED = {"default", "low-stakes-automation", "high-stakes-credit", "high-stakes-health", "employment", "legal",
            "language"}


def test_the_required_playbooks_are_bundled():
    assert set(available()) >= REQUIRED
    assert set(STAKES_PLAYBOOK.values()) <= set(available())


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_playbook_is_complete(name):
    playbook = load_playbook(name)
    assert set(playbook.criteria) == set(CRITERIA)  # every criterion stated, directly or through include
    assert playbook.description and playbook.intended_use and playbook.risks


def test_bundled_playbooks_live_inside_the_package():
    import dladvisor

    assert Path(dladvisor.__file__).resolve().parent / "playbooks" == BUNDLED_DIR
    assert set(BUNDLED) >= REQUIRED and all(is_bundled(load_playbook(name).source) for name in BUNDLED)


def test_user_playbooks_are_found_by_name_and_cannot_replace_a_bundled_one(tmp_path, monkeypatch):
    team, config_home = tmp_path / "team", tmp_path / "config"
    (config_home / "dladvisor" / "playbooks").mkdir(parents=True)
    team.mkdir()
    (team / "acme.yaml").write_text("include: high-stakes\nname: acme\nversion: 2\n")
    (config_home / "dladvisor" / "playbooks" / "mine.yaml").write_text("include: acme\nname: mine\nversion: 1\n")
    (team / "default.yaml").write_text("include: default\nname: not-the-default\nversion: 9\n")
    monkeypatch.setenv("DLADVISOR_PLAYBOOKS", str(team))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    assert user_dirs() == [team, config_home / "dladvisor" / "playbooks"]
    acme = resolve("acme")
    assert acme.version == 2 and acme.stakes == "high" and acme.source == str(team / "acme.yaml")
    assert load_playbook("mine").criteria == acme.criteria  # a user playbook may include another user one
    assert load_playbook("default").name == "default"  # a bundled name means the bundled playbook
    assert shadowed() == [team / "default.yaml"]
    assert {"acme", "mine", "default"} <= set(available())
    with pytest.raises(UserError, match="dladvisor playbooks path"):
        load_playbook("acmee-unknown")


def test_include_merges_criteria_and_the_including_file_wins():
    credit, base = load_playbook("high-stakes-credit"), load_playbook("high-stakes")
    assert credit.criteria["max_tpr_gap"] == base.criteria["max_tpr_gap"]
    health = load_playbook("high-stakes-health")
    assert health.criteria["max_ece"].limit == 0.03 and base.criteria["max_ece"].limit == 0.05
    assert {r.risk for r in base.risks} <= {r.risk for r in health.risks}


@pytest.mark.parametrize(("stakes", "modality", "expected"), [
    ("low", "image", "low-stakes-automation"), (None, "tabular", "default"), ("medium", "text", "language"),
    ("high", "text", "high-stakes"),
])
def test_stakes_pick_a_playbook(stakes, modality, expected):
    assert resolve(None, stakes=stakes, modality=modality).name == expected


def _write(tmp_path, text, name="mine.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nversion: 1\nstakes: huge\ndescription: d\n", "key 'stakes'"),
    ("name: x\nstakes: low\ndescription: d\n", "key 'version' is missing"),
    ("name: x\nversion: 1\nstakes: low\ndescription: d\ncolour: red\n", "key 'colour' is not allowed"),
    ("name: x\nversion: 1\nstakes: low\ndescription: d\ncriteria:\n  max_eec: {limit: 0.1}\n",
     "unknown criterion 'max_eec'"),
    ("name: x\nversion: 1\nstakes: low\ndescription: d\ncriteria:\n  max_ece: {limit: high}\n",
     "max_ece.limit must be a number"),
    ("name: x\nversion: 1\nstakes: low\ndescription: d\ncriteria:\n  max_ece: {limit: 0.1, on_breach: STOP}\n",
     "key 'criteria.max_ece.on_breach'"),
    ("name: x\nversion: 1\nstakes: low\ndescription: d\ncriteria:\n  min_explainability: {limit: magic}\n",
     "min_explainability.limit must be one of"),
    ("name: [unclosed\n", "not valid YAML at line"),
    ("- a list\n", "must be a mapping"),
    ("include: nowhere\nname: x\n", "Unknown playbook 'nowhere'"),
    ("name: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
])
def test_invalid_playbooks_name_the_key_and_the_fix(tmp_path, text, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_playbook(str(_write(tmp_path, text)))


def test_include_of_a_file_and_cycles(tmp_path):
    _write(tmp_path, "include: default\nname: base\nversion: 2\ndescription: b\n", "base.yaml")
    child = _write(tmp_path, "include: base.yaml\nname: child\ncriteria:\n  max_ece: {limit: 0.01, on_breach: FAIL}\n")
    playbook = load_playbook(str(child))
    assert (playbook.name, playbook.version, playbook.stakes) == ("child", 2, "medium")
    assert playbook.criteria["max_ece"].limit == 0.01 and "max_tpr_gap" in playbook.criteria
    _write(tmp_path, "include: b.yaml\nname: a\n", "a.yaml")
    _write(tmp_path, "include: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(UserError, match="loops back"):
        load_playbook(str(tmp_path / "a.yaml"))


def test_unknown_playbook_name_suggests_the_closest():
    with pytest.raises(UserError, match="did you mean 'employment'"):
        load_playbook("employmnt")
