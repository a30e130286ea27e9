"""The in-fold preprocessor: what categorical values become, whatever their Python type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark._preprocess import MISSING_LEVEL, _as_text, tabular_preprocessor
from dladvisor.benchmark._registry import FeatureSpec


def _as_text_by_column(frame: pd.DataFrame, fill=np.nan) -> pd.DataFrame:
    """The previous implementation (pandas casts, column by column): the behaviour the faster one must keep."""
    text = frame.astype("object").where(frame.notna(), np.nan).astype(str).where(frame.notna(), np.nan)
    return text.where(frame.notna(), fill)


@pytest.fixture
def awkward() -> pd.DataFrame:
    return pd.DataFrame({
        "mixed": pd.Series([1, "a", True, None, 2.5, np.nan, "1", pd.NA], dtype=object),
        "level": pd.Series(["x", "y", None, "x", "y", "z", "x", "y"], dtype="str"),
        "category": pd.Categorical(["p", "q", "p", None, "q", "p", "p", "q"]),
        "number": [1.0, 2.0, np.nan, 1.0, 3.0, 2.0, 1.0, 1.0],
    })


@pytest.mark.parametrize("fill", [np.nan, MISSING_LEVEL])
def test_as_text_matches_the_column_wise_casts(awkward, fill):
    fast = _as_text(awkward, fill=fill)
    slow = _as_text_by_column(awkward, fill=fill).to_numpy(dtype=object)
    assert fast.shape == slow.shape
    for got, want in zip(fast.ravel(), slow.ravel(), strict=True):
        assert (got == want) or (pd.isna(got) and pd.isna(want)), (got, want)
    assert fast[1, 0] == "a" and fast[2, 0] == "True" and fast[4, 0] == "2.5"
    assert all(isinstance(value, str) for value in fast[~pd.isna(fast)])


def test_missing_categories_get_their_own_one_hot_column(awkward):
    features = FeatureSpec(numeric=("number",), categorical=("mixed", "level", "category"), datetime=(), text=(),
                           image=())
    pre = tabular_preprocessor(features, scale=True).fit(awkward)
    names = list(pre.get_feature_names_out())
    assert f"level_{MISSING_LEVEL}" in names and "number" in names and "missingindicator_number" in names
    out = pre.transform(awkward)
    assert out[2, names.index(f"level_{MISSING_LEVEL}")] == 1.0
    # A one-row prediction encodes the row as the whole table does.
    np.testing.assert_array_equal(pre.transform(awkward.iloc[[2]]), out[[2]])
    # An unseen level is unknown (no level column set), not an error, and not read as missing.
    unseen = pre.transform(awkward.iloc[[0]].assign(level="never seen"))[0]
    assert unseen[[names.index(n) for n in names if n.startswith("level_")]].sum() == 0


def test_ordinal_encoding_keeps_missing_as_missing(awkward):
    features = FeatureSpec(numeric=("number",), categorical=("level",), datetime=(), text=(), image=())
    pre = tabular_preprocessor(features, scale=False, categorical="ordinal").fit(awkward)
    codes = pre.transform(awkward)[:, -1]
    assert np.isnan(codes[2]) and not np.isnan(codes[[0, 1, 3]]).any()
    assert codes[0] == codes[3] != codes[1]
