"""The shared deep-learning machinery: training loop, time budget, out-of-memory back-off, diagnosis."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dladvisor.benchmark._torch import EpochLoss, diagnose, resolve_device, with_batch_backoff
from dladvisor.benchmark.mlp import TabularMLP
from dladvisor.errors import UserError


def _cancer_matrix(cancer_frame):
    X = cancer_frame.drop(columns="diagnosis").to_numpy(dtype=np.float32)
    X = (X - X.mean(0)) / X.std(0)
    y = (cancer_frame["diagnosis"] == "malignant").to_numpy().astype(int)
    return X, y


def test_training_lowers_the_loss_and_learns(cancer_frame):
    X, y = _cancer_matrix(cancer_frame)
    model = TabularMLP(task="binary", n_classes=2, epochs=30, patience=30, batch_size=16, seed=0).fit(X, y)
    history = model.training_log_.history
    assert history[-1].train_loss < history[0].train_loss * 0.5
    assert (model.predict(X) == y).mean() > 0.9
    assert model.predict_proba(X).shape == (len(y), 2)


def test_regression_targets_are_restored_to_their_scale(diabetes_frame):
    X = diabetes_frame.drop(columns="progression").to_numpy(dtype=np.float32)
    y = diabetes_frame["progression"].to_numpy()
    model = TabularMLP(task="regression", n_classes=0, epochs=50, seed=0).fit(X, y)
    assert abs(model.predict(X).mean() - y.mean()) < y.std()


def test_time_budget_is_respected(cancer_frame):
    X, y = _cancer_matrix(cancer_frame)
    X, y = np.repeat(X, 50, axis=0), np.repeat(y, 50)  # 4,000 rows, so an epoch takes a while
    started = time.perf_counter()
    model = TabularMLP(task="binary", n_classes=2, epochs=10_000, patience=10_000, batch_size=8, max_seconds=1.0)
    model.fit(X, y)
    assert time.perf_counter() - started < 3.0
    assert "time budget" in model.training_log_.stopped_because


def test_out_of_memory_halves_the_batch():
    calls = []

    def step(batch_size: int) -> str:
        calls.append(batch_size)
        if batch_size > 8:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return "done"

    assert with_batch_backoff(step, 64) == ("done", 8)
    assert calls == [64, 32, 16, 8]


def test_out_of_memory_backoff_inside_training(cancer_frame, monkeypatch):
    X, y = _cancer_matrix(cancer_frame)
    model = TabularMLP(task="binary", n_classes=2, epochs=3, batch_size=64, seed=0)
    original = TabularMLP._batches

    def batches_that_overflow(self, inputs, rows, targets, batch_size, *, training):
        if training and batch_size > 16:
            raise RuntimeError("CUDA out of memory (simulated)")
        return original(self, inputs, rows, targets, batch_size, training=training)

    monkeypatch.setattr(TabularMLP, "_batches", batches_that_overflow)
    monkeypatch.setattr(TabularMLP, "_probe", lambda *args: 1e-6)
    model.fit(X, y)
    assert model.training_log_.batch_size == 16 and model.training_log_.epochs_run == 3


def test_other_errors_are_not_swallowed():
    def step(batch_size: int):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        with_batch_backoff(step, 64)


def _history(pairs):
    return [EpochLoss(epoch=i + 1, train_loss=t, val_loss=v) for i, (t, v) in enumerate(pairs)]


@pytest.mark.parametrize(
    ("pairs", "diagnosis"),
    [
        ([(0.7, 0.7), (0.5, 0.52), (0.45, 0.47), (0.44, 0.47)], "converged"),
        ([(0.7, 0.7), (0.6, 0.62), (0.5, 0.55)], "underfitting"),
        ([(0.7, 0.6), (0.4, 0.5), (0.2, 0.58), (0.1, 0.7)], "overfitting"),
        ([(0.7, 0.7), (2.0, 2.5), (9.0, 9.5)], "diverging"),
        ([(0.7, 0.7)], "too short to tell"),
    ],
)
def test_diagnosis(pairs, diagnosis):
    found, advice = diagnose(_history(pairs))
    assert found == diagnosis and advice


@pytest.mark.parametrize(
    ("val", "diagnosis"),
    [
        ([0.7, 0.52, 0.47, 0.47], "converged"),
        ([0.7, 0.62, 0.55], "underfitting"),
        ([0.6, 0.5, 0.58, 0.7], "overfitting"),
        ([0.7, 2.5, 9.5], "diverging"),
        ([0.7, float("nan")], "diverging"),
        ([0.7], "too short to tell"),
    ],
)
def test_diagnosis_from_the_validation_loss_alone(val, diagnosis):
    """pytabkit's RealMLP logs its validation loss only: the curve is read without a training loss."""
    history = [EpochLoss(epoch=i + 1, train_loss=None, val_loss=v) for i, v in enumerate(val)]
    found, advice = diagnose(history)
    assert found == diagnosis and advice and ("training loss kept" not in advice)


def test_device_choice():
    assert resolve_device("cpu") == "cpu"
    import torch

    if not torch.cuda.is_available():
        assert resolve_device("auto") == "cpu"
        with pytest.raises(UserError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(UserError, match="Unknown --device"):
        resolve_device("tpu")


def test_the_advice_names_the_epoch_the_training_kept():
    # Two epochs tie for the lowest validation loss; the loop kept the first (it needs a real improvement).
    history = _history([(0.7, 0.6), (0.4, 0.5), (0.3, 0.5), (0.1, 0.7)])
    assert "best at epoch 2" in diagnose(history, best_epoch=2)[1]
    assert "best at epoch 3" in diagnose(history)[1]  # unnamed: the last of the tied epochs
