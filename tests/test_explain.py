"""The explain stage on small real tables: every family gets its method, the budget plans the rows, red flags fire.

The tabular explainers themselves (exact SHAP adding up, the forest's row cost) are tested in test_explain_tabular.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.explain import Attribution, ModelExplanation, cramers_v, explain_models
from dladvisor.explain._common import grouped, rank_agreement, split_budget
from dladvisor.explain._flags import red_flags
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


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
    return dataset, profile, bench, explain_models(dataset, bench, profile, budget_seconds=20)


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


def test_every_model_is_explained_whole_within_a_generous_budget(leaky):
    dataset, profile, bench, report = leaky
    assert report.budget_seconds == 20
    for e in report.candidates:
        assert e.rows_explained == e.rows_planned > 0 and not e.budget_note and not e.cut_short
        assert e.seconds > 0
    linear_only = bench.model_copy(update={"candidates": tuple(c for c in bench.candidates if c.name == "linear")})
    default = explain_models(dataset, linear_only, profile)
    assert default.budget_seconds == pytest.approx(3.75)  # without a budget: 5% of a run whose benchmark had 60 s (80%)


def test_a_tiny_budget_explains_the_best_model_on_its_floor_and_skips_the_others_saying_so(leaky):
    from dladvisor.explain._common import EXPLAINERS

    dataset, profile, bench, generous = leaky
    tiny = explain_models(dataset, bench, profile, budget_seconds=0.001)
    assert tiny.budget_seconds == 0.001
    best = bench.best("classical").name
    assert best in {e.candidate for e in tiny.candidates}  # the best model is always explained
    for e in tiny.candidates:
        kind = {"knn": "permutation", "linear": "linear", "xgboost": "xgboost"}[e.candidate]
        available = generous.get(e.candidate).rows_planned  # fold 1's held-out rows: 27 of 80
        floor = EXPLAINERS[kind].floor
        assert e.rows_explained == e.rows_planned == min(floor, available), e.candidate
        assert not e.cut_short  # the plan decided, not the clock
        assert bool(e.budget_note) == (e.rows_planned < available)
        # another model is explained only when its rows reach what it takes to judge the ranking (here: all 27)
        assert e.candidate == best or e.rows_planned == available
    # kNN's share covers its floor of 10 rows out of 27: too few to judge an explanation, so it is skipped, saying so.
    assert best != "knn" and tiny.cut_for_budget == ("knn",) and tiny.get("knn") is None
    assert "covers 10 rows" in tiny.not_explained["knn"]
    assert "fewer than the 27 needed to judge its explanation" in tiny.not_explained["knn"]
    assert generous.get("knn").rows_explained > 10 and not generous.cut_for_budget
    # Same budget, same plan: the rows come from the models' sizes, not from the clock.
    again = explain_models(dataset, bench, profile, budget_seconds=0.001)
    assert [(e.candidate, e.rows_planned, e.budget_note) for e in again.candidates] == [
        (e.candidate, e.rows_planned, e.budget_note) for e in tiny.candidates
    ]
    assert again.cut_for_budget == tiny.cut_for_budget


def test_the_budget_goes_first_to_what_cheap_models_need():
    shares = split_budget(10.0, {"linear": 0.5, "xgboost": 2.0, "forest": 100.0, "knn": 50.0})
    assert shares["linear"] == 0.5 and shares["xgboost"] == 2.0
    assert shares["forest"] == shares["knn"] == pytest.approx(3.75)  # the rest, split evenly
    assert sum(shares.values()) == pytest.approx(10.0)
    assert split_budget(10.0, {"a": 1.0, "b": 2.0}) == {"a": 1.0, "b": 2.0}  # nothing beyond what they need


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
    alerts = red_flags([_explanation("xgboost", shares)], bench, dataset, profile)
    assert {(a.code, a.column) for a in alerts} == {("sensitive_attribute", "sex"), ("sensitive_proxy", "sex_proxy")}


def test_no_flags_for_a_balanced_stable_explanation(leaky):
    dataset, profile, bench, _ = leaky
    shares = {"mean radius": 0.3, "mean texture": 0.25, "mean area": 0.2, "mean perimeter": 0.15, "biopsy_code": 0.1}
    assert red_flags([_explanation("xgboost", shares)], bench, dataset, profile) == []


def test_unstable_ranking_is_flagged(leaky):
    dataset, profile, bench, _ = leaky
    shares = {"mean radius": 0.3, "mean texture": 0.25, "mean area": 0.2, "mean perimeter": 0.15, "biopsy_code": 0.1}
    alerts = red_flags([_explanation("xgboost", shares, stability=0.2)], bench, dataset, profile)
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
    assert rank_agreement(a, {k: v * 10 for k, v in a.items()}) == pytest.approx(1.0)
    assert rank_agreement(a, {"x": 0.5, "y": 1.0, "z": 2.0, "w": 3.0}) == pytest.approx(-1.0)


def test_unrelated_columns_have_low_association():
    rng = np.random.default_rng(0)
    a, b = pd.Series(rng.normal(size=500)), pd.Series(rng.choice(["p", "q"], 500))
    assert cramers_v(a, b) < 0.2


def test_correlated_columns_form_one_group_for_stability():
    from sklearn.datasets import load_breast_cancer

    from dladvisor.explain import correlated_groups

    frame = load_breast_cancer(as_frame=True).frame.drop(columns=["target"])
    groups = correlated_groups(frame)
    assert groups["mean radius"] == groups["mean perimeter"] == groups["mean area"]
    assert groups["mean radius"] != groups["mean texture"]
    # Two fold models crediting different synonyms: unstable column by column, identical by group.
    a = {"mean radius": 0.5, "mean perimeter": 0.1, "mean texture": 0.3, "mean smoothness": 0.05}
    b = {"mean radius": 0.1, "mean perimeter": 0.5, "mean texture": 0.3, "mean smoothness": 0.05}
    assert rank_agreement(a, b) < 0.5
    assert rank_agreement(grouped(a, groups), grouped(b, groups)) == 1.0
