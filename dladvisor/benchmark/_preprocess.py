"""Preprocessing that lives inside each candidate's pipeline, so it is fitted within folds only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dladvisor.benchmark._registry import FeatureSpec

# One-hot columns per categorical feature beyond which rare levels are pooled into "infrequent".
MAX_ONE_HOT_LEVELS = 30
# The level a missing categorical value is one-hot encoded as.
MISSING_LEVEL = "(missing)"


def datetime_parts(frame: pd.DataFrame) -> np.ndarray:
    """Dates as numbers a model can split on: days since epoch, month and weekday (missing stays NaN)."""
    parts = []
    for name in frame.columns:
        when = pd.to_datetime(frame[name], errors="coerce", format="mixed")
        days = (when - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400
        parts += [days.to_numpy(dtype=float), when.dt.month.to_numpy(dtype=float)]
        parts.append(when.dt.day_of_week.to_numpy(dtype=float))
    return np.column_stack(parts) if parts else np.empty((len(frame), 0))


def _datetime_names(transformer, names) -> list[str]:
    return [f"{name}_{part}" for name in names for part in ("days", "month", "weekday")]


_STR = np.frompyfunc(str, 1, 1)


def _as_text(frame: pd.DataFrame, fill=np.nan) -> np.ndarray:
    """Categoricals as strings (`str` of each value) with missing values as `fill`, so mixed types (1, 'a', True)
    encode consistently. Works on the frame's values at once: column-wise pandas casts cost ~5 ms a call, which is
    most of a one-row prediction's time (adult census: 12 ms a row before, see tests/perf/RESULTS.md)."""
    values = frame.to_numpy(dtype=object)
    missing = pd.isna(values)
    text = _STR(values)  # str of each value into an object array (no fixed-width copy of the longest value)
    text[missing] = fill
    return text  # an array: the encoders read it in one piece, where a frame is read column by column


def tabular_preprocessor(features: FeatureSpec, *, scale: bool, categorical: str = "onehot", extra=()):
    """A ColumnTransformer for numeric, categorical and datetime columns (plus `extra` (name, transformer, columns)).

    Args:
        scale: standardise numeric inputs (for linear models and neighbours, not for trees).
        categorical: "onehot", or "ordinal" for tree models with native categorical splits; ordinal output puts
            the categorical columns last, in `features.categorical` order.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

    numeric_steps = [SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)]
    if scale:
        numeric_steps.append(StandardScaler())
    if categorical == "onehot":
        categorical_pipe = make_pipeline(
            FunctionTransformer(_as_text, kw_args={"fill": MISSING_LEVEL}, feature_names_out="one-to-one"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT_LEVELS, sparse_output=False),
        )
    else:
        categorical_pipe = make_pipeline(
            FunctionTransformer(_as_text, feature_names_out="one-to-one"),
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan),
        )
    datetime_steps = [
        FunctionTransformer(datetime_parts, feature_names_out=_datetime_names),
        SimpleImputer(strategy="median", keep_empty_features=True),
    ]
    if scale:
        datetime_steps.append(StandardScaler())

    transformers = list(extra)
    if features.numeric:
        transformers.append(("numeric", make_pipeline(*numeric_steps), list(features.numeric)))
    if features.datetime:
        transformers.append(("datetime", make_pipeline(*datetime_steps), list(features.datetime)))
    if features.categorical:
        transformers.append(("categorical", categorical_pipe, list(features.categorical)))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False, sparse_threshold=0.3)


def join_text(frame: pd.DataFrame) -> list[str]:
    """One string per row from one or more text columns ("title: … | body: …" when there are several)."""
    if frame.shape[1] == 1:
        return frame.iloc[:, 0].fillna("").astype(str).tolist()
    parts = [frame[c].fillna("").astype(str).radd(f"{c}: ") for c in frame.columns]
    return [" | ".join(row) for row in zip(*parts, strict=True)]
