"""Run every candidate on the same folds and collect scores, out-of-fold predictions and timings.

On a GPU every candidate runs on all K folds. On a CPU, fine-tuning a pretrained text or image model is too slow
for that, so those candidates are fitted once and scored on the same held-out rows (part of fold 1's test rows)
under a share of the time budget, while the other candidates run all K folds. Frozen-embedding candidates embed
every row once up front (the embeddings do not depend on labels) and cross-validate only their cheap head on the
K folds, unless embedding every row would not fit their share of the budget: then they too use the hold-out. The
deep-versus-classical lift is measured on the rows both models scored: all rows when both ran K folds, else the
shared held-out rows.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field

from dladvisor._frozen import Frozen
from dladvisor.benchmark._compare import LearningCurves, PairedLift, learning_curve, paired_lift, read_curves
from dladvisor.benchmark._executor import Executor, LocalExecutor
from dladvisor.benchmark._folds import SplitInfo, make_folds
from dladvisor.benchmark._measure import PeakMemory, count_parameters, forward_flops_per_sample, weights_bytes
from dladvisor.benchmark._metrics import (
    LOWER_IS_BETTER,
    MetricSummary,
    bootstrap_summaries,
    check_metric,
    default_primary_metric,
    score_fold,
    summarize,
)
from dladvisor.benchmark._pretrained import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, resolve_image_paths, uncached
from dladvisor.benchmark._registry import (
    BuildContext,
    CandidateSpec,
    FeatureSpec,
    check_candidates,
    get_candidate,
    list_candidates,
)
from dladvisor.benchmark._torch import TrainingLog
from dladvisor.errors import UserError
from dladvisor.load import Dataset
from dladvisor.profile import DatasetProfile, is_strong

# Single-row predictions timed per candidate for the latency figure.
LATENCY_CALLS = 25
# On a CPU, deep text/image candidates are scored on at most this many of fold 1's test rows.
CPU_HOLDOUT_ROWS = 1000
# Share of a deep candidate's time allotment spent fitting; the rest is for predicting the held-out rows.
FIT_SHARE = 0.75
# Share of its time allotment a frozen-embedding candidate may spend embedding every row up front on a CPU. Its
# predictions then come from the cache, so the rest only trains K linear heads (seconds) and times single-row
# latency. When all rows would not fit, the candidate uses the hold-out.
EMBEDDING_SHARE = 0.8
# Fitted models kept per candidate (the first folds), so the explain stage can compare their explanations.
# A Ray fold may overrun the time left by this much before it is given up on (a local one is not cut off).
TASK_GRACE_SECONDS = 60.0
KEPT_FOLD_MODELS = 3
# Strong single columns (the profile's `is_strong`) refitted without, at most this many, strongest first.
ABLATION_MAX_COLUMNS = 2
# Learning curves are drawn only when at least this much of the benchmark's budget is left beyond the classical
# model's refits, so the deep curve has time to train.
MIN_CURVE_SECONDS = 5.0
# A deep candidate whose share of the time left is below this is skipped rather than trained on a handful of rows.
MIN_DEEP_SECONDS = 3.0
# --preset thorough: the share of the benchmark's time budget kept for tuning (the defaults run in the rest).
THOROUGH_SHARE = 0.5


class ColumnAblation(Frozen):
    """How the best classical model scores with and without one strong column, on the same folds."""

    column: str
    metric: str  # roc_auc or r2: the metric of the profile's single-column score
    alone: float  # the column on its own (profile, 3-fold cross-validated)
    model: str
    with_column: float
    without_column: float


class Timing(Frozen):
    """Measured on this machine in this run; varies between runs. Units are in the names."""

    fit_seconds_total: float
    fit_seconds_per_fold: float
    predict_ms_per_1k_rows: float
    throughput_rows_per_second: float
    single_row_latency_ms_p50: float
    single_row_latency_ms_p95: float
    model_size_bytes: int
    peak_host_memory_mb: float
    peak_gpu_memory_mb: float | None = None
    parameters: int | None = None
    forward_flops_per_sample: float | None = None


class CandidateResult(Frozen):
    name: str
    label: str
    family: str
    complexity: int
    description: str
    modality: str = "tabular"
    ladder_step: str = "classical"
    tuning: str = "library defaults"  # how its hyperparameters were chosen
    tuned_from: str | None = None  # --preset thorough: the candidate these tuned parameters were set on
    params: dict[str, Any] = Field(default_factory=dict)  # ...and those parameters (of the pipeline's last step)
    status: Literal["ok", "skipped", "failed"]
    reason: str = ""  # why it was skipped or failed; for a scored candidate, why it was scored on the hold-out
    evaluation: str = ""  # what the score was measured on, for people: "5-fold CV: 569 rows"
    evaluated_rows: int = 0  # rows with a prediction the score was computed from (0 when not scored)
    on_holdout: bool = False  # fitted once and scored on the shared held-out rows (CPU), not cross-validated
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    timing: Timing | None = None
    training: tuple[TrainingLog, ...] = ()
    oof: np.ndarray | None = Field(default=None, exclude=True, repr=False)
    # Models fitted on the first folds (up to `KEPT_FOLD_MODELS`), for the explain stage's stability check.
    fold_models: tuple = Field(default=(), exclude=True, repr=False)

    @property
    def first_fold_model(self):
        return self.fold_models[0] if self.fold_models else None


class BenchmarkResult(Frozen):
    task: str
    primary_metric: str
    higher_is_better: bool
    split: SplitInfo
    features_used: list[str]
    time_budget_seconds: float
    device: str = "cpu"
    # Where the folds ran ("local", or "ray (ADDRESS)") and the size of that machine or cluster.
    executor: str = "local"
    cluster_nodes: int = 1
    cluster_cpus: int | None = None
    cluster_gpus: int | None = None
    holdout_rows: int | None = None
    candidates: tuple[CandidateResult, ...]
    lift: PairedLift | None = None
    # The best deep candidate against every classical one (the lift above is the one against the best classical).
    lifts: tuple[PairedLift, ...] = ()
    ablations: tuple[ColumnAblation, ...] = ()
    learning_curves: LearningCurves | None = None
    # What the time budget cut besides whole candidates (learning curves, leak refits), one sentence each.
    cuts: tuple[str, ...] = ()
    # What the benchmark built, handed to the later stages so they read the same inputs and rows (never rebuilt):
    # the feature spec, the model frame (image paths resolved), the folds and the CPU hold-out split.
    features: FeatureSpec | None = Field(default=None, exclude=True, repr=False)
    frame: object = Field(default=None, exclude=True, repr=False)
    folds: list = Field(default_factory=list, exclude=True, repr=False)
    scored_rows: np.ndarray | None = Field(default=None, exclude=True, repr=False)
    # (train rows, scored rows) of the CPU hold-out split, when deep candidates were evaluated on one.
    holdout: tuple | None = Field(default=None, exclude=True, repr=False)
    # The encoded target of the frame's rows, for refitting a candidate on every row (`dladvisor.export`).
    target: np.ndarray | None = Field(default=None, exclude=True, repr=False)

    @property
    def completed(self) -> list[CandidateResult]:
        return [c for c in self.candidates if c.status == "ok"]

    def get(self, name: str) -> CandidateResult:
        return next(c for c in self.candidates if c.name == name)

    def primary(self, candidate: CandidateResult) -> MetricSummary:
        return candidate.metrics[self.primary_metric]

    def ranked(self) -> list[CandidateResult]:
        """Completed candidates, best primary score first."""
        sign = -1 if self.higher_is_better else 1
        return sorted(self.completed, key=lambda c: (sign * self.primary(c).mean, c.complexity))

    def best(self, family: str) -> CandidateResult | None:
        return next((c for c in self.ranked() if c.family == family), None)

    def lift_over(self, classical: str) -> PairedLift | None:
        """The paired lift of the best deep candidate over the named classical one, if measured."""
        return next((lift for lift in self.lifts if lift.classical == classical), None)

    def splits_for(self, candidate: CandidateResult) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (train rows, test rows) pairs the candidate's kept models were fitted and scored on, in order."""
        return [self.holdout] if candidate.on_holdout and self.holdout is not None else list(self.folds)


def usable_cores() -> int:
    """Cores this process may use: the container's CPU quota and affinity, not the host's count (joblib's rule).

    Every multi-threaded model (forests, XGBoost) gets exactly this many threads, and parallel folds this many
    single-threaded workers, so the two never stack."""
    from joblib import cpu_count

    return max(1, cpu_count())


def model_frame(dataset: Dataset, features: FeatureSpec):
    """The columns the candidates read, with image paths resolved against the data file's folder."""
    X = dataset.features[features.all].copy()
    for column in features.image:
        X[column] = resolve_image_paths(X[column], dataset.base_dir)
    return X


def feature_spec(profile: DatasetProfile, dataset: Dataset) -> FeatureSpec:
    """Columns by encoding: numeric (incl. 0/1 flags), categorical (incl. yes/no flags), datetime, text, image."""
    numeric, categorical, dates, text, image = [], [], [], [], []
    excluded = dataset.model_inputs_exclude
    for column in profile.columns:
        if column.name in excluded:
            continue
        values = dataset.features[column.name]
        if column.kind == "numeric" or (column.kind == "boolean" and _is_numeric(values)):
            numeric.append(column.name)
        elif column.kind in ("categorical", "boolean"):
            categorical.append(column.name)
        elif column.kind == "datetime":
            dates.append(column.name)
        elif column.kind == "text":
            text.append(column.name)
        elif column.kind == "image_path":
            image.append(column.name)
    return FeatureSpec(
        numeric=tuple(numeric), categorical=tuple(categorical), datetime=tuple(dates), text=tuple(text),
        image=tuple(image[:1]),  # one image per row is what the image candidates read
    )


def _is_numeric(values) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


@dataclasses.dataclass
class _Plan:
    """Which rows each candidate trains and is scored on, and the time it may take."""

    folds: list
    holdout: tuple[np.ndarray, np.ndarray] | None
    device: str
    deadline: float
    # The fold whose rows the CPU hold-out and the learning curves use: the last of time-ordered folds (it trains
    # on the most history, like the model that would ship), else the first.
    reference_fold: int = 0
    workers: int = 1  # processes for candidates whose folds run side by side
    executor: object = dataclasses.field(default_factory=LocalExecutor)  # where each (candidate, fold) runs

    def folds_for(self, spec: CandidateSpec) -> list:
        """The folds a candidate runs; a frozen-embedding one may still fall back to the hold-out when it starts."""
        if spec.holdout_on_cpu and self.holdout is not None:
            return [self.holdout]
        return self.folds


@dataclasses.dataclass
class _Progress:
    """Fold-sized units of work done out of the total, reported as each one finishes."""

    total: int
    callback: Callable[[int, int], None] | None
    done: int = 0

    def step(self) -> None:
        self.done += 1
        if self.callback:
            self.callback(self.done, self.total)

    def expect_fewer(self, units: int) -> None:
        self.total -= units


def run_benchmark(
    dataset: Dataset,
    profile: DatasetProfile,
    *,
    n_folds: int = 5,
    seed: int = 0,
    time_budget_seconds: float = 600.0,
    candidates: list[str] | None = None,
    preset: str = "standard",
    primary_metric: str | None = None,
    device: str = "auto",
    text_model: str = DEFAULT_TEXT_MODEL,
    image_model: str = DEFAULT_IMAGE_MODEL,
    learning_curves: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> BenchmarkResult:
    """Cross-validate each candidate on identical folds, then compare the best deep and classical candidates.

    Args:
        candidates: names to run (default: the `preset`'s candidates for the task and the data's columns).
        preset: "fast", "standard" or "thorough" (`PRESETS`): the default candidates and how they are tuned.
        time_budget_seconds: wall-clock budget. Classical candidates whose remaining folds would overrun it are
            skipped (and say so); deep candidates get an equal share of what is left and fit their training rows
            and epochs into it.
        device: "auto", "cpu" or "cuda".
        on_progress: called with (units done, units in total) as folds finish, for progress bars.
        executor: where each (candidate, fold) fit runs (default `LocalExecutor`: in process or joblib workers).
    """
    from dladvisor.benchmark._torch import resolve_device

    deadline = time.perf_counter() + time_budget_seconds  # importing torch and building the frame count too
    primary = primary_metric or default_primary_metric(dataset.task)
    check_metric(primary, dataset.task)
    features = feature_spec(profile, dataset)
    if not features.all:
        raise UserError(
            "No column can be used as a feature (all are identifiers or constants); add informative columns."
        )
    specs = _select(dataset.task, candidates, features, preset)
    parallel = [s for s in specs if s.parallel_folds]
    executor = executor or LocalExecutor()
    warming = (_start_workers(min(usable_cores(), n_folds), deep=any(s.is_deep for s in parallel))
               if device != "cuda" and parallel and executor.name == "local" else None)
    try:
        device = resolve_device(device)
        if warming is not None:
            list(warming)  # the workers are up
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while they import: stop them rather than wait for the imports
        if warming is not None:
            _stop_workers()
        raise
    except BaseException:
        if warming is not None:
            list(warming)  # an unusable --device leaves no task behind
        raise
    if device == "cpu" and any(s.is_deep for s in specs):
        import torch

        torch.set_num_threads(usable_cores())  # torch counts the host's cores, not the container's quota
    X = model_frame(dataset, features)
    folds, split = make_folds(dataset, n_folds=n_folds, seed=seed)
    reference = len(folds) - 1 if split.kind == "time-ordered" else 0
    holdout = None
    if device == "cpu" and any(s.holdout_on_cpu or s.frozen_embeddings for s in specs):
        train, test = folds[reference]
        rng = np.random.default_rng(seed)
        holdout = (train, np.sort(rng.choice(test, min(len(test), CPU_HOLDOUT_ROWS), replace=False)))
    plan = _Plan(folds=folds, holdout=holdout, device=device, deadline=deadline,
                 reference_fold=reference, workers=usable_cores(), executor=executor)
    context = BuildContext(
        task=dataset.task, n_classes=len(dataset.classes), features=features, seed=seed, n_jobs=usable_cores(),
        device=device, text_model=text_model, image_model=image_model, preset=preset,
    )
    curve_units = 2 if learning_curves and preset != "fast" else 0
    progress = _Progress(total=sum(len(plan.folds_for(s)) for s in specs) + curve_units,
                         callback=on_progress)

    results, cuts = [], []
    if preset == "fast" and learning_curves:
        learning_curves = False  # the preset is for CI: a reading aid is not worth a fifth of its time
        cuts.append("learning curves: not drawn under --preset fast (standard draws them)")
    strong = len(_strong_columns(profile, features, dataset))
    whole_deadline = plan.deadline
    if preset == "thorough":  # the defaults get half the time; tuning and its cross-validation the other half
        plan.deadline = time.perf_counter() + (1 - THOROUGH_SHARE) * max(0.0, whole_deadline - time.perf_counter())
    for index, spec in enumerate(specs):
        # Deep candidates share what is left with the learning curves and the leak refits that follow them.
        deep_left = sum(1 for s in specs[index:] if s.is_deep) + (1 if learning_curves else 0) + strong
        budget = max(0.0, plan.deadline - time.perf_counter()) / max(deep_left, 1) if spec.is_deep else None
        if budget is not None and budget < MIN_DEEP_SECONDS:
            results.append(_skipped(spec, dataset, f"time budget: {budget:.1f} s was its share of what was left, "
                                    f"too little to train (at least {MIN_DEEP_SECONDS:.0f} s); raise --time-budget "
                                    "to include it."))
            progress.expect_fewer(len(plan.folds_for(spec)))
            continue
        try:
            results.append(_run_candidate(spec, context, X, dataset, plan, budget, progress))
        except UserError:
            raise  # a bad option (an unknown --text-model, say) is the user's to fix, not one candidate's failure
        except Exception as exc:  # noqa: BLE001  any failure inside one candidate (incl. torch OOM) is its own
            results.append(_failed(spec, dataset, exc))
    plan.deadline = whole_deadline
    tuned = []
    if preset == "thorough":
        tuned, tuned_specs = _thorough(results, specs, context, X, dataset, plan, primary, progress, cuts)
        results.extend(tuned)
        specs = [*specs, *tuned_specs]

    lift, lifts, curves = None, [], None
    # Thorough: the lift is between the two tuned models, treated alike; else between the best of each side.
    pool = tuned if len(tuned) == 2 and all(r.status == "ok" for r in tuned) else results
    deep = next((c for c in _ranked(pool, primary) if c.family == "deep"), None)
    classicals = [c for c in _ranked(pool, primary) if c.family == "classical"]
    if pool is tuned:
        classicals += [c for c in _ranked(results, primary) if c.family == "classical" and c not in tuned]
    classical = classicals[0] if classicals else None
    if deep is not None and classical is not None:
        # Only classical models that could be recommended (inside the best one's interval) need the paired test.
        for other in (c for c in classicals if _inside_interval(c, classical, primary)):
            measured = paired_lift(
                dataset.task, dataset.y, deep.oof, other.oof, deep=deep.name, classical=other.name,
                metric=primary, higher_is_better=primary not in LOWER_IS_BETTER, n_classes=len(dataset.classes),
                seed=seed,
            )
            if measured is not None:
                lifts.append(measured)
        lift = next((m for m in lifts if m.classical == classical.name), None)
    ablations = (_ablate_strong_columns(profile, classical, specs, context, X, dataset, plan, cuts)
                 if classical else [])
    if learning_curves and deep is not None and classical is not None:
        # The classical curve refits 1/4 and 1/2 of a fold; the deep one fits itself into what is left.
        projected = 0.75 * _refit_seconds(classical, dataset.n_rows) / max(len(folds), 1)
        remaining = plan.deadline - time.perf_counter()
        if remaining < projected + MIN_CURVE_SECONDS:
            cuts.append(f"learning curves: not drawn, {max(remaining, 0):.0f} s of the benchmark's time budget was "
                        f"left and they need about {projected + MIN_CURVE_SECONDS:.0f} s")
        else:
            try:
                curves = _learning_curves([classical, deep], specs, context, X, dataset, plan, primary, seed,
                                          progress)
            except UserError:
                raise
            except Exception:  # noqa: BLE001  the curves are a reading aid; the scores stand without them
                curves = None
    scored = np.zeros(dataset.n_rows, dtype=bool)
    for _, test in folds:
        scored[test] = True
    if not any(r.on_holdout for r in results):
        holdout = None  # every candidate was cross-validated after all
    return BenchmarkResult(
        task=dataset.task, primary_metric=primary, higher_is_better=primary not in LOWER_IS_BETTER, split=split,
        features_used=features.all, time_budget_seconds=time_budget_seconds, device=device,
        holdout_rows=len(holdout[1]) if holdout is not None else None, candidates=tuple(results), lift=lift,
        lifts=tuple(lifts), ablations=tuple(ablations), learning_curves=curves, cuts=tuple(cuts), features=features,
        frame=X, folds=folds, scored_rows=scored, holdout=holdout, target=dataset.y, **_cluster_fields(executor),
    )


def _thorough(results, specs, context, X, dataset, plan: _Plan, primary: str, progress: _Progress,
              cuts: list[str]) -> tuple[list[CandidateResult], list[CandidateSpec]]:
    """Tune the best classical and the best deep candidate that have a search space with the same number of Optuna
    trials on the same inner split, then cross-validate both tuned models on the folds (dladvisor.benchmark._tuning)."""
    from dladvisor.benchmark._tuning import MIN_TRIALS, TUNING_SHARE, inner_split, plan_trials, tune

    by_name = {s.name: s for s in specs}
    sides = []
    for family in ("classical", "deep"):
        best = next((r for r in _ranked(results, primary)
                     if r.family == family and by_name[r.name].search_space is not None and r.timing), None)
        if best is None:
            cuts.append(f"thorough tuning: not done, no {family} candidate with a search space finished")
            return [], []
        sides.append((by_name[best.name], best.timing.fit_seconds_per_fold))
    left = max(0.0, plan.deadline - time.perf_counter())
    trials = plan_trials([seconds for _, seconds in sides], TUNING_SHARE * left)
    if not trials:
        needed = MIN_TRIALS * sum(seconds for _, seconds in sides) / TUNING_SHARE
        cuts.append(f"thorough tuning: not done, {left:.0f} s of the time budget was left and {MIN_TRIALS} trials a "
                    f"side with their cross-validation need about {needed:.0f} s; raise --time-budget")
        return [], []
    split = inner_split(dataset.y, plan.folds[plan.reference_fold][0], dataset.task == "regression", context.seed)
    found = []
    for spec, seconds in sides:
        try:
            found.append(tune(spec, context, X, dataset.y, split, trials=trials, primary=primary,
                              seconds_per_trial=seconds))
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001  a failed search leaves the defaults' results standing
            cuts.append(f"thorough tuning: {spec.label} failed ({_one_line(exc)}); the defaults' results stand")
            return [], []
    progress.total += sum(len(plan.folds_for(t.spec)) for t in found)
    tuned = []
    for index, t in enumerate(found):
        budget = max(0.0, plan.deadline - time.perf_counter()) / (len(found) - index) if t.spec.is_deep else None
        try:
            tuned.append(_run_candidate(t.spec, context, X, dataset, plan, budget, progress))
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            tuned.append(_failed(t.spec, dataset, exc))
    return tuned, [t.spec for t in found]


def _cluster_fields(executor: Executor) -> dict:
    cluster = executor.cluster()
    return dict(executor=cluster["executor"], cluster_nodes=cluster["nodes"], cluster_cpus=cluster["cpus"],
                cluster_gpus=cluster["gpus"])


def _ranked(results: list[CandidateResult], primary: str) -> list[CandidateResult]:
    sign = 1 if primary in LOWER_IS_BETTER else -1
    return sorted((r for r in results if r.status == "ok"), key=lambda r: sign * r.metrics[primary].mean)


def _one_line(exc: BaseException) -> str:
    """An exception as one line for the report: its type and the first line of its message."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def _identity(spec: CandidateSpec, dataset: Dataset) -> dict:
    """What every result of a candidate says about it, whatever became of it."""
    return dict(name=spec.name, label=spec.label_for(dataset.task), family=spec.family, complexity=spec.complexity,
                description=spec.description, modality=spec.modality, ladder_step=spec.ladder_step,
                tuning=spec.tuning, tuned_from=spec.tuned_from, params=dict(spec.params))


def _skipped(spec: CandidateSpec, dataset: Dataset, reason: str) -> CandidateResult:
    return CandidateResult(**_identity(spec, dataset), status="skipped", reason=reason)


def _failed(spec: CandidateSpec, dataset: Dataset, exc: Exception) -> CandidateResult:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()  # an out-of-memory candidate must not starve the ones after it
    return CandidateResult(**_identity(spec, dataset), status="failed", reason=_one_line(exc))


def _inside_interval(candidate: CandidateResult, best: CandidateResult, primary: str) -> bool:
    score, best_score = candidate.metrics[primary], best.metrics[primary]
    return score.mean <= best_score.ci_high if primary in LOWER_IS_BETTER else score.mean >= best_score.ci_low


def _select(task: str, names: list[str] | None, features: FeatureSpec, preset: str) -> list[CandidateSpec]:
    if not names:
        return list_candidates(task, features, preset=preset)
    specs = check_candidates(names, task)
    for spec in specs:
        if not spec.is_baseline and not features.has(spec.modality):
            raise UserError(f"Candidate '{spec.name}' needs {spec.modality} columns, and the data has none.")
    if not any(spec.is_baseline for spec in specs):
        specs.insert(0, get_candidate("dummy"))  # the baseline is what every lift is measured against
    return specs


@dataclasses.dataclass
class _UpFront:
    """The outcome of embedding every row before the folds of a frozen-embedding candidate."""

    folds: list
    why_holdout: str = ""
    seconds_per_row: float = 0.0  # measured encoder time per row, added back to the fit and prediction timings
    peak_host_mb: float = 0.0


def _embed_up_front(spec: CandidateSpec, context: BuildContext, X, plan: _Plan, budget: float) -> _UpFront:
    """Embed every row once, so the head can be cross-validated on all folds, when that fits the candidate's share.

    Fold 2..K then find every row in the embedding cache, so their heads train on all their rows (no subsampling)
    in seconds. When the measured embedding rate says all rows would not fit, the candidate uses the hold-out.
    """
    head = spec.factory(context)
    missing = head.rows_to_embed(X)
    seconds_per_row = 1 / max(head.embedding_rate(X), 1e-9)
    allowed = EMBEDDING_SHARE * budget
    needed = missing * seconds_per_row
    if needed > allowed:
        return _UpFront(
            folds=[plan.holdout], seconds_per_row=0.0,
            why_holdout=f"embedding all {missing:,} rows would take about {needed:.0f} s, more than the "
            f"{allowed:.0f} s its share of the time budget allows, so its head was fitted once and scored on the "
            "hold-out; raise --time-budget to cross-validate it on all rows.",
        )
    with PeakMemory("cpu") as memory:
        started = time.perf_counter()
        head.embed(X)
        if missing:
            seconds_per_row = (time.perf_counter() - started) / missing
    return _UpFront(folds=plan.folds, seconds_per_row=seconds_per_row, peak_host_mb=memory.host_mb)


def _run_candidate(spec, context, X, dataset, plan: _Plan, budget, progress: _Progress) -> CandidateResult:
    n_classes = len(dataset.classes)
    y = dataset.y
    started_candidate = time.perf_counter()
    up_front = _UpFront(folds=plan.folds_for(spec))
    if spec.frozen_embeddings and plan.device == "cpu":
        try:
            up_front = _embed_up_front(spec, context, X, plan, budget)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001  the hold-out needs far less: fall back to it
            up_front = _UpFront(folds=[plan.holdout], why_holdout=f"embedding every row up front failed "
                                f"({_one_line(exc)}).")
        if up_front.folds is not plan.folds:
            progress.expect_fewer(len(plan.folds) - 1)
    elif up_front.folds is not plan.folds:
        up_front.why_holdout = (
            "fine-tuning on every fold is too slow on a CPU, so it was fitted once and scored on the hold-out; a "
            "GPU (--device cuda) cross-validates it on all rows."
        )
    folds = up_front.folds
    oof = np.full((len(y), n_classes) if n_classes else len(y), np.nan)
    fold_scores: list[dict[str, float]] = []
    fit_seconds, predict_seconds, predicted_rows, logs = [], [], 0, []
    latency, size_bytes, params, flops = (float("nan"), float("nan")), 0, None, None
    kept_models = []
    memory_host, memory_gpu = up_front.peak_host_mb, None
    holdout = folds is not plan.folds
    scored_rows = len(np.unique(np.concatenate([test for _, test in folds])))
    evaluation = (
        f"hold-out: {scored_rows:,} rows of fold {plan.reference_fold + 1}" if holdout
        else f"{len(folds)}-fold CV: {scored_rows:,} rows"
    )
    base = dict(**_identity(spec, dataset), evaluation=evaluation, on_holdout=holdout)
    workers = min(plan.workers, len(folds)) if spec.parallel_folds and plan.device == "cpu" else 1
    if spec.is_deep:
        left = max(0.0, budget - (time.perf_counter() - started_candidate))
        rounds = math.ceil(len(folds) / workers)  # folds side by side share the time
        context = dataclasses.replace(context, max_seconds=FIT_SHARE * left / rounds)
    index = 0
    while index < len(folds):
        remaining = plan.deadline - time.perf_counter()
        # Deep candidates fit themselves into their share; classical ones are projected from the folds so far.
        projected = 0.0
        if index and not spec.is_deep:
            per_fold = float(np.mean(fit_seconds) + np.mean(predict_seconds))
            projected = per_fold * math.ceil((len(folds) - index) / workers)
        if remaining <= 0 or projected > remaining:
            done = f"after {index} of {len(folds)} folds" if index else "before its first fold"
            return CandidateResult(
                **base, status="skipped",
                reason=f"time budget: stopped {done} (about {projected:.0f} s more needed, {max(remaining, 0):.0f} s "
                "left); raise --time-budget to include it.",
            )
        # Side by side, the first `workers` folds measure the pace; then the rest go at once, so a free worker
        # takes the next fold (5 folds on 2 workers: 3 rounds' time, not 3 full rounds). A deep model keeps to its
        # time share itself, so all its folds go at once. On a Ray cluster the rest go at once whatever the model:
        # each task declares its cores, and Ray places the ones that fit side by side.
        whole = (workers > 1 or plan.executor.name == "ray") and (index > 0 or spec.is_deep)
        batch = folds[index:] if whole else folds[index : index + workers]
        try:
            # One (candidate, fold) fit-and-score per task, through the executor (local: as before).
            if workers > 1:
                single = dataclasses.replace(context, n_jobs=1)
                tasks = [dict(factory=spec.factory, context=single, train=train, test=test, n_classes=n_classes,
                              device="cpu", count_flops=index + i == 0) for i, (train, test) in enumerate(batch)]
                resources = {"num_cpus": 1}
            else:
                device = plan.device if spec.is_deep else "cpu"
                tasks = [dict(factory=spec.factory, context=context, train=train, test=test, n_classes=n_classes,
                              device=device) for train, test in batch]
                resources = {"num_cpus": max(1, context.n_jobs or 1), "num_gpus": 1 if device == "cuda" else 0}
            outcomes = plan.executor.map_folds(_fit_fold, tasks, shared={"X": X, "y": y}, workers=workers,
                                               resources=resources, timeout=max(remaining, 0.0) + TASK_GRACE_SECONDS)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            return CandidateResult(**base, status="failed", reason=_one_line(exc))
        for (train, test), fold in zip(batch, outcomes, strict=True):
            model = fold.model
            memory_host = max(memory_host, fold.host_mb)
            memory_gpu = fold.gpu_mb if fold.gpu_mb is not None else memory_gpu
            # Rows embedded up front were not embedded inside these timers: add the encoder's time for them back,
            # so the times are those of a model fitted and used from scratch.
            fit_seconds.append(fold.fit_seconds + up_front.seconds_per_row * len(train))
            predict_seconds.append(fold.predict_seconds + up_front.seconds_per_row * len(test))
            log = _training_log(model)
            if log is not None:
                logs.append(log)
            predicted_rows += len(test)
            oof[test] = fold.prediction
            fold_scores.append(score_fold(dataset.task, y[test], fold.prediction, n_classes))
            if index == 0:
                latency = _single_row_latency_ms(model, X.iloc[test], n_classes)
                size_bytes = _model_size(model)
                params = count_parameters(model)
                flops = fold.flops if fold.flops is not None else forward_flops_per_sample(model, X.iloc[test[:8]])
            if index < KEPT_FOLD_MODELS:
                kept_models.append(model)
            index += 1
            progress.step()

    if holdout:
        rows = folds[0][1]
        metrics = bootstrap_summaries(dataset.task, y[rows], oof[rows], n_classes, seed=context.seed)
    else:
        metrics = {name: summarize([fold[name] for fold in fold_scores], name) for name in fold_scores[0]}
    timing = Timing(
        fit_seconds_total=round(sum(fit_seconds), 4),
        fit_seconds_per_fold=round(float(np.mean(fit_seconds)), 4),
        predict_ms_per_1k_rows=round(1000 * 1000 * sum(predict_seconds) / max(predicted_rows, 1), 4),
        throughput_rows_per_second=round(predicted_rows / max(sum(predict_seconds), 1e-9), 1),
        single_row_latency_ms_p50=round(latency[0], 4),
        single_row_latency_ms_p95=round(latency[1], 4),
        model_size_bytes=size_bytes,
        peak_host_memory_mb=memory_host,
        peak_gpu_memory_mb=memory_gpu,
        parameters=params,
        forward_flops_per_sample=flops,
    )
    return CandidateResult(
        **base, status="ok", reason=up_front.why_holdout, evaluated_rows=scored_rows, metrics=metrics, timing=timing,
        training=tuple(logs), oof=oof, fold_models=tuple(kept_models),
    )


def _start_workers(workers: int, deep: bool):
    """Start the worker processes for parallel folds now, importing the model libraries while the main process
    imports torch and builds the frame (about 2 s saved on 2 cores); consume the result before the first fold."""
    if workers < 2:
        return None
    from joblib import Parallel, delayed

    return Parallel(n_jobs=workers, return_as="generator_unordered")(
        delayed(_import_models)(deep) for _ in range(workers))


def _stop_workers() -> None:
    """Kill joblib's reusable fold workers now (an interrupted run), rather than let exit wait for their work."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)  # loky's one reusable executor, once made
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def _import_models(deep: bool) -> None:
    import sklearn.pipeline  # noqa: F401

    import dladvisor.benchmark  # noqa: F401  (the candidates and their preprocessing)

    if deep:
        # Else their imports land in the first folds' fit times: torch, and the compiler package its optimizers
        # import on first use (torch 2.14: ~2 s a process, measured inside an MLP's first fit).
        import torch  # noqa: F401
        import torch._dynamo  # noqa: F401


@dataclasses.dataclass
class _Fold:
    """One fold's fitted model, its predictions on the fold's test rows, and what they cost."""

    model: object
    prediction: np.ndarray
    fit_seconds: float
    predict_seconds: float
    host_mb: float
    gpu_mb: float | None
    flops: float | None = None  # forward FLOPs per sample, when asked for


def _fit_fold(factory, context: BuildContext, X, y, train, test, n_classes: int, device: str,
              count_flops: bool = False) -> _Fold:
    """Fit a fresh model on the training rows and predict the test rows (in a worker process for parallel folds).

    `count_flops` also counts the model's forward FLOPs per sample here: a count, not a timing, so a busy worker
    gives the same figure, and torch's counter costs ~1 s on first use, which a worker pays beside the others."""
    model = factory(context)
    with PeakMemory(device) as memory:
        started = time.perf_counter()
        model.fit(X.iloc[train], y[train])
        fit = time.perf_counter() - started
    started = time.perf_counter()
    prediction = predict(model, X.iloc[test], n_classes)
    predicted = time.perf_counter() - started
    flops = forward_flops_per_sample(model, X.iloc[test[:8]]) if count_flops else None
    return _Fold(model, prediction, fit, predicted, memory.host_mb, memory.gpu_mb, flops)


def _learning_curves(pair, specs, context, X, dataset, plan: _Plan, primary, seed, progress) -> LearningCurves:
    """Best classical and best deep candidate trained on growing parts of one fold, scored on the same rows.

    The rows are the reference fold's: its hold-out rows when either model was scored on the hold-out, else all its
    test rows. A deep model that could afford only part of its training rows on this device gets a curve up to the
    rows it used: its last point is its main result, and the smaller points get time in proportion to their rows.
    """
    from dladvisor.benchmark._compare import CurvePoint

    n_classes = len(dataset.classes)
    on_holdout = any(r.on_holdout for r in pair) and plan.holdout is not None
    train_rows, eval_rows = plan.holdout if on_holdout else plan.folds[plan.reference_fold]
    scored_on = f"{len(eval_rows):,} {'hold-out' if on_holdout else 'test'} rows of fold {plan.reference_fold + 1}"
    curves = []
    for result in pair:
        spec = next(s for s in specs if s.name == result.name)
        rows, ctx = train_rows, context
        log = result.training[0] if result.training else None
        if log is not None and result.on_holdout:
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(train_rows, min(log.rows_used, len(train_rows)), replace=False))
            full = CurvePoint(rows_offered=log.rows_available, rows_used=log.rows_used,
                              score=result.metrics[primary].mean)
        else:
            # All of the reference fold's training rows is the model the benchmark already fitted on that fold:
            # its out-of-fold predictions on the same rows are the curve's last point, not refitted.
            reference_log = result.training[plan.reference_fold] if len(result.training) > plan.reference_fold \
                else None
            score = score_fold(dataset.task, dataset.y[eval_rows], result.oof[eval_rows], n_classes)[primary]
            full = CurvePoint(rows_offered=len(train_rows), score=round(score, 6),
                              rows_used=reference_log.rows_used if reference_log else len(train_rows))
        if spec.is_deep:
            remaining = max(0.0, plan.deadline - time.perf_counter()) * FIT_SHARE
            ctx = dataclasses.replace(context, max_seconds=remaining / 0.75)

        def fit_and_score(subsets, spec=spec, ctx=ctx, rows=rows):
            contexts = [dataclasses.replace(ctx, max_seconds=ctx.max_seconds * len(subset) / len(rows))
                        if spec.is_deep else ctx for subset in subsets]
            # Through the executor, as the folds are: side by side on local workers, or as tasks on a Ray cluster.
            if spec.parallel_folds and plan.device == "cpu" and plan.workers > 1:
                workers, device, resources = min(plan.workers, len(subsets)), "cpu", {"num_cpus": 1}
                contexts = [dataclasses.replace(c, n_jobs=1) for c in contexts]
            else:
                device = plan.device if spec.is_deep else "cpu"
                workers = 1
                resources = {"num_cpus": max(1, ctx.n_jobs or 1), "num_gpus": 1 if device == "cuda" else 0}
            tasks = [dict(factory=spec.factory, context=c, train=subset, test=eval_rows, n_classes=n_classes,
                          device=device) for c, subset in zip(contexts, subsets, strict=True)]
            fits = plan.executor.map_folds(
                _fit_fold, tasks, shared={"X": X, "y": dataset.y}, workers=workers, resources=resources,
                timeout=max(plan.deadline - time.perf_counter(), 0.0) + TASK_GRACE_SECONDS)
            points = []
            for subset, fit in zip(subsets, fits, strict=True):
                score = score_fold(dataset.task, dataset.y[eval_rows], fit.prediction, n_classes)[primary]
                log = _training_log(fit.model)
                points.append((score, log.rows_used if log is not None else len(subset)))
            return points

        curves.append(learning_curve(
            result.name, result.label, fit_and_score, rows, dataset.y, seed=seed, classification=bool(n_classes),
            full=full,
        ))
        progress.step()
    reading = read_curves(curves[0], curves[1], metric=primary, higher_is_better=primary not in LOWER_IS_BETTER)
    return LearningCurves(metric=primary, evaluated_rows=len(eval_rows), scored_on=scored_on, curves=tuple(curves),
                          reading=reading)


def _refit_seconds(result: CandidateResult, rows: int) -> float:
    """Seconds the candidate's K folds took to fit and to predict every row, as measured."""
    if result.timing is None:
        return 0.0
    return result.timing.fit_seconds_total + result.timing.predict_ms_per_1k_rows * rows / 1e6


def _strong_columns(profile: DatasetProfile, features: FeatureSpec, dataset: Dataset) -> list:
    """The single columns strong enough to refit the best classical model without (leak check), strongest first."""
    return [s for s in profile.strongest_single_columns
            if is_strong(s) and s.column in features.all and s.column not in dataset.trusted_columns
            ][:ABLATION_MAX_COLUMNS]


def _ablate_strong_columns(profile, best, specs, context, X, dataset, plan: _Plan, cuts: list[str]
                           ) -> list[ColumnAblation]:
    """Refit the best classical model without each column that alone is very strong, on the same folds."""
    spec = next(s for s in specs if s.name == best.name)
    n_classes = len(dataset.classes)
    ablations = []
    for single in _strong_columns(profile, context.features, dataset):
        projected = _refit_seconds(best, dataset.n_rows)
        remaining = plan.deadline - time.perf_counter()
        if projected > remaining:
            cuts.append(f"leak check: {best.label} was not refitted without '{single.column}' (about "
                        f"{projected:.0f} s needed, {max(remaining, 0):.0f} s left); raise --time-budget")
            continue
        features = _without(context.features, single.column)
        if not features.all or (not spec.is_baseline and not features.has(spec.modality)):
            continue
        ctx = dataclasses.replace(context, features=features)
        without = X.drop(columns=[single.column])
        oof = np.full((len(dataset.y), n_classes) if n_classes else len(dataset.y), np.nan)
        scores = []
        try:
            for train, test in plan.folds_for(spec):
                model = spec.factory(ctx).fit(without.iloc[train], dataset.y[train])
                oof[test] = predict(model, without.iloc[test], n_classes)
                scores.append(score_fold(dataset.task, dataset.y[test], oof[test], n_classes, only=single.metric))
        except Exception:  # noqa: BLE001  no ablation for this column; the profile's alerts still stand
            continue
        with_column = best.metrics.get(single.metric)
        ablations.append(ColumnAblation(
            column=single.column, metric=single.metric, alone=single.score, model=best.name,
            with_column=round(with_column.mean, 4) if with_column else float("nan"),
            without_column=round(float(np.nanmean([s[single.metric] for s in scores])), 4),
        ))
    return ablations


def _without(features: FeatureSpec, column: str) -> FeatureSpec:
    return FeatureSpec(**{
        kind: tuple(c for c in getattr(features, kind) if c != column)
        for kind in ("numeric", "categorical", "datetime", "text", "image")
    })


def _training_log(model) -> TrainingLog | None:
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return getattr(final, "training_log_", None)


def _model_size(model) -> int:
    """Serialized size in bytes; torch models by their weights, frozen encoders included."""
    size = weights_bytes(model)
    return size if size is not None else len(pickle.dumps(model))


def predict(model, X, n_classes: int) -> np.ndarray:
    if not n_classes:
        return np.asarray(model.predict(X), dtype=float)
    probabilities = np.zeros((len(X), n_classes))
    # A training fold may lack a rare class; place each column under the class it belongs to.
    probabilities[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return probabilities


def _single_row_latency_ms(model, X, n_classes: int) -> tuple[float, float]:
    """p50 and p95 of one-row predictions, with embedding caches off so frozen encoders are timed too."""
    rows = [X.iloc[[i % len(X)]] for i in range(LATENCY_CALLS)]
    times = []
    with uncached():
        for row in rows:
            started = time.perf_counter()
            predict(model, row, n_classes)
            times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times)), 1000 * float(np.percentile(times, 95))
