"""Compare two saved reports (an old and a new run) and list what got worse beyond a tolerance."""

from __future__ import annotations

from typing import Any

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError

SEVERITY = {"PASS": 0, "N/A": 0, "WARN": 1, "FAIL": 2}


class Change(Frozen):
    what: str
    old: str
    new: str
    regression: bool


class Comparison(Frozen):
    metric: str
    tolerance: float
    same_data: bool
    changes: tuple[Change, ...]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]


def compare_reports(old: dict[str, Any], new: dict[str, Any], *, tolerance: float = 0.01) -> Comparison:
    """Score drops beyond `tolerance` (in metric units), worse verdicts, new failing checks and new critical alerts."""
    if tolerance < 0:
        raise UserError(f"--tolerance must be zero or more, not {tolerance}.")
    metric = new["benchmark"]["primary_metric"]
    if old["benchmark"]["primary_metric"] != metric:
        raise UserError(
            f"The reports rank by different metrics ({old['benchmark']['primary_metric']} vs {metric}); re-run one "
            "with --metric so both use the same."
        )
    sign = 1 if new["benchmark"]["higher_is_better"] else -1
    changes: list[Change] = []
    old_rec, new_rec = old["recommendation"], new["recommendation"]
    if SEVERITY[new_rec["verdict"]] != SEVERITY[old_rec["verdict"]]:
        changes.append(Change(what="verdict", old=old_rec["verdict"], new=new_rec["verdict"],
                              regression=SEVERITY[new_rec["verdict"]] > SEVERITY[old_rec["verdict"]]))
    if old_rec.get("candidate") != new_rec.get("candidate") or old_rec["action"] != new_rec["action"]:
        changes.append(Change(what="recommendation", old=f"{old_rec['action']} ({old_rec.get('candidate')})",
                              new=f"{new_rec['action']} ({new_rec.get('candidate')})", regression=False))

    old_scores, new_scores = _scores(old, metric), _scores(new, metric)
    for name in sorted(old_scores.keys() & new_scores.keys()):
        delta = sign * (new_scores[name] - old_scores[name])
        if abs(delta) > tolerance:
            changes.append(Change(what=f"{name} {metric}", old=f"{old_scores[name]:.4f}",
                                  new=f"{new_scores[name]:.4f}", regression=delta < 0))
    new_status = {c["name"]: c["status"] for c in new["benchmark"]["candidates"]}
    for name in sorted(old_scores.keys() - new_scores.keys()):
        ran = name in new_status  # absent: not selected in the new run (-c), which is no regression
        changes.append(Change(what=f"{name} {metric}", old=f"{old_scores[name]:.4f}",
                              new=f"did not finish ({new_status[name]})" if ran else "not run", regression=ran))
    old_rec_score = old_scores.get(old_rec.get("candidate") or "")
    new_rec_score = new_scores.get(new_rec.get("candidate") or "")
    if old_rec_score is not None and new_rec_score is not None and sign * (new_rec_score - old_rec_score) < -tolerance:
        changes.append(Change(what=f"recommended model's {metric}", old=f"{old_rec_score:.4f}",
                              new=f"{new_rec_score:.4f}", regression=True))

    old_checks, new_checks = _checks(old_rec), _checks(new_rec)
    for key in sorted(new_checks):
        before = old_checks.get(key, "PASS")
        if SEVERITY[new_checks[key]] > SEVERITY[before]:
            changes.append(Change(what=f"check {key[0]}: {key[1]}", old=before, new=new_checks[key], regression=True))
    old_critical, new_critical = _critical(old), _critical(new)
    for message in sorted(new_critical - old_critical):
        changes.append(Change(what="critical alert", old="–", new=message, regression=True))
    return Comparison(
        metric=metric, tolerance=tolerance, changes=tuple(changes),
        same_data=old["dataset"]["fingerprint"] == new["dataset"]["fingerprint"],
    )


def _scores(report: dict[str, Any], metric: str) -> dict[str, float]:
    return {c["name"]: c["metrics"][metric]["mean"] for c in report["benchmark"]["candidates"] if c["status"] == "ok"}


def _checks(recommendation: dict[str, Any]) -> dict[tuple[str, str], str]:
    checks = [*recommendation.get("checks", []), *recommendation.get("timed_checks", [])]
    return {(c["candidate"], c["criterion"]): c["verdict"] for c in checks}


def _critical(report: dict[str, Any]) -> set[str]:
    alerts = [*report["profile"].get("alerts", []), *report.get("explanation", {}).get("alerts", [])]
    return {a["message"] for a in alerts if a["severity"] == "critical"}
