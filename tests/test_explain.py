"""The explain stage on small real tables: exact SHAP adds up, columns are recovered from encodings, red flags fire."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark import BuildContext, feature_spec, get_candidate, run_benchmark
from dladvisor.explain import (
    Attribution,
    ModelExplanation,
    _column_groups,
    _rank_agreement,
    _red_flags,
    _split_pipeline,
    cramers_v,
    exact_explainer,
    explain_models,
)
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def _fitted(name: str, frame: pd.DataFrame, target: str):
    dataset = load_dataset(frame, target=target)
    profile = profile_dataset(dataset)
    features = feature_spec(profile, dataset)
    ctx = BuildContext(task=dataset.task, n_classes=len(dataset.classes), features=features, seed=0, n_jobs=1)
    X = dataset.features[features.all]
    return get_candidate(name).factory(ctx).fit(X, dataset.y), X


def _model_output(estimator, Z):
    if hasattr(estimator, "get_booster"):
        import xgboost

        return estimator.get_booster().predict(xgboost.DMatrix(Z, enable_categorical=True), output_margin=True)
    if hasattr(estimator, "estimators_"):
        return estimator.predict_proba(Z)
    return estimator.decision_function(Z)


@pytest.mark.parametrize("name,kind", [("xgboost", "tree"), ("random_forest", "tree"), ("linear", "linear")])
@pytest.mark.parametrize("fixture,target", [("mixed_frame", "label"), ("iris_frame", "species")])
def test_exact_shap_values_add_up_to_the_model_output(name, kind, fixture, target, request):
    model, X = _fitted(name, request.getfixturevalue(fixture), target)
    values, base, Z, estimator = exact_explainer(model, kind, X.iloc[:30])(X.iloc[:20])
    output = _model_output(estimator, Z)
    total = values.sum(axis=1) + base
    if output.ndim == 2 and total.ndim == 1:  # binary forests explain P(class 1)
        output = output[:, 1]
    if output.ndim == 2 and total.ndim == 2 and total.shape != output.shape:
        total = total.T
    np.testing.assert_allclose(total, output, atol=1e-4)


def test_encoded_inputs_map_back_to_their_columns(mixed_frame):
    model, X = _fitted("linear", mixed_frame, "label")
    preprocess, _ = _split_pipeline(model)
    owners = _column_groups(preprocess, list(X.columns))
    assert set(owners) <= set(X.columns)
    assert owners.count("region") == 3  # one-hot levels north/south/east
    assert owners.count("signup") == 3  # days, month, weekday


@pytest.fixture(scope="module")
def leaky(cancer_frame):
    """Real tumour measurements plus a column recorded after diagnosis: a noisy copy of the label."""
    rng = np.random.default_rng(0)
    frame = cancer_frame.copy()
    malignant = frame["diagnosis"] == "malignant"
    frame["biopsy_code"] = np.where(malignant, rng.normal(3, 1, len(frame)), rng.normal(0, 1, len(frame))).round(2)
    frame["sex"] = np.where(rng.random(len(frame)) < 0.5, "f", "m")
    frame["sex_proxy"] = np.where(frame["sex"] == "f", rng.normal(1, 0.1, len(frame)), rng.normal(0, 0.1, len(frame)))
    dataset = load_dataset(frame, target="diagnosis", sensitive_columns=("sex",))
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=["xgboost", "linear", "knn"],
                          time_budget_seconds=60, learning_curves=False)
    return dataset, profile, bench, explain_models(dataset, bench, profile)


def test_every_tabular_family_is_explained_with_its_method(leaky):
    *_, report = leaky
    methods = {e.candidate: (e.method, e.level) for e in report.candidates}
    assert methods == {
        "linear": ("exact linear SHAP", "native"),
        "knn": ("permutation SHAP (model-agnostic)", "approximate post-hoc"),
        "xgboost": ("exact tree SHAP", "exact post-hoc"),
    }
    for e in report.candidates:
        assert e.rows_explained > 0 and e.ms_per_row > 0
        assert e.stability is not None and -1 <= e.stability <= 1
        assert e.stability_basis.startswith("3 models fitted on different folds")
        shares = [i.share for i in e.importances]  # the top 10 of 11 columns, largest first
        assert len(shares) == 10 and shares == sorted(shares, reverse=True) and 0.9 < sum(shares) <= 1.0001


def test_leaked_column_tops_the_attribution_and_raises_the_alert(leaky):
    *_, report = leaky
    for e in report.candidates:
        assert e.importances[0].feature == "biopsy_code"
    flags = [a for a in report.alerts if a.code == "attribution_dominance"]
    assert [a.column for a in flags] == ["biopsy_code"]
    assert "leakage suspect" in flags[0].message


def _explanation(candidate: str, shares: dict[str, float], stability: float = 0.9) -> ModelExplanation:
    return ModelExplanation(
        candidate=candidate, modality="tabular", level="exact post-hoc", method="exact tree SHAP", output="log-odds",
        unit="column", importances=tuple(Attribution(feature=f, mean_abs_shap=v, share=v) for f, v in shares.items()),
        top_share=max(shares.values()), rows_explained=50, ms_per_row=1.0, stability=stability,
        stability_basis="3 models fitted on different folds",
    )


def test_sensitive_attribute_and_its_proxy_in_the_top_features_are_flagged(leaky):
    dataset, profile, bench, _ = leaky
    assert dataset.sensitive_columns == ("sex",)
    assert cramers_v(dataset.features["sex_proxy"], dataset.features["sex"]) > 0.9
    shares = {"mean radius": 0.3, "sex_proxy": 0.25, "sex": 0.2, "mean texture": 0.15, "biopsy_code": 0.1}
    alerts = _red_flags([_explanation("xgboost", shares)], bench, dataset, profile)
    assert {(a.code, a.column) for a in alerts} == {("sensitive_attribute", "sex"), ("sensitive_proxy", "sex_proxy")}


def test_no_flags_for_a_balanced_stable_explanation(leaky):
    dataset, profile, bench, _ = leaky
    shares = {"mean radius": 0.3, "mean texture": 0.25, "mean area": 0.2, "mean perimeter": 0.15, "biopsy_code": 0.1}
    assert _red_flags([_explanation("xgboost", shares)], bench, dataset, profile) == []


def test_unstable_ranking_is_flagged(leaky):
    dataset, profile, bench, _ = leaky
    shares = {"mean radius": 0.3, "mean texture": 0.25, "mean area": 0.2, "mean perimeter": 0.15, "biopsy_code": 0.1}
    alerts = _red_flags([_explanation("xgboost", shares, stability=0.2)], bench, dataset, profile)
    assert [a.code for a in alerts] == ["unstable_explanation"]


def test_agreement_compares_best_classical_and_best_deep(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=["linear", "mlp"], time_budget_seconds=60,
                          learning_curves=False)
    report = explain_models(dataset, bench, profile)
    assert report.agreement is not None
    assert (report.agreement.classical, report.agreement.deep) == ("linear", "mlp")
    assert 0 <= report.agreement.overlap <= 1
    assert len(report.agreement.shared) == round(report.agreement.overlap * report.agreement.k)


def test_rank_agreement_is_one_for_same_order_and_negative_for_reversed():
    a = {"x": 3.0, "y": 2.0, "z": 1.0, "w": 0.5}
    assert _rank_agreement(a, {k: v * 10 for k, v in a.items()}) == pytest.approx(1.0)
    assert _rank_agreement(a, {"x": 0.5, "y": 1.0, "z": 2.0, "w": 3.0}) == pytest.approx(-1.0)


def test_unrelated_columns_have_low_association():
    rng = np.random.default_rng(0)
    a, b = pd.Series(rng.normal(size=500)), pd.Series(rng.choice(["p", "q"], 500))
    assert cramers_v(a, b) < 0.2


def test_correlated_columns_form_one_group_for_stability():
    from sklearn.datasets import load_breast_cancer

    from dladvisor.explain import _grouped, _rank_agreement, correlated_groups

    frame = load_breast_cancer(as_frame=True).frame.drop(columns=["target"])
    groups = correlated_groups(frame)
    assert groups["mean radius"] == groups["mean perimeter"] == groups["mean area"]
    assert groups["mean radius"] != groups["mean texture"]
    # Two fold models crediting different synonyms: unstable column by column, identical by group.
    a = {"mean radius": 0.5, "mean perimeter": 0.1, "mean texture": 0.3, "mean smoothness": 0.05}
    b = {"mean radius": 0.1, "mean perimeter": 0.5, "mean texture": 0.3, "mean smoothness": 0.05}
    assert _rank_agreement(a, b) < 0.5
    assert _rank_agreement(_grouped(a, groups), _grouped(b, groups)) == 1.0
