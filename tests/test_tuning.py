"""--preset thorough: the best classical and the best deep family tuned alike, and the lift between the tuned pair."""

from __future__ import annotations

import re

import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.benchmark._tuning import MAX_TRIALS, MIN_TRIALS, plan_trials
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def test_both_sides_get_as_many_trials_as_the_slower_side_affords():
    # 100 s for two sides: 50 s each; the slower side's 4-second fits allow 12 trials, so both get 12.
    assert plan_trials([0.5, 4.0], 100.0) == 12
    assert plan_trials([0.01, 0.01], 1000.0) == MAX_TRIALS
    assert plan_trials([1.0, 30.0], 100.0) == 0  # fewer than MIN_TRIALS is no search
    assert MIN_TRIALS > 1


class _Lowest:
    """A stand-in for an Optuna trial that picks each range's low end and each list's first choice."""

    def suggest_float(self, name, low, high, **kwargs):
        return low

    suggest_int = suggest_float

    def suggest_categorical(self, name, choices):
        return choices[0]


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_every_search_space_sets_parameters_its_model_has(task, mixed_frame):
    """A search space naming a parameter the model does not take fails only when --preset thorough tunes it (TabM's
    did: its learning rate was invisible to set_params); the tuned model keeps the values when cloned."""
    from sklearn.base import clone

    from dladvisor.benchmark import BuildContext, feature_spec, list_candidates
    from dladvisor.benchmark._tuning import with_params

    dataset = load_dataset(mixed_frame, target="label")
    features = feature_spec(profile_dataset(dataset), dataset)
    ctx = BuildContext(task=task, n_classes=2, features=features, seed=0, n_jobs=1)
    spaces = [s for s in list_candidates(task) if s.search_space is not None]
    assert {"xgboost", "lightgbm", "catboost", "mlp", "tabm", "realmlp"} <= {s.name for s in spaces}
    for spec in spaces:
        params = spec.search_space(_Lowest())
        model = clone(with_params(spec.factory(ctx), params))
        step = model.steps[-1][1] if hasattr(model, "steps") else model
        assert {k: step.get_params()[k] for k in params} == params, spec.name
        assert getattr(step, "task", task) == task, spec.name


@pytest.fixture(scope="module")
def thorough(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    return run_benchmark(dataset, profile_dataset(dataset), n_folds=3, preset="thorough", time_budget_seconds=240,
                         learning_curves=False, candidates=["linear", "lightgbm", "mlp"])


def test_thorough_tunes_the_best_of_each_side_with_the_same_trials(thorough):
    lightgbm, mlp = thorough.get("lightgbm_tuned"), thorough.get("mlp_tuned")
    assert lightgbm.status == mlp.status == "ok", (lightgbm.reason, mlp.reason)
    assert (lightgbm.tuned_from, mlp.tuned_from) == ("lightgbm", "mlp")  # linear scored best but has no space
    trials = [int(re.search(r"(\d+) trials", c.tuning).group(1)) for c in (lightgbm, mlp)]
    assert trials[0] == trials[1] >= MIN_TRIALS
    assert len(lightgbm.metrics["roc_auc"].per_fold) == 3  # cross-validated on the same folds as the rest
    assert set(mlp.params) <= {"learning_rate", "weight_decay"}


def test_the_lift_is_between_the_tuned_pair(thorough):
    assert (thorough.lift.deep, thorough.lift.classical) == ("mlp_tuned", "lightgbm_tuned")


def test_too_little_time_leaves_the_defaults_and_says_so(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    bench = run_benchmark(dataset, profile_dataset(dataset), n_folds=3, preset="thorough", time_budget_seconds=8,
                          learning_curves=False, candidates=["lightgbm", "mlp"])
    assert not any(c.name.endswith("_tuned") for c in bench.candidates)
    assert any(cut.startswith("thorough tuning: not done") for cut in bench.cuts), bench.cuts


def test_the_report_says_both_sides_were_tuned_alike(cancer_frame, tmp_path):
    from dladvisor.config import AssessConfig
    from dladvisor.pipeline import assess
    from dladvisor.report import render_markdown

    config = AssessConfig(data="cancer-80", target="diagnosis", folds=3, seed=0, preset="thorough",
                          candidates=("linear", "lightgbm", "mlp"), learning_curves=False)
    markdown = render_markdown(assess(config, frame=cancer_frame), {})
    assert "**Tuned alike (--preset thorough):**" in markdown
    assert "| Deep: MLP (tabular, from scratch) (tuned) | Classical: LightGBM (tuned) |" in markdown
