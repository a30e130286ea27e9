"""Projection formulas on known numbers, FLOP counts of a known network, and measured memory."""

from __future__ import annotations

import numpy as np
import pytest

from dladvisor.benchmark import BenchmarkResult, CandidateResult, MetricSummary, SplitInfo, Timing
from dladvisor.benchmark._measure import PeakMemory, forward_flops_per_sample
from dladvisor.benchmark._torch import TrainingLog
from dladvisor.calibration import load_calibration
from dladvisor.cost import check_cost_options, format_hours, format_usd, gpu_seconds, measure_costs, points_gained
from dladvisor.errors import UserError
from dladvisor.prices import load_prices
from dladvisor.report.plots import pareto_front

HOURS_A_YEAR = 8760
PEAK_RPS_PER_MILLION = 1e6 / (730 * 3600)  # requests/s, on average, for a million predictions a month


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


def _log(rows_used, epochs, device="cpu"):
    return TrainingLog(device=device, rows_available=800, rows_used=rows_used, epochs_run=epochs, best_epoch=epochs,
                       batch_size=32, stopped_because="", seconds=1, history=(), diagnosis="converged", advice="",
                       samples_per_second=10)


def _bench(*candidates, device="cpu"):
    return BenchmarkResult(
        task="binary", primary_metric="roc_auc", higher_is_better=True,
        split=SplitInfo(kind="stratified", n_folds=5, description=""), features_used=["x"], time_budget_seconds=60,
        device=device, candidates=(_candidate("dummy", "baseline", 0.5, _timing(0.01, 1e6)), *candidates),
    )


@pytest.fixture
def bench():
    return _bench(
        _candidate("linear", "classical", 0.80, _timing(36.0, 100_000.0)),
        _candidate("text_finetune", "deep", 0.85, _timing(100.0, 10.0, flops=1e9), modality="text",
                   ladder_step="fine-tune", training=(_log(400, 2),)),
    )


def test_classical_model_pays_for_an_always_on_cpu_instance():
    bench = _bench(_candidate("linear", "classical", 0.80, _timing(360.0, 100_000.0)))
    prices = load_prices().with_overrides(cpu_hourly=1.0, gpu_hourly=2.0)
    report = measure_costs(bench, prices, n_rows=1000, retrain="monthly", predictions_per_month=2_000_000)
    linear = report.get("linear")
    # 360 s on 800 training rows (4 of 5 folds of 1,000) -> 450 s for 1,000 rows = 0.125 h at $1/h.
    assert linear.train_hours_full_data == pytest.approx(450 / 3600)
    assert linear.train_usd_per_run == pytest.approx(0.125)
    assert linear.train_on == prices.default_cpu and "scaled linearly" in linear.train_basis
    assert "minimum" not in linear.train_basis
    # 2.3 requests/s at the peak fit one instance many times over, but one stays up all year.
    assert linear.serving.instances == 1 and linear.serving.device == "cpu"
    assert linear.serving.usd_12_months == pytest.approx(HOURS_A_YEAR * 1.0)
    assert linear.serving_alternative is None
    assert linear.total_usd_12_months == pytest.approx(12 * 0.125 + HOURS_A_YEAR)
    # Online requests come one at a time: 4 vCPUs x 1 request per 1 ms latency = 4,000/s, not the batch 100,000/s;
    # busy compute per million predictions is then 250 s.
    assert linear.serving.throughput_per_instance == pytest.approx(4000)
    assert "single-row latency" in linear.serving.basis
    assert linear.inference_usd_per_million == pytest.approx(250 / 3600, rel=1e-4)
    assert report.peak_requests_per_second == pytest.approx(2 * PEAK_RPS_PER_MILLION * 3, rel=1e-4)


def test_fit_times_measured_on_a_row_sample_scale_to_the_whole_table():
    bench = _bench(_candidate("linear", "classical", 0.80, _timing(360.0, 100_000.0)))
    prices = load_prices().with_overrides(cpu_hourly=1.0, gpu_hourly=2.0)
    # 360 s on 800 training rows (4 of 5 folds of a 1,000-row sample) -> 450,000 s for the 1,000,000-row table.
    linear = measure_costs(bench, prices, n_rows=1_000_000, benchmark_rows=1000).get("linear")
    assert linear.train_hours_full_data == pytest.approx(450_000 / 3600)
    assert "measured on 800 rows, scaled linearly to 1,000,000" in linear.train_basis


def test_same_serving_note_says_when_each_model_outgrows_one_instance():
    bench = _bench(_candidate("linear", "classical", 0.80, _timing(1.0, 100_000.0)),
                   _candidate("mlp", "deep", 0.81, _timing(2.0, 50_000.0)))
    report = measure_costs(bench, load_prices(), n_rows=1000, retrain="monthly", predictions_per_month=1_000_000)
    note = report.same_serving_note("mlp", "linear")
    # Both answer 4,000 requests/s (4 vCPUs at 1 ms): 4,000 x 730 h x 3,600 s / peak factor 3 = 3.5 billion a month.
    assert note.startswith("Both costs are the same 1 × c7i.xlarge always on")
    assert "both need more from about 3.5 billion predictions a month" in note and note.count("3.5 billion") == 1
    # At 10 billion a month (11,400 requests/s at the peak) they need 3 instances each: still the same, still said.
    busy = measure_costs(bench, load_prices(), n_rows=1000, retrain="monthly", predictions_per_month=10**10)
    assert busy.get("linear").serving.instances == 3
    assert "the same 3 × c7i.xlarge" in busy.same_serving_note("mlp", "linear")
    slow = _timing(2.0, 50_000.0).model_copy(update={"single_row_latency_ms_p50": 10.0})
    bench = _bench(_candidate("linear", "classical", 0.80, _timing(1.0, 100_000.0)),
                   _candidate("mlp", "deep", 0.81, slow))
    differ = measure_costs(bench, load_prices(), n_rows=1000, retrain="monthly", predictions_per_month=10**10)
    assert differ.get("mlp").serving.instances == 29 and differ.same_serving_note("mlp", "linear") == ""
    # Same instance today, different headroom: each volume is named.
    slower = _timing(2.0, 50_000.0).model_copy(update={"single_row_latency_ms_p50": 2.0})
    bench = _bench(_candidate("linear", "classical", 0.80, _timing(1.0, 100_000.0)),
                   _candidate("mlp", "deep", 0.81, slower))
    note = measure_costs(bench, load_prices(), n_rows=1000, retrain="monthly").same_serving_note("mlp", "linear")
    assert "the deep model needs more from about 1.8 billion" in note
    assert "the classical one from about 3.5 billion" in note


def test_always_on_instance_at_list_price():
    bench = _bench(_candidate("xgboost", "classical", 0.9, _timing(1.0, 50_000.0)))
    xgb = measure_costs(bench, load_prices(), n_rows=1000).get("xgboost")
    assert xgb.serving.usd_12_months == pytest.approx(1563.66)  # 1 x c7i.xlarge x 8,760 h x $0.1785
    assert xgb.projected_on == "1 × c7i.xlarge always on"
    # A 1.25 s fit is billed the 60 s minimum: 12 runs x $0.1785 / 60.
    assert xgb.total_usd_12_months == pytest.approx(1563.66 + 12 * 0.1785 / 60, rel=1e-6)


@pytest.mark.parametrize(("predictions", "peak_factor", "instances"), [
    (1_000_000, 3, 1),  # 1.1 requests/s at the peak
    (1_000_000_000, 1, 4),  # 380.5 requests/s / 100 per instance
    (1_000_000_000, 3, 12),  # 1,141.6 requests/s
])
def test_instances_grow_with_predictions_and_peak_factor(predictions, peak_factor, instances):
    bench = _bench(_candidate("knn", "classical", 0.9, _timing(1.0, 100.0)))
    prices = load_prices()
    knn = measure_costs(bench, prices, n_rows=1000, predictions_per_month=predictions,
                        peak_factor=peak_factor).get("knn")
    assert knn.serving.instances == instances
    assert knn.serving.usd_12_months == pytest.approx(instances * HOURS_A_YEAR * prices.cpu.hourly_usd)
    assert f"{instances:,} instance(s)" in knn.serving.basis


def test_batch_serving_pays_for_busy_hours_only(bench):
    """Also: a 45-s fit is billed the 60-s minimum."""
    prices = load_prices().with_overrides(cpu_hourly=1.0)
    linear = measure_costs(bench, prices, n_rows=1000, predictions_per_month=2_000_000, serving="batch").get("linear")
    # 2,000,000 predictions / 100,000 per s = 20 s a month, 12 months at $1/h.
    assert linear.serving.instances == 0
    assert linear.serving.busy_hours_per_month == pytest.approx(20 / 3600)
    assert linear.serving.usd_12_months == pytest.approx(12 * 20 / 3600, rel=1e-4)
    assert "busy" in linear.projected_on and linear.serving.basis.startswith("batch")
    assert linear.train_hours_full_data == pytest.approx(45 / 3600)
    assert linear.train_usd_per_run == pytest.approx(1 / 60) and "Billed the 60-s minimum" in linear.train_basis


def test_deep_model_measured_on_cpu_gets_cpu_and_gpu_serving(bench):
    prices = load_prices()
    deep = measure_costs(bench, prices, n_rows=1000).get("text_finetune")
    utilization = load_calibration().workloads["text-forward"].utilization
    # CPU: 10 predictions/s measured cover the 1.1 requests/s peak; GPU: 1 GFLOP per prediction at the
    # calibrated share of the L4's peak. One always-on instance each: the CPU one is cheaper.
    assert deep.serving.device == "cpu" and deep.serving.instances == 1
    assert deep.serving.usd_12_months == pytest.approx(1563.66)
    gpu = deep.serving_alternative
    assert gpu.device == "gpu" and gpu.instance == prices.default_gpu and gpu.instances == 1
    assert gpu.throughput_per_instance == pytest.approx(prices.gpu.gpu_peak_tflops * 1e12 * utilization / 1e9)
    assert gpu.usd_12_months == pytest.approx(HOURS_A_YEAR * prices.gpu.hourly_usd)
    assert "uncalibrated assumption" in gpu.basis and "measured here" in deep.serving.basis
    # At 100 million predictions a month the CPU needs 12 instances (114 requests/s / 10); one GPU does.
    busy = measure_costs(bench, prices, n_rows=1000, predictions_per_month=100_000_000).get("text_finetune")
    assert busy.serving.device == "gpu" and busy.serving.instances == 1
    assert busy.serving_alternative.device == "cpu" and busy.serving_alternative.instances == 12
    assert busy.total_usd_12_months > 5000  # a playbook limit of $5,000 a year would be breached


def test_pretrained_model_on_cpu_trains_on_the_gpu_from_flops(bench):
    prices = load_prices().with_overrides(gpu_hourly=2.0)
    deep = measure_costs(bench, prices, n_rows=1_000_000, retrain="never").get("text_finetune")
    utilization = load_calibration().workloads["text-train"].utilization
    flops = 3 * 1e9 * 1_000_000 * 2  # training: 3 x forward FLOPs x rows x epochs
    expected_seconds = flops / (prices.gpu.gpu_peak_tflops * 1e12 * utilization)
    assert expected_seconds > 60  # above the billing minimum, so the dollars follow the FLOPs
    assert deep.train_hours_full_data == pytest.approx(expected_seconds / 3600, rel=1e-3)
    assert deep.train_usd_per_run == pytest.approx(expected_seconds / 3600 * 2.0, rel=1e-3)
    assert deep.train_on == prices.default_gpu and "uncalibrated assumption" in deep.train_basis
    assert gpu_seconds(1e12, prices.gpu, 0.5) == pytest.approx(1 / (prices.gpu.gpu_peak_tflops * 0.5))


def test_each_family_has_its_own_calibration(bench):
    image = _bench(_candidate("image_finetune", "deep", 0.85, _timing(100.0, 10.0, flops=1e9), modality="image",
                              ladder_step="fine-tune", training=(_log(400, 2),)))
    prices = load_prices()
    text = measure_costs(bench, prices, n_rows=100_000).get("text_finetune")
    cnn = measure_costs(image, prices, n_rows=100_000).get("image_finetune")
    table = load_calibration()
    ratio = table.workloads["text-train"].utilization / table.workloads["image-train"].utilization
    assert cnn.train_hours_full_data == pytest.approx(text.train_hours_full_data * ratio, rel=1e-4)
    assert "image-train" in cnn.train_basis and "text-train" in text.train_basis


def test_tabular_mlp_gets_no_gpu_projection_from_flops():
    bench = _bench(_candidate("mlp", "deep", 0.9, _timing(5.0, 5000.0, flops=7e4), ladder_step="from scratch",
                              training=(_log(400, 20),)))
    mlp = measure_costs(bench, load_prices(), n_rows=1000).get("mlp")
    assert mlp.train_on == "c7i.xlarge" and mlp.serving.device == "cpu"
    assert mlp.serving_alternative is None and "launching kernels" in mlp.serving_note


def test_price_table_utilisation_overrides_the_calibration(bench, tmp_path):
    from importlib import resources

    import yaml

    table = yaml.safe_load(resources.files("dladvisor").joinpath("prices.yaml").read_text())
    table["assumed_gpu_utilization"] = 0.5
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(table))
    prices = load_prices(path)
    deep = measure_costs(bench, prices, n_rows=100_000).get("text_finetune")
    expected_seconds = 3 * 1e9 * 100_000 * 2 / (prices.gpu.gpu_peak_tflops * 1e12 * 0.5)
    assert deep.train_hours_full_data == pytest.approx(expected_seconds / 3600, rel=1e-3)
    assert "50% utilisation" in deep.train_basis


@pytest.mark.parametrize(("gpu", "instance", "note"), [
    ("NVIDIA H100 80GB HBM3", "p5.48xlarge-per-gpu", "on p5.48xlarge-per-gpu (NVIDIA H100 80GB HBM3)"),
    ("NVIDIA H200", "g6.xlarge", "on a NVIDIA H200, which the price table lacks"),
])
def test_training_measured_on_a_gpu_is_priced_for_that_gpu(gpu, instance, note):
    bench = _bench(
        _candidate("linear", "classical", 0.80, _timing(360.0, 100_000.0)),
        _candidate("text_finetune", "deep", 0.85, _timing(100.0, 500.0, flops=1e9), modality="text",
                   ladder_step="fine-tune", training=(_log(400, 2, device="cuda"),)),
        device="cuda",
    )
    prices = load_prices()
    report = measure_costs(bench, prices, n_rows=1000, gpu=gpu)
    deep = report.get("text_finetune")
    # 100 s measured on 400 rows -> 250 s for 1,000 rows, at the GPU's hourly price.
    assert deep.train_on == instance and note in deep.train_basis
    assert deep.train_usd_per_run == pytest.approx(250 / 3600 * prices.instances[instance].hourly_usd, rel=1e-4)
    assert deep.serving.device == "gpu" and deep.serving_alternative is None and "CPU serving" in deep.serving_note
    if instance != prices.default_gpu:  # served on the default GPU, at the measured rate scaled by peak TFLOP/s
        ratio = prices.gpu.gpu_peak_tflops / prices.instances[instance].gpu_peak_tflops
        assert deep.serving.throughput_per_instance == pytest.approx(500 * ratio, rel=1e-4)
    assert report.get("linear").train_on == prices.default_cpu  # classical models still train on a CPU
    assert report.gpu == gpu and gpu in report.hardware


def test_tfidf_costs_less_than_a_fine_tuned_transformer():
    """Timings from the text demo (2,000 tweets, 2-core CPU): TF-IDF predicts 2,765 rows/s, MiniLM 96."""
    bench = _bench(
        _candidate("text_tfidf_logreg", "classical", 0.928, _timing(0.82, 2765.0)),
        _candidate("text_finetune", "deep", 0.871, _timing(68.24, 96.0, flops=886e6), modality="text",
                   ladder_step="fine-tune", training=(_log(1600, 4),)),
    )
    for predictions in (1_000_000, 100_000_000):
        report = measure_costs(bench, load_prices(), n_rows=2000, predictions_per_month=predictions)
        tfidf, transformer = report.get("text_tfidf_logreg"), report.get("text_finetune")
        assert tfidf.total_usd_12_months < transformer.total_usd_12_months, predictions
    # At 100 million a month (114 requests/s at the peak) the transformer needs two CPU instances or a GPU.
    assert tfidf.serving.instances == 1 and transformer.serving.instances == 2
    assert transformer.total_usd_12_months > 3000 > tfidf.total_usd_12_months


def test_cost_per_point_is_measured_against_the_cheapest_acceptable_model(bench):
    # Both fits are billed the 60-s minimum, the linear model's on the cheaper CPU instance.
    report = measure_costs(bench, load_prices(), n_rows=1000)
    assert report.reference == "linear"
    deep, linear = report.get("text_finetune"), report.get("linear")
    assert deep.usd_per_point_gained == pytest.approx(
        (deep.total_usd_12_months - linear.total_usd_12_months) / 5.0, rel=1e-3
    )
    assert linear.usd_per_point_gained is None
    assert points_gained("rmse", 90.0, 100.0, higher_is_better=False) == pytest.approx(10.0)


@pytest.mark.parametrize(("options", "message"), [
    (dict(retrain="hourly", serving="online", peak_factor=3), "Unknown --retrain"),
    (dict(retrain="monthly", serving="nightly", peak_factor=3), "Unknown --serving"),
    (dict(retrain="monthly", serving="online", peak_factor=0.5), "--peak-factor"),
])
def test_bad_cost_options_say_how_to_fix_them(options, message):
    with pytest.raises(UserError, match=message):
        check_cost_options(**options)


@pytest.mark.parametrize(("value", "text"), [
    (0, "$0"), (0.0042, "< $0.01"), (0.006, "$0.01"), (0.42, "$0.42"), (18.2, "$18.20"), (99.999, "$100"),
    (1563.66, "$1,564"), (7050.05, "$7,050"), (999_999.7, "$1.0M"), (1_234_567, "$1.2M"), (2.5e9, "$2.5B"),
    (-12.5, "-$12.50"), (-0.001, "> -$0.01"), (None, "–"),
])
def test_dollars_print_for_people(value, text):
    assert format_usd(value) == text


def test_durations_print_for_people():
    assert [format_hours(h) for h in (1 / 3600, 0.5, 12)] == ["1.0 s", "30.0 min", "12.0 h"]


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
