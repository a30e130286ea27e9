"""Cost stage: what each candidate costs to train and serve — measured in this run, then projected in dollars.

Every projected figure carries the formula it came from (`basis`). Prices come from the dated price table.
- Training, full data: measured fit time scaled linearly from the rows a fold trained on to all rows, priced on
  the table's default CPU instance. Pretrained text/image models measured on a CPU are projected onto the default
  GPU instead: FLOPs = 3 x forward FLOPs per sample x rows x epochs (the backward pass costs about twice the
  forward), at the GPU's peak dense throughput x the table's assumed utilisation.
- Retraining: runs per year from the cadence; inference: per million predictions, from measured batched
  throughput on the CPU (or FLOPs on the GPU for pretrained text/image models).
- Cost per point gained: extra 12-month dollars over the cheapest candidate that beats the baseline, divided by
  the metric points gained over it (0.01 of a bounded score, or 1% less error for RMSE/MAE).
"""

from __future__ import annotations

import os
import platform
import resource
import sys

from dladvisor._frozen import Frozen
from dladvisor.benchmark import BenchmarkResult, CandidateResult, Timing
from dladvisor.prices import PriceTable

RUNS_PER_YEAR = {"never": 1, "yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 365}
BOUNDED_METRICS = {"roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "r2"}


class CandidateCost(Frozen):
    name: str
    device: str
    measured: Timing
    # projected (see `basis`)
    projected_on: str
    train_hours_full_data: float
    train_usd_per_run: float
    runs_per_year: int
    inference_usd_per_million: float
    total_usd_12_months: float
    usd_per_point_gained: float | None = None
    basis: str


class CostReport(Frozen):
    hardware: str
    peak_memory_mb: float
    prices_read_on: str
    prices_source: str
    cpu_instance: str
    gpu_instance: str
    retrain: str
    predictions_per_month: int
    reference: str | None = None
    candidates: tuple[CandidateCost, ...]

    def get(self, name: str) -> CandidateCost | None:
        return next((c for c in self.candidates if c.name == name), None)


def measure_costs(
    benchmark: BenchmarkResult, prices: PriceTable, *, n_rows: int, retrain: str = "monthly",
    predictions_per_month: int = 1_000_000,
) -> CostReport:
    """Measured figures per candidate, with dollar projections for the full data and a year of use."""
    runs = RUNS_PER_YEAR[retrain]
    costs = [
        _project(c, benchmark, prices, n_rows=n_rows, runs=runs, predictions_per_month=predictions_per_month)
        for c in benchmark.completed
        if c.timing is not None
    ]
    reference = _cheapest_acceptable(benchmark, costs)
    if reference is not None:
        ref_cost = next(c for c in costs if c.name == reference.name)
        costs = [
            c.model_copy(update={"usd_per_point_gained": _per_point(benchmark, reference, ref_cost, c)})
            for c in costs
        ]
    return CostReport(
        hardware=hardware_summary(benchmark.device), peak_memory_mb=peak_memory_mb(),
        prices_read_on=prices.read_on, prices_source=prices.source, cpu_instance=prices.default_cpu,
        gpu_instance=prices.default_gpu, retrain=retrain, predictions_per_month=predictions_per_month,
        reference=reference.name if reference is not None else None, candidates=tuple(costs),
    )


def gpu_seconds(flops: float, prices: PriceTable) -> float:
    """Seconds on the default GPU for `flops` floating-point operations at the assumed utilisation."""
    return flops / (prices.gpu.gpu_peak_tflops * 1e12 * prices.assumed_gpu_utilization)


def _project(c: CandidateResult, benchmark, prices: PriceTable, *, n_rows, runs, predictions_per_month):
    timing = c.timing
    log = c.training[0] if c.training else None
    pretrained = c.family == "deep" and c.modality in ("text", "image")
    on_gpu = benchmark.device == "cuda" and c.family == "deep"
    k = benchmark.split.n_folds
    train_rows = log.rows_used if log else max(1, round(n_rows * (k - 1) / k))
    flops = timing.forward_flops_per_sample
    if pretrained and not on_gpu and flops:
        epochs = max(log.epochs_run, 1) if c.ladder_step == "fine-tune" else 1
        factor = 3 if c.ladder_step == "fine-tune" else 1  # frozen: one forward pass per row to embed it
        train_hours = gpu_seconds(factor * flops * n_rows * epochs, prices) / 3600
        inference_hours = gpu_seconds(flops * 1e6, prices) / 3600
        instance, hourly = prices.default_gpu, prices.gpu.hourly_usd
        basis = (
            f"GPU projection from counted FLOPs: {factor} x {flops / 1e9:.2f} GFLOP/sample x {n_rows:,} rows x "
            f"{epochs} epoch(s) at {prices.gpu.gpu_peak_tflops:g} TFLOP/s x {prices.assumed_gpu_utilization:.0%} "
            f"utilisation on {prices.default_gpu}; inference {flops / 1e9:.2f} GFLOP per prediction likewise."
        )
    else:
        scale = n_rows / train_rows
        train_hours = timing.fit_seconds_per_fold * scale / 3600
        inference_hours = 1e6 / max(timing.throughput_rows_per_second, 1e-9) / 3600
        instance = prices.default_gpu if on_gpu else prices.default_cpu
        hourly = prices.gpu.hourly_usd if on_gpu else prices.cpu.hourly_usd
        basis = (
            f"Measured fit time {timing.fit_seconds_per_fold:.2f} s on {train_rows:,} rows, scaled linearly to "
            f"{n_rows:,} rows, and measured throughput {timing.throughput_rows_per_second:,.0f} predictions/s, "
            f"priced on {instance} (assumes it runs as fast as this machine)."
        )
    train_usd = train_hours * hourly
    inference_per_million = inference_hours * hourly
    total = train_usd * runs + 12 * inference_per_million * predictions_per_month / 1e6
    return CandidateCost(
        name=c.name, device=benchmark.device if c.family == "deep" else "cpu", measured=timing,
        projected_on=instance, train_hours_full_data=_significant(train_hours),
        train_usd_per_run=_significant(train_usd), runs_per_year=runs,
        inference_usd_per_million=_significant(inference_per_million), total_usd_12_months=_significant(total),
        basis=basis,
    )


def _cheapest_acceptable(benchmark: BenchmarkResult, costs: list[CandidateCost]) -> CandidateResult | None:
    baseline = benchmark.best("baseline")
    if baseline is None:
        return None
    base = benchmark.primary(baseline).mean
    totals = {c.name: c.total_usd_12_months for c in costs}
    acceptable = [
        c for c in benchmark.completed
        if c.family != "baseline" and c.name in totals
        and (benchmark.primary(c).ci_low > base if benchmark.higher_is_better else benchmark.primary(c).ci_high < base)
    ]
    return min(acceptable, key=lambda c: totals[c.name], default=None)


def _per_point(benchmark, reference: CandidateResult, ref_cost: CandidateCost, cost: CandidateCost) -> float | None:
    candidate = benchmark.get(cost.name)
    gained = points_gained(benchmark.primary_metric, benchmark.primary(candidate).mean,
                           benchmark.primary(reference).mean, higher_is_better=benchmark.higher_is_better)
    if candidate.name == reference.name or gained <= 0:
        return None
    return _significant((cost.total_usd_12_months - ref_cost.total_usd_12_months) / gained)


def _significant(value: float, digits: int = 6) -> float:
    """Rounded to significant digits, so tiny projected amounts keep their precision."""
    return float(f"{value:.{digits}g}")


def points_gained(metric: str, score: float, reference: float, *, higher_is_better: bool) -> float:
    """Metric points over the reference: 0.01 of a bounded score, or 1% of the reference error."""
    if metric in BOUNDED_METRICS:
        return (score - reference) * 100 * (1 if higher_is_better else -1)
    return (reference - score) / abs(reference) * 100 if reference else 0.0


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1e6 if sys.platform == "darwin" else 1024), 1)


def hardware_summary(device: str = "cpu") -> str:
    cpu = f"{platform.machine()} CPU, {os.cpu_count()} cores"
    return f"{cpu} and {gpu_name()} for the deep models" if device == "cuda" else f"{cpu}, no GPU used"


def gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
