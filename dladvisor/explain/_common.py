"""Machinery every explainer shares: the explainer registry, the row plan and budget split, the clock safety net,
and the importance summaries (rankings, their agreement, groups of near-copy columns)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from dladvisor.benchmark import CandidateResult, FeatureSpec
from dladvisor.criteria import STABILITY_MIN_ROWS
from dladvisor.explain._results import Level
from dladvisor.load import Dataset

TOP_K = 10
# Share of the --time-budget given to the explain stage when the caller names no budget of its own.
TIME_SHARE = 0.05 / 0.80  # explain's share over the benchmark's (dladvisor.budget.STAGE_SHARES)
OTHER_FOLD_ROWS = 0.3  # other folds' models explain this share of fold 1's plan; they only serve the stability figure
# A model's explanation may overrun its share of the budget this many times before the clock cuts it short.
CLOCK_SLACK = 3.0
BACKGROUND_ROWS = 50  # training rows drawn per fold as the reference of linear and model-agnostic SHAP
# Columns whose |Spearman correlation| reaches this are one group for the stability figure: models fitted on
# different folds may credit either of two near-copies (radius, perimeter and area of a tumour), which is not an
# unstable explanation but an arbitrary choice between synonyms.
CORRELATED_GROUP = 0.8

# What one prediction costs a model-agnostic explainer (permutation, Partition SHAP), estimated from the model's size
# so that the same model and budget always plan the same rows: preprocessing its columns, plus the model's own work,
# which is its forward FLOPs where counted (torch models) and else its serialized size in 8-byte numbers (a kNN
# reads every stored training row; other models read at most what they store). Calibrated by
# tests/perf/calibrate_explain.py on 2 CPU cores (see its docstring), rounded to the conservative side.
SECONDS_PER_CELL = 5e-7
AGNOSTIC_OPERATIONS_PER_SECOND = 5e9


class Explainer:
    """One way of explaining a fitted candidate. To add one: subclass, set the class attributes, implement `handles`,
    `seconds_per_row` and `explain`, and decorate the class with `@register_explainer` in its modality's module."""

    name: ClassVar[str]
    method: ClassVar[str]  # as the report names it
    level: ClassVar[Level] = "approximate post-hoc"
    unit: ClassVar[str] = "column"  # what the attributions are on
    scale: ClassVar[str] = "probability"  # what a classifier's attributions add up to: probability or log-odds
    rows: ClassVar[int]  # rows explained on fold 1's model when the budget allows
    floor: ClassVar[int]  # neither the budget nor the clock goes below this many rows (small data: all of them)
    same_rows: ClassVar[bool] = False  # other folds' models explain fold 1's rows, all of them (tokens, regions)

    def handles(self, candidate: CandidateResult, model) -> bool:
        raise NotImplementedError

    def planned_rows(self, candidate: CandidateResult) -> int:
        return self.rows

    def seconds_per_row(self, candidate: CandidateResult, model, dataset: Dataset, features: FeatureSpec) -> float:
        """Estimated from the fitted model's size, never timed, so the same model and budget plan the same rows."""
        raise NotImplementedError

    def warm_up(self, outputs: int) -> None:
        """One-off work kept out of the per-row timings (SHAP's just-in-time compilation); run once per process."""

    def explain(self, job: Job) -> Raw:
        raise NotImplementedError


_WARM: set[tuple[str, int]] = set()


def warm_up(explainer: Explainer, outputs: int) -> float:
    """Run the explainer's one-off work once per process; returns the seconds spent (0 when already done)."""
    if (explainer.name, outputs) in _WARM:
        return 0.0
    started = time.perf_counter()
    explainer.warm_up(outputs)
    _WARM.add((explainer.name, outputs))
    return time.perf_counter() - started


# Tried in registration order, so the first that handles a candidate explains it; the model-agnostic permutation
# explainer handles any tabular model and is registered after the exact ones.
EXPLAINERS: dict[str, Explainer] = {}


def register_explainer(cls: type[Explainer]) -> type[Explainer]:
    if cls.name in EXPLAINERS:
        raise ValueError(f"explainer '{cls.name}' is registered twice")
    EXPLAINERS[cls.name] = cls()
    return cls


def explainer_for(candidate: CandidateResult, model) -> Explainer:
    found = next((e for e in EXPLAINERS.values() if e.handles(candidate, model)), None)
    if found is None:
        raise ValueError(f"no explainer handles {candidate.modality} model '{candidate.name}'")
    return found


def final_estimator(model):
    """The last step of a candidate pipeline, unwrapped from XGBoost's categorical shim (an early-stopped LightGBM or
    CatBoost model stays wrapped: the wrapper knows its inputs and computes its own tree SHAP)."""
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    return estimator if hasattr(estimator, "contributions") else getattr(estimator, "model", estimator)


def is_linear(model) -> bool:
    return hasattr(final_estimator(model), "coef_")


@dataclass
class Job:
    """What one explainer run gets: a fitted model, the inputs, and which rows to explain against which."""

    model: object
    X: pd.DataFrame
    dataset: Dataset
    features: FeatureSpec
    rows: np.ndarray
    background: np.ndarray
    seed: int
    seconds: float  # this run's share of the budget; the clock cuts past CLOCK_SLACK times it
    floor: int
    explain_all: bool = False  # other folds' models on fold 1's rows: all of them, so the rankings compare

    def explain_planned(self, explain_rows: Callable[[np.ndarray], object]):
        minimum = len(self.rows) if self.explain_all else self.floor
        return explain_planned(explain_rows, self.rows, self.seconds * CLOCK_SLACK, minimum)


@dataclass
class Raw:
    """One fold's attributions, before they are summarised."""

    values: np.ndarray  # (rows, features) absolute attributions, already reduced over outputs
    features: list[str]
    rows: int
    seconds: float
    additivity_error: float | None = None
    extras: dict | None = None
    cut: bool = False  # the clock stopped it before the planned rows were explained
    planned: int = 0


# -- the plan: rows from the model's size and the budget, never from the clock ------------------------------------


@dataclass(frozen=True)
class RowPlan:
    first: int  # rows explained on fold 1's model
    other: int  # rows explained on each other kept fold model
    models: int  # fold models explained (1: no stability across folds)
    seconds_per_row: float  # estimated from the model's size
    note: str = ""  # why the budget planned fewer rows than the explainer's usual sample


def full_plan_seconds(
    explainer: Explainer, candidate: CandidateResult, seconds_per_row: float, available: int
) -> float:
    """What the explainer's usual sample would cost, every kept fold model included."""
    usual = explainer.planned_rows(candidate)
    models = len(candidate.fold_models) if usual >= STABILITY_MIN_ROWS else 1
    other = min(usual, available) if explainer.same_rows else min(max(1, int(usual * OTHER_FOLD_ROWS)), available)
    return seconds_per_row * (min(usual, available) + (models - 1) * other)


def plan_rows(explainer: Explainer, candidate: CandidateResult, seconds: float, seconds_per_row: float,
              available: int) -> RowPlan:
    """Rows to explain in `seconds` at `seconds_per_row`: the explainer's usual sample when it fits, else fewer, but
    never below its floor; other folds' models (for stability) only when fold 1 gets STABILITY_MIN_ROWS or more."""
    usual = explainer.planned_rows(candidate)
    kept = len(candidate.fold_models)
    affordable = seconds / max(seconds_per_row, 1e-9)
    per_first_row = 1 + (kept - 1) * (1.0 if explainer.same_rows else OTHER_FOLD_ROWS)
    target = min(usual, _whole(affordable / per_first_row))
    models = kept
    if target < STABILITY_MIN_ROWS:  # the stability figure would not be judged: fold 1 alone gets the budget
        target, models = min(usual, _whole(affordable)), 1
    target = max(target, explainer.floor)
    first = min(target, available)
    other = 0 if models == 1 else first if explainer.same_rows else max(1, int(target * OTHER_FOLD_ROWS))
    note = ""
    if first < min(usual, available):
        note = (f"{first:,} of {min(usual, available):,} rows planned: its share of the explain budget is "
                f"{seconds:.1f} s and it costs about {seconds_per_row * 1000:.3g} ms a row (estimated from the "
                "model's size)" + (f"; {explainer.floor} rows is the least explained" if target == explainer.floor
                                   else ""))
    return RowPlan(first=first, other=other, models=models, seconds_per_row=seconds_per_row, note=note)


def _whole(rows: float) -> int:
    return int(rows + 1e-6)  # a share computed as rows x cost gives those rows back, not one fewer by rounding


def split_budget(seconds: float, needs: dict[str, float]) -> dict[str, float]:
    """Share `seconds` among candidates: cheapest first, each gets what it `needs` while that is less than an even
    split of what is left, and the rest split the remainder evenly. Needs come from model sizes, so the split is
    the same every run."""
    shares, left = {}, seconds
    order = sorted(needs, key=lambda name: (needs[name], name))
    for index, name in enumerate(order):
        shares[name] = min(needs[name], left / (len(order) - index))
        left -= shares[name]
    return shares


def seconds_per_prediction(candidate: CandidateResult, columns: int) -> float:
    """What a model-agnostic explainer pays for one predicted row (see AGNOSTIC_OPERATIONS_PER_SECOND)."""
    timing = candidate.timing
    work = (timing.forward_flops_per_sample or timing.model_size_bytes / 8) if timing else 0.0
    return columns * SECONDS_PER_CELL + work / AGNOSTIC_OPERATIONS_PER_SECOND


# -- the clock: a safety net, whose cuts are flagged ---------------------------------------------------------------


def explain_planned(explain_rows: Callable[[np.ndarray], object], rows: np.ndarray, seconds: float, minimum: int):
    """Explain the planned `rows` in chunks; past `seconds`, stop at the next chunk once `minimum` rows are done.

    Returns (parts, rows explained, seconds, cut), where `cut` says the clock, not the plan, decided the count."""
    started = time.perf_counter()
    chunk = max(1, min(len(rows), minimum))
    parts, used = [], 0
    while used < len(rows):
        if used >= minimum and time.perf_counter() - started > seconds:
            break
        parts.append(explain_rows(rows[used : used + chunk]))
        used = min(len(rows), used + chunk)
    return parts, used, time.perf_counter() - started, used < len(rows)


# -- predictions and outputs ---------------------------------------------------------------------------------------


def n_outputs(dataset: Dataset) -> int:
    return len(dataset.classes) if dataset.task == "multiclass" else 1


def prediction_function(model, dataset: Dataset) -> Callable[[pd.DataFrame], np.ndarray]:
    """What the model-agnostic explainers attribute: P(positive class), all class probabilities, or the value."""
    from dladvisor.benchmark import predict

    n_classes = len(dataset.classes)
    if dataset.task == "binary":
        return lambda frame: predict(model, frame, n_classes)[:, -1]
    return lambda frame: np.asarray(predict(model, frame, n_classes), dtype=float)


def reduce_outputs(values: np.ndarray, task: str) -> np.ndarray:
    """|SHAP| per row and feature: the positive class for binary tasks, summed over classes for multiclass."""
    if values.ndim == 3:
        values = values[..., -1] if task == "binary" and values.shape[2] == 2 else np.abs(values).sum(axis=2)
    return np.abs(values)


# -- importance and rankings ---------------------------------------------------------------------------------------


def importance(raw: Raw) -> dict[str, float]:
    means = raw.values.mean(axis=0) if raw.rows else np.zeros(len(raw.features))
    return {name: float(v) for name, v in zip(raw.features, means, strict=True)}


def rank_agreement(a: dict[str, float], b: dict[str, float], k: int = TOP_K) -> float:
    """Spearman correlation of two importance rankings over the union of their top-k features."""
    from scipy.stats import spearmanr

    union = sorted({*top(a, k), *top(b, k)})
    if len(union) < 3:
        return 1.0
    left, right = [a.get(f, 0.0) for f in union], [b.get(f, 0.0) for f in union]
    if np.ptp(left) == 0 or np.ptp(right) == 0:
        return float("nan")
    return float(spearmanr(left, right).statistic)


def correlated_groups(numeric: pd.DataFrame, threshold: float = CORRELATED_GROUP) -> dict[str, str]:
    """Column -> its group's name ("a ~ b ~ c"), grouping numeric columns whose |Spearman ρ| reaches `threshold`
    (complete linkage: every pair inside a group is that correlated)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    columns = list(numeric.columns)
    if len(columns) < 2:
        return {c: c for c in columns}
    sample = numeric.sample(min(len(numeric), 2000), random_state=0) if len(numeric) > 2000 else numeric
    rho = np.nan_to_num(sample.corr(method="spearman").to_numpy(), nan=0.0)
    distance = np.clip(1 - np.abs(rho), 0, None)
    np.fill_diagonal(distance, 0)
    labels = fcluster(linkage(squareform(distance, checks=False), "complete"), 1 - threshold, criterion="distance")
    members = defaultdict(list)
    for column, label in zip(columns, labels, strict=True):
        members[label].append(column)
    return {column: " ~ ".join(members[label]) for column, label in zip(columns, labels, strict=True)}


def grouped(importance: dict[str, float], groups: dict[str, str]) -> dict[str, float]:
    summed: dict[str, float] = defaultdict(float)
    for feature, value in importance.items():
        summed[groups.get(feature, feature)] += value
    return dict(summed)


def top(importance: dict[str, float], k: int = TOP_K) -> list[str]:
    return [name for name, value in sorted(importance.items(), key=lambda item: -item[1])[:k] if value > 0]
