"""Playbook criteria: each one a registered measurement, judged against a playbook's limit in one place.

A criterion is one decorated function that reads one value for one candidate from the run's evidence, registered
with what it measures, its direction, the gate name it is published under and the fix to suggest. A playbook line
(`max_ece: {limit: 0.1, on_breach: WARN}`) gives the limit and what a breach means. `judge` is the only code that
compares a value with a limit: the recommendation, the report and the CI gate all read the `Check`s it returns.

To add a criterion: write `@criterion("max_thing", ...)` below and give it a limit in
`dladvisor/playbooks/default.yaml`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dladvisor._frozen import Frozen

if TYPE_CHECKING:
    from dladvisor.benchmark import BenchmarkResult, CandidateResult
    from dladvisor.checks import ChecksReport
    from dladvisor.cost import CostReport
    from dladvisor.explain import ExplanationReport
    from dladvisor.profile import DatasetProfile

LEVELS = ("approximate post-hoc", "exact post-hoc", "native")  # explainability, weakest first
# Explanation stability is judged only when measured on at least this many explained rows: on fewer (8 images, say)
# the rank correlation mostly measures which rows were drawn.
STABILITY_MIN_ROWS = 50
VerdictName = Literal["PASS", "WARN", "FAIL", "N/A"]


class Check(Frozen):
    """One playbook criterion judged on one candidate."""

    criterion: str
    candidate: str
    measures: str
    measured: float | str | None
    threshold: str
    verdict: VerdictName
    detail: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Evidence:
    """Everything the run measured, as the criteria read it."""

    profile: DatasetProfile
    benchmark: BenchmarkResult
    cost: CostReport
    explanation: ExplanationReport
    checks: ChecksReport


@dataclass(frozen=True)
class Measurement:
    """A criterion's reading for one candidate. `value` None: not measured (`detail` says why).

    `passed`, when set, overrides the plain comparison with the limit (the lift must also be significant).
    """

    value: float | str | None
    detail: str = ""
    passed: bool | None = None


NOT_APPLICABLE = None  # what a measure returns when the criterion does not concern this candidate at all

Measure = Callable[["Evidence", "CandidateResult", Any], "Measurement | None"]


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    direction: Literal["min", "max"]
    measures: str
    fact: str  # published to gates as `<candidate or role>.<fact>`
    fix: str
    measure: Measure
    unit: str = ""
    timed: bool = False  # measured from timings, so it varies between runs of the same seed
    levels: tuple[str, ...] = ()  # an ordinal criterion's levels, weakest first
    condition: str = ""  # what else passing needs, said after the limit ("significant")

    def threshold(self, limit: float | str) -> str:
        if self.condition:
            return f"{self._bound(limit)}, {self.condition}"
        return self._bound(limit)

    def _bound(self, limit: float | str) -> str:
        symbol = "≥" if self.direction == "min" else "≤"
        if self.unit == "$":
            return f"{symbol} ${limit:,.0f}" if isinstance(limit, int | float) else f"{symbol} ${limit}"
        return f"{symbol} {limit}{' ' + self.unit if self.unit else ''}"

    def validate_limit(self, limit: float | str) -> None:
        if self.levels:
            if limit not in self.levels:
                raise ValueError(f"{self.name}.limit must be one of: {', '.join(self.levels)}")
        elif not isinstance(limit, int | float) or isinstance(limit, bool):
            raise ValueError(f"{self.name}.limit must be a number, not '{limit}'")


CRITERIA: dict[str, CriterionSpec] = {}


def criterion(
    name: str, *, direction: Literal["min", "max"], measures: str, fact: str, fix: str, unit: str = "",
    timed: bool = False, levels: tuple[str, ...] = (), condition: str = "",
) -> Callable[[Measure], Measure]:
    """Register `measure(evidence, candidate, limit) -> Measurement | None` as the playbook criterion `name`."""

    def decorator(measure: Measure) -> Measure:
        if name in CRITERIA:
            raise ValueError(f"criterion '{name}' is registered twice")
        CRITERIA[name] = CriterionSpec(name, direction, measures, fact, fix, measure, unit, timed, levels, condition)
        return measure

    return decorator


def judge(playbook, evidence: Evidence, candidate: CandidateResult) -> list[Check]:
    """Every criterion of the playbook judged on `candidate`, in the playbook's order."""
    checks = []
    for name, limit in playbook.criteria.items():
        check = judge_one(name, limit.limit, limit.on_breach, evidence, candidate)
        if check is not None:
            checks.append(check)
    return checks


def judge_one(name: str, limit, on_breach: str, evidence: Evidence, candidate: CandidateResult) -> Check | None:
    spec = CRITERIA[name]
    reading = spec.measure(evidence, candidate, limit)
    if reading is NOT_APPLICABLE:
        return None
    base = dict(criterion=name, candidate=candidate.name, measures=spec.measures, threshold=spec.threshold(limit),
                detail=reading.detail, fix=spec.fix)
    if reading.value is None or (isinstance(reading.value, float) and math.isnan(reading.value)):
        # A requirement the run could not measure: a warning where breaching it would fail, else not applicable.
        return Check(**base, measured=None, verdict="WARN" if on_breach == "FAIL" else "N/A")
    if reading.passed is not None:
        ok = reading.passed
    elif spec.levels:
        ok = spec.levels.index(reading.value) >= spec.levels.index(limit)
    else:
        ok = reading.value >= limit if spec.direction == "min" else reading.value <= limit
    return Check(**base, measured=reading.value, verdict="PASS" if ok else on_breach)


# -- the criteria ----------------------------------------------------------------------------------------------


@criterion(
    "deep_min_lift", direction="min", fact="lift", condition="significant",
    measures="significant lift of the deep model over the best classical one, in metric points",
    fix="Deep learning has not earned its cost here: keep the classical model, or add data and re-assess.",
)
def _deep_min_lift(evidence: Evidence, candidate, limit) -> Measurement | None:
    lift = evidence.benchmark.lift
    if candidate.family != "deep" or lift is None or lift.deep != candidate.name:
        return NOT_APPLICABLE
    return Measurement(round(lift.lift, 4), lift_detail(lift), passed=lift.significant and lift.lift >= limit)


@criterion(
    "max_cost_12m_usd", direction="max", fact="cost_12m_usd", unit="$", timed=True,
    measures="projected 12-month cost (training runs + serving capacity), $",
    fix="Cut the projected cost: batch inference (--serving batch), a cheaper instance (--price-table), or a "
    "smaller model.",
)
def _cost(evidence: Evidence, candidate, limit) -> Measurement:
    cost = evidence.cost.get(candidate.name)
    if cost is None:
        return Measurement(None, "no timing measured")
    return Measurement(round(cost.total_usd_12_months, 2), f"projected on {cost.projected_on}")


@criterion(
    "max_ece", direction="max", fact="ece", measures="expected calibration error",
    fix="Recalibrate the probabilities (isotonic or Platt scaling on held-out data).",
)
def _ece(evidence: Evidence, candidate, limit) -> Measurement:
    return _calibration(evidence, candidate, "ece")


@criterion(
    "max_brier", direction="max", fact="brier", measures="Brier score",
    fix="Improve the probability estimates: recalibrate, or add informative features.",
)
def _brier(evidence: Evidence, candidate, limit) -> Measurement:
    return _calibration(evidence, candidate, "brier")


def _calibration(evidence: Evidence, candidate, field: str) -> Measurement:
    checks = evidence.checks.get(candidate.name)
    calibration = checks.calibration if checks else None
    if calibration is None:
        return Measurement(None, "not measured (regression, or no predictions)")
    return Measurement(getattr(calibration, field), f"on {calibration.rows:,} out-of-fold rows")


@criterion(
    "max_selection_rate_gap", direction="max", fact="selection_rate_gap",
    measures="largest gap in selection rate between sensitive groups",
    fix="Investigate the selection-rate gap: check proxies of the sensitive attribute and the decision threshold "
    "per group.",
)
def _selection_gap(evidence: Evidence, candidate, limit) -> Measurement:
    return _fairness(evidence, candidate, "selection_rate_gap")


@criterion(
    "max_tpr_gap", direction="max", fact="tpr_gap",
    measures="largest gap in true-positive rate between sensitive groups",
    fix="Investigate the true-positive-rate gap: more data for the smaller groups, or per-group thresholds where "
    "lawful.",
)
def _tpr_gap(evidence: Evidence, candidate, limit) -> Measurement:
    return _fairness(evidence, candidate, "tpr_gap")


def _fairness(evidence: Evidence, candidate, kind: str) -> Measurement:
    if not evidence.checks.sensitive_columns:
        return Measurement(None, "not measured: pass --sensitive COL")
    checks = evidence.checks.get(candidate.name)
    gap = checks.fairness_gap(kind) if checks else None
    groups = ", ".join(f"{f.column}: {f.groups_compared} groups" for f in checks.fairness) if checks else ""
    if gap is None:
        return Measurement(None, f"not measurable ({groups or 'binary tasks only'})")
    return Measurement(gap, groups)


@criterion(
    "min_explainability", direction="min", fact="explainability", levels=LEVELS,
    measures=f"explainability level ({' < '.join(LEVELS)})",
    fix="Prefer a model with exact explanations (linear or tree-based), or document why approximate explanations "
    "suffice.",
)
def _explainability(evidence: Evidence, candidate, limit) -> Measurement:
    explained = evidence.explanation.get(candidate.name)
    return Measurement(explained.level, explained.method) if explained else Measurement(None, "not explained")


@criterion(
    "min_stability", direction="min", fact="stability",
    measures="SHAP ranking stability (rank correlation of correlated-column groups)",
    fix="Stabilise explanations: more data, fewer redundant columns, or a simpler model.",
)
def _stability(evidence: Evidence, candidate, limit) -> Measurement:
    explained = evidence.explanation.get(candidate.name)
    if explained is None:
        return Measurement(None, "not explained")
    if explained.stability is None:
        return Measurement(None, explained.stability_basis)
    if explained.rows_explained < STABILITY_MIN_ROWS:
        return Measurement(None, f"{explained.stability:.2f} on {explained.rows_explained} explained rows: too few "
                                 f"to judge (at least {STABILITY_MIN_ROWS})")
    return Measurement(explained.stability, explained.stability_basis)


@criterion(
    "max_latency_p95_ms", direction="max", fact="latency_p95_ms", unit="ms", timed=True,
    measures="p95 latency of one prediction, ms",
    fix="Meet the latency budget: smaller model, batching, or a GPU for serving.",
)
def _latency(evidence: Evidence, candidate, limit) -> Measurement:
    timing = candidate.timing
    if timing is None:
        return Measurement(None, "not timed")
    return Measurement(round(timing.single_row_latency_ms_p95, 2), "one-row predictions")


@criterion(
    "max_robustness_drop", direction="max", fact="robustness_drop",
    measures="worst drop of the primary metric under perturbations",
    fix="Harden against input noise: augmentation, input validation, or a more robust model.",
)
def _robustness(evidence: Evidence, candidate, limit) -> Measurement:
    checks = evidence.checks.get(candidate.name)
    robustness = checks.robustness if checks else None
    if robustness is None:
        return Measurement(None, "not measured")
    worst = max(robustness.perturbations, key=lambda p: p.drop)
    return Measurement(round(robustness.worst_drop, 4), f"worst: {worst.name}, on {robustness.rows:,} rows")


def lift_detail(lift) -> str:
    verdict = "significant" if lift.significant else "not significant"
    return f"95% CI {lift.ci_low:+.3f} to {lift.ci_high:+.3f}, {verdict}, {lift.rows:,} paired rows"
