"""Strong tabular candidates from the authors' packages: LightGBM and CatBoost with pytabkit's meta-learned
"tuned defaults" (TD). Both read columns natively (categories as a
pandas `category` dtype) and early-stop on an inner validation split (20% of the training fold, pytabkit's
`val_fraction`). They are opt-in for now (`--candidate lightgbm` ...): the default run keeps its measured timing.

Foundation models for tables (TabPFN, TabICL, Mitra) would register here too, as "deep" candidates with the
ladder step "pretrained"; they have no adapter because their weights cannot be downloaded offline.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

from dladvisor.benchmark._registry import BuildContext, register_candidate

TD_TUNING = "meta-learned tuned defaults (pytabkit TD)"


@register_candidate(
    "lightgbm", label="LightGBM (tuned defaults)", family="classical", complexity=4, opt_in=True, tuning=TD_TUNING,
    description="Gradient-boosted trees with pytabkit's meta-learned defaults, native categorical splits and early "
    "stopping on an inner 20% validation split.",
)
def lightgbm(ctx: BuildContext):
    from pytabkit import LGBM_TD_Classifier, LGBM_TD_Regressor

    cls = LGBM_TD_Regressor if ctx.task == "regression" else LGBM_TD_Classifier
    # pytabkit's wrappers refuse missing numbers, so they are filled with the training fold's medians.
    return NativeFrame(cls(**_common(ctx)), features=ctx.features, impute=True)


@register_candidate(
    "catboost", label="CatBoost (tuned defaults)", family="classical", complexity=4, opt_in=True, tuning=TD_TUNING,
    description="Ordered boosting with pytabkit's meta-learned defaults, native categorical encoding and early "
    "stopping on an inner 20% validation split.",
)
def catboost(ctx: BuildContext):
    from pytabkit import CatBoost_TD_Classifier, CatBoost_TD_Regressor

    cls = CatBoost_TD_Regressor if ctx.task == "regression" else CatBoost_TD_Classifier
    # pytabkit's wrapper refuses missing numbers, so they are filled with the training fold's medians.
    return NativeFrame(cls(**_common(ctx)), features=ctx.features, impute=True)


def _common(ctx: BuildContext) -> dict:
    device = "cuda:0" if ctx.device.startswith("cuda") else "cpu"
    return dict(n_threads=ctx.n_jobs, device=device, random_state=ctx.seed, verbosity=0, n_cv=1, val_fraction=0.2)


class NativeFrame(BaseEstimator):
    """Hands a pytabkit model the frame it reads natively: numeric columns as floats, categorical ones as a pandas
    `category` dtype (the category list fixed on the training rows), dates as seconds since the epoch; with
    `impute`, missing numbers filled with the training rows' medians."""

    def __init__(self, model=None, features=None, impute: bool = False):
        self.model = model
        self.features = features
        self.impute = impute

    def _frame(self, X, *, fitting: bool):
        import numpy as np
        import pandas as pd

        spec = self.features
        out = pd.DataFrame(index=X.index)
        for column in spec.numeric:
            out[column] = pd.to_numeric(X[column], errors="coerce").astype("float64")
        for column in spec.datetime:
            stamps = pd.to_datetime(X[column], errors="coerce")
            out[column] = np.where(stamps.isna(), np.nan, stamps.astype("int64") / 1e9)
        if fitting:
            self.categories_ = {
                column: sorted(X[column].dropna().astype(str).unique()) for column in spec.categorical
            }
        for column in spec.categorical:
            values = X[column].astype("object").where(X[column].notna(), None)
            values = values.map(lambda v: None if v is None else str(v))
            out[column] = pd.Categorical(values, categories=self.categories_[column])
        if self.impute:
            numbers = [*spec.numeric, *spec.datetime]
            if fitting:
                self.medians_ = out[numbers].median().fillna(0.0)
            out[numbers] = out[numbers].fillna(self.medians_)
        return out

    def fit(self, X, y):
        import numpy as np

        self.model.fit(self._frame(X, fitting=True), np.asarray(y))
        self.n_features_in_ = X.shape[1]
        if hasattr(self.model, "classes_"):
            self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return self.model.predict(self._frame(X, fitting=False))

    def predict_proba(self, X):
        return self.model.predict_proba(self._frame(X, fitting=False))
