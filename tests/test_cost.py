"""Projection formulas on known numbers, FLOP counts of a known network, and measured memory."""

from __future__ import annotations

import numpy as np
import pytest

from dladvisor.benchmark import BenchmarkResult, CandidateResult, MetricSummary, SplitInfo, Timing
from dladvisor.benchmark._measure import PeakMemory, forward_flops_per_sample
from dladvisor.benchmark._torch import TrainingLog
from dladvisor.cost import gpu_seconds, measure_costs, points_gained
from dladvisor.prices import load_prices
from dladvisor.report.plots import pareto_front


def _timing(fit, throughput, flops=None):
    return Timing(fit_seconds_total=fit * 5, fit_seconds_per_fold=fit, predict_ms_per_1k_rows=1e6 / throughput,
                  throughput_rows_per_second=throughput, single_row_latency_ms_p50=1, single_row_latency_ms_p95=2,
                  model_size_bytes=1000, peak_host_memory_mb=10, forward_flops_per_sample=flops)


def _candidate(name, family, mean, timing, **extra):
    return CandidateResult(
        name=name, label=name, family=family, complexity=0 if family == "baseline" else 1, description="",
        status="ok", timing=timing,
        metrics={"roc_auc": MetricSummary(mean=mean, ci_low=mean - 0.01, ci_high=mean + 0.01, std=0.01,
                                          per_fold=(mean,))},
        **extra,
    )


@pytest.fixture
def bench():
    log = TrainingLog(device="cpu", rows_available=800, rows_used=400, epochs_run=2, best_epoch=2, batch_size=32,
                      stopped_because="", seconds=1, history=(), diagnosis="converged", advice="",
                      samples_per_second=10)
    return BenchmarkResult(
        task="binary", primary_metric="roc_auc", higher_is_better=True,
        split=SplitInfo(kind="stratified", n_folds=5, description=""), features_used=["x"], time_budget_seconds=60,
        candidates=(
            _candidate("dummy", "baseline", 0.5, _timing(0.01, 1e6)),
            _candidate("linear", "classical", 0.80, _timing(36.0, 100_000.0)),
            _candidate("text_finetune", "deep", 0.85, _timing(100.0, 10.0, flops=1e9), modality="text",
                       ladder_step="fine-tune", training=(log,)),
        ),
    )


def test_classical_projection_scales_measured_time(bench):
    prices = load_prices().with_overrides(cpu_hourly=1.0, gpu_hourly=2.0)
    report = measure_costs(bench, prices, n_rows=1000, retrain="monthly", predictions_per_month=2_000_000)
    linear = report.get("linear")
    # 36 s on 800 training rows (4 of 5 folds of 1,000) -> 45 s for 1,000 rows = 0.0125 h at $1/h.
    assert linear.train_hours_full_data == pytest.approx(45 / 3600)
    assert linear.train_usd_per_run == pytest.approx(0.0125)
    # 100,000 predictions/s -> 1e6 predictions take 10 s = 1/360 h at $1/h.
    assert linear.inference_usd_per_million == pytest.approx(10 / 3600, rel=1e-4)
    assert linear.total_usd_12_months == pytest.approx(12 * 0.0125 + 12 * 2 * 10 / 3600, rel=1e-4)
    assert "scaled linearly" in linear.basis


def test_pretrained_model_on_cpu_is_projected_onto_the_gpu(bench):
    prices = load_prices().with_overrides(gpu_hourly=2.0)
    deep = measure_costs(bench, prices, n_rows=1000, retrain="never").get("text_finetune")
    flops = 3 * 1e9 * 1000 * 2  # training: 3 x forward FLOPs x rows x epochs
    expected_seconds = flops / (prices.gpu.gpu_peak_tflops * 1e12 * prices.assumed_gpu_utilization)
    assert deep.train_hours_full_data == pytest.approx(expected_seconds / 3600, rel=1e-3)
    assert deep.train_usd_per_run == pytest.approx(expected_seconds / 3600 * 2.0, rel=1e-3)
    assert deep.projected_on == prices.default_gpu and "GPU projection from counted FLOPs" in deep.basis
    assert gpu_seconds(1e12, prices) == pytest.approx(1 / (prices.gpu.gpu_peak_tflops * prices.assumed_gpu_utilization))


def test_cost_per_point_is_measured_against_the_cheapest_acceptable_model(bench):
    report = measure_costs(bench, load_prices(), n_rows=1000)
    assert report.reference == "linear"
    deep, linear = report.get("text_finetune"), report.get("linear")
    assert deep.usd_per_point_gained == pytest.approx(
        (deep.total_usd_12_months - linear.total_usd_12_months) / 5.0, rel=1e-3
    )
    assert linear.usd_per_point_gained is None
    assert points_gained("rmse", 90.0, 100.0, higher_is_better=False) == pytest.approx(10.0)


def test_pareto_front():
    points = [(1.0, 0.80), (2.0, 0.79), (3.0, 0.85), (10.0, 0.84), (20.0, 0.90)]
    assert pareto_front(points, higher_is_better=True) == [0, 2, 4]
    assert pareto_front([(1.0, 5.0), (2.0, 4.0), (3.0, 6.0)], higher_is_better=False) == [0, 1]


def test_flops_of_a_known_network(cancer_frame):
    from dladvisor.benchmark.mlp import TabularMLP

    X = cancer_frame.drop(columns="diagnosis").to_numpy(dtype=np.float32)
    y = (cancer_frame["diagnosis"] == "malignant").to_numpy().astype(int)
    model = TabularMLP(task="binary", n_classes=2, epochs=1).fit(X, y)
    # Three linear layers, 2 FLOPs per multiply-add: 8->256, 256->128, 128->2.
    expected = 2 * (8 * 256 + 256 * 128 + 128 * 2)
    assert forward_flops_per_sample(model, X[:4]) == expected


def test_peak_memory_sees_an_allocation():
    with PeakMemory() as memory:
        block = np.ones(200 * 2**20 // 8)  # 200 MB
        block.sum()
        import time

        time.sleep(0.1)
    assert memory.host_mb > 150 and memory.gpu_mb is None
