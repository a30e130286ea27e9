"""Classical candidates: the baselines a deep model has to beat."""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from dladvisor.benchmark._preprocess import tabular_preprocessor
from dladvisor.benchmark._registry import BuildContext, register_candidate


@register_candidate(
    "dummy", label="Baseline (class prior)", regression_label="Baseline (mean)", family="baseline", complexity=0,
    parallel_folds=True,
    description="Predicts the class frequencies (or the mean) seen in training; any useful model must beat it.",
)
def dummy(ctx: BuildContext):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return DummyRegressor() if ctx.task == "regression" else DummyClassifier(strategy="prior")


@register_candidate(
    "linear", explainer="linear", fast=True, label="Logistic regression", regression_label="Ridge regression",
    family="classical", complexity=1, parallel_folds=True,
    description="A linear model on standardised, one-hot encoded inputs; explainable by its coefficients.",
)
def linear(ctx: BuildContext):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    model = Ridge(alpha=1.0) if ctx.task == "regression" else LogisticRegression(max_iter=2000, C=1.0)
    return make_pipeline(tabular_preprocessor(ctx.features, scale=True), model)


@register_candidate(
    "knn", label="k-nearest neighbours", family="classical", complexity=2, parallel_folds=True,
    description="Predicts from the 15 most similar training rows (distance-weighted) on standardised inputs.",
)
def knn(ctx: BuildContext):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline

    cls = KNeighborsRegressor if ctx.task == "regression" else KNeighborsClassifier
    return make_pipeline(
        tabular_preprocessor(ctx.features, scale=True), cls(n_neighbors=15, weights="distance", n_jobs=ctx.n_jobs)
    )


@register_candidate(
    "random_forest", explainer="forest", label="Random forest", family="classical", complexity=3,
    description="100 trees on bootstrap samples (leaves of at least 3 rows), averaged; robust with little tuning.",
)
def random_forest(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline

    cls = _ServingForestRegressor if ctx.task == "regression" else _ServingForestClassifier
    # Leaves of 3 rows rather than fully grown trees: on the 32,561-row adult census table one fold scores ROC-AUC
    # 0.912 instead of 0.901 with 300 fully grown trees, fits 3x faster, and has 14x fewer leaves, which makes its
    # exact SHAP values (cost ~ leaves x depth^2 per row) about 30x cheaper.
    forest = cls(n_estimators=100, max_features="sqrt", min_samples_leaf=3, n_jobs=ctx.n_jobs, random_state=ctx.seed)
    return make_pipeline(tabular_preprocessor(ctx.features, scale=False), forest)


def _xgboost_space(trial) -> dict:
    return {
        "model__learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "model__max_depth": trial.suggest_int("max_depth", 3, 10),
        "model__subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "model__colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "model__min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
        "model__reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
    }


@register_candidate(
    "xgboost", explainer="xgboost", search_space=_xgboost_space, label="XGBoost", family="classical", complexity=4,
    description="Gradient-boosted trees (400 rounds, depth 6, learning rate 0.05) with native categorical splits.",
)
def xgboost(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline
    from xgboost import XGBClassifier, XGBRegressor

    preprocess = tabular_preprocessor(ctx.features, scale=False, categorical="ordinal")
    # Numeric columns expand with missing-indicators, so only the trailing categorical block is known by position;
    # the booster is told which inputs are categorical through `feature_types` once the width is known.
    cls = XGBRegressor if ctx.task == "regression" else XGBClassifier
    booster = cls(
        n_estimators=400, learning_rate=0.05, max_depth=6, subsample=0.8, colsample_bytree=0.8,
        tree_method="hist", enable_categorical=True, max_cat_to_onehot=1,
        n_jobs=ctx.n_jobs, random_state=ctx.seed, verbosity=0,
    )
    return make_pipeline(preprocess, _CategoricalTail(booster, n_categorical=len(ctx.features.categorical)))


class _CategoricalTail(BaseEstimator):
    """Wraps an XGBoost model so the last `n_categorical` input columns are split on as categories."""

    def __init__(self, model=None, n_categorical: int = 0):
        self.model = model
        self.n_categorical = n_categorical

    def __sklearn_tags__(self):
        return self.model.__sklearn_tags__()

    def fit(self, X, y):
        width = self.n_features_in_ = X.shape[1]
        self.model.set_params(feature_types=["q"] * (width - self.n_categorical) + ["c"] * self.n_categorical)
        self.model.fit(X, y)
        if hasattr(self.model, "classes_"):
            self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


class _ServingForestClassifier(RandomForestClassifier):
    """Trains on every core, predicts on one: per call, starting threads costs more than it saves
    (measured on 2 cores: 13 ms vs 64 ms for a one-row prediction with 300 trees)."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.n_jobs = 1
        return self


class _ServingForestRegressor(RandomForestRegressor):
    """Trains on every core, predicts on one (see `_ServingForestClassifier`)."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.n_jobs = 1
        return self
