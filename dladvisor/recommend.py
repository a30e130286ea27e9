"""Recommend stage: a playbook turns the measurements into verdicts, one decision, and the reasons for it.

The rule, in order:

1. A leak blocks: a critical data alert (the profile's leakage check; a column dominating most models' SHAP
   attribution that is also very strong alone), or a column that alone predicts the target nearly as well as the
   best model does without it (`LEAK_MARGIN`), means *do not ship: fix the data*.
2. If no model beats the baseline (its 95% interval clears the baseline's mean), *collect more data first*.
3. The deep candidate is chosen only when its paired lift over the best classical one is significant, at least the
   playbook's `deep_min_lift`, and none of its checks FAIL under the playbook.
4. Otherwise, among classical candidates whose mean lies inside the best one's interval and which the deep
   candidate does not significantly beat (paired test), the simplest whose checks do not FAIL.

The verdict is the worst of the recommended model's checks, the data's warnings and the findings about that model;
other candidates' findings stay in their own report sections. Deep candidates that could not train fully here
(subsampled, cut by the time budget, underfitting) make the recommendation provisional.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Literal

from dladvisor._frozen import Frozen
from dladvisor.benchmark import METRIC_LABELS, BenchmarkResult, CandidateResult, project_to_rows
from dladvisor.benchmark import format_number as fmt
from dladvisor.checks import ChecksReport
from dladvisor.cost import CostReport, format_hours, format_usd
from dladvisor.criteria import CRITERIA, Check, Evidence, judge
from dladvisor.explain import ExplanationReport
from dladvisor.load import RowSample
from dladvisor.playbooks import Playbook, Risk
from dladvisor.profile import DatasetProfile

__all__ = ["Check", "LeakFinding", "ModelCard", "Recommendation", "recommend"]

Verdict = Literal["PASS", "WARN", "FAIL"]
Action = Literal[
    "use_classical", "use_embeddings", "fine_tune", "use_deep_tabular", "collect_more_data", "fix_data", "no_result"
]
RULE = (
    "A leak blocks any recommendation; if no model beats the baseline, collect more data first; the deep model is "
    "chosen only when its paired lift over the best classical model on the same rows is significant, at least the "
    "playbook's minimum lift, and none of its checks fail; otherwise the simplest classical model whose score lies "
    "inside the best one's 95% interval, that the deep model does not significantly beat, and whose checks do not "
    "fail."
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
ORDER = {"PASS": 0, "N/A": 0, "WARN": 1, "FAIL": 2}
# A column is a leak when, alone, it scores at least the best model's score without it minus this margin (ROC-AUC
# or R² points): the rest of the data together cannot do what that one column does. In the credit table with a
# label-derived column, 0.97 alone against 0.79 without; breast cancer's best single measurement, 0.93 alone,
# against 0.99 without — honest.
LEAK_MARGIN = 0.02
# Below these many rows the intervals are wide enough that a clear-looking decision may still move.
FEW_ROWS, VERY_FEW_ROWS = 1000, 200


class LeakFinding(Frozen):
    """A column that carries what the rest of the data cannot: measured alone, and the best model without it."""

    column: str
    metric: str
    alone: float
    model: str
    with_column: float
    without_column: float


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
    leaks: tuple[LeakFinding, ...] = ()
    # Deep candidates that could not train fully here, each with what held it back; non-empty: provisional.
    handicapped: dict[str, str] = {}
    inputs: str = ""  # which columns the models learned from, and which were kept out and why
    rule: str = RULE

    @property
    def all_checks(self) -> tuple[Check, ...]:
        return self.checks + self.timed_checks

    @property
    def provisional(self) -> bool:
        return bool(self.handicapped)


def recommend(
    profile: DatasetProfile, benchmark: BenchmarkResult, cost: CostReport, explanation: ExplanationReport,
    checks: ChecksReport, playbook: Playbook, *, data: str = "DATA", excluded: dict[str, str] | None = None,
    row_sample: RowSample | None = None,
) -> Recommendation:
    """Judge the measurements under `playbook`. `data` names the data file in suggested commands; `excluded` maps
    columns kept out of the models' inputs to the reason; `row_sample` is set when the models saw a sample of the
    rows (--max-rows)."""
    evidence = Evidence(profile, benchmark, cost, explanation, checks)
    return _Judge(evidence, playbook, data, excluded or {}, row_sample).decide()


class _Judge:
    def __init__(self, evidence: Evidence, playbook: Playbook, data: str, excluded: dict[str, str],
                 row_sample: RowSample | None = None):
        self.evidence, self.row_sample = evidence, row_sample
        self.profile, self.benchmark, self.cost = evidence.profile, evidence.benchmark, evidence.cost
        self.explanation, self.checks = evidence.explanation, evidence.checks
        self.playbook, self.data, self.excluded = playbook, data, excluded
        self.metric = METRIC_LABELS[self.benchmark.primary_metric]
        self.playbook_name = f"{playbook.name} v{playbook.version} ({playbook.stakes} stakes)"

    # -- the decision --------------------------------------------------------------------------------------------
    def decide(self) -> Recommendation:
        bench = self.benchmark
        classical = [c for c in bench.ranked() if c.family == "classical"]
        deep = [c for c in bench.ranked() if c.family == "deep"]
        blocked = self._blocked(classical or deep)
        if blocked is not None:
            return blocked
        if not classical and not deep:
            skipped = "; ".join(f"{c.label}: {c.reason.rstrip('.')}" for c in bench.candidates if c.status != "ok")
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
                    f"The best model, {best_any.label}, scores {self.metric} {self._score(best_any)}; the baseline "
                    f"scores {fmt(base)}, inside that interval.",
                    f"Deep learning outlook: {self.profile.data_sufficiency.reason}",
                ],
                next_steps=(
                    "Collect more labelled rows, or columns that plausibly drive the target, then re-run.",
                    "Check the labels: noisy or inconsistent labels also look like no signal.",
                ),
            )

        deep_candidate = bench.get(bench.lift.deep) if bench.lift is not None else (deep[0] if deep else None)
        deep_checks = self._checks_for(deep_candidate) if deep_candidate is not None else []
        classical_choice = self._classical_choice(classical) if classical else None
        deep_ok = classical_choice is None or self._deep_justified(deep_candidate, deep_checks)
        chosen = deep_candidate if deep_ok else classical_choice
        chosen_checks = deep_checks if deep_ok else self._checks_for(chosen)
        action = "use_classical"
        if chosen.family == "deep":
            action = DEEP_ACTIONS.get(chosen.ladder_step, "use_deep_tabular")
        handicapped = self._handicapped(chosen)
        reasons = self._reasons(chosen, classical, deep_candidate, deep_checks, chosen_checks, handicapped)
        shown = list(chosen_checks)
        if chosen is not deep_candidate and deep_candidate is not None:
            shown += [c for c in deep_checks if c.criterion == "deep_min_lift"]
        verdict = self._verdict(chosen, chosen_checks)
        score = bench.primary(chosen)
        headline = HEADLINES[action].format(label=chosen.label,
                                            score=f"{self.metric} {fmt(score.mean)}, {chosen.evaluation}")
        if handicapped:
            headline = f"Provisional — {headline[0].lower()}{headline[1:]}"
        return self._result(verdict, action, chosen, headline, reasons, checks=shown,
                            next_steps=self._next_steps(action, chosen, chosen_checks, handicapped),
                            handicapped=handicapped)

    def _blocked(self, ranked: list[CandidateResult]) -> Recommendation | None:
        """Do not ship when a leak is measured: critical alerts, or a column the rest of the data cannot replace."""
        critical = [a for a in (*self.profile.alerts, *self.explanation.alerts) if a.severity == "critical"]
        leaks = self._leaks()
        if not critical and not leaks:
            return None
        label = METRIC_LABELS
        reasons = []
        for leak in leaks:
            model = self.benchmark.get(leak.model).label
            reasons.append(
                f"'{leak.column}' alone reaches {label[leak.metric]} {leak.alone:.3f}; {model} reaches "
                f"{leak.with_column:.3f} with it and {leak.without_column:.3f} without it, on the same folds. One "
                "column does what the rest of the data together cannot: the signature of a leak (a value recorded "
                "after the outcome, or derived from it)."
            )
        listed = {leak.column for leak in leaks}
        reasons += [a.message for a in critical if a.column not in listed]
        if ranked:
            best = ranked[0]
            reasons.append(
                f"The best score ({best.label}, {self.metric} {fmt(bench_score(self.benchmark, best))}) is not "
                "trustworthy until "
                "this is resolved: leaked information inflates it."
            )
        columns = list(dict.fromkeys([leak.column for leak in leaks] + [a.column for a in critical if a.column]))
        named = ", ".join(f"'{c}'" for c in columns) or "the flagged data"
        if leaks:
            first = leaks[0]
            headline = (f"Do not ship: fix the data — {named} looks like a leak ({label[first.metric]} "
                        f"{first.without_column:.3f} without it, {first.with_column:.3f} with it).")
        else:
            headline = f"Do not ship: fix the data — {named} needs checking first."
        drops = " ".join(f"--drop {shlex.quote(c)}" for c in columns)
        trusts = " ".join(f"--known-at-prediction {shlex.quote(c)}" for c in columns)
        return self._result("FAIL", "fix_data", None, headline, reasons, leaks=leaks, next_steps=(
            f"Confirm for {named}: is the value known at the moment a prediction is made, or is it recorded after "
            "the outcome, or computed from it? Ask whoever builds the table how and when it is filled in.",
            f"If it is a leak, re-run without it: `dladvisor assess {self._data_arguments()} {drops}`.",
            f"If it is confirmed available at prediction time, re-run with `{trusts}` to keep it.",
        ))

    def _leaks(self) -> tuple[LeakFinding, ...]:
        return tuple(
            LeakFinding(column=a.column, metric=a.metric, alone=a.alone, model=a.model, with_column=a.with_column,
                        without_column=a.without_column)
            for a in self.benchmark.ablations
            if not math.isnan(a.without_column) and a.alone >= a.without_column - LEAK_MARGIN
        )

    def _classical_choice(self, ranked: list[CandidateResult]) -> CandidateResult:
        """The simplest classical model inside the best one's interval that the deep model does not significantly
        beat and whose checks do not fail; the best classical model when the deep one beats all of those."""
        best = ranked[0]
        inside = sorted((c for c in ranked if _within(self.benchmark, c, best)), key=lambda c: c.complexity)
        unbeaten = [c for c in inside if not self._deep_beats(c)] or [best]
        passing = [c for c in unbeaten if not any(k.verdict == "FAIL" for k in self._checks_for(c))]
        return (passing or unbeaten)[0]

    def _deep_beats(self, classical: CandidateResult) -> bool:
        lift = self.benchmark.lift_over(classical.name)
        return lift is not None and lift.significant and lift.lift > 0

    def _deep_justified(self, deep: CandidateResult | None, deep_checks: list[Check]) -> bool:
        lift = self.benchmark.lift
        if deep is None or lift is None or not (lift.significant and lift.lift > 0):
            return False  # also where a playbook sets no deep_min_lift: deep must beat the best classical model
        return not any(c.verdict == "FAIL" or (c.criterion == "deep_min_lift" and c.verdict != "PASS")
                       for c in deep_checks)

    def _verdict(self, chosen: CandidateResult, checks: list[Check]) -> Verdict:
        worst = max((ORDER[c.verdict] for c in checks if c.criterion != "deep_min_lift"), default=0)
        if self._warnings(chosen):
            worst = max(worst, 1)
        return ("PASS", "WARN", "FAIL")[worst]

    def _warnings(self, chosen: CandidateResult) -> list:
        """Warnings about the data, and findings about the recommended model (not about the other candidates)."""
        about_chosen = [a for a in self.explanation.alerts
                        if a.severity == "warning" and a.candidate in (None, chosen.name)]
        return [a for a in self.profile.alerts if a.severity == "warning"] + about_chosen

    def _handicapped(self, chosen: CandidateResult) -> dict[str, str]:
        """Deep candidates (other than the recommended one) that could not show what they can do on this run."""
        found = {}
        for c in self.benchmark.candidates:
            if c.family != "deep" or c.name == chosen.name:
                continue
            if c.status == "skipped":
                found[c.name] = f"skipped ({c.reason.split(';')[0]})"
                continue
            limits = []
            for log in c.training[:1]:
                if log.rows_used < log.rows_available:
                    limits.append(f"trained on {log.rows_used:,} of {log.rows_available:,} rows")
                if log.stopped_because.startswith("time budget"):
                    limits.append(f"stopped by the time budget after {log.epochs_run} epoch(s)")
                if log.diagnosis == "underfitting":
                    limits.append("underfitting by its own loss curve")
            if limits:
                found[c.name] = ", ".join(limits)
        return found

    # -- checks --------------------------------------------------------------------------------------------------
    def _checks_for(self, candidate: CandidateResult) -> list[Check]:
        return judge(self.playbook, self.evidence, candidate)

    # -- words ---------------------------------------------------------------------------------------------------
    def _score(self, candidate: CandidateResult, *, ci: bool = True) -> str:
        """A candidate's one score, always with the rows it was measured on."""
        s = self.benchmark.primary(candidate)
        interval = f"95% CI {fmt(s.ci_low)}–{fmt(s.ci_high)}, " if ci else ""
        return f"{fmt(s.mean)} ({interval}{candidate.evaluation})"

    def _reasons(self, chosen, classical, deep, deep_checks, chosen_checks, handicapped) -> list[str]:
        bench = self.benchmark
        reasons = []
        if handicapped:
            reasons.append(self._provisional_sentence(chosen, handicapped))
        reasons.append(f"{chosen.label} scores {self.metric} {self._score(chosen)}.")
        if classical and chosen.family == "classical" and chosen is not classical[0]:
            best = classical[0]
            if self._deep_beats(best) or any(k.verdict == "FAIL" for k in self._checks_for(best)):
                why = ("the deep model significantly beats it" if self._deep_beats(best)
                       else "it fails a playbook check")
                reasons.append(f"{best.label} scores {fmt(bench.primary(best).mean)} but is set aside: {why}.")
            else:
                reasons.append(f"{best.label} scores {fmt(bench.primary(best).mean)}; {chosen.label} lies inside "
                               "its interval and is simpler, which wins ties.")
        if bench.lift is not None:
            compared = bench.lift_over(chosen.name) if chosen.family == "classical" else None
            if compared is not None and compared.classical != bench.lift.classical:
                reasons.append(_lift_sentence(bench, compared, self.metric))
            reasons.append(_lift_sentence(bench, bench.lift, self.metric))
            if chosen.family == "classical":
                failing = [c for c in deep_checks if c.verdict == "FAIL" or
                           (c.criterion == "deep_min_lift" and c.verdict != "PASS")]
                why = "; ".join(_why_not(c, bench) for c in failing)
                reasons.append(f"Deep learning does not pay off under {self.playbook_name}: {why}.")
        elif deep is None:
            reasons.append(f"Deep learning outlook: {self.profile.data_sufficiency.reason}")
        explained = self.explanation.get(chosen.name)
        if explained is not None:
            stability = (f", ranking stability {explained.stability:.2f} on {explained.rows_explained} rows"
                         if explained.stability is not None else "")
            top = ", ".join(f"{i.feature} {i.share:.0%}" for i in explained.importances[:3])
            reasons.append(f"Explainability: {explained.level} ({explained.method}{stability}); top: {top}.")
        checks = self.checks.get(chosen.name)
        if checks and checks.calibration:
            reasons.append(f"Calibration: ECE {checks.calibration.ece:.3f}, Brier {checks.calibration.brier:.3f} "
                           f"(on {checks.calibration.rows:,} out-of-fold rows).")
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
            reasons.append(f"Robustness ({METRIC_LABELS[r.metric]} drop on {r.rows:,} rows, positive is worse): "
                           f"{drops}.")
        for c in chosen_checks:
            if c.verdict in ("WARN", "FAIL") and c.criterion != "deep_min_lift":
                reasons.append(f"{c.verdict}: {c.measures} is {_value(c.measured)}, the playbook requires "
                               f"{c.threshold}.")
        warnings = self._warnings(chosen)
        profile_warnings = [a for a in warnings if a in self.profile.alerts]
        reasons += _warning_reasons(profile_warnings)
        reasons += [f"Check before shipping: {a.message}" for a in warnings if a not in profile_warnings]
        return reasons

    def _provisional_sentence(self, chosen: CandidateResult, handicapped: dict[str, str]) -> str:
        labels = "; ".join(f"{self.benchmark.get(name).label}: {why}" for name, why in handicapped.items())
        what = ("the deep candidates' scores are lower bounds" if chosen.family == "classical"
                else "the other deep candidates' scores are lower bounds")
        return (f"Provisional: not every deep candidate could train fully on this {self.benchmark.device.upper()} "
                f"within the time budget ({labels}), so {what} and this comparison does not yet show what deep "
                "learning would reach here. Run it fully before deciding (next steps).")

    def _projection(self, name: str) -> str | None:
        """The learning curve of a handicapped candidate, extrapolated to all its rows at its last slope."""
        curves = self.benchmark.learning_curves
        curve = next((c for c in curves.curves if c.candidate == name), None) if curves else None
        if curve is None or len(curve.points) < 2:
            return None
        a, b = curve.points[-2], curve.points[-1]
        if b.rows_offered <= b.rows_used or b.rows_used <= a.rows_used:
            return None
        sign = 1 if self.benchmark.higher_is_better else -1
        slope = (b.score - a.score) / math.log2(b.rows_used / a.rows_used)
        doublings = math.log2(b.rows_offered / b.rows_used)
        projected = b.score + slope * doublings
        trend = "gains" if sign * slope > 0 else "loses"
        return (f"{curve.label} {trend} {fmt(abs(slope))} {self.metric} per doubling of its training rows; at that "
                f"rate, training on all {b.rows_offered:,} rows instead of {b.rows_used:,} would reach about "
                f"{fmt(projected)} (a projection: last score {fmt(b.score)} + slope × log2({b.rows_offered:,} / "
                f"{b.rows_used:,}), not a measurement).")

    def _next_steps(self, action, chosen, checks, handicapped) -> tuple[str, ...]:
        steps = []
        for name in handicapped:
            steps.append(self._full_run_step(name))
            projection = self._projection(name)
            if projection:
                steps.append(f"Data: {projection}")
        for c in checks:
            if c.verdict in ("WARN", "FAIL") and c.criterion != "deep_min_lift":
                steps.append(CRITERIA[c.criterion].fix if c.measured is not None else _measure_step(c))
        if action == "use_classical":
            steps.append(f"Ship {chosen.label} with the monitoring listed under risks, retraining on the cadence "
                         "the cost projection assumes (--retrain).")
        else:
            steps.append(f"Pilot {chosen.label} in shadow mode next to the best classical model before switching.")
        curves = self.benchmark.learning_curves
        if curves is not None and not handicapped:
            steps.append(f"Data: {curves.reading}")
        steps.append(
            "Gate releases in CI: `dladvisor gate report.json --gate 'verdict!=FAIL'` and `dladvisor compare`."
        )
        return tuple(dict.fromkeys(steps))

    def _full_run_step(self, name: str) -> str:
        candidate = self.benchmark.get(name)
        if candidate.modality == "tabular":  # a small network from scratch needs time more than a GPU
            budget = _duration(4 * self.benchmark.time_budget_seconds)
            return (f"Give {candidate.label} the time it needs: `dladvisor assess {self._data_arguments()} "
                    f"--time-budget {budget}` (or `--device cuda` where a GPU is available).")
        command = f"`dladvisor assess {self._data_arguments()} --device cuda`"
        data, target = self._data_file(), shlex.quote(self.profile.target)
        estimate = f"`dladvisor estimate {name} --rows {self.profile.rows} --sample {data} --target {target} " \
                   "--device cuda`"
        cost = self.cost.get(name)
        if cost is not None:
            price = (f"projected {format_hours(cost.train_hours_full_data)} and {format_usd(cost.train_usd_per_run)} "
                     f"per training run on {cost.train_on}")
        else:
            price = f"cost not projected here ({candidate.reason or 'no timing measured'})"
        return (f"Run {candidate.label} fully on a GPU: {command} ({price}); {estimate} times it on that machine "
                "first.")

    def _data_file(self) -> str:
        """The data file for a suggested command; a placeholder for in-memory tables (the demos, the Python API)."""
        return shlex.quote(self.data) if Path(self.data).exists() else "DATA.csv"

    def _data_arguments(self) -> str:
        return f"{self._data_file()} --target {shlex.quote(self.profile.target)}"

    def _result(self, verdict, action, chosen, headline, reasons, *, checks=(), next_steps=(), leaks=(),
                handicapped=None) -> Recommendation:
        checks = list(checks)
        handicapped = handicapped or {}
        if self.row_sample is not None:
            reasons = [*reasons, self._sample_sentence(self.row_sample)]
        confidence, why = self._confidence(verdict, action, chosen, checks, handicapped)
        return Recommendation(
            verdict=verdict, action=action, candidate=chosen.name if chosen is not None else None,
            confidence=confidence, confidence_reason=why, headline=headline, reasons=tuple(reasons),
            playbook=self.playbook_name,
            checks=tuple(c for c in checks if not CRITERIA[c.criterion].timed),
            timed_checks=tuple(c for c in checks if CRITERIA[c.criterion].timed),
            risks=self._risks(checks), next_steps=tuple(next_steps), model_card=self._model_card(chosen),
            leaks=tuple(leaks), handicapped=handicapped, inputs=self._inputs(),
        )

    def _sample_sentence(self, sample: RowSample) -> str:
        more = ("A larger --time-budget measures it on more rows." if sample.limited_by == "--time-budget" else
                "`--max-rows 0` measures it on every row.")
        if self.benchmark.learning_curves is None:
            return (f"Benchmarked on {sample.statement} ({sample.limited_by}), and no learning curves were drawn, so "
                    f"this run cannot say whether more rows would matter. {more}")
        projection = project_to_rows(self.benchmark.learning_curves, sample_rows=sample.rows,
                                     whole_rows=sample.of_rows, higher_is_better=self.benchmark.higher_is_better)
        return f"Benchmarked on {sample.statement} ({sample.limited_by}). {projection} {more}"

    def _confidence(self, verdict, action, chosen, checks, handicapped) -> tuple[str, str]:
        rows = self.profile.rows
        if action in ("fix_data", "no_result"):
            return "high", "The blocking problem was measured directly."
        if handicapped:
            return "low", ("Provisional: deep candidates could not train fully here "
                           f"({', '.join(self.benchmark.get(n).label for n in handicapped)}).")
        if rows < VERY_FEW_ROWS:
            return "low", f"Only {rows:,} rows: intervals are wide and the ranking may change with more data."
        stability = next((c for c in checks if c.criterion == "min_stability" and c.measured is not None), None)
        if stability is not None and stability.verdict != "PASS":
            return "low", (f"The recommended model's explanations are unstable (rank correlation "
                           f"{stability.measured:.2f}, {stability.detail}).")
        lift = self.benchmark.lift
        limit = self.playbook.criteria.get("deep_min_lift")
        if lift is not None and limit is not None and lift.ci_low < limit.limit < lift.ci_high:
            return "medium", (f"The deep-vs-classical lift interval ({lift.ci_low:+.3f} to {lift.ci_high:+.3f}) "
                              f"straddles the playbook's minimum lift ({limit.limit}): more data could flip it.")
        if rows < FEW_ROWS:
            return "medium", f"Only {rows:,} rows: the decision is clear here, but intervals are wide."
        if verdict == "PASS":
            return "high", "Clear margins on every check and on the deep-vs-classical comparison."
        return "medium", "The decision is clear, but some checks warn (see the verdicts)."

    def _inputs(self) -> str:
        used = len(self.benchmark.features_used)
        if not self.excluded:
            return f"The models learned from {used} column(s)."
        kept_out = "; ".join(f"'{column}' ({why})" for column, why in self.excluded.items())
        return f"The models learned from {used} column(s); kept out of their inputs: {kept_out}."

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
                f"{len(bench.features_used)} input columns; {bench.split.n_folds} {bench.split.kind} folds. "
                f"{self._inputs()}")
        if chosen is not None:
            metrics = f"{chosen.label}: {self.metric} {self._score(chosen)}."
        else:
            metrics = "No model is recommended."
        rows = self.row_sample.statement if self.row_sample else f"{profile.rows:,} rows"
        limits = [f"Validated only on this data ({rows}); behaviour on other populations is unknown."]
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


def _why_not(check: Check, benchmark: BenchmarkResult) -> str:
    if check.criterion == "deep_min_lift":
        lift = benchmark.lift
        problem = "is not significant" if not lift.significant else "is below the playbook's minimum"
        return f"the lift of {lift.lift:+.3f} {problem} (needs {check.threshold})"
    return f"{check.measures} is {_value(check.measured)} (needs {check.threshold})"


def _duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def bench_score(benchmark: BenchmarkResult, candidate: CandidateResult) -> float:
    return benchmark.primary(candidate).mean


def _value(value) -> str:
    if value is None:
        return "not measured"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _lift_sentence(benchmark: BenchmarkResult, lift, metric: str) -> str:
    deep, classical = benchmark.get(lift.deep), benchmark.get(lift.classical)
    verdict = "significant" if lift.significant else "not significant"
    return (
        f"Scored together on the same {lift.rows:,} rows (one pooled score each), {deep.label} reaches "
        f"{fmt(lift.deep_score)} and {classical.label} {fmt(lift.classical_score)}: a lift of {lift.lift:+.3f} "
        f"{metric} (paired bootstrap 95% CI "
        f"{lift.ci_low:+.3f} to {lift.ci_high:+.3f}, {verdict})."
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


def _measure_step(check) -> str:
    """A requirement the run could not measure: the next step is to measure it, not to fix what was not seen."""
    how = check.detail.removeprefix("not measured").lstrip(": ").strip()
    return (f"Measure the {check.measures} before relying on this verdict: the playbook requires it"
            + (f" ({how})." if how else "."))
