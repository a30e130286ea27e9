"""Explain stage: SHAP attributions for every completed candidate, how stable they are, and red flags.

Each candidate gets the explainer its family allows, on a bounded sample of its held-out rows:

- tree models (random forest, XGBoost): exact tree SHAP on the model's own encoded inputs;
- linear models: exact linear SHAP (interventional, against a background sample of training rows);
- any other tabular model (kNN, the MLP): a permutation SHAP explainer over the original columns, with a small
  background set;
- text models: Partition SHAP with a text masker (word tokens for TF-IDF models, the model's own tokenizer for
  transformers), attributing to tokens;
- image models: Partition SHAP with a blurring image masker, attributing to pixels, summarised on a grid of regions.

Attributions on encoded inputs (one-hot levels, missing-value flags, date parts) are summed back onto the column
they came from, which SHAP's additivity allows. Stability compares the top-k ranking of models fitted on different
folds (or, for models evaluated on one hold-out split, two halves of the explained rows).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from dladvisor._frozen import Frozen
from dladvisor.benchmark import BenchmarkResult, CandidateResult, FeatureSpec
from dladvisor.criteria import STABILITY_MIN_ROWS
from dladvisor.load import Dataset
from dladvisor.profile import Alert, DatasetProfile, is_strong

TOP_K = 10
# Rows explained per model on fold 1, planned from the model's kind alone so that the same data and options explain
# the same rows every run (the clock is only a safety net, and a run it cuts is flagged as not reproducible).
ROW_PLAN = {"tree": 500, "linear": 1000, "permutation": 100, "text": 60, "image": 8}
DEEP_TEXT_ROWS = 12  # a transformer evaluates TEXT_EVALS masked copies of every text explained
# The clock may not cut a model below this many rows, so small data is always explained whole.
ROW_MIN = {"tree": 50, "linear": 50, "permutation": 50, "text": 10, "image": 8}
OTHER_FOLD_ROWS = 0.3  # share of the plan used on the other folds, which only serve the stability figure
SAME_ROWS = ("text", "image")
# A model's explanation may overrun its share of the budget this many times before the clock cuts it short.
CLOCK_SLACK = 3.0
TEXT_EVALS, IMAGE_EVALS = 100, 200  # model calls per explained text / image (Partition SHAP)
BACKGROUND_ROWS = 50  # linear SHAP's reference rows
AGNOSTIC_BACKGROUND_ROWS = 20  # every model-agnostic evaluation costs this many predictions
# Share of the --time-budget given to the explain stage, split evenly among candidates (at least MIN_SECONDS each).
TIME_SHARE = 0.1
MIN_SECONDS = 3.0
GRID = 6  # image attributions are summarised on GRID x GRID regions
HEATMAP = 24  # side of the stored attribution map drawn over example images
IMAGE_SIZE = 96
# Red-flag thresholds.
DOMINANT_SHARE = 0.5
DOMINANT_FLOOR, DOMINANT_RATIO = 0.25, 3.0
UNSTABLE_BELOW = 0.5
# Columns whose |Spearman correlation| reaches this are one group for the stability figure: models fitted on
# different folds may credit either of two near-copies (radius, perimeter and area of a tumour), which is not an
# unstable explanation but an arbitrary choice between synonyms.
CORRELATED_GROUP = 0.8
SENSITIVE_TOP = 5
PROXY_ASSOCIATION = 0.5

Level = Literal["native", "exact post-hoc", "approximate post-hoc"]
LINEAR_MODELS = {"linear", "tfidf_logistic", "pixels_logistic"}
TREE_MODELS = {"random_forest", "xgboost"}


class Attribution(Frozen):
    feature: str
    mean_abs_shap: float
    share: float


class TokenWeight(Frozen):
    token: str
    weight: float


class TextExample(Frozen):
    actual: str
    predicted: str
    output: str  # which model output the weights explain
    tokens: tuple[TokenWeight, ...]


class ImageExample(Frozen):
    path: str
    actual: str
    predicted: str
    heatmap: tuple[tuple[float, ...], ...]  # HEATMAP x HEATMAP attributions toward the predicted class


class ModelExplanation(Frozen):
    """The explainability summary of one candidate, which the recommendation reads."""

    candidate: str
    modality: str
    level: Level
    method: str
    output: str
    unit: str  # what the attributions are on: column, token, image region
    importances: tuple[Attribution, ...]
    top_share: float
    rows_explained: int
    ms_per_row: float
    stability: float | None
    stability_basis: str
    additivity_error: float | None = None
    class_tokens: dict[str, tuple[TokenWeight, ...]] = {}
    text_examples: tuple[TextExample, ...] = ()
    image_examples: tuple[ImageExample, ...] = ()
    seconds: float = 0.0
    rows_planned: int = 0
    # Non-empty when the clock, not the plan, decided how many rows were explained: then the same seed may explain
    # a different number of rows next time, and the report says so.
    cut_short: str = ""


class Agreement(Frozen):
    classical: str
    deep: str
    k: int
    overlap: float
    shared: tuple[str, ...]


class ExplanationReport(Frozen):
    method: str
    candidates: tuple[ModelExplanation, ...]
    agreement: Agreement | None = None
    alerts: tuple[Alert, ...] = ()
    not_explained: dict[str, str] = {}
    compile_seconds: float = 0.0  # SHAP's one-off just-in-time compilation, outside the per-row timings

    def get(self, name: str) -> ModelExplanation | None:
        return next((c for c in self.candidates if c.candidate == name), None)

    @property
    def cuts(self) -> tuple[str, ...]:
        return tuple(f"{c.candidate}: {c.cut_short}" for c in self.candidates if c.cut_short)


METHOD = (
    "SHAP values on held-out rows of the fold each model was fitted on: exact tree SHAP for tree ensembles, exact "
    "linear SHAP for linear models, permutation SHAP over the original columns for other tabular models, Partition "
    "SHAP with a text masker for text models and with a blurring image masker for image models. Importance is the "
    "mean |SHAP| per row (classification: of the positive-class score for binary tasks, summed over classes "
    "otherwise); share is a feature's part of the total. Stability is the Spearman correlation of the top-"
    f"{TOP_K} rankings between models fitted on different folds; agreement is the overlap of the best classical "
    f"and best deep model's top-{TOP_K} features."
)


@dataclass
class _Job:
    """What one explainer run gets: a fitted model, the inputs, and which rows to explain against which."""

    model: object
    X: pd.DataFrame
    dataset: Dataset
    features: FeatureSpec
    rows: np.ndarray
    background: np.ndarray
    seed: int
    seconds: float
    explain_all: bool = False  # other folds' models on fold 1's rows: all of them, so the rankings compare

    def minimum(self, kind: str) -> int:
        return len(self.rows) if self.explain_all else ROW_MIN[kind]

    def explain_planned(self, explain_rows: Callable[[np.ndarray], object], kind: str):
        return _explain_planned(explain_rows, self.rows, self.seconds * CLOCK_SLACK, self.minimum(kind))


@dataclass
class _Raw:
    """One fold's attributions, before they are summarised."""

    values: np.ndarray  # (rows, features) absolute attributions, already reduced over outputs
    features: list[str]
    rows: int
    seconds: float
    additivity_error: float | None = None
    extras: dict | None = None
    cut: bool = False  # the clock stopped it before the planned rows were explained
    planned: int = 0


def explain_models(
    dataset: Dataset, benchmark: BenchmarkResult, profile: DatasetProfile, *, seed: int = 0,
    seconds_per_model: float | None = None, budget_seconds: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExplanationReport:
    """SHAP for every completed candidate; each gets `seconds_per_model` (default: its share of TIME_SHARE of the
    benchmark's time budget), half on fold 1, half on the other folds' models for the stability figure."""
    features, X = benchmark.features, benchmark.frame
    candidates = [c for c in benchmark.completed if c.family != "baseline"]
    groups = correlated_groups(X[list(features.numeric)]) if features.numeric else {}
    explanations, skipped = [], {}
    compile_seconds = 0.0
    share = (budget_seconds or TIME_SHARE * benchmark.time_budget_seconds) / max(len(candidates), 1)
    seconds = seconds_per_model or max(MIN_SECONDS, share)
    for done, candidate in enumerate(candidates):
        if not candidate.fold_models:
            skipped[candidate.name] = "no fitted model was kept"
            continue
        try:
            compile_seconds += _compile_shap(_kind(candidate), _n_outputs(dataset))
            explanations.append(_explain_candidate(candidate, dataset, benchmark, X, features, seed, seconds, groups))
        except Exception as exc:  # noqa: BLE001  one model's explainer failing leaves the others explained
            skipped[candidate.name] = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
        if on_progress:
            on_progress(done + 1, len(candidates))
    agreement = _agreement(benchmark, explanations)
    alerts = _red_flags(explanations, benchmark, dataset, profile)
    return ExplanationReport(
        method=METHOD, candidates=tuple(explanations), agreement=agreement, alerts=tuple(alerts),
        not_explained=skipped, compile_seconds=round(compile_seconds, 2),
    )


def _n_outputs(dataset: Dataset) -> int:
    return len(dataset.classes) if dataset.task == "multiclass" else 1


_COMPILED: set[tuple[str, int]] = set()


def _compile_shap(kind: str, outputs: int) -> float:
    """Run SHAP's model-agnostic explainers once on a toy input: they compile numba code on first use (seconds,
    once per process), which would otherwise land in the first model's time per row. Returns the seconds spent."""
    import shap

    if kind in ("tree", "linear") or (kind, outputs) in _COMPILED:
        return 0.0
    started = time.perf_counter()
    weights = np.arange(1, outputs + 1)

    def f(x):
        score = np.asarray(x, dtype=float).reshape(len(x), -1).mean(axis=1) if kind != "text" else np.array(
            [len(str(t)) for t in x], dtype=float)
        return score if outputs == 1 else np.outer(score, weights)

    if kind == "permutation":
        shap.PermutationExplainer(f, shap.maskers.Independent(np.zeros((2, 3))))(np.ones((1, 3)), silent=True)
    elif kind == "text":
        shap.PartitionExplainer(f, shap.maskers.Text(WORDS))(["a b c d"], silent=True)
    else:
        masker = shap.maskers.Image(np.zeros((8, 8, 3)), (8, 8, 3))
        shap.PartitionExplainer(f, masker)(np.ones((1, 8, 8, 3)), max_evals=20, silent=True)
    _COMPILED.add((kind, outputs))
    return time.perf_counter() - started


# -- one candidate ---------------------------------------------------------------------------------------------


def _explain_candidate(
    candidate: CandidateResult, dataset, benchmark, X, features, seed: int, seconds: float,
    groups: dict[str, str] | None = None,
) -> ModelExplanation:
    """SHAP on fold 1's model, then on the other kept fold models for stability; fold 1 gets half the time."""
    kind = _kind(candidate)
    held_out = benchmark.splits_for(candidate)
    runs: list[_Raw] = []
    first_rows = np.array([], dtype=int)
    started = time.perf_counter()
    plan = _planned_rows(candidate, kind)
    # Other folds serve only the stability figure, which is judged on STABILITY_MIN_ROWS rows or more: below that
    # (a transformer's dozen texts, eight images) they would cost time for a number nobody may rely on.
    models = candidate.fold_models if plan >= STABILITY_MIN_ROWS else candidate.fold_models[:1]
    for index, (model, (train, test)) in enumerate(zip(models, held_out, strict=False)):
        cap = plan if index == 0 else max(1, int(plan * OTHER_FOLD_ROWS))
        rng = np.random.default_rng(seed + index)
        # Tokens and image regions belong to rows, so those models are compared on the same rows, all of them.
        same = index and kind in SAME_ROWS
        rows = first_rows if same else rng.choice(test, min(cap, len(test)), replace=False)
        background = rng.choice(train, min(BACKGROUND_ROWS, len(train)), replace=False)
        explain = _EXPLAINERS[kind]
        job = _Job(model=model, X=X, dataset=dataset, features=features, rows=rows, background=background, seed=seed,
                   seconds=seconds / 2 if index == 0 else seconds / (2 * (len(models) - 1)),
                   explain_all=bool(same))
        runs.append(dataclasses.replace(explain(job), planned=len(rows)))
        if index == 0:
            first_rows = rows[: runs[0].rows]
    first = runs[0]
    importance = _importance(first)
    grouped = (lambda raw: _grouped(_importance(raw), groups or {}))  # noqa: E731  (synonyms ranked as one)
    if len(runs) > 1:
        stability = float(np.mean([_rank_agreement(grouped(first), grouped(r)) for r in runs[1:]]))
        basis = f"{len(runs)} models fitted on different folds" + (", same rows" if kind in SAME_ROWS else "")
    elif first.rows >= STABILITY_MIN_ROWS:
        half = first.rows // 2
        halves = [_Raw(first.values[:half], first.features, half, 0), _Raw(first.values[half:], first.features,
                                                                            first.rows - half, 0)]
        stability = _rank_agreement(grouped(halves[0]), grouped(halves[1]))
        basis = "two halves of the explained rows (one fitted model)"
    else:
        stability, basis = None, f"not measured: {first.rows} rows explained, too few to judge (at least " \
                                 f"{STABILITY_MIN_ROWS})"
    merged = sum(1 for column, group in (groups or {}).items() if group != column and column in importance)
    if stability is not None and merged:
        basis += f"; columns correlated at |ρ| ≥ {CORRELATED_GROUP} ranked as one group"
    total = sum(importance.values()) or 1.0
    top = sorted(importance.items(), key=lambda item: -item[1])[:TOP_K]
    extras = first.extras or {}
    return ModelExplanation(
        candidate=candidate.name,
        modality=candidate.modality,
        level=_level(candidate, kind),
        method=_METHOD_NAMES[kind],
        output=_output_name(dataset, kind, candidate.name),
        unit={"text": "token", "image": "image region"}.get(kind, "column"),
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
        rows_planned=min(plan, len(held_out[0][1])),
        cut_short=_cut_note(runs, seconds),
    )


def _cut_note(runs: list[_Raw], seconds: float) -> str:
    cut = next((r for r in runs if r.cut), None)
    if cut is None:
        return ""
    which = "fold 1's model" if cut is runs[0] else "another fold's model (for the stability figure)"
    return (f"the clock stopped {which} at {cut.rows} of {cut.planned} planned rows (its share of the explain "
            f"budget is {seconds:.0f} s, {CLOCK_SLACK:g}x allowed): not reproducible run to run; raise --time-budget")


def _planned_rows(candidate: CandidateResult, kind: str) -> int:
    return DEEP_TEXT_ROWS if kind == "text" and candidate.family == "deep" else ROW_PLAN[kind]


def _kind(candidate: CandidateResult) -> str:
    if candidate.modality in ("text", "image"):
        return candidate.modality
    if candidate.name in TREE_MODELS:
        return "tree"
    if candidate.name in LINEAR_MODELS:
        return "linear"
    return "permutation"


def _level(candidate: CandidateResult, kind: str) -> Level:
    if candidate.name in LINEAR_MODELS:
        return "native"
    return "exact post-hoc" if kind == "tree" else "approximate post-hoc"


_METHOD_NAMES = {
    "tree": "exact tree SHAP",
    "linear": "exact linear SHAP",
    "permutation": "permutation SHAP (model-agnostic)",
    "text": "Partition SHAP, text masker",
    "image": "Partition SHAP, blur masker",
}


def _output_name(dataset: Dataset, kind: str, candidate: str) -> str:
    if dataset.task == "regression":
        return "prediction"
    # Exact SHAP explains the model's raw output: log-odds for boosting and logistic models, probability for forests.
    scale = "log-odds" if kind == "linear" or candidate == "xgboost" else "probability"
    if dataset.task == "binary":
        return f"{scale} of '{dataset.classes[1]}'"
    return f"{scale} per class"


def _importance(raw: _Raw) -> dict[str, float]:
    means = raw.values.mean(axis=0) if raw.rows else np.zeros(len(raw.features))
    return {name: float(v) for name, v in zip(raw.features, means, strict=True)}


def _rank_agreement(a: dict[str, float], b: dict[str, float], k: int = TOP_K) -> float:
    """Spearman correlation of two importance rankings over the union of their top-k features."""
    from scipy.stats import spearmanr

    union = sorted({*_top(a, k), *_top(b, k)})
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


def _grouped(importance: dict[str, float], groups: dict[str, str]) -> dict[str, float]:
    summed: dict[str, float] = defaultdict(float)
    for feature, value in importance.items():
        summed[groups.get(feature, feature)] += value
    return dict(summed)


def _top(importance: dict[str, float], k: int = TOP_K) -> list[str]:
    return [name for name, value in sorted(importance.items(), key=lambda item: -item[1])[:k] if value > 0]


def _reduce_outputs(values: np.ndarray, task: str) -> np.ndarray:
    """|SHAP| per row and feature: the positive class for binary tasks, summed over classes for multiclass."""
    if values.ndim == 3:
        values = values[..., -1] if task == "binary" and values.shape[2] == 2 else np.abs(values).sum(axis=2)
    return np.abs(values)


def _explain_planned(explain_rows: Callable[[np.ndarray], object], rows: np.ndarray, seconds: float, minimum: int):
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


# -- tabular -----------------------------------------------------------------------------------------------------


def _split_pipeline(model):
    """(preprocessing, final estimator) of a candidate pipeline; XGBoost is unwrapped from its categorical shim."""
    preprocess, estimator = model[:-1], model[-1]
    return preprocess, getattr(estimator, "model", estimator)


def _column_groups(preprocess, columns: list[str]) -> list[str]:
    """For each encoded input, the original column it came from."""
    names = [str(n) for n in preprocess.get_feature_names_out()]
    by_length = sorted(columns, key=len, reverse=True)
    owners = []
    for name in names:
        bare = name.removeprefix("missingindicator_")
        owner = next((c for c in by_length if bare == c or bare.startswith(f"{c}_")), None)
        owners.append(owner or name)
    return owners


def _sum_by_column(values: np.ndarray, owners: list[str]) -> tuple[np.ndarray, list[str]]:
    columns = list(dict.fromkeys(owners))
    index = {c: i for i, c in enumerate(columns)}
    summed = np.zeros(values.shape[:1] + (len(columns),) + values.shape[2:])
    for j, owner in enumerate(owners):
        summed[:, index[owner]] += values[:, j]
    return summed, columns


def _dense(matrix) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype=float)


def _raw_output(estimator, Z) -> np.ndarray:
    """The model output that tree/linear SHAP values add up to."""
    if hasattr(estimator, "get_booster"):
        import xgboost

        return estimator.get_booster().predict(xgboost.DMatrix(Z, enable_categorical=True), output_margin=True)
    if hasattr(estimator, "estimators_") and hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(Z)
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(Z)
    return estimator.predict(Z)


def exact_explainer(model, kind: str, background: pd.DataFrame | None = None):
    """An exact SHAP explainer for a tree or linear candidate pipeline, on its encoded inputs.

    Returns explain(X) -> (values, base_values, encoded inputs, final estimator), values (rows, inputs[, outputs]).
    """
    import shap

    preprocess, estimator = _split_pipeline(model)
    if kind == "tree":
        explainer = shap.TreeExplainer(estimator)
    else:
        reference = _dense(preprocess.transform(background))
        explainer = shap.LinearExplainer(estimator, shap.maskers.Independent(reference, max_samples=len(reference)))

    def explain(X: pd.DataFrame):
        Z = _dense(preprocess.transform(X))
        explanation = explainer(Z, check_additivity=False) if kind == "tree" else explainer(Z)
        return np.asarray(explanation.values), np.asarray(explanation.base_values), Z, estimator

    return explain


def _additivity_error(values, base, Z, estimator) -> float:
    output = _raw_output(estimator, Z)
    total = values.sum(axis=1) + base
    if total.shape != np.shape(output) and np.ndim(output) == 2 and output.shape[1] == 2 and total.ndim == 1:
        output = output[:, 1]
    return float(np.max(np.abs(total - output))) if np.shape(total) == np.shape(output) else float("nan")


def _explain_exact(kind: str):
    def run(job: _Job) -> _Raw:
        started = time.perf_counter()
        preprocess, _ = _split_pipeline(job.model)
        owners = _column_groups(preprocess, list(job.X.columns))
        explain = exact_explainer(job.model, kind, job.X.iloc[job.background])
        errors = []

        def explain_rows(chunk):
            values, base, Z, estimator = explain(job.X.iloc[chunk])
            errors.append(_additivity_error(values, base, Z, estimator))
            summed, _ = _sum_by_column(values, owners)
            return _reduce_outputs(summed, job.dataset.task)

        parts, used, _, cut = job.explain_planned(explain_rows, kind)
        _, columns = _sum_by_column(np.zeros((1, len(owners))), owners)
        return _Raw(np.vstack(parts), columns, used, time.perf_counter() - started,
                    additivity_error=float(np.nanmax(errors)), cut=cut)

    return run


class _ColumnCodec:
    """Original columns as one float matrix for model-agnostic explainers (categories by code), and back."""

    def __init__(self, frame: pd.DataFrame):
        self.columns = list(frame.columns)
        self.levels = {}
        for column in self.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
                self.levels[column] = pd.Index(frame[column].dropna().unique())

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        parts = []
        for column in self.columns:
            if column in self.levels:
                codes = self.levels[column].get_indexer(frame[column]).astype(float)
                parts.append(np.where(codes < 0, np.nan, codes))
            else:
                parts.append(frame[column].to_numpy(dtype=float))
        return np.column_stack(parts)

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        data = {}
        for j, column in enumerate(self.columns):
            if column in self.levels:
                codes = matrix[:, j]
                valid = ~np.isnan(codes)
                values = np.full(len(codes), None, dtype=object)
                values[valid] = self.levels[column].to_numpy()[codes[valid].astype(int)]
                data[column] = values
            else:
                data[column] = matrix[:, j]
        return pd.DataFrame(data)


def _prediction_function(model, dataset: Dataset) -> Callable[[pd.DataFrame], np.ndarray]:
    """What the model-agnostic explainers attribute: P(positive class), all class probabilities, or the value."""
    from dladvisor.benchmark import predict

    n_classes = len(dataset.classes)
    if dataset.task == "binary":
        return lambda frame: predict(model, frame, n_classes)[:, -1]
    return lambda frame: np.asarray(predict(model, frame, n_classes), dtype=float)


def _explain_permutation(job: _Job) -> _Raw:
    import shap

    X = job.X
    codec = _ColumnCodec(X.iloc[np.concatenate([job.rows, job.background])])
    predict = _prediction_function(job.model, job.dataset)
    background = codec.encode(X.iloc[job.background[:AGNOSTIC_BACKGROUND_ROWS]])
    masker = shap.maskers.Independent(background, max_samples=AGNOSTIC_BACKGROUND_ROWS)
    explainer = shap.PermutationExplainer(lambda matrix: predict(codec.decode(matrix)), masker, seed=job.seed)
    max_evals = 2 * (2 * len(codec.columns) + 1)

    def explain_rows(chunk):
        values = explainer(codec.encode(X.iloc[chunk]), max_evals=max_evals, silent=True).values
        return _reduce_outputs(np.asarray(values), job.dataset.task)

    parts, used, elapsed, cut = job.explain_planned(explain_rows, "permutation")
    return _Raw(np.vstack(parts), codec.columns, used, elapsed, cut=cut)


# -- text ----------------------------------------------------------------------------------------------------------

WORDS = r"\W+"


def _text_tokenizer(model):
    """The transformer's own tokenizer when the model has one, else word tokens (TF-IDF models)."""
    tokenizer = getattr(model, "tokenizer_", None)
    if tokenizer is None and hasattr(model, "frozen_encoder") and hasattr(model, "text_columns"):
        from dladvisor.benchmark import tokenizer_for

        tokenizer = tokenizer_for(model.model_name)
    return tokenizer if tokenizer is not None else WORDS


def _token_key(token: str) -> str:
    """Tokens as a reader sees them: lower case, without sub-word markers, spaces and punctuation."""
    return re.sub(r"^(##|Ġ|▁)", "", token.strip()).strip().lower().strip(".,;:!?\"'()[]")


def _explain_text(job: _Job) -> _Raw:
    import shap

    column = job.features.text[0]  # with several text columns, the first is explained and the rest held fixed
    predict = _prediction_function(job.model, job.dataset)
    masker = shap.maskers.Text(_text_tokenizer(job.model))
    n_outputs = _n_outputs(job.dataset)
    per_row: list[dict[str, float]] = []
    signed: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    examples = []

    def explain_rows(chunk):
        for row in chunk:
            context = job.X.iloc[[row]]

            def f(strings, context=context):
                frame = pd.concat([context] * len(strings), ignore_index=True)
                frame[column] = [str(s) for s in strings]
                return predict(frame)

            text = "" if pd.isna(job.X[column].iloc[row]) else str(job.X[column].iloc[row])
            explanation = shap.PartitionExplainer(f, masker)([text], max_evals=TEXT_EVALS, silent=True)[0]
            tokens = [str(t) for t in explanation.data]
            values = np.asarray(explanation.values, dtype=float).reshape(len(tokens), n_outputs)
            weights: dict[str, float] = defaultdict(float)
            for token, value in zip(tokens, values, strict=True):
                key = _token_key(token)
                if key:
                    weights[key] += float(np.abs(value).sum())
                    for output in range(n_outputs):
                        signed[output][key].append(float(value[output]))
            per_row.append(weights)
            if len(examples) < 3:
                examples.append((row, tokens, values))
        return None

    _, used, elapsed, cut = job.explain_planned(explain_rows, "text")
    vocabulary = sorted({token for weights in per_row for token in weights})
    values = np.array([[weights.get(t, 0.0) for t in vocabulary] for weights in per_row]).reshape(len(per_row), -1)
    return _Raw(values, vocabulary, len(per_row), elapsed, cut=cut, extras={
        "class_tokens": _class_tokens(signed, job.dataset, len(per_row)),
        "text_examples": [_text_example(row, tokens, vals, job) for row, tokens, vals in examples],
    })


def _class_tokens(signed, dataset: Dataset, rows: int, top: int = 8) -> dict[str, tuple[TokenWeight, ...]]:
    """The tokens whose presence pushes each class up most (mean SHAP per explained row)."""
    if dataset.task == "regression":
        pushes = {"higher": (0, 1), "lower": (0, -1)}
    elif dataset.task == "binary":
        pushes = {dataset.classes[1]: (0, 1), dataset.classes[0]: (0, -1)}
    else:
        pushes = {label: (i, 1) for i, label in enumerate(dataset.classes)}
    result = {}
    for label, (output, sign) in pushes.items():
        totals = {token: sign * sum(v) / max(rows, 1) for token, v in signed[output].items()}
        best = sorted((t for t in totals if totals[t] > 0), key=lambda t: -totals[t])[:top]
        result[str(label)] = tuple(TokenWeight(token=t, weight=round(totals[t], 5)) for t in best)
    return result


def _text_example(row: int, tokens: list[str], values: np.ndarray, job: _Job) -> TextExample:
    dataset = job.dataset
    scores = _prediction_function(job.model, dataset)(job.X.iloc[[row]])
    if dataset.task == "regression":
        predicted, output, column = f"{float(scores[0]):.4g}", "prediction", 0
    elif dataset.task == "binary":
        predicted = dataset.classes[int(scores[0] >= 0.5)]
        output, column = f"probability of '{dataset.classes[1]}'", 0
    else:
        column = int(np.argmax(scores[0]))
        predicted, output = dataset.classes[column], f"probability of '{dataset.classes[column]}'"
    actual = dataset.classes[dataset.y[row]] if dataset.classes else f"{float(dataset.y[row]):.4g}"
    weights = tuple(TokenWeight(token=t, weight=round(float(v), 5)) for t, v in zip(tokens, values[:, column],
                                                                                   strict=True))
    return TextExample(actual=str(actual), predicted=str(predicted), output=output, tokens=weights)


# -- images ----------------------------------------------------------------------------------------------------------


def _explain_image(job: _Job) -> _Raw:
    import shap

    from dladvisor.benchmark import in_memory_images, read_image

    column = job.features.image[0]
    predict = _prediction_function(job.model, job.dataset)
    outputs = _n_outputs(job.dataset)

    def f(images):
        batch = np.clip(np.asarray(images), 0, 255).astype(np.uint8)
        with in_memory_images(batch) as paths:
            scores = predict(pd.DataFrame({column: paths}))
        return scores.reshape(len(batch), outputs)

    maps, examples = [], []

    def explain_rows(chunk):
        for row in chunk:
            path = job.X[column].iloc[row]
            image = read_image(path, IMAGE_SIZE)[None].astype(float)
            scores = f(image)[0]
            target = int(np.argmax(scores)) if outputs > 1 else 0
            # Hidden regions are replaced by the same image blurred (PIL), as SHAP's own blur masker does with OpenCV.
            masker = shap.maskers.Image(_blurred(image[0]), image.shape[1:])
            explanation = shap.PartitionExplainer(f, masker)(image, max_evals=IMAGE_EVALS, batch_size=50, silent=True)
            values = np.asarray(explanation.values)[0].reshape(IMAGE_SIZE, IMAGE_SIZE, 3, outputs)[..., target]
            attribution = values.sum(axis=2)
            maps.append(attribution)
            if len(examples) < 3:
                examples.append(_image_example(row, path, attribution, scores, job))
        return None

    _, used, elapsed, cut = job.explain_planned(explain_rows, "image")
    cell = IMAGE_SIZE // GRID
    regions = [f"r{r + 1}c{c + 1}" for r in range(GRID) for c in range(GRID)]
    pooled = [np.abs(m[: cell * GRID, : cell * GRID]).reshape(GRID, cell, GRID, cell).sum(axis=(1, 3)) for m in maps]
    values = np.array([p.ravel() for p in pooled]).reshape(len(maps), len(regions))
    return _Raw(values, regions, len(maps), elapsed, cut=cut, extras={"image_examples": examples})


def _blurred(image: np.ndarray) -> np.ndarray:
    from PIL import Image, ImageFilter

    picture = Image.fromarray(image.astype(np.uint8)).filter(ImageFilter.GaussianBlur(IMAGE_SIZE / 16))
    return np.asarray(picture, dtype=float)


def _image_example(row: int, path: str, attribution: np.ndarray, scores: np.ndarray, job: _Job) -> ImageExample:
    dataset = job.dataset
    step = IMAGE_SIZE // HEATMAP
    pooled = attribution.reshape(HEATMAP, step, HEATMAP, step).sum(axis=(1, 3))
    if dataset.task == "binary":
        predicted = dataset.classes[int(scores[0] >= 0.5)]
    elif dataset.task == "multiclass":
        predicted = dataset.classes[int(np.argmax(scores))]
    else:
        predicted = f"{float(scores[0]):.4g}"
    actual = dataset.classes[dataset.y[row]] if dataset.classes else f"{float(dataset.y[row]):.4g}"
    return ImageExample(
        path=str(path), actual=str(actual), predicted=str(predicted),
        heatmap=tuple(tuple(round(float(v), 6) for v in line) for line in pooled),
    )


_EXPLAINERS = {
    "tree": _explain_exact("tree"),
    "linear": _explain_exact("linear"),
    "permutation": _explain_permutation,
    "text": _explain_text,
    "image": _explain_image,
}


# -- across candidates ---------------------------------------------------------------------------------------------


def _agreement(benchmark: BenchmarkResult, explanations: list[ModelExplanation]) -> Agreement | None:
    """Top-k overlap between the best classical and the best deep model that were both explained."""
    explained = {e.candidate: e for e in explanations}
    ranked = [c for c in benchmark.ranked() if c.name in explained]
    classical = next((c for c in ranked if c.family == "classical"), None)
    deep = next((c for c in ranked if c.family == "deep"), None)
    if classical is None or deep is None:
        return None
    a, b = explained[classical.name], explained[deep.name]
    k = min(TOP_K, len(a.importances), len(b.importances))
    if k == 0:
        return None
    shared = [i.feature for i in a.importances[:k] if i.feature in {j.feature for j in b.importances[:k]}]
    return Agreement(classical=classical.name, deep=deep.name, k=k, overlap=round(len(shared) / k, 3),
                     shared=tuple(shared))


def _red_flags(
    explanations: list[ModelExplanation], benchmark: BenchmarkResult, dataset: Dataset,
    profile: DatasetProfile,
) -> list[Alert]:
    alerts = []
    labels = {c.name: c.label for c in benchmark.candidates}
    strong = {s.column: s for s in profile.strongest_single_columns if is_strong(s)}

    dominant: dict[str, list[str]] = defaultdict(list)
    by_columns = [e for e in explanations if e.unit == "column"]
    for e in by_columns:
        if _dominated(e):
            dominant[e.importances[0].feature].append(f"{labels[e.candidate]} {e.top_share:.0%}")
    for column, where in dominant.items():
        # Critical when it dominates most models and is also very strong on its own: the signature of a leak.
        most = len(where) > len(by_columns) / 2
        critical = most and column in strong and column not in dataset.trusted_columns
        single = strong.get(column)
        linked = (f" Alone it reaches {'ROC-AUC' if single.metric == 'roc_auc' else 'R²'} {single.score:.3f}."
                  if single else "") + " Check it is known at prediction time; if not, remove it with --drop."
        alerts.append(Alert(
            code="attribution_dominance", severity="critical" if critical else "warning", column=column,
            message=f"'{column}' dominates the SHAP attribution ({', '.join(where)} of the total): a leakage suspect."
            + linked,
        ))

    for name in dataset.sensitive_columns:
        proxies = _proxies(dataset.features, name, {
            i.feature for e in explanations if e.unit == "column" for i in e.importances[:SENSITIVE_TOP]
        })
        for e in explanations:
            top = [i.feature for i in e.importances[:SENSITIVE_TOP]]
            if name in top:
                alerts.append(Alert(
                    code="sensitive_attribute", severity="warning", column=name, candidate=e.candidate,
                    message=f"Sensitive attribute '{name}' is #{top.index(name) + 1} in {labels[e.candidate]}'s "
                    "SHAP ranking: decisions depend on it directly; review whether it may be used.",
                ))
        for proxy, strength in proxies.items():
            alerts.append(Alert(
                code="sensitive_proxy", severity="warning", column=proxy,
                message=f"'{proxy}' is among the top {SENSITIVE_TOP} SHAP features and tracks sensitive attribute "
                f"'{name}' (Cramér's V {strength:.2f}): a likely proxy.",
            ))

    for e in explanations:
        if e.stability is not None and e.stability < UNSTABLE_BELOW and e.rows_explained >= STABILITY_MIN_ROWS:
            alerts.append(Alert(
                code="unstable_explanation", severity="warning", column=None, candidate=e.candidate,
                message=f"{labels[e.candidate]}'s feature ranking is unstable (rank correlation {e.stability:.2f} "
                f"across {e.stability_basis}; below {UNSTABLE_BELOW}): do not read much into its top features.",
            ))
    return alerts


def _dominated(e: ModelExplanation) -> bool:
    """One column carries most of the attribution, or far more than any other (DOMINANT_RATIO x the next)."""
    if not e.importances:
        return False
    runner_up = e.importances[1].share if len(e.importances) > 1 else 0.0
    clear_lead = e.top_share >= DOMINANT_FLOOR and e.top_share >= DOMINANT_RATIO * runner_up
    return e.top_share >= DOMINANT_SHARE or clear_lead


def _proxies(frame: pd.DataFrame, sensitive: str, candidates: set[str]) -> dict[str, float]:
    """Columns among `candidates` associated with the sensitive column (Cramér's V ≥ PROXY_ASSOCIATION)."""
    found = {}
    for column in sorted(candidates - {sensitive}):
        if column not in frame.columns:
            continue
        strength = cramers_v(frame[column], frame[sensitive])
        if strength >= PROXY_ASSOCIATION:
            found[column] = strength
    return found


def cramers_v(a: pd.Series, b: pd.Series, bins: int = 5) -> float:
    """Association between two columns (numeric ones binned into quantiles), 0 = none, 1 = one determines the other."""
    from scipy.stats.contingency import association

    def binned(s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s) and s.nunique() > bins:
            return pd.qcut(s, bins, duplicates="drop").astype(str)
        return s.astype(str)

    table = pd.crosstab(binned(a), binned(b))
    if min(table.shape) < 2:
        return 0.0
    return float(association(table.to_numpy(), method="cramer"))
