"""Tabular explainers on tiny real tables: exact SHAP adds up to the model output, XGBoost's own contributions match
an independent tree SHAP, encodings map back to columns, and a forest's rows are planned from its size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark import BuildContext, feature_spec, get_candidate, list_candidates
from dladvisor.explain._common import explainer_for, full_plan_seconds, plan_rows
from dladvisor.explain.tabular import (
    ForestTrees,
    column_groups,
    exact_explainer,
    raw_output,
    split_pipeline,
)
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def _fitted(name: str, frame: pd.DataFrame, target: str, **settings):
    dataset = load_dataset(frame, target=target)
    profile = profile_dataset(dataset)
    features = feature_spec(profile, dataset)
    ctx = BuildContext(task=dataset.task, n_classes=len(dataset.classes), features=features, seed=0, n_jobs=1)
    X = dataset.features[features.all]
    model = get_candidate(name).factory(ctx)
    if settings:
        model[-1].set_params(**settings)
    return model.fit(X, dataset.y), X, dataset, features


@pytest.mark.parametrize("name,kind", [("xgboost", "xgboost"), ("random_forest", "forest"), ("linear", "linear"),
                                       ("lightgbm", "booster"), ("catboost", "booster")])
@pytest.mark.parametrize("fixture,target", [("mixed_frame", "label"), ("iris_frame", "species"),
                                            ("diabetes_frame", "progression")])
def test_exact_shap_values_add_up_to_the_model_output(name, kind, fixture, target, request):
    model, X, *_ = _fitted(name, request.getfixturevalue(fixture), target)
    values, base, Z = exact_explainer(model, kind, X.iloc[:30])(X.iloc[:20])
    output = raw_output(split_pipeline(model)[1], Z)
    total = values.sum(axis=1) + base
    if output.ndim == 2 and total.ndim == 1:  # binary forests explain P(class 1)
        output = output[:, 1]
    if output.ndim == 2 and total.ndim == 2 and total.shape != output.shape:
        total = total.T
    np.testing.assert_allclose(total, output, rtol=1e-5, atol=1e-4)  # XGBoost sums in float32


@pytest.mark.parametrize("fixture,target,outputs", [("cancer_frame", "diagnosis", 1), ("iris_frame", "species", 3),
                                                    ("diabetes_frame", "progression", 1)])
def test_xgboost_contributions_match_shaps_own_tree_shap(fixture, target, outputs, request):
    import shap

    model, X, *_ = _fitted("xgboost", request.getfixturevalue(fixture), target)
    values, base, Z = exact_explainer(model, "xgboost")(X.iloc[:20])
    assert values.shape == ((20, Z.shape[1], outputs) if outputs > 1 else (20, Z.shape[1]))
    # Left alone, shap hands XGBoost models to XGBoost's pred_contribs; as "internal" it runs its own C++ tree SHAP
    # on its parsed copy of the trees, an independent implementation of the same algorithm.
    reference = shap.TreeExplainer(split_pipeline(model)[1])
    reference.model.model_type = "internal"
    np.testing.assert_allclose(values, np.asarray(reference.shap_values(Z, check_additivity=False)), atol=1e-4)


@pytest.mark.parametrize("fixture,target,outputs", [("mixed_frame", "label", 1), ("iris_frame", "species", 3),
                                                    ("diabetes_frame", "progression", 1)])
def test_linear_shap_matches_shaps_linear_explainer(fixture, target, outputs, request):
    import shap

    model, X, *_ = _fitted("linear", request.getfixturevalue(fixture), target)
    preprocess, estimator = split_pipeline(model)
    values, base, Z = exact_explainer(model, "linear", X.iloc[:30])(X.iloc[:20])
    assert values.shape == ((20, Z.shape[1], outputs) if outputs > 1 else (20, Z.shape[1]))
    background = np.asarray(preprocess.transform(X.iloc[:30]), dtype=float)
    reference = shap.LinearExplainer(estimator, shap.maskers.Independent(background, max_samples=30))(Z)
    np.testing.assert_allclose(values, reference.values, atol=1e-8)
    np.testing.assert_allclose(base, reference.base_values, atol=1e-8)


def test_encoded_inputs_map_back_to_their_columns(mixed_frame):
    model, X, *_ = _fitted("linear", mixed_frame, "label")
    preprocess, _ = split_pipeline(model)
    owners = column_groups(preprocess, list(X.columns))
    assert set(owners) <= set(X.columns)
    assert owners.count("region") == 3  # one-hot levels north/south/east
    assert owners.count("signup") == 3  # days, month, weekday


def test_forest_rows_are_planned_from_its_size_the_same_every_time(cancer_frame):
    from dladvisor.benchmark import CandidateResult

    forest = ForestTrees()
    small, _, dataset, features = _fitted("random_forest", cancer_frame, "diagnosis", n_estimators=10, max_depth=3)
    big, *_ = _fitted("random_forest", cancer_frame, "diagnosis", n_estimators=300)
    candidate = CandidateResult(name="random_forest", label="Random forest", family="classical", complexity=3,
                                description="", status="ok", fold_models=(small, small, small))
    cost = {name: forest.seconds_per_row(candidate, model, dataset, features) for name, model in
            {"small": small, "big": big}.items()}
    assert cost["big"] > cost["small"]  # 300 fully grown trees against 10 of depth 3
    available = 10_000
    budget = full_plan_seconds(forest, candidate, cost["small"], available)  # just what the small forest needs
    plans = {name: plan_rows(forest, candidate, budget, cost[name], available) for name in cost}
    assert plans["small"].first == forest.rows and not plans["small"].note  # the usual 500 rows fit
    assert forest.floor <= plans["big"].first < plans["small"].first and plans["big"].note
    # No clock in the plan: the same model and budget give the same rows.
    assert forest.seconds_per_row(candidate, big, dataset, features) == cost["big"]
    assert plan_rows(forest, candidate, budget, cost["big"], available) == plans["big"]
    # A budget too small for anything still explains the floor.
    assert plan_rows(forest, candidate, 1e-9, cost["big"], available).first == forest.floor


def test_permutation_shap_is_exact_for_an_additive_model_and_adds_up():
    from dladvisor.explain.tabular import permutation_shap

    rng = np.random.default_rng(0)
    weights = np.array([2.0, -1.0, 0.5, 0.0])
    rows, background = rng.normal(size=(7, 4)), rng.normal(size=(20, 4))
    values = permutation_shap(lambda m: m @ weights, rows, background, pairs=2, seed=0)
    np.testing.assert_allclose(values, weights * (rows - background.mean(axis=0)), atol=1e-12)

    def interacting(m):  # two outputs, with an interaction: values still add up to f(row) - E f(background)
        return np.column_stack([m[:, 0] * m[:, 1], np.tanh(m[:, 2])])

    values = permutation_shap(interacting, rows, background, pairs=2, seed=0)
    assert values.shape == (7, 4, 2)
    np.testing.assert_allclose(values.sum(axis=1), interacting(rows) - interacting(background).mean(axis=0),
                               atol=1e-12)
    np.testing.assert_allclose(values[:, 3], 0, atol=1e-12)  # a column the model ignores gets nothing


def test_permutation_shap_in_blocks_gives_the_same_values(monkeypatch):
    from dladvisor.explain import tabular

    rng = np.random.default_rng(1)
    rows, background = rng.normal(size=(9, 3)), rng.normal(size=(5, 3))

    def f(m):
        return np.sin(m[:, 0]) * m[:, 1] + m[:, 2]

    whole = tabular.permutation_shap(f, rows, background, pairs=1, seed=3)
    monkeypatch.setattr(tabular, "MASKED_CELLS", 1)  # one row per model call
    np.testing.assert_allclose(tabular.permutation_shap(f, rows, background, pairs=1, seed=3), whole)


@pytest.mark.parametrize("name", [s.name for s in list_candidates(preset="standard")
                                  if s.modality == "tabular" and not s.is_baseline])
def test_each_candidate_is_explained_by_the_explainer_it_names(name, mixed_frame):
    """`dladvisor candidates` lists the registry's `explainer`; it must be the one chosen for the fitted model."""
    from dladvisor.benchmark import CandidateResult

    model, *_ = _fitted(name, mixed_frame, "label")
    spec = get_candidate(name)
    candidate = CandidateResult(name=name, label=spec.label, family=spec.family, complexity=spec.complexity,
                                description=spec.description, modality="tabular", status="ok")
    assert explainer_for(candidate, model).name == spec.explainer
