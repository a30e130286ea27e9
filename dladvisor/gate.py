"""Gate stage: CI conditions on a report, checked on the run itself or on a saved `report.json`.

A gate is `NAME OP VALUE`: `best.roc_auc>=0.85`, `verdict!=FAIL`, `deep.lift_ci_low>0`. NAME is one of the facts
`gate_facts` reads from the report (run `dladvisor gate report.json --list` to see them all), OP one of
`>= <= > < == !=`, VALUE a number or a word (quotes optional). Gates read the JSON, so a saved report is re-checked
exactly as the run that wrote it.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from dladvisor._frozen import Frozen
from dladvisor.criteria import CRITERIA
from dladvisor.errors import UserError

GRAMMAR = (
    "NAME OP VALUE, e.g. 'best.roc_auc>=0.85', 'verdict!=FAIL', 'deep.lift_ci_low>0'; OP is one of >= <= > < == !=; "
    "VALUE is a number or a word"
)
_GATE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|==|!=|>|<)\s*([^<>=!\s].*?)?\s*$")
_COMPARE = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


class Gate(Frozen):
    expression: str
    name: str
    op: str
    value: float | str


class GateResult(Frozen):
    gate: Gate
    actual: float | str | None
    passed: bool
    message: str


def parse_gate(expression: str) -> Gate:
    match = _GATE.match(expression or "")
    if match is None:
        raise UserError(f"Cannot read gate '{expression}'; write it as {GRAMMAR}.")
    name, op, raw = match.groups()
    raw = (raw or "").strip("'\"")
    if not raw:
        raise UserError(f"Gate '{expression}' has no value after '{op}'; write it as {GRAMMAR}.")
    try:
        value: float | str = float(raw)
    except ValueError:
        if op not in ("==", "!="):
            raise UserError(
                f"Gate '{expression}' compares with '{raw}', which is not a number; '{op}' needs a number "
                "(words work with == and !=)."
            ) from None
        value = raw
    return Gate(expression=expression.strip(), name=name, op=op, value=value)


def load_report(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"Report '{path}' not found; pass the report.json an assessment wrote.")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"Report '{path}' is not valid JSON ({exc}); pass the report.json of an assessment.") from None
    if not isinstance(report, dict) or "run" not in report or "recommendation" not in report:
        raise UserError(f"'{path}' is JSON but not a dladvisor report; pass the report.json an assessment wrote.")
    return report


def gate_facts(report: dict[str, Any]) -> dict[str, float | str]:
    """Every name a gate may use, with its value in this report."""
    bench, rec = report["benchmark"], report["recommendation"]
    primary = bench["primary_metric"]
    facts: dict[str, float | str] = {
        "verdict": rec["verdict"], "action": rec["action"], "confidence": rec.get("confidence", ""),
        "candidate": rec.get("candidate") or "none", "rows": report["dataset"]["rows"],
        "playbook": report.get("playbook", {}).get("name", ""), "metric": primary,
    }
    alerts = [*report["profile"].get("alerts", []), *report.get("explanation", {}).get("alerts", [])]
    for severity in ("critical", "warning"):
        facts[f"alerts.{severity}"] = sum(a["severity"] == severity for a in alerts)
    checks = [*rec.get("checks", []), *rec.get("timed_checks", [])]
    for verdict in ("FAIL", "WARN"):
        facts[f"checks.{verdict.lower()}"] = sum(c["verdict"] == verdict for c in checks)

    ok = [c for c in bench["candidates"] if c["status"] == "ok"]
    sign = 1 if bench["higher_is_better"] else -1
    ranked = sorted((c for c in ok if c["family"] != "baseline"), key=lambda c: -sign * c["metrics"][primary]["mean"])
    by_role = {
        "best": ranked[0] if ranked else None,
        "classical": next((c for c in ranked if c["family"] == "classical"), None),
        "deep": next((c for c in ranked if c["family"] == "deep"), None),
        "recommended": next((c for c in ok if c["name"] == rec.get("candidate")), None),
        "baseline": next((c for c in ok if c["family"] == "baseline"), None),
    }
    for candidate in ok:
        _candidate_facts(facts, candidate["name"], candidate, checks)
    for role, candidate in by_role.items():
        if candidate is not None:
            _candidate_facts(facts, role, candidate, checks)
    lift = bench.get("lift")
    if lift:
        facts.update({
            "deep.lift": lift["lift"], "deep.lift_ci_low": lift["ci_low"], "deep.lift_ci_high": lift["ci_high"],
            "deep.lift_significant": float(lift["significant"]),
        })
    return facts


def _candidate_facts(facts: dict, prefix: str, candidate: dict, checks: list[dict]) -> None:
    facts[f"{prefix}.name"] = candidate["name"]
    for metric, summary in candidate["metrics"].items():
        facts[f"{prefix}.{metric}"] = summary["mean"]
        facts[f"{prefix}.{metric}_ci_low"] = summary["ci_low"]
        facts[f"{prefix}.{metric}_ci_high"] = summary["ci_high"]
    for check in checks:
        if check["candidate"] == candidate["name"] and check["measured"] is not None:
            spec = CRITERIA.get(check["criterion"])  # per-candidate facts beyond metrics: the judged criteria
            facts[f"{prefix}.{spec.fact if spec else check['criterion']}"] = check["measured"]


def evaluate_gates(report: dict[str, Any], expressions: list[str]) -> list[GateResult]:
    gates = [parse_gate(e) for e in expressions]  # all parsed first: a typo fails before any result is shown
    facts = gate_facts(report)
    results = []
    for gate in gates:
        if gate.name not in facts:
            close = difflib.get_close_matches(gate.name, list(facts), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise UserError(
                f"Gate '{gate.expression}': this report has no '{gate.name}'; {hint}"
                "list the names with `dladvisor gate REPORT --list`."
            )
        actual = facts[gate.name]
        if isinstance(gate.value, float) and not isinstance(actual, int | float):
            raise UserError(f"Gate '{gate.expression}': '{gate.name}' is '{actual}', not a number; compare it with "
                            "== or != and a word.")
        expected = gate.value if isinstance(actual, int | float) else str(gate.value)
        if isinstance(actual, int | float) and isinstance(expected, str):
            raise UserError(f"Gate '{gate.expression}': '{gate.name}' is a number ({actual}); compare it with one.")
        passed = bool(_COMPARE[gate.op](actual, expected))
        shown = f"{actual:.4g}" if isinstance(actual, float) else str(actual)
        message = f"{gate.name} is {shown}: {'passes' if passed else 'fails'} {gate.op} {gate.value}"
        results.append(GateResult(gate=gate, actual=actual, passed=passed, message=message))
    return results


def junit_xml(report: dict[str, Any], results: list[GateResult]) -> str:
    """JUnit XML: one test case per gate, and one per playbook verdict (FAIL is a failure, N/A is skipped)."""
    suites = ElementTree.Element("testsuites", name="dladvisor")
    gate_suite = ElementTree.SubElement(suites, "testsuite", name="dladvisor.gates", tests=str(len(results)),
                                        failures=str(sum(not r.passed for r in results)), errors="0", skipped="0")
    for r in results:
        case = ElementTree.SubElement(gate_suite, "testcase", classname="dladvisor.gate", name=r.gate.expression)
        if not r.passed:
            ElementTree.SubElement(case, "failure", message=r.message, type="GateFailed").text = r.message
    rec = report["recommendation"]
    checks = [*rec.get("checks", []), *rec.get("timed_checks", [])]
    playbook = report.get("playbook", {}).get("name", "playbook")
    verdict_suite = ElementTree.SubElement(
        suites, "testsuite", name=f"dladvisor.verdicts.{playbook}", tests=str(len(checks) + 1),
        failures=str(sum(c["verdict"] == "FAIL" for c in checks) + (rec["verdict"] == "FAIL")), errors="0",
        skipped=str(sum(c["verdict"] == "N/A" for c in checks)),
    )
    overall = ElementTree.SubElement(verdict_suite, "testcase", classname=f"dladvisor.playbook.{playbook}",
                                     name="overall verdict")
    if rec["verdict"] == "FAIL":
        ElementTree.SubElement(overall, "failure", message=rec["headline"], type="VerdictFAIL").text = rec["headline"]
    ElementTree.SubElement(overall, "system-out").text = f"{rec['verdict']}: {rec['headline']}"
    for c in checks:
        case = ElementTree.SubElement(verdict_suite, "testcase", classname=f"dladvisor.playbook.{playbook}",
                                      name=f"{c['candidate']}: {c['criterion']}")
        text = f"{c['verdict']}: {c['measures']} = {c['measured']} (threshold {c['threshold']}) {c['detail']}".strip()
        if c["verdict"] == "FAIL":
            ElementTree.SubElement(case, "failure", message=text, type="VerdictFAIL").text = text
        elif c["verdict"] == "N/A":
            ElementTree.SubElement(case, "skipped", message=text)
        else:
            ElementTree.SubElement(case, "system-out").text = text
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
