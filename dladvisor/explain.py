"""Explain stage: which columns each model relies on, measured by permutation importance.

For each completed tabular candidate, the model fitted on fold 1 is scored on up to `MAX_ROWS` of fold 1's
held-out rows with one column shuffled at a time; the drop in the primary metric is that column's importance.
Text and image models are not explained by shuffling whole columns (a single text column would say nothing).
"""

from __future__ import annotations

import time

import numpy as np

from dladvisor._frozen import Frozen
from dladvisor.benchmark import METRIC_LABELS, BenchmarkResult, predict
from dladvisor.benchmark._metrics import score_fold
from dladvisor.load import Dataset

MAX_ROWS = 1000
REPEATS = 3
TOP_K = 10


class ColumnImportance(Frozen):
    column: str
    importance: float
    std: float


class ModelExplanation(Frozen):
    candidate: str
    importances: tuple[ColumnImportance, ...]
    top_column_share: float
    rows_explained: int
    seconds: float


class ExplanationReport(Frozen):
    method: str
    candidates: tuple[ModelExplanation, ...]

    def get(self, name: str) -> ModelExplanation | None:
        return next((c for c in self.candidates if c.candidate == name), None)


def explain_models(dataset: Dataset, benchmark: BenchmarkResult, *, seed: int = 0) -> ExplanationReport:
    from sklearn.inspection import permutation_importance

    train_rows, test_rows = benchmark.folds[0]
    rng = np.random.default_rng(seed)
    if len(test_rows) > MAX_ROWS:
        test_rows = np.sort(rng.choice(test_rows, MAX_ROWS, replace=False))
    X = dataset.features[benchmark.features_used].iloc[test_rows]
    y = dataset.y[test_rows]
    n_classes = len(dataset.classes)
    sign = 1 if benchmark.higher_is_better else -1

    def scorer(model, X_, y_) -> float:
        return sign * score_fold(dataset.task, y_, predict(model, X_, n_classes), n_classes)[benchmark.primary_metric]

    explanations = []
    for candidate in benchmark.completed:
        if candidate.family == "baseline" or candidate.modality != "tabular" or candidate.first_fold_model is None:
            continue
        started = time.perf_counter()
        result = permutation_importance(
            candidate.first_fold_model, X, y, scoring=scorer, n_repeats=REPEATS, random_state=seed
        )
        order = np.argsort(-result.importances_mean)
        importances = tuple(
            ColumnImportance(
                column=str(X.columns[i]),
                importance=round(float(result.importances_mean[i]), 5),
                std=round(float(result.importances_std[i]), 5),
            )
            for i in order[:TOP_K]
        )
        positive = np.clip(result.importances_mean, 0, None)
        share = float(positive.max() / positive.sum()) if positive.sum() > 0 else 0.0
        explanations.append(ModelExplanation(
            candidate=candidate.name,
            importances=importances,
            top_column_share=round(share, 4),
            rows_explained=len(test_rows),
            seconds=round(time.perf_counter() - started, 3),
        ))
    label = METRIC_LABELS[benchmark.primary_metric]
    method = (
        f"Permutation importance: the drop in {label} when one column is shuffled ({REPEATS} repeats), for the "
        f"model fitted on fold 1, on {len(test_rows)} of its held-out rows."
    )
    return ExplanationReport(method=method, candidates=tuple(explanations))
