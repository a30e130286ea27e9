"""Tabular explainers: the fastest exact path each model family has, and permutation SHAP for the rest.

- XGBoost: the booster's own tree SHAP (`pred_contribs`), exact, in C++ on every core (and on the GPU);
- forests: shap's path-dependent tree SHAP, whose cost per row grows with the trees' leaves and depth, so the rows
  are planned from the fitted trees;
- linear models: exact linear SHAP against a background sample of training rows;
- any other model (kNN, the MLP): permutation SHAP over the original columns, on a small sample.

Attributions on encoded inputs (one-hot levels, missing-value flags, date parts) are summed back onto the column
they came from, which SHAP's additivity allows.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from dladvisor.explain._common import (
    BACKGROUND_ROWS,
    Explainer,
    Job,
    Raw,
    final_estimator,
    is_linear,
    prediction_function,
    reduce_outputs,
    register_explainer,
    seconds_per_prediction,
)

# Exact explainers pay the pipeline's preprocessing per cell (a row's column), measured in chunks of 50 rows.
PREPROCESS_SECONDS_PER_CELL = 5e-5
# Tree SHAP costs about (leaves x depth²) operations per tree and row (Lundberg et al. 2020, path-dependent
# algorithm); these rates turn that count into seconds. Calibrated with tests/perf/calibrate_explain.py on this
# project's 2-core CPU machine, then rounded down to stay on the safe side (see its docstring for the figures).
FOREST_OPERATIONS_PER_SECOND = 5e8  # shap's C++ tree SHAP, one thread (it holds the GIL)
BOOSTER_OPERATIONS_PER_SECOND = 1e8  # XGBoost's pred_contribs on 2 threads
AGNOSTIC_BACKGROUND_ROWS = 20  # every model-agnostic evaluation costs this many predictions
PERMUTATION_PAIRS = 2  # random column orders, each also run in reverse
MASKED_CELLS = 4_000_000  # cells of masked inputs stacked into one model call (32 MB of float64)


def _width(features) -> int:
    return max(1, len(features.all))


@register_explainer
class XGBoostTrees(Explainer):
    name = "xgboost"
    method = "exact tree SHAP"
    level = "exact post-hoc"
    scale = "log-odds"
    rows, floor = 500, 50

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "tabular" and hasattr(final_estimator(model), "get_booster")

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        operations = sum(leaves * depth**2 for leaves, depth in _booster_trees(final_estimator(model).get_booster()))
        return _width(features) * PREPROCESS_SECONDS_PER_CELL + operations / BOOSTER_OPERATIONS_PER_SECOND

    def explain(self, job: Job) -> Raw:
        return _explain_exact(job, "xgboost")


@register_explainer
class BoosterTrees(Explainer):
    """LightGBM and CatBoost: exact tree SHAP computed by the library itself (LightGBM's `pred_contrib`, CatBoost's
    `ShapValues`), in C++ on every core."""

    name = "booster"
    method = "exact tree SHAP"
    level = "exact post-hoc"
    scale = "log-odds"
    rows, floor = 500, 50

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "tabular" and hasattr(final_estimator(model), "contributions")

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        operations = final_estimator(model).shap_operations()
        return _width(features) * PREPROCESS_SECONDS_PER_CELL + operations / BOOSTER_OPERATIONS_PER_SECOND

    def explain(self, job: Job) -> Raw:
        return _explain_exact(job, "booster")


@register_explainer
class ForestTrees(Explainer):
    name = "forest"
    method = "exact tree SHAP"
    level = "exact post-hoc"
    rows, floor = 500, 10

    def handles(self, candidate, model) -> bool:
        trees = np.ravel(getattr(final_estimator(model), "estimators_", []))
        return candidate.modality == "tabular" and len(trees) > 0 and all(hasattr(t, "tree_") for t in trees)

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        trees = np.ravel(final_estimator(model).estimators_)
        operations = sum(t.tree_.n_leaves * max(t.tree_.max_depth, 1) ** 2 for t in trees)
        return _width(features) * PREPROCESS_SECONDS_PER_CELL + operations / FOREST_OPERATIONS_PER_SECOND

    def warm_up(self, outputs: int) -> None:
        import shap  # noqa: F401  (importing shap takes seconds, once)

    def explain(self, job: Job) -> Raw:
        return _explain_exact(job, "forest")


@register_explainer
class Linear(Explainer):
    name = "linear"
    method = "exact linear SHAP"
    level = "native"
    scale = "log-odds"
    rows, floor = 1000, 50

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "tabular" and is_linear(model)

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        return _width(features) * PREPROCESS_SECONDS_PER_CELL

    def explain(self, job: Job) -> Raw:
        return _explain_exact(job, "linear")


@register_explainer
class Permutation(Explainer):
    name = "permutation"
    method = "permutation SHAP (model-agnostic)"
    rows, floor = 100, 10

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "tabular"

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        predictions = _max_evals(_width(features)) * AGNOSTIC_BACKGROUND_ROWS
        return predictions * seconds_per_prediction(candidate, _width(features))

    def explain(self, job: Job) -> Raw:
        X = job.X
        codec = ColumnCodec(X.iloc[np.concatenate([job.rows, job.background])])
        predict = prediction_function(job.model, job.dataset)
        background = codec.encode(X.iloc[job.background[:AGNOSTIC_BACKGROUND_ROWS]])

        def explain_rows(chunk):
            values = permutation_shap(lambda matrix: predict(codec.decode(matrix)), codec.encode(X.iloc[chunk]),
                                      background, pairs=PERMUTATION_PAIRS, seed=job.seed)
            return reduce_outputs(values, job.dataset.task)

        # The model is called on large stacked batches, where OpenMP and BLAS thread teams still cost more than they
        # save for kNN on small data: kNN fitted on 400 rows, 40 rows explained on 2 busy cores took 6.0 s with two
        # threads, 1.5 s with one.
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            parts, used, elapsed, cut = job.explain_planned(explain_rows)
        return Raw(np.vstack(parts), codec.columns, used, elapsed, cut=cut)


def permutation_shap(f, rows: np.ndarray, background: np.ndarray, *, pairs: int, seed: int) -> np.ndarray:
    """Permutation SHAP values of `f` at each row against the background rows (interventional), as shap's
    PermutationExplainer computes them: for `pairs` random column orders and their reverses (antithetic), switch
    the columns from background to the row's values one at a time and credit each column with the change in the
    mean output. Exact for additive models; values add up to f(row) - mean f(background) for every row.

    Written out rather than calling shap's explainer, whose just-in-time compilation costs 6 s per process on 2
    cores. Every masked input of a chunk is stacked into one call of `f`. Returns (rows, columns[, outputs])."""
    n_rows, width = rows.shape
    block = max(1, MASKED_CELLS // (4 * pairs * (width + 1) * len(background) * width))
    if n_rows > block:  # bound the stacked inputs' memory on wide tables
        return np.concatenate([permutation_shap(f, rows[i : i + block], background, pairs=pairs, seed=seed)
                               for i in range(0, n_rows, block)])
    rng = np.random.default_rng(seed)
    orders = []
    for _ in range(pairs):
        order = rng.permutation(width)
        orders += [order, order[::-1]]
    # on[o, s, j]: column j has the row's value at step s (0..width) of order o.
    on = np.zeros((len(orders), width + 1, width), dtype=bool)
    for o, order in enumerate(orders):
        for step in range(1, width + 1):
            on[o, step] = on[o, step - 1]
            on[o, step, order[step - 1]] = True
    masked = np.where(on[None, :, :, None, :], rows[:, None, None, None, :], background[None, None, None, :, :])
    outputs = np.asarray(f(masked.reshape(-1, width)), dtype=float)
    outputs = outputs.reshape(n_rows, len(orders), width + 1, len(background), -1).mean(axis=3)
    steps = np.diff(outputs, axis=2)  # (rows, orders, width, outputs): the change when order[s] switched on
    values = np.zeros((n_rows, width, outputs.shape[-1]))
    for o, order in enumerate(orders):
        values[:, order] += steps[:, o]
    values /= len(orders)
    return values[..., 0] if values.shape[-1] == 1 else values


def _max_evals(columns: int) -> int:
    return 2 * PERMUTATION_PAIRS * (columns + 1)  # model evaluations per row, each on every background row


def _booster_trees(booster) -> list[tuple[int, int]]:
    """(leaves, depth) of every tree of an XGBoost booster, read from its text dump (one tab per level)."""
    trees = []
    for dump in booster.get_dump():
        lines = [line for line in dump.splitlines() if "leaf=" in line]
        depth = max((len(line) - len(line.lstrip("\t")) for line in lines), default=0)
        trees.append((len(lines), max(depth, 1)))
    return trees


# -- exact explainers ------------------------------------------------------------------------------------------------


def split_pipeline(model):
    """(preprocessing, final estimator) of a candidate pipeline; XGBoost is unwrapped from its categorical shim."""
    return model[:-1], final_estimator(model)


def column_groups(preprocess, columns: list[str]) -> list[str]:
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


def _booster_matrix(booster, Z: np.ndarray):
    import xgboost

    # The booster was told which inputs are categorical when it was fitted; its predictions need the same types.
    return xgboost.DMatrix(Z, enable_categorical=True, feature_types=booster.feature_types)


def raw_output(estimator, Z) -> np.ndarray:
    """The model output that exact SHAP values add up to: margin (log-odds) for XGBoost and linear classifiers,
    probabilities for forests, the prediction for regressors."""
    if hasattr(estimator, "get_booster"):
        booster = estimator.get_booster()
        return booster.predict(_booster_matrix(booster, Z), output_margin=True)
    if hasattr(estimator, "margin"):
        return estimator.margin(Z)
    if hasattr(estimator, "estimators_") and hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(Z)
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(Z)
    return estimator.predict(Z)


def exact_explainer(model, kind: str, background: pd.DataFrame | None = None):
    """Exact SHAP for an XGBoost ("xgboost"), forest ("forest") or linear ("linear") candidate pipeline, on its
    encoded inputs.

    Returns explain(X) -> (values, base values, encoded inputs): values (rows, inputs[, outputs]), base values
    (rows[, outputs]), adding up to `raw_output` of the final estimator.
    """
    preprocess, estimator = split_pipeline(model)
    if kind == "xgboost":
        booster = estimator.get_booster()

        def contributions(Z):
            # (rows, inputs + 1), or (rows, classes, inputs + 1) for multiclass; the last column is the bias.
            values = booster.predict(_booster_matrix(booster, Z), pred_contribs=True)
            if values.ndim == 3:
                return values[:, :, :-1].transpose(0, 2, 1), values[:, :, -1]
            return values[:, :-1], values[:, -1]
    elif kind == "booster":
        contributions = estimator.contributions
    elif kind == "forest":
        import shap

        explainer = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")

        def contributions(Z):
            explanation = explainer(Z, check_additivity=False)
            return np.asarray(explanation.values), np.asarray(explanation.base_values)
    elif kind == "linear":
        # With inputs taken as independent, a linear model's SHAP values have a closed form: weight x (input - its
        # mean over the background rows), and the base value is the output at that mean. This is what
        # shap.LinearExplainer computes with an Independent masker (a test holds the two together); written out, it
        # spares a run the seconds that importing shap costs.
        mean = _dense(preprocess.transform(background)).mean(axis=0)
        weights = np.atleast_2d(estimator.coef_)  # (outputs, inputs)
        intercept = np.atleast_1d(estimator.intercept_)

        def contributions(Z):
            values = (Z - mean)[:, :, None] * weights.T[None]  # (rows, inputs, outputs)
            base = np.tile(mean @ weights.T + intercept, (len(Z), 1))  # (rows, outputs)
            return (values[:, :, 0], base[:, 0]) if len(weights) == 1 else (values, base)
    else:
        raise ValueError(f"no exact explainer of kind '{kind}'")

    def explain(X: pd.DataFrame):
        Z = _dense(preprocess.transform(X))
        values, base = contributions(Z)
        return values, base, Z

    return explain


def additivity_error(values: np.ndarray, base: np.ndarray, output: np.ndarray) -> float:
    """Largest gap between SHAP values plus base value and the model output they explain."""
    total = values.sum(axis=1) + base
    if total.shape != np.shape(output) and np.ndim(output) == 2 and output.shape[1] == 2 and total.ndim == 1:
        output = output[:, 1]
    return float(np.max(np.abs(total - output))) if np.shape(total) == np.shape(output) else float("nan")


def _explain_exact(job: Job, kind: str) -> Raw:
    started = time.perf_counter()
    preprocess, estimator = split_pipeline(job.model)
    owners = column_groups(preprocess, list(job.X.columns))
    explain = exact_explainer(job.model, kind, job.X.iloc[job.background[:BACKGROUND_ROWS]])
    errors = []

    def explain_rows(chunk):
        values, base, Z = explain(job.X.iloc[chunk])
        errors.append(additivity_error(values, base, raw_output(estimator, Z)))
        summed, _ = _sum_by_column(values, owners)
        return reduce_outputs(summed, job.dataset.task)

    parts, used, _, cut = job.explain_planned(explain_rows)
    _, columns = _sum_by_column(np.zeros((1, len(owners))), owners)
    return Raw(np.vstack(parts), columns, used, time.perf_counter() - started,
               additivity_error=float(np.nanmax(errors)), cut=cut)


# -- model-agnostic ------------------------------------------------------------------------------------------------


class ColumnCodec:
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
