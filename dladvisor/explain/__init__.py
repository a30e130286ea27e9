"""Explain stage: SHAP attributions for the completed candidates, how stable they are, and red flags.

Each candidate gets the fastest exact explainer its family allows, on held-out rows of the fold its model was
fitted on: `tabular.py` (XGBoost's own tree SHAP, path-dependent tree SHAP for forests, linear SHAP, permutation SHAP
for any other model), `text.py` (Partition SHAP over tokens) and `image.py` (Partition SHAP over image regions).

The stage has one budget (`budget_seconds`). It is split among the candidates from what each would cost, estimated
from the fitted model's size (trees' leaves and depth, parameters, FLOPs), and each candidate's rows are planned
from its share, so the same data and options explain the same rows every run. The best classical and the best
deep model are always explained; another model is skipped when its share covers fewer rows than its explainer's
usual sample and than it takes to judge stability (STABILITY_MIN_ROWS), and the report lists it among the cuts.
The clock is only a safety net: a run it cuts is flagged as not reproducible. Stability compares the top-k ranking
of models fitted on different folds (or, for models evaluated on one hold-out split, two halves of the explained
rows).

To add a way of explaining a model:

1. In the modality's module, subclass `Explainer` (`_common.py`): its name, method, level, usual rows and floor.
2. Implement `handles` (which fitted candidates it explains), `seconds_per_row` (estimated from the model's size,
   never timed) and `explain`, and decorate the class with `@register_explainer`.
3. Run `pytest tests/test_explain.py tests/test_explain_tabular.py`.

Files starting with `_` are machinery: the registry, planning and rankings (`_common.py`), the frozen results
(`_results.py`) and the judgements across candidates (`_flags.py`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from dladvisor.benchmark import BenchmarkResult, CandidateResult
from dladvisor.criteria import STABILITY_MIN_ROWS
from dladvisor.explain import image, tabular, text  # noqa: F401  (registers the explainers)
from dladvisor.explain._common import (
    BACKGROUND_ROWS,
    CLOCK_SLACK,
    CORRELATED_GROUP,
    TIME_SHARE,
    TOP_K,
    Explainer,
    Job,
    Raw,
    RowPlan,
    correlated_groups,
    explainer_for,
    full_plan_seconds,
    grouped,
    importance,
    is_linear,
    n_outputs,
    plan_rows,
    rank_agreement,
    split_budget,
    warm_up,
)
from dladvisor.explain._flags import UNSTABLE_BELOW, agreement, cramers_v, red_flags
from dladvisor.explain._results import (
    Agreement,
    Attribution,
    ExplanationReport,
    ImageExample,
    Level,
    ModelExplanation,
    TextExample,
    TokenWeight,
)
from dladvisor.explain.image import GRID, HEATMAP, IMAGE_SIZE
from dladvisor.explain.tabular import exact_explainer
from dladvisor.load import Dataset
from dladvisor.profile import DatasetProfile

__all__ = [
    "GRID",
    "HEATMAP",
    "IMAGE_SIZE",
    "METHOD",
    "TIME_SHARE",
    "UNSTABLE_BELOW",
    "Agreement",
    "Attribution",
    "ExplanationReport",
    "ImageExample",
    "Level",
    "ModelExplanation",
    "TextExample",
    "TokenWeight",
    "correlated_groups",
    "cramers_v",
    "exact_explainer",
    "explain_models",
]

METHOD = (
    "SHAP values on held-out rows of the fold each model was fitted on: exact tree SHAP for tree ensembles "
    "(XGBoost's own, path-dependent for forests), exact linear SHAP for linear models, permutation SHAP over the "
    "original columns for other tabular models, Partition SHAP with a text masker for text models and with a "
    "blurring image masker for image models. Rows explained are planned from each model's size and its share of "
    "the explain budget. Importance is the mean |SHAP| per row (classification: of the positive-class score for "
    "binary tasks, summed over classes otherwise); share is a feature's part of the total. Stability is the "
    f"Spearman correlation of the top-{TOP_K} rankings between models fitted on different folds; agreement is the "
    f"overlap of the best classical and best deep model's top-{TOP_K} features."
)


def explain_models(
    dataset: Dataset, benchmark: BenchmarkResult, profile: DatasetProfile, *, seed: int = 0,
    budget_seconds: float | None = None, on_progress: Callable[[int, int], None] | None = None,
) -> ExplanationReport:
    """SHAP for every completed candidate within `budget_seconds` for the whole stage (default: TIME_SHARE of the
    benchmark's time budget), split among the candidates by what their usual samples would cost."""
    features, X = benchmark.features, benchmark.frame
    budget = TIME_SHARE * benchmark.time_budget_seconds if budget_seconds is None else float(budget_seconds)
    # (called without a budget, e.g. from a notebook: a share of the benchmark's own budget, as in `assess`)
    candidates = [c for c in benchmark.completed if c.family != "baseline"]
    groups = correlated_groups(X[list(features.numeric)]) if features.numeric else {}
    skipped: dict[str, str] = {}
    planned: dict[str, tuple[Explainer, float, int]] = {}
    for candidate in candidates:
        if not candidate.fold_models:
            skipped[candidate.name] = "no fitted model was kept"
            continue
        try:
            explainer = explainer_for(candidate, candidate.fold_models[0])
            cost = explainer.seconds_per_row(candidate, candidate.fold_models[0], dataset, features)
            available = len(benchmark.splits_for(candidate)[0][1])
            planned[candidate.name] = (explainer, cost, available)
        except Exception as exc:  # noqa: BLE001  one model's explainer failing leaves the others explained
            skipped[candidate.name] = _one_line(exc)
    shares = split_budget(budget, {
        c.name: full_plan_seconds(planned[c.name][0], c, planned[c.name][1], planned[c.name][2])
        for c in candidates if c.name in planned
    })
    # The clock allows a model at least an even split of the budget: a cheap model's share is its estimated need,
    # which does not count one-off costs (building the explainer), and the clock is a net, not the planner.
    even = budget / max(len(shares), 1)
    contenders = {c.name for c in (benchmark.best("classical"), benchmark.best("deep")) if c is not None}
    explanations, compile_seconds, cut = [], 0.0, []
    for done, candidate in enumerate(candidates):
        if candidate.name in planned:
            explainer, cost, available = planned[candidate.name]
            plan = plan_rows(explainer, candidate, shares[candidate.name], cost, available)
            needed = min(explainer.planned_rows(candidate), STABILITY_MIN_ROWS, available)
            if candidate.name not in contenders and plan.first < needed:
                # Too few rows to judge the ranking: skip it rather than report noise (the contenders always run).
                skipped[candidate.name] = (
                    f"its share of the explain budget ({shares[candidate.name]:.1f} s) covers {plan.first} rows at "
                    f"about {cost * 1000:.3g} ms a row, fewer than the {needed} needed to judge its explanation; "
                    "the best classical and best deep models are always explained, the others when the budget "
                    "covers them (raise --time-budget)")
                cut.append(candidate.name)
                if on_progress:
                    on_progress(done + 1, len(candidates))
                continue
            try:
                compile_seconds += warm_up(explainer, n_outputs(dataset))
                explanations.append(_explain_candidate(
                    candidate, explainer, plan, max(shares[candidate.name], even), dataset, benchmark, seed, groups))
            except Exception as exc:  # noqa: BLE001
                skipped[candidate.name] = _one_line(exc)
        if on_progress:
            on_progress(done + 1, len(candidates))
    return ExplanationReport(
        method=METHOD, candidates=tuple(explanations), agreement=agreement(benchmark, explanations),
        alerts=tuple(red_flags(explanations, benchmark, dataset, profile)), not_explained=skipped,
        budget_seconds=round(budget, 3), compile_seconds=round(compile_seconds, 2), cut_for_budget=tuple(cut),
    )


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"


def _explain_candidate(
    candidate: CandidateResult, explainer: Explainer, plan: RowPlan, seconds: float, dataset: Dataset,
    benchmark: BenchmarkResult, seed: int, groups: dict[str, str],
) -> ModelExplanation:
    """SHAP on fold 1's model, then on the other kept fold models for stability, each run on its planned rows; the
    clock cuts a run that overruns its part of `seconds` CLOCK_SLACK times, once its explainer's floor is done."""
    started = time.perf_counter()
    held_out = benchmark.splits_for(candidate)
    planned_total = plan.first + (plan.models - 1) * plan.other
    runs: list[Raw] = []
    first_rows = np.array([], dtype=int)
    for index, (model, (train, test)) in enumerate(zip(candidate.fold_models[: plan.models], held_out, strict=False)):
        rng = np.random.default_rng(seed + index)
        same = bool(index) and explainer.same_rows
        count = plan.first if index == 0 else plan.other
        rows = first_rows if same else rng.choice(test, min(count, len(test)), replace=False)
        background = rng.choice(train, min(BACKGROUND_ROWS, len(train)), replace=False)
        job = Job(model=model, X=benchmark.frame, dataset=dataset, features=benchmark.features, rows=rows,
                  background=background, seed=seed, seconds=seconds * len(rows) / max(planned_total, 1),
                  floor=explainer.floor, explain_all=same)
        runs.append(dataclasses.replace(explainer.explain(job), planned=len(rows)))
        if index == 0:
            first_rows = rows[: runs[0].rows]
    first = runs[0]
    ranking = importance(first)
    stability, basis = _stability(runs, explainer, groups)
    merged = sum(1 for column, group in groups.items() if group != column and column in ranking)
    if stability is not None and merged:
        basis += f"; columns correlated at |ρ| ≥ {CORRELATED_GROUP} ranked as one group"
    total = sum(ranking.values()) or 1.0
    top = sorted(ranking.items(), key=lambda item: -item[1])[:TOP_K]
    extras = first.extras or {}
    return ModelExplanation(
        candidate=candidate.name,
        modality=candidate.modality,
        level="native" if is_linear(candidate.fold_models[0]) else explainer.level,
        method=explainer.method,
        output=_output_name(dataset, explainer),
        unit=explainer.unit,
        importances=tuple(
            Attribution(feature=name, mean_abs_shap=round(value, 6), share=round(value / total, 4))
            for name, value in top
        ),
        top_share=round(top[0][1] / total, 4) if top else 0.0,
        rows_explained=first.rows,
        ms_per_row=round(1000 * first.seconds / max(first.rows, 1), 3),
        stability=None if stability is None or np.isnan(stability) else round(stability, 3),
        stability_basis=basis,
        additivity_error=first.additivity_error,
        class_tokens=extras.get("class_tokens", {}),
        text_examples=tuple(extras.get("text_examples", ())),
        image_examples=tuple(extras.get("image_examples", ())),
        seconds=round(time.perf_counter() - started, 3),
        rows_planned=plan.first,
        budget_note=plan.note,
        cut_short=_cut_note(runs, seconds),
    )


def _stability(runs: list[Raw], explainer: Explainer, groups: dict[str, str]) -> tuple[float | None, str]:
    """Rank agreement between fold models (synonym columns ranked as one), else between two halves of the rows."""
    first = runs[0]
    ranked = (lambda raw: grouped(importance(raw), groups))  # noqa: E731
    if len(runs) > 1:
        stability = float(np.mean([rank_agreement(ranked(first), ranked(r)) for r in runs[1:]]))
        return stability, f"{len(runs)} models fitted on different folds" + (", same rows" if explainer.same_rows
                                                                              else "")
    if first.rows >= STABILITY_MIN_ROWS:
        half = first.rows // 2
        halves = [Raw(first.values[:half], first.features, half, 0),
                  Raw(first.values[half:], first.features, first.rows - half, 0)]
        return rank_agreement(ranked(halves[0]), ranked(halves[1])), "two halves of the explained rows (one " \
                                                                       "fitted model)"
    return None, f"not measured: {first.rows} rows explained, too few to judge (at least {STABILITY_MIN_ROWS})"


def _cut_note(runs: list[Raw], seconds: float) -> str:
    cut = next((r for r in runs if r.cut), None)
    if cut is None:
        return ""
    which = "fold 1's model" if cut is runs[0] else "another fold's model (for the stability figure)"
    return (f"the clock stopped {which} at {cut.rows} of {cut.planned} planned rows (its share of the explain "
            f"budget is {seconds:.0f} s, {CLOCK_SLACK:g}x allowed): not reproducible run to run; raise --time-budget")


def _output_name(dataset: Dataset, explainer: Explainer) -> str:
    if dataset.task == "regression":
        return "prediction"
    # Exact SHAP explains the model's raw output: log-odds for boosting and logistic models, probability for forests.
    if dataset.task == "binary":
        return f"{explainer.scale} of '{dataset.classes[1]}'"
    return f"{explainer.scale} per class"
