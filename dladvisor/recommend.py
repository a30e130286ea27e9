"""Recommend stage: turn measurements into one decision, with the numbers that justify it.

The rule: among the candidates that beat the baseline, take the simplest whose mean score lies inside the 95%
confidence interval of the best one. Data problems flagged as critical by the profile override the choice.
"""

from __future__ import annotations

from typing import Literal

from dladvisor._frozen import Frozen
from dladvisor.benchmark import METRIC_LABELS, BenchmarkResult, CandidateResult
from dladvisor.benchmark import format_number as fmt
from dladvisor.cost import CostReport
from dladvisor.profile import DatasetProfile

Verdict = Literal["PASS", "WARN", "FAIL"]
RULE = (
    "Among classical candidates that beat the baseline, pick the simplest whose mean score lies inside the best "
    "one's 95% confidence interval; prefer the best deep candidate only when its paired lift over the best "
    "classical candidate, on the same rows, is significantly positive; critical data alerts (such as leakage) "
    "block any recommendation."
)
DEEP_ACTIONS = {"frozen": "use_embeddings", "fine-tune": "fine_tune", "from scratch": "use_deep_tabular"}

# Warnings about problems that inflate the measured score rather than merely complicate deployment.
SCORE_THREATS = ("leakage_suspect", "id_with_signal", "conflicting_labels", "duplicate_rows")


class Recommendation(Frozen):
    verdict: Verdict
    action: Literal[
        "use_classical", "use_embeddings", "fine_tune", "use_deep_tabular", "fix_data", "no_signal", "no_result"
    ]
    candidate: str | None
    headline: str
    reasons: tuple[str, ...]
    rule: str = RULE


def recommend(profile: DatasetProfile, benchmark: BenchmarkResult, cost: CostReport) -> Recommendation:
    metric = METRIC_LABELS[benchmark.primary_metric]
    ranked = [c for c in benchmark.ranked() if c.family == "classical"]
    deep_ranked = [c for c in benchmark.ranked() if c.family == "deep"]
    critical = [a for a in profile.alerts if a.severity == "critical"]
    warnings = [a for a in profile.alerts if a.severity == "warning"]
    baseline = next((c for c in benchmark.completed if c.family == "baseline"), None)

    if critical:
        reasons = [a.message for a in critical]
        if ranked:
            best = ranked[0]
            reasons.append(
                f"The best score ({best.label}, {metric} {fmt(benchmark.primary(best).mean)}) is not trustworthy "
                "until this is resolved: leaked information inflates it."
            )
        return Recommendation(
            verdict="FAIL", action="fix_data", candidate=None,
            headline="Do not ship: fix the data first.", reasons=tuple(reasons),
        )
    if not ranked and not deep_ranked:
        skipped = "; ".join(f"{c.label}: {c.reason}" for c in benchmark.candidates if c.status != "ok")
        return Recommendation(
            verdict="FAIL", action="no_result", candidate=None,
            headline="No model finished, so there is nothing to recommend.",
            reasons=(skipped or "Only the baseline ran.",),
        )

    lift = benchmark.lift
    if lift is not None and lift.significant and lift.lift > 0:
        return _recommend_deep(benchmark, profile, warnings, metric)
    if not ranked:
        ranked = deep_ranked
    best = ranked[0]
    best_score = benchmark.primary(best)
    inside = [c for c in ranked if _within(benchmark, c, best)]
    choice = min(inside, key=lambda c: (c.complexity, -_signed(benchmark, c)))
    choice_score = benchmark.primary(choice)
    reasons = [
        f"{best.label} scores the best {metric}: {fmt(best_score.mean)} "
        f"(95% CI {fmt(best_score.ci_low)}–{fmt(best_score.ci_high)}) over {benchmark.split.n_folds} "
        f"{benchmark.split.kind} folds."
    ]
    if choice is not best:
        reasons.append(
            f"{choice.label} scores {fmt(choice_score.mean)}, inside that interval, and is simpler"
            f"{_cost_comparison(cost, choice, best)}."
        )
    others = [c for c in inside if c not in (best, choice)]
    if others:
        reasons.append(
            "Also inside the interval: " + ", ".join(f"{c.label} ({fmt(benchmark.primary(c).mean)})" for c in others)
            + "."
        )

    if baseline is not None:
        base = benchmark.primary(baseline).mean
        if not _beats(benchmark, best, base):
            return Recommendation(
                verdict="WARN", action="no_signal", candidate=None,
                headline="No model reliably beats the baseline: these columns carry little signal for the target.",
                reasons=(
                    *reasons,
                    f"The baseline scores {fmt(base)}, inside the best model's interval; more or better features "
                    "are needed before any model (deep or not) is worth deploying.",
                ),
            )
        gain = abs(choice_score.mean - base)
        reasons.append(f"It improves on the baseline ({fmt(base)}) by {fmt(gain)} {metric}.")
    if lift is not None:
        reasons.append(_lift_sentence(benchmark, metric) + " Deep learning does not pay off here.")
    else:
        reasons.append(f"Deep learning outlook: {profile.data_sufficiency.reason}")
    reasons += _warning_reasons(warnings)
    return Recommendation(
        verdict="WARN" if warnings else "PASS",
        action="use_classical",
        candidate=choice.name,
        headline=f"Use {choice.label} ({metric} {fmt(choice_score.mean)}).",
        reasons=tuple(reasons),
    )


def _recommend_deep(benchmark: BenchmarkResult, profile, warnings, metric: str) -> Recommendation:
    deep = benchmark.get(benchmark.lift.deep)
    score = benchmark.primary(deep)
    reasons = [
        _lift_sentence(benchmark, metric),
        f"{deep.label} scores {fmt(score.mean)} (95% CI {fmt(score.ci_low)}–{fmt(score.ci_high)}, {deep.evaluation}).",
    ]
    if deep.training:
        log = deep.training[0]
        reasons.append(
            f"Training: {log.rows_used:,} of {log.rows_available:,} rows, {log.epochs_run} epoch(s) on {log.device}, "
            f"{log.diagnosis}; {log.advice}"
        )
    reasons += _warning_reasons(warnings)
    return Recommendation(
        verdict="WARN" if warnings else "PASS",
        action=DEEP_ACTIONS.get(deep.ladder_step, "use_deep_tabular"),
        candidate=deep.name,
        headline=f"Use {deep.label} ({metric} {fmt(score.mean)}): it beats the best classical model significantly.",
        reasons=tuple(reasons),
    )


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


def _signed(benchmark: BenchmarkResult, candidate: CandidateResult) -> float:
    mean = benchmark.primary(candidate).mean
    return mean if benchmark.higher_is_better else -mean


def _within(benchmark: BenchmarkResult, candidate: CandidateResult, best: CandidateResult) -> bool:
    score, best_score = benchmark.primary(candidate), benchmark.primary(best)
    if benchmark.higher_is_better:
        return score.mean >= best_score.ci_low
    return score.mean <= best_score.ci_high


def _beats(benchmark: BenchmarkResult, candidate: CandidateResult, baseline_mean: float) -> bool:
    score = benchmark.primary(candidate)
    return score.ci_low > baseline_mean if benchmark.higher_is_better else score.ci_high < baseline_mean


def _cost_comparison(cost: CostReport, choice: CandidateResult, best: CandidateResult) -> str:
    a, b = cost.get(choice.name), cost.get(best.name)
    if a is None or b is None:
        return ""
    # Sizes, not timings, so the same seed gives the same recommendation text (timings sit in the cost table).
    return f" ({_size(a.measured.model_size_bytes / 1e6)} vs {_size(b.measured.model_size_bytes / 1e6)} serialized)"


def _size(megabytes: float) -> str:
    return f"{megabytes * 1000:.0f} kB" if megabytes < 1 else f"{megabytes:.1f} MB"
