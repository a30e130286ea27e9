"""Strong gradient boosting beside XGBoost: LightGBM and CatBoost with published tuned defaults.

Both use the meta-learned "tuned defaults" (TD) of Holzmüller et al., "Better by default: strong pre-tuned MLPs and
boosted trees on tabular data" (NeurIPS 2024), as published in `pytabkit.models.sklearn.default_params`
(`LGBM_TD_*`, `CB_TD_*`): 1,000 rounds at most, early stopping after 300 rounds without improvement on an inner
validation split (20% of the training fold, stratified). Unlike pytabkit's wrappers, which stop on classification
error by default, they stop on log-loss (or squared error), the loss behind ROC-AUC and calibration, using the
libraries' own evaluation, which is fast. Categorical columns are split on natively (ordinal codes, marked as
categorical), as the libraries intend.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, is_regressor

from dladvisor.benchmark._preprocess import tabular_preprocessor
from dladvisor.benchmark._registry import BuildContext, register_candidate

TD_TUNING = ("published tuned defaults (pytabkit TD), early stopping on an inner 20% split (patience 300 rounds; 50 "
             "under --preset fast)")
VALIDATION_SHARE = 0.2
PATIENCE = 300  # rounds without a better validation loss before stopping (pytabkit's TD setting)
# --preset fast (a CI run) stops sooner: on the adult table the best round was 147-208 in every fold and patience 50
# found the same rounds as 300 at half the fit time (measured, LightGBM 4.7, 2 cores).
FAST_PATIENCE = 50

# pytabkit 1.7 DefaultParams.LGBM_TD_CLASS / LGBM_TD_REG, in LightGBM's own parameter names.
LIGHTGBM_TD = {
    "classification": dict(n_estimators=1000, learning_rate=4e-2, subsample=0.75, subsample_freq=1,
                           colsample_bytree=1.0, num_leaves=50, min_child_samples=40, min_sum_hessian_in_leaf=1e-7,
                           max_bin=255),
    "regression": dict(n_estimators=1000, learning_rate=5e-2, subsample=0.7, subsample_freq=1, colsample_bytree=1.0,
                       num_leaves=100, min_child_samples=3, min_sum_hessian_in_leaf=1e-7, max_bin=255),
}
# pytabkit 1.7 DefaultParams.CB_TD_CLASS / CB_TD_REG.
CATBOOST_TD = {
    "classification": dict(n_estimators=1000, learning_rate=8e-2, l2_leaf_reg=1e-5, boosting_type="Plain",
                           bootstrap_type="Bernoulli", subsample=0.9, max_depth=7, random_strength=0.8,
                           one_hot_max_size=15, leaf_estimation_iterations=1, border_count=254),
    "regression": dict(n_estimators=1000, learning_rate=9e-2, l2_leaf_reg=1e-5, boosting_type="Plain",
                       bootstrap_type="Bernoulli", subsample=0.7, max_depth=9, random_strength=0.2,
                       one_hot_max_size=20, leaf_estimation_iterations=20, border_count=254),
}


def _lightgbm_space(trial) -> dict:
    return {
        "model__learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "model__num_leaves": trial.suggest_int("num_leaves", 8, 256, log=True),
        "model__subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "model__colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "model__reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


def _catboost_space(trial) -> dict:
    return {
        "model__learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "model__max_depth": trial.suggest_int("max_depth", 4, 10),
        "model__l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1e-5, 10.0, log=True),
        "model__random_strength": trial.suggest_float("random_strength", 0.0, 2.0),
    }


def _kind(task: str) -> str:
    return "regression" if task == "regression" else "classification"


@register_candidate(
    "lightgbm", explainer="booster", fast=True, label="LightGBM (tuned defaults)", family="classical", complexity=4,
    search_space=_lightgbm_space,
    tuning=TD_TUNING,
    description="Leaf-wise gradient-boosted trees with published tuned defaults, native categorical splits and "
    "early stopping on an inner 20% validation split.",
)
def lightgbm(ctx: BuildContext):
    from lightgbm import LGBMClassifier, LGBMRegressor

    cls = LGBMRegressor if ctx.task == "regression" else LGBMClassifier
    model = cls(**LIGHTGBM_TD[_kind(ctx.task)], n_jobs=ctx.n_jobs, random_state=ctx.seed, verbose=-1)
    return _pipeline(ctx, EarlyStopped(model, library="lightgbm", n_categorical=len(ctx.features.categorical),
                                       seed=ctx.seed, patience=_patience(ctx)))


@register_candidate(
    "catboost", explainer="booster", label="CatBoost (tuned defaults)", family="classical", complexity=4,
    search_space=_catboost_space,
    tuning=TD_TUNING,
    description="Symmetric (oblivious) gradient-boosted trees with published tuned defaults, native categorical "
    "encoding and early stopping on an inner 20% validation split.",
)
def catboost(ctx: BuildContext):
    from catboost import CatBoostClassifier, CatBoostRegressor

    cls = CatBoostRegressor if ctx.task == "regression" else CatBoostClassifier
    loss = {"binary": "Logloss", "multiclass": "MultiClass", "regression": "RMSE"}[ctx.task]
    model = cls(**CATBOOST_TD[_kind(ctx.task)], loss_function=loss, thread_count=ctx.n_jobs, random_seed=ctx.seed,
                verbose=False, allow_writing_files=False)
    return _pipeline(ctx, EarlyStopped(model, library="catboost", n_categorical=len(ctx.features.categorical),
                                       seed=ctx.seed, patience=_patience(ctx)))


def _patience(ctx: BuildContext) -> int:
    return FAST_PATIENCE if ctx.preset == "fast" else PATIENCE


def _pipeline(ctx: BuildContext, booster):
    from sklearn.pipeline import make_pipeline

    # Ordinal codes with the categorical columns last (in `features.categorical` order), missing kept as NaN.
    return make_pipeline(tabular_preprocessor(ctx.features, scale=False, categorical="ordinal"), booster)


class EarlyStopped(BaseEstimator):
    """A LightGBM or CatBoost model fitted with early stopping on a stratified inner validation split of the rows it
    is given; the last `n_categorical` inputs are categorical codes. `model` is the fitted library model, which the
    tree-SHAP explainers read."""

    def __init__(self, model=None, library: str = "lightgbm", n_categorical: int = 0, seed: int = 0,
                 patience: int = PATIENCE):
        self.model = model
        self.library = library
        self.n_categorical = n_categorical
        self.seed = seed
        self.patience = patience

    def __sklearn_tags__(self):
        return self.model.__sklearn_tags__()

    def matrix(self, Z):
        """The inputs as the library reads them: CatBoost wants categorical codes as integers (missing: -1)."""
        import pandas as pd

        Z = np.asarray(Z.toarray() if hasattr(Z, "toarray") else Z, dtype=float)
        if self.library != "catboost" or not self.n_categorical:
            return Z
        frame = pd.DataFrame(Z)
        for j in self._categorical(Z.shape[1]):
            frame[j] = np.nan_to_num(Z[:, j], nan=-1).astype(np.int64)
        return frame

    def _categorical(self, width: int) -> list[int]:
        return list(range(width - self.n_categorical, width))

    def fit(self, X, y):
        y = np.asarray(y)
        Z = self.matrix(X)
        self.n_features_in_ = width = Z.shape[1]
        train, val = _inner_split(y, is_regressor(self.model), self.seed)
        pick = (lambda rows: Z.iloc[rows]) if hasattr(Z, "iloc") else (lambda rows: Z[rows])
        categorical = self._categorical(width)
        if self.library == "lightgbm":
            import inspect

            # The tuned leaf minimum (40 rows) leaves a small table unsplit: a tree of one leaf, ROC-AUC 0.5 on 80
            # rows (measured). At most a tenth of the rows, then, and never below LightGBM's usual floor of 2.
            least = LIGHTGBM_TD["regression" if is_regressor(self.model) else "classification"]["min_child_samples"]
            self.model.set_params(min_child_samples=max(2, min(least, len(train) // 10)))
            import lightgbm

            # LightGBM 4.7 renamed eval_set to eval_X/eval_y (the old name warns); older releases know only eval_set.
            validation = ({"eval_X": (pick(val),), "eval_y": (y[val],)}
                          if "eval_X" in inspect.signature(self.model.fit).parameters else
                          {"eval_set": [(pick(val), y[val])]})
            self.model.fit(pick(train), y[train], **validation, categorical_feature=categorical or "auto",
                           callbacks=[lightgbm.early_stopping(self.patience, verbose=False)])
            self.best_iteration_ = int(self.model.best_iteration_ or self.model.n_estimators)
        else:
            self.model.fit(pick(train), y[train], cat_features=categorical, eval_set=(pick(val), y[val]),
                           early_stopping_rounds=self.patience, use_best_model=True)
            self.best_iteration_ = int(self.model.get_best_iteration() or 0) + 1
        if hasattr(self.model, "classes_"):
            self.classes_ = np.asarray(self.model.classes_)
        return self

    def predict(self, X):
        return np.asarray(self.model.predict(self.matrix(X))).ravel()

    def predict_proba(self, X):
        return self.model.predict_proba(self.matrix(X))

    def contributions(self, Z) -> tuple[np.ndarray, np.ndarray]:
        """Exact tree SHAP from the library itself: values (rows, inputs[, classes]) and base values (rows[,
        classes]) on the raw (margin) scale, adding up to `margin`."""
        inputs = self.matrix(Z)
        if self.library == "lightgbm":
            values = np.asarray(self.model.predict(inputs, pred_contrib=True))
        else:
            from catboost import Pool

            pool = Pool(inputs, cat_features=self._categorical(self.n_features_in_))
            values = np.asarray(self.model.get_feature_importance(pool, type="ShapValues"))
        width = self.n_features_in_ + 1
        if values.ndim == 2 and values.shape[1] > width:  # LightGBM multiclass: classes side by side
            values = values.reshape(len(values), -1, width)
        if values.ndim == 3:  # (rows, classes, inputs + 1)
            return values[:, :, :-1].transpose(0, 2, 1), values[:, :, -1]
        return values[:, :-1], values[:, -1]

    def shap_operations(self) -> int:
        """What exact tree SHAP's cost per row grows with: the squared depth of every leaf, summed over the trees that
        predict (those up to the best round; LightGBM keeps the rounds early stopping waited through)."""
        if self.library == "lightgbm":
            trees = self.model.booster_.dump_model(num_iteration=self.best_iteration_)["tree_info"]
            return sum(_squared_leaf_depths(tree["tree_structure"]) for tree in trees)
        depth = int(self.model.get_all_params()["depth"])  # oblivious trees: every leaf at this depth
        return int(self.model.tree_count_) * 2**depth * depth**2

    def margin(self, Z) -> np.ndarray:
        """The raw model output the contributions add up to (log-odds, class scores, or the prediction)."""
        inputs = self.matrix(Z)
        if self.library == "lightgbm":
            return np.asarray(self.model.predict(inputs, raw_score=True))
        return np.asarray(self.model.predict(inputs, prediction_type="RawFormulaVal"))


def _squared_leaf_depths(node: dict, depth: int = 0) -> int:
    """Sum of depth² over the leaves under one node of a LightGBM tree dump (a one-leaf tree counts 1)."""
    if "left_child" not in node:
        return max(depth, 1) ** 2
    return _squared_leaf_depths(node["left_child"], depth + 1) + _squared_leaf_depths(node["right_child"], depth + 1)


def _inner_split(y: np.ndarray, regression: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows for training and for early stopping (20%, stratified by class for classification)."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    stratify = y if not regression and np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
    train, val = train_test_split(rows, test_size=VALIDATION_SHARE, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)
