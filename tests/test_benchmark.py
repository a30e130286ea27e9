from __future__ import annotations

import math

import numpy as np
import pytest

from dladvisor.benchmark import list_candidates, make_folds, run_benchmark
from dladvisor.benchmark._metrics import score_fold, summarize
from dladvisor.errors import UserError
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def _bench(frame, target, **options):
    dataset = load_dataset(frame, target=target)
    return dataset, run_benchmark(dataset, profile_dataset(dataset), **options)


TABULAR = [spec.name for spec in list_candidates(preset="standard") if spec.modality == "tabular"]


@pytest.fixture(scope="module")
def cancer_bench(cancer_frame):
    return _bench(cancer_frame, "diagnosis", n_folds=3, learning_curves=False)


def test_candidates_follow_the_columns(cancer_bench, reviews_frame):
    _, bench = cancer_bench
    assert [c.name for c in bench.candidates] == TABULAR  # no text or image candidates for a numeric table
    assert bench.lift is not None and bench.lift.deep == "mlp"
    assert bench.get("lightgbm").fold_models[0][-1].patience == 300  # pytabkit's tuned-defaults patience


def test_the_fast_preset_runs_a_few_strong_defaults(cancer_frame):
    _, bench = _bench(cancer_frame, "diagnosis", n_folds=3, preset="fast")
    assert [c.name for c in bench.candidates] == ["dummy", "linear", "lightgbm", "mlp"]
    assert bench.learning_curves is None and "learning curves: not drawn under --preset fast" in bench.cuts[0]
    assert bench.lift is not None and bench.lift.deep == "mlp"
    assert bench.get("lightgbm").fold_models[0][-1].patience == 50  # a CI run stops the boosters sooner
    with pytest.raises(UserError, match="Unknown --preset 'quick'; use one of fast, standard, thorough"):
        _bench(cancer_frame, "diagnosis", preset="quick")


@pytest.mark.parametrize("name", TABULAR)
def test_every_candidate_learns_binary_data(cancer_bench, name):
    _, bench = cancer_bench
    result = bench.get(name)
    assert result.status == "ok", result.reason
    roc_auc = result.metrics["roc_auc"]
    assert len(roc_auc.per_fold) == 3 and roc_auc.ci_low <= roc_auc.mean <= roc_auc.ci_high
    if name == "dummy":
        assert roc_auc.mean == 0.5
    else:
        assert roc_auc.mean > 0.85  # tumour size separates the classes well even on 80 rows
    assert result.oof.shape == (80, 2) and not np.isnan(result.oof).any()
    assert result.timing.fit_seconds_total > 0 and result.timing.model_size_bytes > 0


_TINY_FAIL = pytest.mark.xfail(strict=True, reason="RealMLP-TD on 53 training rows does not beat the mean (RMSE 84 vs "
                               "75 here; 82 vs 71 on the raw 80 rows without dladvisor's encoding, measured)")


@pytest.mark.parametrize("name", [pytest.param(s.name, marks=_TINY_FAIL) if s.name == "realmlp" else s.name
                                  for s in list_candidates("regression") if s.modality == "tabular"])
def test_every_candidate_runs_regression_with_mixed_columns(diabetes_frame, name):
    frame = diabetes_frame.copy()
    frame["sex"] = np.where(frame["sex"] > 0, "f", "m")  # a categorical column
    frame.loc[::7, "bmi"] = np.nan  # missing values, imputed inside the folds
    frame["visit"] = "2024-01-" + (frame.index % 28 + 1).astype(str).str.zfill(2)  # a date column
    _, bench = _bench(frame, "progression", n_folds=3, candidates=[name], learning_curves=False)
    result = bench.get(name)
    assert result.status == "ok", result.reason
    assert set(result.metrics) == {"rmse", "mae", "r2"}
    if name != "dummy":
        assert result.metrics["rmse"].mean < bench.get("dummy").metrics["rmse"].mean


def test_multiclass_metrics(iris_frame):
    _, bench = _bench(iris_frame, "species", n_folds=3, candidates=["linear"], learning_curves=False)
    linear = bench.get("linear")
    assert linear.metrics["accuracy"].mean > 0.85
    assert bench.get("dummy").status == "ok"  # the baseline is always added
    assert linear.oof.shape == (60, 3)


def test_every_candidate_sees_the_same_folds(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    folds, info = make_folds(dataset, n_folds=4, seed=3)
    again, _ = make_folds(dataset, n_folds=4, seed=3)
    assert info.kind == "stratified"
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    tested = np.sort(np.concatenate([test for _, test in folds]))
    assert np.array_equal(tested, np.arange(dataset.n_rows))


def test_grouped_and_time_ordered_folds(cancer_frame):
    frame = cancer_frame.assign(patient=np.arange(len(cancer_frame)) // 4)
    dataset = load_dataset(frame, target="diagnosis", group_column="patient")
    folds, info = make_folds(dataset, n_folds=4, seed=0)
    assert info.kind == "grouped" and "patient" not in profile_dataset(dataset).tabular_columns
    for train, test in folds:
        assert not set(frame["patient"].iloc[train]) & set(frame["patient"].iloc[test])
    dated = cancer_frame.assign(when=np.arange(len(cancer_frame)))
    dataset = load_dataset(dated, target="diagnosis", time_column="when")
    folds, info = make_folds(dataset, n_folds=3, seed=0)
    assert info.kind == "time-ordered" and all(train.max() < test.min() for train, test in folds)


def test_fold_count_is_validated(cancer_frame):
    dataset = load_dataset(cancer_frame.head(20), target="diagnosis")
    rare = dataset.classes[int(np.bincount(dataset.y).argmin())]
    with pytest.raises(UserError, match=f"Class '{rare}' has only"):
        make_folds(dataset, n_folds=10, seed=0)
    with pytest.raises(UserError, match="at least 2"):
        make_folds(dataset, n_folds=1, seed=0)


def test_time_budget_skips_instead_of_overrunning(cancer_frame):
    _, bench = _bench(cancer_frame, "diagnosis", n_folds=3, time_budget_seconds=1e-9, learning_curves=False)
    assert {c.status for c in bench.candidates} == {"skipped"}
    assert "raise --time-budget" in bench.candidates[0].reason


def test_unknown_candidate_suggests_a_name(cancer_frame):
    with pytest.raises(UserError, match="Did you mean 'xgboost'"):
        _bench(cancer_frame, "diagnosis", candidates=["xgbost"])


def test_summary_uses_student_t_interval_and_metric_bounds():
    summary = summarize([0.80, 0.82, 0.84, 0.86, 0.88], "roc_auc")
    half = 2.7764451 * np.std([0.80, 0.82, 0.84, 0.86, 0.88], ddof=1) / math.sqrt(5)
    assert summary.mean == pytest.approx(0.84)
    assert summary.ci_low == pytest.approx(0.84 - half, abs=1e-6)
    assert summarize([0.99, 1.0, 0.97], "roc_auc").ci_high == 1.0


def test_fold_scores_on_known_predictions():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.35, 0.65], [0.2, 0.8]])
    scores = score_fold("binary", y, proba, 2)
    assert scores["roc_auc"] == 1.0 and scores["accuracy"] == 1.0
    assert scores["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.6, 0.65, 0.8])))
    regression = score_fold("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]), 0)
    assert regression["rmse"] == pytest.approx(math.sqrt(4 / 3)) and regression["mae"] == pytest.approx(2 / 3)


def test_a_truncated_deep_curve_gives_no_verdict_on_more_data():
    from dladvisor.benchmark._compare import CurvePoint, LearningCurve, read_curves

    classical = LearningCurve(candidate="c", label="TF-IDF", points=(
        CurvePoint(rows_offered=400, rows_used=400, score=0.90), CurvePoint(rows_offered=800, rows_used=800,
                                                                            score=0.91)))
    starved = LearningCurve(candidate="d", label="MiniLM", points=(
        CurvePoint(rows_offered=200, rows_used=200, score=0.80), CurvePoint(rows_offered=1600, rows_used=426,
                                                                            score=0.84)))
    reading = read_curves(classical, starved, metric="roc_auc", higher_is_better=True)
    assert "426 of the 1,600 rows" in reading and "keep or widen" not in reading
    full = starved.model_copy(update={"points": (starved.points[0], CurvePoint(rows_offered=1600, rows_used=1600,
                                                                                   score=0.84))})
    assert "426" not in read_curves(classical, full, metric="roc_auc", higher_is_better=True)


def _curves(classical_scores, deep_scores, rows=(1000, 2000)):
    from dladvisor.benchmark._compare import CurvePoint, LearningCurve, LearningCurves

    def curve(name, scores):
        return LearningCurve(candidate=name, label=name.upper(), points=tuple(
            CurvePoint(rows_offered=r, rows_used=r, score=s) for r, s in zip(rows, scores, strict=True)))

    return LearningCurves(metric="roc_auc", evaluated_rows=500, curves=(curve("xgboost", classical_scores),
                                                                        curve("mlp", deep_scores)), reading="")


def test_more_rows_are_projected_from_the_curves_last_doubling():
    from dladvisor.benchmark import project_to_rows

    # The sample is 1/8 of the table: 3 doublings. XGBoost +0.002 a doubling, the MLP +0.010: a 0.02 gap closes at
    # 0.008 a doubling, after 2.5 doublings, within the 3.
    closing = project_to_rows(_curves((0.898, 0.900), (0.870, 0.880)), sample_rows=100_000, whole_rows=800_000,
                              higher_is_better=True)
    assert "3.0 doublings" in closing and "XGBOOST would improve by up to 0.006 ROC-AUC" in closing
    assert "MLP by up to 0.030;" in closing and "after about 2.5 doublings" in closing
    assert "more rows could change the winner" in closing and "Projected, not measured" in closing
    # Twice as many rows only (1 doubling): the same pace does not close the gap.
    holding = project_to_rows(_curves((0.898, 0.900), (0.870, 0.880)), sample_rows=100_000, whole_rows=200_000,
                              higher_is_better=True)
    assert "XGBOOST keeps its lead" in holding and "likely holds on every row" in holding
    # Lower is better (RMSE): a falling curve is a gain.
    rmse = project_to_rows(_curves((30.0, 29.0), (31.0, 30.9)).model_copy(update={"metric": "rmse"}),
                           sample_rows=1000, whole_rows=4000, higher_is_better=False)
    assert "XGBOOST would improve by up to 2.000 RMSE" in rmse and "XGBOOST keeps its lead" in rmse


def test_a_failing_candidate_never_sinks_the_run(cancer_frame, monkeypatch):
    import dataclasses

    import torch

    from dladvisor.benchmark import _registry

    spec = _registry.get_candidate("knn")

    def out_of_memory(ctx):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB\nmore detail")

    monkeypatch.setitem(_registry._REGISTRY, "knn", dataclasses.replace(spec, factory=out_of_memory))
    _, bench = _bench(cancer_frame, "diagnosis", n_folds=3, learning_curves=False,
                      candidates=["linear", "knn", "xgboost"])
    knn = bench.get("knn")
    assert knn.status == "failed" and knn.reason == "OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 GiB"
    assert {c.name for c in bench.completed} == {"dummy", "linear", "xgboost"}


def test_bootstrap_auc_by_row_weights_equals_scikit_learn_on_the_resample():
    from sklearn.metrics import roc_auc_score

    from dladvisor.benchmark._compare import _WeightedAUC

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.random(500) + 0.3 * y, 1)  # coarse: many ties
    auc = _WeightedAUC(y, score)
    for _ in range(5):
        sample = rng.choice(500, 500, replace=True)
        weights = np.bincount(sample, minlength=500).astype(float)
        assert auc(weights) == pytest.approx(roc_auc_score(y[sample], score[sample]), abs=1e-12)


def test_realmlp_epoch_log_keeps_padded_nan_and_inf_epochs():
    """pytabkit pads its values to six characters: a diverging epoch ("=    nan") must reach the diagnosis."""
    import math

    from dladvisor.benchmark.mlp import _epoch_losses

    log = ("Columns classified as continuous: ['a']\nEpoch 1/4: val cross_entropy = 0.693100\n"
           "Epoch 2/4: val cross_entropy =    nan\nEpoch 3/4: val cross_entropy =    inf\n"
           "Epoch 4/4: val cross_entropy = 12.500000\n")
    history = _epoch_losses(log)
    assert [h.epoch for h in history] == [1, 2, 3, 4] and math.isnan(history[1].val_loss)
    from dladvisor.benchmark._torch import diagnose

    assert diagnose(history)[0] == "diverging"


def test_realmlp_says_when_its_epochs_were_cut_to_the_budget(cancer_frame):
    """An epoch-starved RealMLP must count as stopped by the time budget, as a starved torch model does, so the
    verdict that compares with it is marked provisional."""
    from dladvisor.benchmark.mlp import REALMLP_EPOCHS, RealMLP

    X = cancer_frame.drop(columns="diagnosis").to_numpy()
    y = (cancer_frame["diagnosis"] == cancer_frame["diagnosis"].iloc[0]).to_numpy().astype(int)
    full = RealMLP().fit(X, y).training_log_
    assert full.epochs_run == REALMLP_EPOCHS and full.stopped_because.startswith("completed")
    # pytabkit's per-epoch validation loss feeds the diagnosis; its training loss is not logged
    assert [h.epoch for h in full.history] == list(range(1, REALMLP_EPOCHS + 1))
    assert all(h.train_loss is None and h.val_loss > 0 for h in full.history)
    val = [h.val_loss for h in full.history]
    assert full.history[full.best_epoch - 1].val_loss == min(val)
    assert full.diagnosis in ("converged", "overfitting", "underfitting")
    starved = RealMLP(max_seconds=0.5).fit(X, y).training_log_
    assert starved.epochs_run < REALMLP_EPOCHS and starved.stopped_because.startswith("time budget")
    assert len(starved.history) == starved.epochs_run  # the one-epoch probe's log too, when it is the model
    tuned = RealMLP(max_seconds=3, lr=0.1, p_drop=0.15, wd=0.02, plr_sigma=0.1).fit(X, y).model_  # thorough's knobs
    assert (tuned.lr, tuned.p_drop, tuned.wd, tuned.plr_sigma) == (0.1, 0.15, 0.02, 0.1)
