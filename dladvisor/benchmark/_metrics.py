"""Fold metrics and their summaries (mean with a 95% confidence interval over folds)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError

CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "log_loss")
REGRESSION_METRICS = ("rmse", "mae", "r2")
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
# Where a metric cannot go, a confidence interval should not go either.
BOUNDS = {
    "roc_auc": (0.0, 1.0), "accuracy": (0.0, 1.0), "balanced_accuracy": (0.0, 1.0), "f1_macro": (0.0, 1.0),
    "log_loss": (0.0, math.inf), "rmse": (0.0, math.inf), "mae": (0.0, math.inf), "r2": (-math.inf, 1.0),
}
METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "f1_macro": "Macro-F1",
    "log_loss": "Log loss",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


def format_number(value: float | None) -> str:
    """Scores as people read them: 0.842 for rates, 23,612.4 for money-sized errors."""
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.1f}"


# Names people type for the metrics above: each maps to ours, for the "did you mean" of an unknown --metric.
METRIC_ALIASES = {
    "auc": "roc_auc", "rocauc": "roc_auc", "roc-auc": "roc_auc", "auroc": "roc_auc", "acc": "accuracy",
    "balanced_acc": "balanced_accuracy", "f1": "f1_macro", "macro_f1": "f1_macro", "logloss": "log_loss",
    "cross_entropy": "log_loss", "mse": "rmse", "rmsd": "rmse", "mean_absolute_error": "mae", "r_squared": "r2",
}


def metrics_for(task: str) -> tuple[str, ...]:
    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS


def check_metric(name: str, task: str | None = None) -> None:
    """A UserError unless `name` is a metric and, once the task is known, one that applies to it."""
    if name not in METRIC_LABELS:
        import difflib

        typed = name.strip().lower()
        close = METRIC_ALIASES.get(typed) or next(iter(difflib.get_close_matches(typed, METRIC_LABELS, n=1)), None)
        hint = f"did you mean '{close}'? " if close else ""
        raise UserError(f"Unknown --metric '{name}'; {hint}Metrics: {', '.join(CLASSIFICATION_METRICS)} "
                        f"(classification); {', '.join(REGRESSION_METRICS)} (regression).")
    if task is not None and name not in metrics_for(task):
        raise UserError(f"--metric {name} does not apply to a {task} target; use one of "
                        f"{', '.join(metrics_for(task))}.")


def default_primary_metric(task: str) -> str:
    """ROC-AUC for two classes; with many classes it saturates near 1, so balanced accuracy ranks them instead."""
    return {"binary": "roc_auc", "multiclass": "balanced_accuracy", "regression": "rmse"}[task]


class MetricSummary(Frozen):
    """A metric over folds: mean and a Student-t 95% interval of the fold scores."""

    mean: float
    ci_low: float
    ci_high: float
    std: float
    per_fold: tuple[float, ...]
    method: str = "folds"


def summarize(per_fold: list[float], metric: str | None = None) -> MetricSummary:
    scores = np.array([s for s in per_fold if not math.isnan(s)], dtype=float)
    if len(scores) == 0:
        nan = float("nan")
        return MetricSummary(mean=nan, ci_low=nan, ci_high=nan, std=nan, per_fold=tuple(per_fold))
    mean = float(scores.mean())
    std = float(scores.std(ddof=1)) if len(scores) > 1 else 0.0
    half = float(stats.t.ppf(0.975, len(scores) - 1) * std / math.sqrt(len(scores))) if len(scores) > 1 else 0.0
    low, high = BOUNDS.get(metric, (-math.inf, math.inf))
    return MetricSummary(
        mean=round(mean, 6), ci_low=round(max(mean - half, low), 6), ci_high=round(min(mean + half, high), 6),
        std=round(std, 6), per_fold=tuple(round(s, 6) for s in per_fold),
    )


def score_fold(
    task: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int, *, only: str | None = None
) -> dict[str, float]:
    """All metrics of one fold (or just `only`). `prediction` is class probabilities (n, k) or values (n,)."""
    from sklearn import metrics

    if only is not None:
        return {only: _SINGLE[only](task, y_true, prediction, n_classes)}

    if task == "regression":
        return {
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, prediction))),
            "mae": float(metrics.mean_absolute_error(y_true, prediction)),
            "r2": float(metrics.r2_score(y_true, prediction)),
        }
    labels = np.arange(n_classes)
    predicted = prediction.argmax(axis=1)
    probabilities = np.clip(prediction, 1e-15, 1.0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    present = np.unique(y_true)
    if len(present) < 2:
        roc_auc = float("nan")  # time-ordered folds can hold a single class
    elif n_classes == 2:
        roc_auc = float(metrics.roc_auc_score(y_true, probabilities[:, 1]))
    else:
        roc_auc = float(metrics.roc_auc_score(
            y_true, probabilities[:, present] / probabilities[:, present].sum(axis=1, keepdims=True),
            multi_class="ovr", labels=present,
        ))
    return {
        "roc_auc": roc_auc,
        "accuracy": float(metrics.accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, predicted)),
        "f1_macro": float(metrics.f1_score(y_true, predicted, average="macro", labels=present, zero_division=0)),
        "log_loss": float(metrics.log_loss(y_true, probabilities, labels=labels)),
    }


def _single_classification(name: str):
    def compute(task, y_true, prediction, n_classes):
        return score_fold(task, y_true, prediction, n_classes)[name]

    return compute


def _single_regression(name: str):
    def compute(task, y_true, prediction, n_classes):
        from sklearn import metrics

        if name == "rmse":
            return float(np.sqrt(metrics.mean_squared_error(y_true, prediction)))
        if name == "mae":
            return float(metrics.mean_absolute_error(y_true, prediction))
        return float(metrics.r2_score(y_true, prediction))

    return compute


def _roc_auc_only(task, y_true, prediction, n_classes):
    from sklearn import metrics

    present = np.unique(y_true)
    if len(present) < 2:
        return float("nan")
    if n_classes == 2:
        return float(metrics.roc_auc_score(y_true, prediction[:, 1]))
    return score_fold(task, y_true, prediction, n_classes)["roc_auc"]


def _balanced_accuracy_only(task, y_true, prediction, n_classes):
    from sklearn import metrics

    return float(metrics.balanced_accuracy_score(y_true, prediction.argmax(axis=1)))


# One metric without computing the others: the paired bootstrap scores thousands of resamples.
_SINGLE = {
    **{name: _single_classification(name) for name in CLASSIFICATION_METRICS},
    **{name: _single_regression(name) for name in REGRESSION_METRICS},
    "roc_auc": _roc_auc_only,
    "balanced_accuracy": _balanced_accuracy_only,
}

BOOTSTRAP_RESAMPLES = 500


def bootstrap_summaries(
    task: str, y_true: np.ndarray, prediction: np.ndarray, n_classes: int, *, seed: int
) -> dict[str, MetricSummary]:
    """Every metric on one held-out set, with a percentile bootstrap 95% interval over its rows."""
    point = score_fold(task, y_true, prediction, n_classes)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in point}
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = rng.integers(0, len(y_true), len(y_true))
        for name, value in score_fold(task, y_true[rows], prediction[rows], n_classes).items():
            draws[name].append(value)
    summaries = {}
    for name, value in point.items():
        values = np.array([v for v in draws[name] if not math.isnan(v)])
        low, high = (np.percentile(values, [2.5, 97.5]) if len(values) else (math.nan, math.nan))
        summaries[name] = MetricSummary(
            mean=round(value, 6), ci_low=round(float(low), 6), ci_high=round(float(high), 6),
            std=round(float(values.std()), 6) if len(values) else math.nan, per_fold=(round(value, 6),),
            method="bootstrap",
        )
    return summaries
