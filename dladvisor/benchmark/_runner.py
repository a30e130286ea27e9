"""Run every candidate on the same folds and collect scores, out-of-fold predictions and timings."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable
from typing import Literal

import numpy as np
from pydantic import Field

from dladvisor._frozen import Frozen
from dladvisor.benchmark._folds import SplitInfo, make_folds
from dladvisor.benchmark._metrics import (
    LOWER_IS_BETTER,
    MetricSummary,
    default_primary_metric,
    metrics_for,
    score_fold,
    summarize,
)
from dladvisor.benchmark._registry import BuildContext, CandidateSpec, FeatureSpec, get_candidate, list_candidates
from dladvisor.errors import UserError
from dladvisor.load import Dataset
from dladvisor.profile import DatasetProfile

# Single-row predictions timed per candidate for the latency figure.
LATENCY_CALLS = 25


class Timing(Frozen):
    """Measured on this machine in this run; varies between runs."""

    fit_seconds_total: float
    fit_seconds_per_fold: float
    predict_ms_per_1k_rows: float
    single_row_latency_ms_p50: float
    model_size_bytes: int


class CandidateResult(Frozen):
    name: str
    label: str
    family: str
    complexity: int
    description: str
    status: Literal["ok", "skipped", "failed"]
    reason: str = ""
    metrics: dict[str, MetricSummary] = Field(default_factory=dict)
    timing: Timing | None = None
    oof: np.ndarray | None = Field(default=None, exclude=True, repr=False)
    first_fold_model: object | None = Field(default=None, exclude=True, repr=False)


class BenchmarkResult(Frozen):
    task: str
    primary_metric: str
    higher_is_better: bool
    split: SplitInfo
    features_used: list[str]
    time_budget_seconds: float
    candidates: tuple[CandidateResult, ...]
    folds: list = Field(default_factory=list, exclude=True, repr=False)
    scored_rows: np.ndarray | None = Field(default=None, exclude=True, repr=False)

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


def feature_spec(profile: DatasetProfile, dataset: Dataset) -> FeatureSpec:
    """Tabular columns by encoding: numeric (incl. 0/1 flags), categorical (incl. yes/no flags), datetime."""
    numeric, categorical, dates = [], [], []
    for column in profile.columns:
        values = dataset.features[column.name]
        if column.kind == "numeric" or (column.kind == "boolean" and _is_numeric(values)):
            numeric.append(column.name)
        elif column.kind in ("categorical", "boolean"):
            categorical.append(column.name)
        elif column.kind == "datetime":
            dates.append(column.name)
    return FeatureSpec(numeric=tuple(numeric), categorical=tuple(categorical), datetime=tuple(dates))


def _is_numeric(values) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def run_benchmark(
    dataset: Dataset,
    profile: DatasetProfile,
    *,
    n_folds: int = 5,
    seed: int = 0,
    time_budget_seconds: float = 600.0,
    candidates: list[str] | None = None,
    primary_metric: str | None = None,
    on_fold_done: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Cross-validate each candidate on identical folds.

    Args:
        candidates: names to run (default: every registered candidate for the task).
        time_budget_seconds: after a candidate's first fold, its remaining folds are projected; a candidate that
            would overrun the budget is stopped and reported as skipped instead of silently truncated.
        on_fold_done: called with the candidate name after each fold (for progress bars).
    """
    specs = _select(dataset.task, candidates)
    primary = primary_metric or default_primary_metric(dataset.task)
    if primary not in metrics_for(dataset.task):
        raise UserError(f"--metric {primary} does not apply to {dataset.task}; use one of {metrics_for(dataset.task)}.")
    features = feature_spec(profile, dataset)
    if not features.all:
        raise UserError(
            "No column can be used as a tabular feature (all are identifiers, constants, text or image paths); "
            "add numeric or categorical columns."
        )
    folds, split = make_folds(dataset, n_folds=n_folds, seed=seed)
    context = BuildContext(
        task=dataset.task, n_classes=len(dataset.classes), features=features, seed=seed, n_jobs=os.cpu_count() or 1
    )
    X = dataset.features[features.all]
    deadline = time.perf_counter() + time_budget_seconds
    results = []
    for spec in specs:
        results.append(_run_candidate(spec, context, X, dataset, folds, deadline, on_fold_done))
    scored = np.zeros(dataset.n_rows, dtype=bool)
    for _, test in folds:
        scored[test] = True
    return BenchmarkResult(
        task=dataset.task,
        primary_metric=primary,
        higher_is_better=primary not in LOWER_IS_BETTER,
        split=split,
        features_used=features.all,
        time_budget_seconds=time_budget_seconds,
        candidates=tuple(results),
        folds=folds,
        scored_rows=scored,
    )


def _select(task: str, names: list[str] | None) -> list[CandidateSpec]:
    if not names:
        return list_candidates(task)
    specs = [get_candidate(name) for name in names]
    for spec in specs:
        if task not in spec.tasks:
            raise UserError(f"Candidate '{spec.name}' does not support {task} tasks.")
    if not any(spec.is_baseline for spec in specs):
        specs.insert(0, get_candidate("dummy"))  # the baseline is what every lift is measured against
    return specs


def _run_candidate(spec, context, X, dataset, folds, deadline, on_fold_done) -> CandidateResult:
    n_classes = len(dataset.classes)
    y = dataset.y
    oof = np.full((len(y), n_classes) if n_classes else len(y), np.nan)
    fold_scores: list[dict[str, float]] = []
    fit_seconds, predict_seconds, predicted_rows = [], [], 0
    latency_ms, size_bytes, first_model = float("nan"), 0, None
    base = dict(
        name=spec.name, label=spec.label_for(dataset.task), family=spec.family, complexity=spec.complexity,
        description=spec.description,
    )
    for index, (train, test) in enumerate(folds):
        remaining = deadline - time.perf_counter()
        projected = float(np.mean(fit_seconds) + np.mean(predict_seconds)) * (len(folds) - index) if index else 0.0
        if remaining <= 0 or projected > remaining:
            done = f"after {index} of {len(folds)} folds" if index else "before its first fold"
            return CandidateResult(
                **base, status="skipped",
                reason=f"time budget: stopped {done} (about {projected:.0f} s more needed, {max(remaining, 0):.0f} s "
                "left); raise --time-budget to include it.",
            )
        model = spec.factory(context)
        try:
            started = time.perf_counter()
            model.fit(X.iloc[train], y[train])
            fit_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            prediction = predict(model, X.iloc[test], n_classes)
            predict_seconds.append(time.perf_counter() - started)
        except (ValueError, ArithmeticError, MemoryError) as exc:
            return CandidateResult(**base, status="failed", reason=f"{type(exc).__name__}: {exc}")
        predicted_rows += len(test)
        oof[test] = prediction
        fold_scores.append(score_fold(dataset.task, y[test], prediction, n_classes))
        if index == 0:
            latency_ms = _single_row_latency_ms(model, X.iloc[test], n_classes)
            size_bytes = len(pickle.dumps(model))
            first_model = model
        if on_fold_done:
            on_fold_done(spec.name)

    metrics = {name: summarize([fold[name] for fold in fold_scores], name) for name in fold_scores[0]}
    timing = Timing(
        fit_seconds_total=round(sum(fit_seconds), 4),
        fit_seconds_per_fold=round(float(np.mean(fit_seconds)), 4),
        predict_ms_per_1k_rows=round(1000 * 1000 * sum(predict_seconds) / max(predicted_rows, 1), 4),
        single_row_latency_ms_p50=round(latency_ms, 4),
        model_size_bytes=size_bytes,
    )
    return CandidateResult(**base, status="ok", metrics=metrics, timing=timing, oof=oof, first_fold_model=first_model)


def predict(model, X, n_classes: int) -> np.ndarray:
    if not n_classes:
        return np.asarray(model.predict(X), dtype=float)
    probabilities = np.zeros((len(X), n_classes))
    # A training fold may lack a rare class; place each column under the class it belongs to.
    probabilities[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return probabilities


def _single_row_latency_ms(model, X, n_classes: int) -> float:
    rows = [X.iloc[[i % len(X)]] for i in range(LATENCY_CALLS)]
    times = []
    for row in rows:
        started = time.perf_counter()
        predict(model, row, n_classes)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))
