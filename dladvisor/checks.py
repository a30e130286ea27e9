"""Checks stage: what a playbook needs beyond scores — calibration, fairness across sensitive groups, robustness.

- Calibration (classification): expected calibration error (15 equal-width bins of the top-class probability) and
  the Brier score, on each candidate's out-of-fold predictions, plus the reliability curve for the plot.
- Fairness (classification, per `--sensitive` column): per group, its size, selection rate (share predicted as
  the positive class, binary only), true-positive rate (binary only) and accuracy; gaps are max minus min over
  groups of at least `MIN_GROUP_ROWS` rows. Numeric sensitive columns are cut into quartiles.
- Robustness: the primary metric of the fold-1 model on up to `ROBUSTNESS_ROWS` held-out rows (`DEEP_ROBUSTNESS_ROWS`
  for pretrained text and image models), clean and under
  realistic perturbations (numeric noise and missing cells for tables, typos for text, brightness and blur for
  images); the drop is clean minus perturbed, positive meaning worse.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from dladvisor._frozen import Frozen
from dladvisor.benchmark import LOWER_IS_BETTER, BenchmarkResult, CandidateResult, predict, score_fold
from dladvisor.load import Dataset
from dladvisor.profile import DatasetProfile

CALIBRATION_BINS = 15
MIN_GROUP_ROWS = 20
ROBUSTNESS_ROWS = 300
DEEP_ROBUSTNESS_ROWS = 100  # a pretrained text or image model re-encodes every perturbed row
NOISE_SHARE = 0.1  # numeric noise: Gaussian with this share of each column's standard deviation
MISSING_SHARE = 0.1
TYPO_SHARE = 0.1  # share of words given a typo
BRIGHTNESS, BLUR_RADIUS = 1.4, 1.5


class Calibration(Frozen):
    ece: float
    brier: float
    rows: int
    bin_confidence: tuple[float, ...]  # reliability curve: mean confidence per non-empty bin ...
    bin_accuracy: tuple[float, ...]  # ... and the accuracy observed in it
    bin_rows: tuple[int, ...]


class GroupRates(Frozen):
    group: str
    rows: int
    selection_rate: float | None
    tpr: float | None
    accuracy: float


class Fairness(Frozen):
    column: str
    groups: tuple[GroupRates, ...]
    selection_rate_gap: float | None
    tpr_gap: float | None
    accuracy_gap: float | None
    groups_compared: int


class Perturbation(Frozen):
    name: str
    score: float
    drop: float


class Robustness(Frozen):
    metric: str
    rows: int
    clean: float
    perturbations: tuple[Perturbation, ...]

    @property
    def worst_drop(self) -> float:
        return max((p.drop for p in self.perturbations), default=0.0)


class CandidateChecks(Frozen):
    candidate: str
    calibration: Calibration | None = None
    fairness: tuple[Fairness, ...] = ()
    robustness: Robustness | None = None

    def fairness_gap(self, kind: str) -> float | None:
        gaps = [getattr(f, kind) for f in self.fairness if getattr(f, kind) is not None]
        return max(gaps) if gaps else None


class ChecksReport(Frozen):
    positive_class: str | None
    sensitive_columns: tuple[str, ...] = ()
    method: str
    candidates: tuple[CandidateChecks, ...]
    cuts: tuple[str, ...] = ()  # what the time budget left unmeasured, one sentence each

    def get(self, name: str) -> CandidateChecks | None:
        return next((c for c in self.candidates if c.candidate == name), None)


def run_checks(
    dataset: Dataset, benchmark: BenchmarkResult, profile: DatasetProfile, *, seed: int = 0,
    budget_seconds: float = math.inf, on_progress: Callable[[int, int], None] | None = None,
) -> ChecksReport:
    """Calibration and fairness (on out-of-fold predictions: cheap) and robustness (new predictions) per candidate.

    Robustness rows are planned per candidate (`ROBUSTNESS_ROWS`, fewer for deep text and image models); once the
    stage has spent `budget_seconds`, the remaining candidates' robustness is not measured, and `cuts` says so."""
    features, X = benchmark.features, benchmark.frame
    candidates = [c for c in benchmark.completed if c.family != "baseline"]
    results, cuts = [], []
    started = time.perf_counter()
    for done, candidate in enumerate(candidates):
        scored = _scored_rows(candidate)
        calibration = fairness = robustness = None
        if dataset.task != "regression" and len(scored):
            calibration = calibration_of(dataset.y[scored], candidate.oof[scored])
            fairness = tuple(
                fairness_of(dataset, column, scored, candidate.oof[scored]) for column in dataset.sensitive_columns
            )
        if candidate.first_fold_model is not None and time.perf_counter() - started > budget_seconds:
            cuts.append(f"{candidate.label}: robustness not measured, the checks stage had used its "
                        f"{budget_seconds:.0f} s share of the time budget")
        elif candidate.first_fold_model is not None:
            try:
                robustness = _robustness(candidate, benchmark, dataset, X, features, seed)
            except Exception:  # noqa: BLE001  a model that fails on perturbed inputs is "not measured", not a crash
                robustness = None
        results.append(CandidateChecks(
            candidate=candidate.name, calibration=calibration, fairness=fairness or (), robustness=robustness,
        ))
        if on_progress:
            on_progress(done + 1, len(candidates))
    positive = dataset.classes[1] if dataset.task == "binary" else None
    return ChecksReport(positive_class=positive, sensitive_columns=dataset.sensitive_columns,
                        method=_method(dataset, positive), candidates=tuple(results), cuts=tuple(cuts))


def _method(dataset: Dataset, positive: str | None) -> str:
    parts = []
    if dataset.task != "regression":
        parts.append(
            f"Calibration on out-of-fold predictions: expected calibration error over {CALIBRATION_BINS} bins of "
            "the top-class probability, and the Brier score."
        )
    if dataset.sensitive_columns and dataset.task != "regression":
        selection = f" selection rate (share predicted '{positive}') and true-positive rate," if positive else ""
        parts.append(
            f"Fairness per sensitive group:{selection} accuracy; gaps are max minus min over groups of at least "
            f"{MIN_GROUP_ROWS} rows (numeric columns cut into quartiles)."
        )
    parts.append(
        f"Robustness: the primary metric of the fold-1 model on up to {ROBUSTNESS_ROWS} held-out rows "
        f"({DEEP_ROBUSTNESS_ROWS} for pretrained text and image models), clean and "
        f"perturbed (tables: Gaussian noise of {NOISE_SHARE:.0%} of each numeric column's spread, and "
        f"{MISSING_SHARE:.0%} of cells blanked; text: typos in {TYPO_SHARE:.0%} of words; images: brightness "
        f"x{BRIGHTNESS} and a blur of radius {BLUR_RADIUS} px at 96 px); drop = clean - perturbed, positive is worse."
    )
    return " ".join(parts)


def _scored_rows(candidate: CandidateResult) -> np.ndarray:
    oof = candidate.oof
    if oof is None:
        return np.array([], dtype=int)
    finite = np.isfinite(oof).all(axis=1) if oof.ndim == 2 else np.isfinite(oof)
    return np.flatnonzero(finite)


# -- calibration -----------------------------------------------------------------------------------------------------


def calibration_of(y: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> Calibration:
    """ECE of the top-class probability, Brier score (mean squared error of the class probabilities), reliability."""
    probabilities = np.asarray(probabilities, dtype=float)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece, conf, acc, counts = 0.0, [], [], []
    for b in range(bins):
        members = which == b
        if members.any():
            gap = abs(confidence[members].mean() - correct[members].mean())
            ece += members.mean() * gap
            conf.append(round(float(confidence[members].mean()), 4))
            acc.append(round(float(correct[members].mean()), 4))
            counts.append(int(members.sum()))
    onehot = np.eye(probabilities.shape[1])[y]
    brier = float(((probabilities - onehot) ** 2).sum(axis=1).mean())
    if probabilities.shape[1] == 2:
        brier /= 2  # binary Brier: squared error of the positive-class probability
    return Calibration(ece=round(float(ece), 4), brier=round(brier, 4), rows=len(y), bin_confidence=tuple(conf),
                       bin_accuracy=tuple(acc), bin_rows=tuple(counts))


# -- fairness ----------------------------------------------------------------------------------------------------------


def sensitive_groups(values: pd.Series) -> pd.Series:
    """Group labels of a sensitive column: its values, or quartile ranges for a numeric one with many values."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 8:
        return pd.qcut(values, 4, duplicates="drop").astype(str).where(values.notna(), "(missing)")
    return values.astype(str).where(values.notna(), "(missing)")


def fairness_of(dataset: Dataset, column: str, rows: np.ndarray, probabilities: np.ndarray) -> Fairness:
    groups = sensitive_groups(dataset.features[column]).to_numpy()[rows]
    y = dataset.y[rows]
    predicted = np.asarray(probabilities).argmax(axis=1)
    binary = dataset.task == "binary"
    rates = []
    for group in sorted(set(groups)):
        members = groups == group
        positives = members & (y == 1)
        rates.append(GroupRates(
            group=str(group), rows=int(members.sum()),
            selection_rate=round(float((predicted[members] == 1).mean()), 4) if binary else None,
            tpr=round(float((predicted[positives] == 1).mean()), 4) if binary and positives.any() else None,
            accuracy=round(float((predicted[members] == y[members]).mean()), 4),
        ))
    compared = [r for r in rates if r.rows >= MIN_GROUP_ROWS]

    def gap(field: str) -> float | None:
        values = [getattr(r, field) for r in compared if getattr(r, field) is not None]
        return round(max(values) - min(values), 4) if len(values) >= 2 else None

    return Fairness(
        column=column, groups=tuple(rates), selection_rate_gap=gap("selection_rate"), tpr_gap=gap("tpr"),
        accuracy_gap=gap("accuracy"), groups_compared=len(compared),
    )


# -- robustness --------------------------------------------------------------------------------------------------------


def _robustness(candidate, benchmark, dataset, X, features, seed) -> Robustness | None:
    model = candidate.first_fold_model
    test = benchmark.splits_for(candidate)[0][1]
    rng = np.random.default_rng(seed)
    planned = DEEP_ROBUSTNESS_ROWS if candidate.family == "deep" and candidate.modality != "tabular" \
        else ROBUSTNESS_ROWS
    rows = rng.choice(test, min(planned, len(test)), replace=False)
    frame, y = X.iloc[rows].reset_index(drop=True), dataset.y[rows]
    metric = benchmark.primary_metric
    n_classes = len(dataset.classes)

    def score(perturbed: pd.DataFrame) -> float:
        return score_fold(dataset.task, y, predict(model, perturbed, n_classes), n_classes, only=metric)[metric]

    perturbations = _perturbations(candidate.modality, frame, features, rng)
    if not perturbations:
        return None
    sign = -1 if metric in LOWER_IS_BETTER else 1
    if candidate.modality == "image":
        clean = _with_images(frame, features.image[0], lambda image: image, score)
    else:
        clean = score(frame)
    results = []
    for name, perturb in perturbations:
        if candidate.modality == "image":
            value = _with_images(frame, features.image[0], perturb, score)
        else:
            value = score(perturb(frame))
        results.append(Perturbation(name=name, score=round(value, 4), drop=round(sign * (clean - value), 4)))
    return Robustness(metric=metric, rows=len(rows), clean=round(clean, 4), perturbations=tuple(results))


def _perturbations(modality: str, frame: pd.DataFrame, features, rng) -> list[tuple[str, Callable]]:
    if modality == "text":
        column = features.text[0]
        return [(f"typos in {TYPO_SHARE:.0%} of words",
                 lambda f: f.assign(**{column: [typos(str(t), rng) for t in f[column].fillna("")]}))]
    if modality == "image":
        from PIL import Image, ImageEnhance, ImageFilter

        def brighter(image):
            return np.asarray(ImageEnhance.Brightness(Image.fromarray(image)).enhance(BRIGHTNESS))

        def blurred(image):
            return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)))

        return [(f"brightness x{BRIGHTNESS}", brighter), (f"blur radius {BLUR_RADIUS} px", blurred)]
    numeric = [c for c in features.numeric if c in frame.columns]
    tabular = [c for c in (*features.numeric, *features.categorical, *features.datetime) if c in frame.columns]
    result = []
    if numeric:
        def noisy(f):
            out = f.copy()
            for c in numeric:
                values = pd.to_numeric(out[c], errors="coerce").astype(float)
                spread = float(values.std()) if values.notna().sum() > 1 else 0.0
                out[c] = values + rng.normal(0, NOISE_SHARE * spread, len(out))
            return out

        result.append((f"numeric noise ({NOISE_SHARE:.0%} of spread)", noisy))
    if tabular:
        def holes(f):
            out = f.copy()
            for c in tabular:
                blank = rng.random(len(out)) < MISSING_SHARE
                kept = out[c] if pd.api.types.is_numeric_dtype(out[c]) else out[c].astype(object)
                out[c] = kept.where(~blank)
            return out

        result.append((f"{MISSING_SHARE:.0%} of cells missing", holes))
    return result


def typos(text: str, rng) -> str:
    """Swap two neighbouring letters, drop one or double one, in TYPO_SHARE of the words longer than 3 letters."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and rng.random() < TYPO_SHARE:
            j = int(rng.integers(1, len(word) - 1))
            kind = rng.integers(3)
            if kind == 0:
                word = word[: j - 1] + word[j] + word[j - 1] + word[j + 1 :]
            elif kind == 1:
                word = word[:j] + word[j + 1 :]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def _with_images(frame: pd.DataFrame, column: str, transform, score) -> float:
    from dladvisor.benchmark import in_memory_images, read_image
    from dladvisor.explain import IMAGE_SIZE

    images = np.stack([transform(read_image(p, IMAGE_SIZE)) for p in frame[column]])
    with in_memory_images(images) as paths:
        return score(frame.assign(**{column: paths}))
