"""The orchestrator: chain the stages, and nothing else."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from dladvisor.budget import StageTime, stage_budget
from dladvisor.config import AssessConfig
from dladvisor.load import Dataset, cap_rows, load_dataset, shrink_sample
from dladvisor.profile import DatasetProfile, profile_dataset

if TYPE_CHECKING:
    from dladvisor.assessment import Assessment

# progress(stage, done, total): called as each stage advances, so a front end can draw progress bars.
Progress = Callable[[str, int, int], None]
STAGES = ("load", "profile", "benchmark", "cost", "explain", "checks", "recommend")


def _silent(stage: str, done: int, total: int) -> None:
    pass


def load_and_profile(
    config: AssessConfig, *, frame: pd.DataFrame | None = None, progress: Progress = _silent
) -> tuple[Dataset, DatasetProfile]:
    progress("load", 0, 1)
    dataset = load_dataset(
        frame if frame is not None else config.data,
        target=config.target, task=config.task, source_name=config.data, encoding=config.encoding,
        group_column=config.group_col, time_column=config.time_col, sensitive_columns=config.sensitive,
        sensitive_as_feature=config.sensitive_as_feature, drop_columns=config.drop,
        trusted_columns=config.known_at_prediction, positive_class=config.positive_class,
        max_rows=config.max_rows, seed=config.seed,  # a large file is read as the sample `cap_rows` would draw
    )
    progress("load", 1, 1)
    progress("profile", 0, 1)
    profile = profile_dataset(dataset, seed=config.seed)
    progress("profile", 1, 1)
    return dataset, profile


def assess(config: AssessConfig, *, frame: pd.DataFrame | None = None, progress: Progress = _silent) -> Assessment:
    """Run every stage on `config.data` (or on `frame`, named `config.data`, for in-memory tables).

    `config.time_budget_seconds` bounds the run: the benchmark, explain and checks stages each get their share
    (`budget.STAGE_SHARES`) and plan their work to fit it; what they cut is listed in `Assessment.stages`."""
    # Here, not at the top: `dladvisor profile` needs only load and profile, and scikit-learn alone is ~90 MB.
    from dladvisor.assessment import Assessment, DatasetInfo, RunInfo, benchmark_cuts, clock_cuts, explain_cuts
    from dladvisor.benchmark import run_benchmark
    from dladvisor.checks import run_checks
    from dladvisor.cost import check_cost_options, measure_costs
    from dladvisor.explain import explain_models
    from dladvisor.playbooks import resolve as resolve_playbook
    from dladvisor.prices import load_prices
    from dladvisor.recommend import recommend

    started = time.perf_counter()
    total = config.time_budget_seconds
    stages: list[StageTime] = []
    clock = _StageClock()
    load_prices(config.price_table)  # a bad price table should fail before any training, not after
    check_cost_options(retrain=config.retrain, serving=config.serving, peak_factor=config.peak_factor)
    dataset, profile = load_and_profile(config, frame=frame, progress=progress)
    dataset = cap_rows(dataset, config.max_rows, seed=config.seed)  # the profile read every row; the rest read these
    stages.append(clock.lap("load and profile"))
    modality = "text" if profile.columns_of("text") else "image" if profile.columns_of("image_path") else "tabular"
    playbook = resolve_playbook(config.playbook, stakes=config.stakes, modality=modality)

    progress("benchmark", 0, 1)
    from dladvisor.benchmark._executor import make_executor
    from dladvisor.benchmark._sizing import rows_for_budget

    executor = make_executor(config.executor)  # a missing Ray or an unreachable cluster: one line, before the fits
    try:
        sizing_started = time.perf_counter()
        allowed = rows_for_budget(dataset, profile, n_folds=config.folds, preset=config.preset,
                                  candidates=list(config.candidates) or None,
                                  budget_seconds=stage_budget("benchmark", total), seed=config.seed)
        if allowed is not None and allowed.rows < dataset.n_rows:
            dataset = shrink_sample(dataset, allowed.rows, seed=config.seed, basis=allowed.method)
        # The pilots' time is the benchmark's (a table too small to size ran none, and the budget stays as set).
        sizing_seconds = time.perf_counter() - sizing_started if allowed is not None else 0.0
        benchmark = run_benchmark(
            dataset, profile, n_folds=config.folds, seed=config.seed,
            time_budget_seconds=max(stage_budget("benchmark", total) - sizing_seconds, 0.0),
            candidates=list(config.candidates) or None,
            preset=config.preset, primary_metric=config.metric, device=config.device,
            text_model=config.text_model, image_model=config.image_model, learning_curves=config.learning_curves,
            on_progress=lambda done, total: progress("benchmark", done, total), executor=executor,
        )
    finally:
        executor.close()
    stages.append(clock.lap("benchmark", stage_budget("benchmark", total), benchmark_cuts(benchmark)))
    progress("cost", 0, 1)
    prices = load_prices(config.price_table).with_overrides(cpu_hourly=config.cpu_hourly, gpu_hourly=config.gpu_hourly)
    cost = measure_costs(
        benchmark, prices, retrain=config.retrain,
        n_rows=dataset.row_sample.of_rows if dataset.row_sample else dataset.n_rows,  # training would use all rows
        benchmark_rows=dataset.n_rows,  # ...and the folds' fit times were measured on the sample's
        predictions_per_month=config.predictions_per_month, serving=config.serving, peak_factor=config.peak_factor,
    )
    progress("cost", 1, 1)
    stages.append(clock.lap("cost"))
    progress("explain", 0, 1)
    explanation = explain_models(
        dataset, benchmark, profile, seed=config.seed, budget_seconds=stage_budget("explain", total),
        on_progress=lambda done, total: progress("explain", done, total),
    )
    progress("explain", 1, 1)
    stages.append(clock.lap("explain", stage_budget("explain", total), explain_cuts(benchmark, explanation)))
    progress("checks", 0, 1)
    checks = run_checks(
        dataset, benchmark, profile, seed=config.seed, budget_seconds=stage_budget("checks", total),
        on_progress=lambda done, total: progress("checks", done, total),
    )
    stages.append(clock.lap("checks", stage_budget("checks", total), checks.cuts))
    progress("recommend", 0, 1)
    excluded = {**dataset.model_inputs_exclude, **{c: "removed with --drop" for c in dataset.dropped_columns}}
    recommendation = recommend(profile, benchmark, cost, explanation, checks, playbook, data=config.data,
                               excluded=excluded, row_sample=dataset.row_sample)
    progress("recommend", 1, 1)
    stages.append(clock.lap("recommend"))
    return Assessment(
        run=RunInfo.now(seed=config.seed, wall_seconds=time.perf_counter() - started, device=benchmark.device),
        config=config,
        dataset=DatasetInfo.of(dataset),
        profile=profile,
        benchmark=benchmark,
        cost=cost,
        explanation=explanation,
        checks=checks,
        playbook=playbook,
        recommendation=recommendation,
        stages=tuple(stages),
        clock_cuts=clock_cuts(benchmark, explanation, checks),
    )


class _StageClock:
    """Seconds per stage, lap by lap."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self, stage: str, budget: float | None = None, cuts: tuple[str, ...] = ()) -> StageTime:
        now = time.perf_counter()
        seconds, self._last = now - self._last, now
        return StageTime(stage=stage, seconds=round(seconds, 2),
                         budget_seconds=round(budget, 1) if budget is not None else None, cuts=tuple(cuts))
