"""Recommend stage: a playbook turns the measurements into verdicts, one decision, and the reasons for it.

The rule, in order:

1. Critical alerts (profile leakage checks, a column dominating the SHAP attribution that the profile also flags)
   mean *do not ship: fix the data*.
2. If no model beats the baseline (its 95% interval clears the baseline's mean), *collect more data first*.
3. The deep candidate is chosen only when its paired lift over the best classical one is significant, at least the
   playbook's `deep_min_lift`, and none of its checks FAIL under the playbook.
4. Otherwise, among classical candidates whose mean lies inside the best one's interval, the simplest whose checks
   do not FAIL (or the simplest, if all fail).

The verdict is the worst of the chosen model's checks and the data warnings. Every check is listed with its
measured value and threshold.
"""

from __future__ import annotations

from typing import Literal

from dladvisor._frozen import Frozen
from dladvisor.benchmark import METRIC_LABELS, BenchmarkResult, CandidateResult
from dladvisor.benchmark import format_number as fmt
from dladvisor.checks import ChecksReport
from dladvisor.cost import CostReport
from dladvisor.explain import ExplanationReport
from dladvisor.playbooks import CRITERIA, LEVELS, Playbook, Risk
from dladvisor.profile import DatasetProfile

Verdict = Literal["PASS", "WARN", "FAIL"]
Action = Literal[
    "use_classical", "use_embeddings", "fine_tune", "use_deep_tabular", "collect_more_data", "fix_data", "no_result"
]
RULE = (
    "Critical data alerts block any recommendation; if no model beats the baseline, collect more data first; the "
    "deep model is chosen only when its paired lift over the best classical model on the same rows is significant, "
    "at least the playbook's minimum lift, and none of its checks fail; otherwise the simplest classical model whose "
    "score lies inside the best one's 95% interval and whose checks do not fail."
)
DEEP_ACTIONS = {"frozen": "use_embeddings", "fine-tune": "fine_tune", "from scratch": "use_deep_tabular"}
HEADLINES = {
    "use_classical": "Use the classical model: {label} ({score}).",
    "use_embeddings": "Use pretrained embeddings with a simple head: {label} ({score}).",
    "fine_tune": "Fine-tune the deep model: {label} ({score}).",
    "use_deep_tabular": "Use the deep tabular model: {label} ({score}).",
}
# Warnings about problems that inflate the measured score rather than merely complicate deployment.
SCORE_THREATS = ("leakage_suspect", "id_with_signal", "conflicting_labels", "duplicate_rows")
# Criteria measured from timings: their values differ between runs of the same seed.
TIMED_CRITERIA = ("max_cost_12m_usd", "max_latency_p95_ms")
ORDER = {"PASS": 0, "N/A": 0, "WARN": 1, "FAIL": 2}


class Check(Frozen):
    """One playbook criterion judged on one candidate."""

    criterion: str
    candidate: str
    measures: str
    measured: float | str | None
    threshold: str
    verdict: Literal["PASS", "WARN", "FAIL", "N/A"]
    detail: str = ""


class ModelCard(Frozen):
    intended_use: str
    stakes: str
    data: str
    metrics: str
    limits: tuple[str, ...]


class Recommendation(Frozen):
    verdict: Verdict
    action: Action
    candidate: str | None
    confidence: Literal["high", "medium", "low"]
    confidence_reason: str
    headline: str
    reasons: tuple[str, ...]
    playbook: str
    checks: tuple[Check, ...] = ()
    timed_checks: tuple[Check, ...] = ()  # latency and cost: measured from timings, so they vary between runs
    risks: tuple[Risk, ...] = ()
    next_steps: tuple[str, ...] = ()
    model_card: ModelCard | None = None
    rule: str = RULE

    @property
    def all_checks(self) -> tuple[Check, ...]:
        return self.checks + self.timed_checks


def recommend(
    profile: DatasetProfile, benchmark: BenchmarkResult, cost: CostReport, explanation: ExplanationReport,
    checks: ChecksReport, playbook: Playbook,
) -> Recommendation:
    judge = _Judge(profile, benchmark, cost, explanation, checks, playbook)
    return judge.decide()


class _Judge:
    def __init__(self, profile, benchmark, cost, explanation, checks, playbook):
        self.profile, self.benchmark, self.cost = profile, benchmark, cost
        self.explanation, self.checks, self.playbook = explanation, checks, playbook
        self.metric = METRIC_LABELS[benchmark.primary_metric]
        self.playbook_name = f"{playbook.name} v{playbook.version} ({playbook.stakes} stakes)"

    # -- the decision --------------------------------------------------------------------------------------------
    def decide(self) -> Recommendation:
        bench = self.benchmark
        critical = [a for a in (*self.profile.alerts, *self.explanation.alerts) if a.severity == "critical"]
        classical = [c for c in bench.ranked() if c.family == "classical"]
        deep = [c for c in bench.ranked() if c.family == "deep"]
        if critical:
            reasons = [a.message for a in critical]
            if classical or deep:
                best = (classical or deep)[0]
                reasons.append(
                    f"The best score ({best.label}, {self.metric} {fmt(bench.primary(best).mean)}) is not "
                    "trustworthy until this is resolved: leaked information inflates it."
                )
            return self._result("FAIL", "fix_data", None, "Do not ship: fix the data first.", reasons, next_steps=(
                "Remove the flagged column(s), or confirm they are known at prediction time, and run the assessment "
                "again.",
            ))
        if not classical and not deep:
            skipped = "; ".join(f"{c.label}: {c.reason}" for c in bench.candidates if c.status != "ok")
            return self._result("FAIL", "no_result", None, "No model finished, so there is nothing to recommend.",
                                [skipped or "Only the baseline ran."],
                                next_steps=("Raise --time-budget or choose candidates with -c.",))
        baseline = next((c for c in bench.completed if c.family == "baseline"), None)
        best_any = (classical or deep)[0]
        if baseline is not None and not any(_beats(bench, c, bench.primary(baseline).mean) for c in classical + deep):
            base = bench.primary(baseline).mean
            return self._result(
                "WARN", "collect_more_data", None,
                "Collect more data first: no model reliably beats the baseline.",
                [
                    f"The best model, {best_any.label}, scores {self.metric} {fmt(bench.primary(best_any).mean)} "
                    f"(95% CI {fmt(bench.primary(best_any).ci_low)}–{fmt(bench.primary(best_any).ci_high)}); the "
                    f"baseline scores {fmt(base)}, inside that interval.",
                    f"Deep learning outlook: {self.profile.data_sufficiency.reason}",
                ],
                next_steps=(
                    "Collect more labelled rows, or columns that plausibly drive the target, then re-run.",
                    "Check the labels: noisy or inconsistent labels also look like no signal.",
                ),
            )

        classical_choice = self._classical_choice(classical) if classical else None
        deep_candidate = bench.get(bench.lift.deep) if bench.lift is not None else (deep[0] if deep else None)
        deep_checks = self._checks_for(deep_candidate) if deep_candidate is not None else []
        deep_ok = classical_choice is None or self._deep_justified(deep_candidate, deep_checks)
        chosen = deep_candidate if deep_ok else classical_choice
        chosen_checks = deep_checks if deep_ok else self._checks_for(chosen)
        action = "use_classical"
        if chosen.family == "deep":
            action = DEEP_ACTIONS.get(chosen.ladder_step, "use_deep_tabular")
        reasons = self._reasons(chosen, classical, deep_candidate, deep_checks, chosen_checks)
        shown = list(chosen_checks)
        if chosen is not deep_candidate and deep_candidate is not None:
            shown += [c for c in deep_checks if c.criterion == "deep_min_lift"]
        verdict = self._verdict(chosen_checks)
        score = bench.primary(chosen)
        headline = HEADLINES[action].format(label=chosen.label, score=f"{self.metric} {fmt(score.mean)}")
        return self._result(verdict, action, chosen, headline, reasons, checks=shown,
                            next_steps=self._next_steps(action, chosen, chosen_checks))

    def _classical_choice(self, ranked: list[CandidateResult]) -> CandidateResult:
        best = ranked[0]
        inside = sorted((c for c in ranked if _within(self.benchmark, c, best)), key=lambda c: c.complexity)
        passing = [c for c in inside if not any(k.verdict == "FAIL" for k in self._checks_for(c))]
        return (passing or inside)[0]

    def _deep_justified(self, deep: CandidateResult | None, deep_checks: list[Check]) -> bool:
        if deep is None or self.benchmark.lift is None:
            return False
        return not any(c.verdict == "FAIL" or (c.criterion == "deep_min_lift" and c.verdict != "PASS")
                       for c in deep_checks)

    def _verdict(self, checks: list[Check]) -> Verdict:
        worst = max((ORDER[c.verdict] for c in checks if c.criterion != "deep_min_lift"), default=0)
        warnings = [a for a in (*self.profile.alerts, *self.explanation.alerts) if a.severity == "warning"]
        if warnings:
            worst = max(worst, 1)
        return ("PASS", "WARN", "FAIL")[worst]

    # -- checks --------------------------------------------------------------------------------------------------
    def _checks_for(self, candidate: CandidateResult) -> list[Check]:
        return [check for name, criterion in self.playbook.criteria.items()
                if (check := self._check(name, criterion, candidate)) is not None]

    def _check(self, name: str, criterion, candidate: CandidateResult) -> Check | None:
        direction, measures, unit = CRITERIA[name]
        limit = criterion.limit
        symbol = "≥" if direction == "min" else "≤"
        threshold = f"{symbol} {unit if unit == '$' else ''}{limit}{' ' + unit if unit == 'ms' else ''}"
        value, detail = self._measure(name, candidate)
        if name == "deep_min_lift":
            if candidate.family != "deep" or self.benchmark.lift is None or self.benchmark.lift.deep != candidate.name:
                return None
            lift = self.benchmark.lift
            threshold = f"{threshold}, significant"
            ok = lift.significant and lift.lift >= limit
            return Check(criterion=name, candidate=candidate.name, measures=measures, measured=round(lift.lift, 4),
                         threshold=threshold, verdict="PASS" if ok else criterion.on_breach, detail=detail)
        if value is None:
            # A requirement the run could not measure: a warning where breaching it would fail, else not applicable.
            verdict = "WARN" if criterion.on_breach == "FAIL" else "N/A"
            return Check(criterion=name, candidate=candidate.name, measures=measures, measured=None,
                         threshold=threshold, verdict=verdict, detail=detail)
        if name == "min_explainability":
            ok = LEVELS.index(value) >= LEVELS.index(limit)
        else:
            ok = value >= limit if direction == "min" else value <= limit
        return Check(criterion=name, candidate=candidate.name, measures=measures, measured=value,
                     threshold=threshold, verdict="PASS" if ok else criterion.on_breach, detail=detail)

    def _measure(self, name: str, candidate: CandidateResult) -> tuple[float | str | None, str]:
        """The measured value a criterion reads for a candidate, or None with the reason it is missing."""
        checks = self.checks.get(candidate.name)
        explained = self.explanation.get(candidate.name)
        if name == "deep_min_lift":
            lift = self.benchmark.lift
            return (None, "") if lift is None else (lift.lift, _lift_detail(lift))
        if name == "max_cost_12m_usd":
            cost = self.cost.get(candidate.name)
            return (round(cost.total_usd_12_months, 2), f"projected on {cost.projected_on}") if cost else (None, "")
        if name == "max_latency_p95_ms":
            timing = candidate.timing
            return (round(timing.single_row_latency_ms_p95, 2), "one-row predictions") if timing else (None, "")
        if name in ("max_ece", "max_brier"):
            calibration = checks.calibration if checks else None
            if calibration is None:
                return None, "not measured (regression, or no predictions)"
            value = calibration.ece if name == "max_ece" else calibration.brier
            return value, f"on {calibration.rows:,} out-of-fold rows"
        if name in ("max_selection_rate_gap", "max_tpr_gap"):
            if not self.checks.sensitive_columns:
                return None, "not measured: pass --sensitive COL"
            gap = checks.fairness_gap(name.removeprefix("max_")) if checks else None
            groups = ", ".join(f"{f.column}: {f.groups_compared} groups" for f in checks.fairness) if checks else ""
            return (gap, groups) if gap is not None else (None, f"not measurable ({groups or 'binary tasks only'})")
        if name == "min_explainability":
            return (explained.level, explained.method) if explained else (None, "not explained")
        if name == "min_stability":
            if explained is None or explained.stability is None:
                return None, explained.stability_basis if explained else "not explained"
            return explained.stability, explained.stability_basis
        if name == "max_robustness_drop":
            robustness = checks.robustness if checks else None
            if robustness is None:
                return None, "not measured"
            worst = max(robustness.perturbations, key=lambda p: p.drop)
            return round(robustness.worst_drop, 4), f"worst: {worst.name}, on {robustness.rows:,} rows"
        raise KeyError(name)

    # -- words ---------------------------------------------------------------------------------------------------
    def _reasons(self, chosen, classical, deep, deep_checks, chosen_checks) -> list[str]:
        bench = self.benchmark
        score = bench.primary(chosen)
        reasons = [
            f"{chosen.label} scores {self.metric} {fmt(score.mean)} (95% CI {fmt(score.ci_low)}–{fmt(score.ci_high)}, "
            f"{chosen.evaluation})."
        ]
        if classical and chosen.family == "classical" and chosen is not classical[0]:
            best = classical[0]
            reasons.append(
                f"{best.label} scores {fmt(bench.primary(best).mean)}; {chosen.label} lies inside its interval and "
                "is simpler, which wins ties."
            )
        if bench.lift is not None:
            reasons.append(_lift_sentence(bench, self.metric))
            if chosen.family == "classical":
                failing = [c for c in deep_checks if c.verdict == "FAIL" or
                           (c.criterion == "deep_min_lift" and c.verdict != "PASS")]
                why = "; ".join(_why_not(c, bench) for c in failing)
                reasons.append(f"Deep learning does not pay off under {self.playbook_name}: {why}.")
        elif deep is None:
            reasons.append(f"Deep learning outlook: {self.profile.data_sufficiency.reason}")
        explained = self.explanation.get(chosen.name)
        if explained is not None:
            stability = f", ranking stability {explained.stability:.2f}" if explained.stability is not None else ""
            top = ", ".join(f"{i.feature} {i.share:.0%}" for i in explained.importances[:3])
            reasons.append(f"Explainability: {explained.level} ({explained.method}{stability}); top: {top}.")
        checks = self.checks.get(chosen.name)
        if checks and checks.calibration:
            reasons.append(f"Calibration: ECE {checks.calibration.ece:.3f}, Brier {checks.calibration.brier:.3f}.")
        if checks and checks.fairness:
            for f in checks.fairness:
                gaps = [f"{label} gap {getattr(f, key):.3f}" for key, label in
                        (("selection_rate_gap", "selection-rate"), ("tpr_gap", "true-positive-rate"),
                         ("accuracy_gap", "accuracy")) if getattr(f, key) is not None]
                sizes = ", ".join(f"{g.group}: {g.rows:,}" for g in f.groups)
                reasons.append(f"Fairness across '{f.column}' ({sizes}): {', '.join(gaps) or 'not measurable'}.")
        if checks and checks.robustness:
            r = checks.robustness
            drops = ", ".join(f"{p.name} {p.drop:+.3f}" for p in r.perturbations)
            reasons.append(f"Robustness ({METRIC_LABELS[r.metric]} drop, positive is worse): {drops}.")
        failing = [c for c in chosen_checks if c.verdict in ("WARN", "FAIL") and c.criterion != "deep_min_lift"]
        for c in failing:
            reasons.append(f"{c.verdict}: {c.measures} is {_value(c.measured)}, the playbook requires {c.threshold}.")
        reasons += _warning_reasons([a for a in self.profile.alerts if a.severity == "warning"])
        reasons += [f"Check before shipping: {a.message}" for a in self.explanation.alerts if a.severity == "warning"]
        return reasons

    def _next_steps(self, action: str, chosen: CandidateResult, checks: list[Check]) -> tuple[str, ...]:
        steps = []
        for c in checks:
            if c.verdict in ("WARN", "FAIL") and c.criterion != "deep_min_lift":
                steps.append(_FIXES.get(c.criterion, "Resolve: {measures}.").format(measures=c.measures))
        if action == "use_classical":
            steps.append(f"Ship {chosen.label} with the monitoring listed under risks, retraining on the cadence "
                         "costed below.")
        else:
            steps.append(f"Pilot {chosen.label} in shadow mode next to the best classical model before switching.")
        curves = self.benchmark.learning_curves
        if curves is not None:
            steps.append(f"Data: {curves.reading}")
        steps.append(
            "Gate releases in CI: `dladvisor gate report.json --gate 'verdict!=FAIL'` and `dladvisor compare`."
        )
        return tuple(dict.fromkeys(steps))

    def _result(self, verdict, action, chosen, headline, reasons, *, checks=(), next_steps=()) -> Recommendation:
        checks = list(checks)
        confidence, why = self._confidence(verdict, action, chosen, checks)
        return Recommendation(
            verdict=verdict, action=action, candidate=chosen.name if chosen is not None else None,
            confidence=confidence, confidence_reason=why, headline=headline, reasons=tuple(reasons),
            playbook=self.playbook_name,
            checks=tuple(c for c in checks if c.criterion not in TIMED_CRITERIA),
            timed_checks=tuple(c for c in checks if c.criterion in TIMED_CRITERIA),
            risks=self._risks(checks), next_steps=tuple(next_steps), model_card=self._model_card(chosen),
        )

    def _confidence(self, verdict, action, chosen, checks) -> tuple[str, str]:
        rows = self.profile.rows
        lift = self.benchmark.lift
        limit = self.playbook.criteria.get("deep_min_lift")
        if action in ("fix_data", "no_result"):
            return "high", "The blocking problem was measured directly."
        if rows < 1000:
            return "low", f"Only {rows:,} rows: intervals are wide and the ranking may change with more data."
        explained = self.explanation.get(chosen.name) if chosen is not None else None
        if explained is not None and explained.stability is not None and explained.stability < 0.5:
            return "low", f"The chosen model's explanations are unstable (rank correlation {explained.stability:.2f})."
        if lift is not None and limit is not None and lift.ci_low < limit.limit < lift.ci_high:
            return "medium", (f"The deep-vs-classical lift interval ({lift.ci_low:+.3f} to {lift.ci_high:+.3f}) "
                              f"straddles the playbook's minimum lift ({limit.limit}): more data could flip it.")
        if verdict == "PASS":
            return "high", "Clear margins on every check and on the deep-vs-classical comparison."
        return "medium", "The decision is clear, but some checks warn (see the verdicts)."

    def _risks(self, checks: list[Check]) -> tuple[Risk, ...]:
        risks = list(self.playbook.risks)
        breached = {c.criterion for c in checks if c.verdict in ("WARN", "FAIL")}
        if breached & {"max_ece", "max_brier"}:
            risks.append(Risk(risk="Probabilities are miscalibrated, so thresholds and expected rates are off.",
                              mitigation="Recalibrate (isotonic or Platt) on held-out data and re-check the "
                              "reliability plot."))
        if breached & {"max_robustness_drop"}:
            risks.append(Risk(risk="Small, realistic input changes degrade the model.",
                              mitigation="Add the perturbations to training (augmentation) and validate input "
                              "quality at serving time."))
        return tuple(risks)

    def _model_card(self, chosen: CandidateResult | None) -> ModelCard:
        bench, profile = self.benchmark, self.profile
        classes = f", classes {', '.join(profile.class_counts)}" if profile.class_counts else ""
        data = (f"{profile.rows:,} rows, target '{profile.target}' ({bench.task}{classes}); "
                f"{len(bench.features_used)} input columns; {bench.split.n_folds} {bench.split.kind} folds.")
        if chosen is not None:
            s = bench.primary(chosen)
            metrics = (f"{chosen.label}: {self.metric} {fmt(s.mean)} (95% CI {fmt(s.ci_low)}–{fmt(s.ci_high)}), "
                       f"{chosen.evaluation}.")
        else:
            metrics = "No model is recommended."
        limits = [f"Validated only on this data ({profile.rows:,} rows); behaviour on other populations is unknown."]
        if chosen is not None and chosen.training:
            log = chosen.training[0]
            limits.append(f"Trained on {log.rows_used:,} of {log.rows_available:,} rows within the time budget.")
        if not self.checks.sensitive_columns:
            limits.append("Fairness not measured: no --sensitive column was given.")
        critical = sum(a.severity == "critical" for a in profile.alerts)
        warnings = sum(a.severity == "warning" for a in profile.alerts)
        limits.append(f"Data alerts: {critical} critical, {warnings} warnings (see the profile).")
        return ModelCard(
            intended_use=self.playbook.intended_use or self.playbook.description,
            stakes=f"{self.playbook.stakes} — playbook {self.playbook.name} v{self.playbook.version}: "
            f"{self.playbook.description}",
            data=data, metrics=metrics, limits=tuple(limits),
        )


_FIXES = {
    "max_cost_12m_usd": "Cut the projected cost: a cheaper instance (--price-table), batch inference, or a smaller "
    "model.",
    "max_ece": "Recalibrate the probabilities (isotonic or Platt scaling on held-out data).",
    "max_brier": "Improve the probability estimates: recalibrate, or add informative features.",
    "max_selection_rate_gap": "Investigate the selection-rate gap: check proxies of the sensitive attribute and the "
    "decision threshold per group.",
    "max_tpr_gap": "Investigate the true-positive-rate gap: more data for the smaller groups, or per-group "
    "thresholds where lawful.",
    "min_explainability": "Prefer a model with exact explanations (linear or tree-based), or document why "
    "approximate explanations suffice.",
    "min_stability": "Stabilise explanations: more data, fewer redundant columns, or a simpler model.",
    "max_latency_p95_ms": "Meet the latency budget: smaller model, batching, or a GPU for serving.",
    "max_robustness_drop": "Harden against input noise: augmentation, input validation, or a more robust model.",
}


def _why_not(check: Check, benchmark: BenchmarkResult) -> str:
    if check.criterion == "deep_min_lift":
        lift = benchmark.lift
        problem = "is not significant" if not lift.significant else "is below the playbook's minimum"
        return f"the lift of {lift.lift:+.3f} {problem} (needs {check.threshold})"
    return f"{check.measures} is {_value(check.measured)} (needs {check.threshold})"


def _value(value) -> str:
    if value is None:
        return "not measured"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _lift_detail(lift) -> str:
    verdict = "significant" if lift.significant else "not significant"
    return f"95% CI {lift.ci_low:+.3f} to {lift.ci_high:+.3f}, {verdict}, {lift.rows:,} paired rows"


def _lift_sentence(benchmark: BenchmarkResult, metric: str) -> str:
    lift = benchmark.lift
    deep, classical = benchmark.get(lift.deep), benchmark.get(lift.classical)
    verdict = "significant" if lift.significant else "not significant"
    return (
        f"On the same {lift.rows:,} held-out rows, {deep.label} scores {fmt(lift.deep_score)} and {classical.label} "
        f"{fmt(lift.classical_score)}: a lift of {lift.lift:+.3f} {metric} (95% CI {lift.ci_low:+.3f} to "
        f"{lift.ci_high:+.3f}, {verdict})."
    )


def _warning_reasons(warnings) -> list[str]:
    """Warnings that can inflate the score itself are spelled out; the rest are counted."""
    named = [a for a in warnings if a.code in SCORE_THREATS]
    reasons = [f"Check before shipping: {a.message}" for a in named]
    if len(warnings) > len(named):
        others = len(warnings) - len(named)
        reasons.append(f"{others} {'other ' if named else ''}data warning(s) in the profile deserve a look.")
    return reasons


def _within(benchmark: BenchmarkResult, candidate: CandidateResult, best: CandidateResult) -> bool:
    score, best_score = benchmark.primary(candidate), benchmark.primary(best)
    if benchmark.higher_is_better:
        return score.mean >= best_score.ci_low
    return score.mean <= best_score.ci_high


def _beats(benchmark: BenchmarkResult, candidate: CandidateResult, baseline_mean: float) -> bool:
    score = benchmark.primary(candidate)
    return score.ci_low > baseline_mean if benchmark.higher_is_better else score.ci_high < baseline_mean
