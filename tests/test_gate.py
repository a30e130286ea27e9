"""Gates: the grammar, its errors, evaluation on a real saved report, and the JUnit XML."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from dladvisor.errors import UserError
from dladvisor.gate import evaluate_gates, gate_facts, junit_xml, load_report, parse_gate


@pytest.mark.parametrize(("text", "name", "op", "value"), [
    ("best.roc_auc>=0.85", "best.roc_auc", ">=", 0.85),
    ("  verdict != FAIL ", "verdict", "!=", "FAIL"),
    ("deep.lift_ci_low>0", "deep.lift_ci_low", ">", 0.0),
    ("alerts.critical==0", "alerts.critical", "==", 0.0),
    ("action=='use_classical'", "action", "==", "use_classical"),
    ("recommended.ece<0.1", "recommended.ece", "<", 0.1),
])
def test_gate_grammar(text, name, op, value):
    gate = parse_gate(text)
    assert (gate.name, gate.op, gate.value) == (name, op, value)


@pytest.mark.parametrize(("text", "message"), [
    ("best.roc_auc", "Cannot read gate"),
    ("best.roc_auc => 0.8", "Cannot read gate"),
    (">= 0.8", "Cannot read gate"),
    ("best.roc_auc >= ''", "has no value"),
    ("verdict >= PASS", "not a number"),
    ("", "Cannot read gate"),
])
def test_malformed_gates_are_user_errors(text, message):
    with pytest.raises(UserError, match=message):
        parse_gate(text)


def test_facts_of_a_real_report(report_json):
    facts = gate_facts(load_report(report_json))
    assert facts["verdict"] in ("PASS", "WARN", "FAIL")
    assert 0.5 < facts["best.roc_auc"] <= 1 and facts["best.roc_auc_ci_low"] <= facts["best.roc_auc"]
    assert facts["classical.name"] in ("linear", "xgboost") and facts["deep.name"] == "mlp"
    assert "deep.lift_ci_low" in facts and "xgboost.accuracy" in facts and "recommended.ece" in facts


def test_passing_and_failing_gates(report_json):
    report = load_report(report_json)
    results = evaluate_gates(report, ["best.roc_auc>=0.5", "best.roc_auc>1.5", "alerts.critical==0"])
    assert [r.passed for r in results] == [True, False, True]
    assert "fails > 1.5" in results[1].message


@pytest.mark.parametrize(("gate", "message"), [
    ("best.rocauc>=0.8", "did you mean best.roc_auc"),
    ("verdict>=1", "not a number"),
    ("best.roc_auc==high", "is a number"),
])
def test_gate_on_unknown_or_mistyped_facts(report_json, gate, message):
    with pytest.raises(UserError, match=message):
        evaluate_gates(load_report(report_json), [gate])


def test_junit_has_one_case_per_gate_and_verdict(report_json):
    report = load_report(report_json)
    results = evaluate_gates(report, ["best.roc_auc>=0.5", "best.roc_auc>1.5"])
    root = ElementTree.fromstring(junit_xml(report, results))
    assert root.tag == "testsuites"
    gates, verdicts = root.findall("testsuite")
    assert gates.get("name") == "dladvisor.gates" and (gates.get("tests"), gates.get("failures")) == ("2", "1")
    failing = [c for c in gates.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["best.roc_auc>1.5"]
    assert failing[0].find("failure").get("message").startswith("best.roc_auc is")
    checks = report["recommendation"]["checks"] + report["recommendation"]["timed_checks"]
    cases = verdicts.findall("testcase")
    assert int(verdicts.get("tests")) == len(cases) == len(checks) + 1
    assert int(verdicts.get("failures")) == sum(c.find("failure") is not None for c in cases)
    for case in cases:  # the attributes JUnit consumers (GitHub, GitLab, Jenkins) require
        assert case.get("classname") and case.get("name")


@pytest.mark.parametrize("content", ["not json", json.dumps([1, 2]), json.dumps({"a": 1})])
def test_load_report_refuses_what_is_not_a_report(tmp_path, content):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(UserError, match="report"):
        load_report(path)
