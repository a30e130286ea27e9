"""The text ladder on 60 hand-written reviews: TF-IDF baselines, frozen MiniLM embeddings, fine-tuned MiniLM."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.benchmark.text import TextFineTuner, embed_texts
from dladvisor.errors import UserError
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset

TEXT_CANDIDATES = ["tfidf_logistic", "tfidf_svm", "text_frozen", "text_finetune"]


@pytest.fixture(scope="module")
def ladder(reviews_frame):
    dataset = load_dataset(reviews_frame, target="sentiment")
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=TEXT_CANDIDATES, time_budget_seconds=90)
    return dataset, profile, bench


def test_review_column_is_detected_as_text(ladder):
    _, profile, bench = ladder
    assert profile.columns_of("text") == ["review"]
    assert bench.features_used == ["review"]


def test_every_rung_of_the_ladder_runs(ladder):
    _, _, bench = ladder
    results = {c.name: c for c in bench.candidates}
    assert set(results) == {"dummy", *TEXT_CANDIDATES}
    for name in TEXT_CANDIDATES:
        assert results[name].status == "ok", results[name].reason
    # On a CPU the frozen embeddings are computed once and their head cross-validated on the same folds as TF-IDF,
    # with a prediction for every review; only fine-tuning is fitted once and scored on the held-out rows.
    for name in ("tfidf_logistic", "text_frozen"):
        assert results[name].evaluation == "3-fold CV: 60 rows" and results[name].evaluated_rows == 60
        assert not results[name].on_holdout and np.isfinite(results[name].oof).all()
        assert len(results[name].metrics["roc_auc"].per_fold) == 3
    finetuned = results["text_finetune"]
    assert finetuned.on_holdout and finetuned.metrics["roc_auc"].method == "bootstrap"
    assert finetuned.evaluation == f"hold-out: {bench.holdout_rows} rows of fold 1"
    assert finetuned.evaluated_rows == bench.holdout_rows and "too slow on a CPU" in finetuned.reason
    # Pretrained sentence embeddings separate clear sentiment even from 40 training sentences.
    assert results["text_frozen"].metrics["roc_auc"].mean > 0.8


def test_deep_runs_log_their_loss_curves(ladder):
    _, _, bench = ladder
    # One log per fitted model: three cross-validated frozen heads, one fine-tuned model on the hold-out.
    for name, fits in (("text_frozen", 3), ("text_finetune", 1)):
        logs = bench.get(name).training
        assert len(logs) == fits
        for log in logs:
            assert log.epochs_run == len(log.history) >= 1 and log.diagnosis
            assert log.rows_used <= log.rows_available


def test_paired_lift_compares_the_same_rows(ladder):
    _, _, bench = ladder
    lift = bench.lift
    assert lift is not None and lift.classical in ("tfidf_logistic", "tfidf_svm")
    # Both cross-validated: all 60 rows; a fine-tuned model on the hold-out: the held-out rows.
    assert lift.rows == min(bench.get(lift.deep).evaluated_rows, bench.get(lift.classical).evaluated_rows)
    assert lift.ci_low <= lift.lift <= lift.ci_high
    assert lift.significant == (lift.ci_low > 0 or lift.ci_high < 0)


def test_learning_curves_cover_best_classical_and_best_deep(ladder):
    _, _, bench = ladder
    curves = bench.learning_curves
    assert [c.candidate for c in curves.curves] == [bench.lift.classical, bench.lift.deep]
    for curve in curves.curves:
        offered = [p.rows_offered for p in curve.points]
        assert offered == sorted(offered) and len(offered) == 3
    assert "doubling" in curves.reading


def test_frozen_embeddings_are_computed_once_across_folds(reviews_frame):
    from dladvisor.benchmark._pretrained import _CACHE, clear_caches
    from dladvisor.benchmark.text import _encoder

    dataset = load_dataset(reviews_frame, target="sentiment")
    profile = profile_dataset(dataset)
    clear_caches()
    encoded = []  # rows run through the real MiniLM while the cache is on (timing runs switch it off)

    def count(module, args, kwargs, output):
        if _CACHE["enabled"]:
            encoded.append(len(kwargs["input_ids"]))

    hook = _encoder("all-MiniLM-L6-v2", "cpu")[1].register_forward_hook(count, with_kwargs=True)
    try:
        bench = run_benchmark(dataset, profile, n_folds=3, candidates=["text_frozen"], time_budget_seconds=60,
                              learning_curves=False)
    finally:
        hook.remove()
    frozen = bench.get("text_frozen")
    assert frozen.evaluation == "3-fold CV: 60 rows" and len(frozen.fold_models) == 3
    assert sum(encoded) == reviews_frame["review"].nunique()
    # The heads train on every row of their folds: the embeddings were ready, so no subsampling for time.
    assert all(log.rows_used == log.rows_available == 40 for log in frozen.training)
    assert bench.holdout is None and len(bench.splits_for(frozen)) == 3


def test_frozen_embeddings_fall_back_to_the_holdout_when_they_do_not_fit(reviews_frame, monkeypatch):
    from dladvisor.benchmark import text
    from dladvisor.benchmark._pretrained import clear_caches

    # An encoder measured at one text a second could not embed 60 new reviews in the 30 s this candidate gets.
    monkeypatch.setattr(text, "_texts_per_second", lambda name, texts, device: 1.0)
    clear_caches()
    dataset = load_dataset(reviews_frame, target="sentiment")
    bench = run_benchmark(dataset, profile_dataset(dataset), n_folds=3, candidates=["text_frozen"],
                          time_budget_seconds=30, learning_curves=False)
    frozen = bench.get("text_frozen")
    assert frozen.status == "ok" and frozen.on_holdout
    assert frozen.evaluation == f"hold-out: {bench.holdout_rows} rows of fold 1"
    assert frozen.evaluated_rows == bench.holdout_rows == np.isfinite(frozen.oof).all(axis=1).sum()
    assert "embedding all 60 rows would take about 60 s" in frozen.reason
    assert "--time-budget" in frozen.reason
    assert [split is bench.holdout for split in bench.splits_for(frozen)] == [True]


def test_fine_tuning_lowers_the_training_loss(reviews_frame):
    X = reviews_frame[["review"]]
    y = (reviews_frame["sentiment"] == "positive").astype(int).to_numpy()
    model = TextFineTuner(
        model_name="all-MiniLM-L6-v2", text_columns=("review",), task="binary", n_classes=2, epochs=6, patience=6,
        learning_rate=1e-4, batch_size=16, seed=0,
    ).fit(X, y)
    history = model.training_log_.history
    assert history[-1].train_loss < history[0].train_loss


def test_embeddings_are_cached_and_normalised():
    texts = ["a good day", "a bad day", "a good day"]
    vectors = embed_texts("all-MiniLM-L6-v2", texts, "cpu")
    assert vectors.shape == (3, 384)
    assert (vectors[0] == vectors[2]).all()
    assert abs(float((vectors**2).sum(axis=1).mean()) - 1.0) < 1e-4


def test_unreachable_text_model_is_a_clear_error(reviews_frame, hub_offline):
    dataset = load_dataset(reviews_frame, target="sentiment")
    with pytest.raises(UserError, match="--text-model all-MiniLM-L6-v2"):
        run_benchmark(dataset, profile_dataset(dataset), n_folds=3, candidates=["text_frozen"],
                      text_model="no-such-org/no-such-model-for-dladvisor", learning_curves=False)
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_text_regression_ladder(reviews_frame):
    frame = reviews_frame.assign(stars=np.where(reviews_frame["sentiment"] == "positive", 5.0, 1.0))
    dataset = load_dataset(frame.drop(columns="sentiment"), target="stars", task="regression")
    bench = run_benchmark(dataset, profile_dataset(dataset), n_folds=3, time_budget_seconds=60,
                          candidates=["tfidf_logistic", "text_frozen", "text_finetune"], learning_curves=False)
    assert {c.name: c.status for c in bench.candidates} == {
        "dummy": "ok", "tfidf_logistic": "ok", "text_frozen": "ok", "text_finetune": "ok"
    }
    assert bench.primary_metric == "rmse" and bench.lift is not None and bench.lift.metric == "rmse"
    # Embeddings of clearly worded reviews predict the rating better than the mean does.
    assert bench.get("text_frozen").metrics["rmse"].mean < bench.get("dummy").metrics["rmse"].mean


def test_shap_explains_every_text_model_by_tokens(ladder):
    from dladvisor.explain import explain_models

    dataset, profile, bench = ladder
    # Time for every held-out review.
    report = explain_models(dataset, bench, profile, budget_seconds=40 * len(TEXT_CANDIDATES))
    explained = {e.candidate: e for e in report.candidates}
    assert set(explained) == set(TEXT_CANDIDATES)
    finetuned = explained["text_finetune"]
    assert finetuned.method == "Partition SHAP, text masker" and finetuned.unit == "token"
    assert finetuned.rows_explained > 0 and finetuned.importances
    assert set(finetuned.class_tokens) == {"negative", "positive"}
    example = finetuned.text_examples[0]  # its tokens put back together are one of the reviews
    joined = " ".join("".join(t.token for t in example.tokens).split()).lower()
    assert joined in {" ".join(r.split()).lower() for r in dataset.features["review"]}
    # The pretrained models learn sentiment from 40 reviews (TF-IDF cannot: they share few words), so the words that
    # push each class should read as praise and complaint.
    praise = {"great", "love", "lovely", "excellent", "perfect", "perfectly", "amazing", "impressive", "brilliant",
              "brilliantly", "comfortable", "fantastic", "recommend", "happy", "best"}
    complaint = {"terrible", "cracked", "crashes", "stopped", "unreliable", "faulty", "broke", "awful", "lost",
                 "disappointed", "never", "not", "worst", "useless"}
    for name in ("text_frozen", "text_finetune"):
        tokens = explained[name].class_tokens
        assert {t.token for t in tokens["positive"]} & praise, name
        assert {t.token for t in tokens["negative"]} & complaint, name

