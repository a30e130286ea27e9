"""Cost stage: what each candidate costs to train and to serve for a year — measured in this run, then priced.

Every projected figure carries the formula it came from. Prices come from the dated price table, GPU utilisation
from the dated calibration table (per model family; entries not yet measured on a GPU are labelled so).

Training, per run, on the full data:
- measured on a GPU: the measured fit time, scaled linearly to all rows, priced on the price-table instance of the
  GPU it ran on (the default GPU, with a note, when the table has no such GPU);
- classical models and the tabular MLP measured on a CPU: the measured fit time scaled likewise, on the CPU
  instance;
- pretrained text/image models measured on a CPU (they would train on a GPU): FLOPs / (peak x utilisation) on the
  default GPU, with FLOPs = 3 x forward FLOPs per sample x rows x epochs for fine-tuning (the backward pass costs
  about twice the forward), 1 x forward FLOPs x rows to embed for frozen encoders.
Each run is billed at least `MIN_BILLED_SECONDS`.

Serving, over 12 months: online (the default), the capacity that must stay up: peak requests/s =
predictions per month / seconds in a month x peak factor, and max(1, ceil(peak / throughput per instance))
instances, always on; batch, only the busy hours (predictions / throughput). Classical models serve on the CPU
instance; deep ones on the cheaper of the CPU instance (measured CPU throughput) and the default GPU (measured
GPU throughput, or projected from FLOPs), both shown. One instance is assumed to serve as many predictions/s as
this run measured: no scaling by its vCPUs.

12-month total = training $ per run x runs per year + serving $ over 12 months. Cost per point gained: extra
12-month dollars over the cheapest candidate that beats the baseline, divided by the metric points gained over it
(0.01 of a bounded score, or 1% less error for RMSE/MAE).
"""

from __future__ import annotations

import math
import os
import platform
import resource
import sys
from typing import Literal

from dladvisor._frozen import Frozen
from dladvisor.benchmark import BenchmarkResult, CandidateResult, Timing
from dladvisor.calibration import GpuCalibration, Utilization, load_calibration
from dladvisor.config import DEFAULT_PEAK_FACTOR
from dladvisor.errors import UserError
from dladvisor.prices import Instance, PriceTable

RUNS_PER_YEAR = {"never": 1, "yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 52, "daily": 365}
BOUNDED_METRICS = {"roc_auc", "accuracy", "balanced_accuracy", "f1_macro", "r2"}
SERVING_MODES = ("online", "batch")
# 8,760 hours a year / 12: the month cloud providers bill by; also the month traffic is averaged over.
HOURS_PER_MONTH = 730
# On-demand Linux instances are billed per second with a 60-second minimum, so no training run costs less.
MIN_BILLED_SECONDS = 60


class ServingCost(Frozen):
    """Serving one candidate for 12 months on one kind of instance."""

    device: Literal["cpu", "gpu"]
    instance: str
    hourly_usd: float
    throughput_per_instance: float  # predictions/s one instance is taken to serve
    throughput_source: str
    instances: int  # always on (online); 0 in batch mode, which pays for busy hours only
    busy_hours_per_month: float
    usd_12_months: float
    basis: str

    @property
    def summary(self) -> str:
        """'1 × c7i.xlarge always on' or 'c7i.xlarge, 2.9 busy h/month'."""
        if self.instances:
            return f"{self.instances:,} × {self.instance} always on"
        return f"{self.instance}, {format_hours(self.busy_hours_per_month)} busy a month"

    def capacity_per_month(self, peak_factor: float) -> float | None:
        """Predictions a month these always-on instances serve before one more is needed (None in batch mode):
        instances × throughput × seconds a month ÷ peak factor."""
        if not self.instances:
            return None
        return self.instances * self.throughput_per_instance * HOURS_PER_MONTH * 3600 / peak_factor


class CandidateCost(Frozen):
    name: str
    device: str
    measured: Timing
    # projected (see the bases)
    projected_on: str  # where the 12-month total is spent: serving instance(s), and training's when it differs
    train_on: str
    train_hours_full_data: float
    train_usd_per_run: float
    runs_per_year: int
    train_basis: str
    serving: ServingCost  # the cheaper option, counted in the total
    serving_alternative: ServingCost | None = None  # deep models: the other of CPU and GPU
    serving_note: str = ""  # why a deep model has no alternative
    inference_usd_per_million: float  # busy compute only, on the serving instance
    total_usd_12_months: float
    usd_per_point_gained: float | None = None


class CostReport(Frozen):
    hardware: str
    gpu: str | None = None  # the GPU the deep models ran on, as torch names it
    peak_memory_mb: float
    prices_read_on: str
    prices_source: str
    cpu_instance: str
    gpu_instance: str
    calibration_date: str
    calibration_source: str
    calibration_measured: bool  # False: every GPU projection from FLOPs rests on an uncalibrated assumption
    retrain: str
    runs_per_year: int
    min_billed_seconds: int
    predictions_per_month: int
    serving_mode: str
    peak_factor: float
    peak_requests_per_second: float
    reference: str | None = None
    candidates: tuple[CandidateCost, ...]

    def get(self, name: str) -> CandidateCost | None:
        return next((c for c in self.candidates if c.name == name), None)

    def same_serving_note(self, deep: str, classical: str) -> str:
        """When the deep and the classical model cost the same always-on instances (the usual case at low volume),
        one sentence saying so and the monthly volume at which each would need more; else ''."""
        a, b = self.get(deep), self.get(classical)
        if a is None or b is None or not (a.serving.instances and a.serving.summary == b.serving.summary):
            return ""
        deep_volume, classical_volume = (_volume(c.serving.capacity_per_month(self.peak_factor)) for c in (a, b))
        needs_more = (f"both need more from about {deep_volume} predictions a month"
                      if deep_volume == classical_volume else
                      f"the deep model needs more from about {deep_volume} predictions a month, the classical "
                      f"one from about {classical_volume}")
        return (f"Both costs are the same {a.serving.summary} (at {self.predictions_per_month:,} predictions a "
                f"month, peak factor {self.peak_factor:g}): {needs_more} (measured throughput × seconds a month "
                "÷ peak factor).")


def check_cost_options(*, retrain: str, serving: str, peak_factor: float, predictions_per_month: int = 0) -> None:
    """Raise a UserError naming the option and its fix; called before any data is read."""
    if predictions_per_month < 0:
        raise UserError(f"--predictions-per-month must be zero or more, got {predictions_per_month:,}; e.g. "
                        "--predictions-per-month 1000000.")
    if retrain not in RUNS_PER_YEAR:
        raise UserError(f"Unknown --retrain '{retrain}'; use one of {', '.join(RUNS_PER_YEAR)}.")
    if serving not in SERVING_MODES:
        raise UserError(f"Unknown --serving '{serving}'; use online (always-on instances) or batch (busy hours).")
    if not peak_factor >= 1:
        raise UserError(f"--peak-factor must be at least 1 (flat traffic), got {peak_factor}; e.g. --peak-factor 3.")


def measure_costs(
    benchmark: BenchmarkResult, prices: PriceTable, *, n_rows: int, retrain: str = "monthly",
    predictions_per_month: int = 1_000_000, serving: str = "online", peak_factor: float = DEFAULT_PEAK_FACTOR,
    calibration: GpuCalibration | None = None, gpu: str | None = None, benchmark_rows: int | None = None,
) -> CostReport:
    """Measured figures per candidate, with dollar projections for the full data and a year of use.

    Args:
        n_rows: the rows a model would train on (the whole table).
        benchmark_rows: the rows the benchmark's folds were cut from, when fewer (the `--max-rows` sample): fit
            times measured on them are scaled up to `n_rows`. Default `n_rows`.
        gpu: the name of the GPU the deep models ran on (default: asked of torch when the benchmark used one).
    """
    check_cost_options(retrain=retrain, serving=serving, peak_factor=peak_factor)
    calibration = calibration or load_calibration()
    if prices.assumed_gpu_utilization is not None:
        calibration = calibration.overridden(
            prices.assumed_gpu_utilization, "the price table's assumed_gpu_utilization, which overrides every family"
        )
    if benchmark.device == "cuda" and gpu is None:
        gpu = gpu_name()
    pricing = _Pricing(
        benchmark=benchmark, prices=prices, calibration=calibration, n_rows=n_rows,
        benchmark_rows=benchmark_rows or n_rows, runs=RUNS_PER_YEAR[retrain],
        predictions_per_month=predictions_per_month, serving=serving, peak_factor=peak_factor,
        gpu=gpu if benchmark.device == "cuda" else None,
    )
    costs = [pricing.project(c) for c in benchmark.completed if c.timing is not None]
    reference = _cheapest_acceptable(benchmark, costs)
    if reference is not None:
        ref_cost = next(c for c in costs if c.name == reference.name)
        costs = [
            c.model_copy(update={"usd_per_point_gained": _per_point(benchmark, reference, ref_cost, c)})
            for c in costs
        ]
    return CostReport(
        hardware=hardware_summary(pricing.gpu), gpu=pricing.gpu, peak_memory_mb=peak_memory_mb(),
        prices_read_on=prices.read_on, prices_source=prices.source, cpu_instance=prices.default_cpu,
        gpu_instance=prices.default_gpu, calibration_date=calibration.date, calibration_source=calibration.source,
        calibration_measured=calibration.measured_any, retrain=retrain, runs_per_year=RUNS_PER_YEAR[retrain],
        min_billed_seconds=MIN_BILLED_SECONDS, predictions_per_month=predictions_per_month,
        serving_mode=serving, peak_factor=peak_factor, peak_requests_per_second=_significant(pricing.peak_rps),
        reference=reference.name if reference is not None else None, candidates=tuple(costs),
    )


def gpu_seconds(flops: float, gpu: Instance, utilization: float) -> float:
    """Seconds on `gpu` for `flops` floating-point operations at `utilization` of its dense peak."""
    return flops / (gpu.gpu_peak_tflops * 1e12 * utilization)


class _Pricing:
    """The options every candidate is priced under; `project` prices one candidate."""

    def __init__(self, *, benchmark, prices, calibration, n_rows, benchmark_rows, runs, predictions_per_month,
                 serving, peak_factor,
                 gpu):
        self.benchmark, self.prices, self.calibration = benchmark, prices, calibration
        self.n_rows, self.runs, self.serving, self.peak_factor = n_rows, runs, serving, peak_factor
        self.benchmark_rows = benchmark_rows
        self.predictions_per_month, self.gpu = predictions_per_month, gpu
        self.peak_rps = predictions_per_month / (HOURS_PER_MONTH * 3600) * peak_factor
        # The price-table entry of the GPU the deep models ran on (None: ran on a CPU, or a GPU the table lacks).
        self.gpu_instance = prices.instance_for_gpu(gpu) if gpu else None

    def project(self, c: CandidateResult) -> CandidateCost:
        on_gpu = self.gpu is not None and c.family == "deep"
        train_on, train_hours, train_basis = self._training(c, on_gpu)
        hourly = self.prices.instances[train_on].hourly_usd
        billed_hours = max(train_hours, MIN_BILLED_SECONDS / 3600)
        train_usd = billed_hours * hourly
        train_basis += (f" Billed the {MIN_BILLED_SECONDS}-s minimum." if billed_hours > train_hours else "")
        cpu = self._cpu_serving(c) if not on_gpu else None
        gpu, gpu_note = self._gpu_serving(c, on_gpu) if c.family == "deep" else (None, "")
        options = [option for option in (cpu, gpu) if option is not None]
        chosen = min(options, key=lambda option: option.usd_12_months)
        alternative = next((option for option in options if option is not chosen), None)
        note = "CPU serving not priced: this run measured the model on a GPU only." if on_gpu else gpu_note
        busy_per_million = 1e6 / chosen.throughput_per_instance / 3600 * chosen.hourly_usd
        projected_on = chosen.summary if train_on == chosen.instance else f"{chosen.summary}; training on {train_on}"
        return CandidateCost(
            name=c.name, device=self.benchmark.device if c.family == "deep" else "cpu", measured=c.timing,
            projected_on=projected_on, train_on=train_on, train_hours_full_data=_significant(train_hours),
            train_usd_per_run=_significant(train_usd), runs_per_year=self.runs, train_basis=train_basis,
            serving=chosen, serving_alternative=alternative, serving_note=note,
            inference_usd_per_million=_significant(busy_per_million),
            total_usd_12_months=_significant(train_usd * self.runs + chosen.usd_12_months),
        )

    def _training(self, c: CandidateResult, on_gpu: bool) -> tuple[str, float, str]:
        timing, prices = c.timing, self.prices
        log = c.training[0] if c.training else None
        k = self.benchmark.split.n_folds
        train_rows = log.rows_used if log else max(1, round(self.benchmark_rows * (k - 1) / k))
        pretrained = c.family == "deep" and c.modality in ("text", "image")
        flops = timing.forward_flops_per_sample
        if pretrained and not on_gpu and flops:
            fine_tune = c.ladder_step != "frozen"
            epochs = max(log.epochs_run, 1) if fine_tune and log else 1
            factor = 3 if fine_tune else 1  # frozen: one forward pass per row to embed it
            workload, entry = self.calibration.for_model(c.modality, c.ladder_step)
            seconds = gpu_seconds(factor * flops * self.n_rows * epochs, prices.gpu, entry.utilization)
            basis = (
                f"Training on {prices.default_gpu}, projected from counted FLOPs: {factor} × "
                f"{flops / 1e9:.3g} GFLOP/sample × {self.n_rows:,} rows × {epochs} epoch(s) ÷ "
                f"({prices.gpu.gpu_peak_tflops:g} TFLOP/s × {_utilization(workload, entry)})."
            )
            return prices.default_gpu, seconds / 3600, basis
        seconds = timing.fit_seconds_per_fold * self.n_rows / train_rows
        measured = (
            f"{timing.fit_seconds_per_fold:.3g} s measured on {train_rows:,} rows, scaled linearly to {self.n_rows:,}"
        )
        if not on_gpu:
            return prices.default_cpu, seconds / 3600, f"Training on {prices.default_cpu}: {measured}."
        if self.gpu_instance:
            return self.gpu_instance, seconds / 3600, f"Training on {self.gpu_instance} ({self.gpu}): {measured}."
        basis = (f"Training on {prices.default_gpu}: {measured} on a {self.gpu}, which the price table lacks; "
                 f"priced as if {prices.default_gpu} ran as fast.")
        return prices.default_gpu, seconds / 3600, basis

    def _cpu_serving(self, c: CandidateResult) -> ServingCost:
        throughput, source = max(c.timing.throughput_rows_per_second, 1e-9), "measured here"
        latency_ms = c.timing.single_row_latency_ms_p50
        if self.serving == "online" and latency_ms > 0:
            # Online requests come one row at a time: each vCPU answers one at its measured single-row latency,
            # unless that is faster than predicting in batches (it never is, but the smaller figure is the honest one).
            vcpus = self.prices.instances[self.prices.default_cpu].vcpus
            per_request = vcpus * 1000 / latency_ms
            if per_request < throughput:
                throughput = per_request
                source = f"{vcpus} vCPUs × 1 request per {latency_ms:.3g} ms single-row latency measured here"
        return self._serving("cpu", self.prices.default_cpu, throughput, source)

    def _gpu_serving(self, c: CandidateResult, on_gpu: bool) -> tuple[ServingCost | None, str]:
        """GPU serving on the default GPU, or None and the reason it could not be priced."""
        prices, default = self.prices, self.prices.default_gpu
        if on_gpu:
            measured = max(c.timing.throughput_rows_per_second, 1e-9)
            if self.gpu_instance in (default, None):
                same = "" if self.gpu_instance else f", assumed as fast on {default}'s GPU (the table lacks it)"
                return self._serving("gpu", default, measured, f"measured on the {self.gpu}{same}"), ""
            ratio = prices.gpu.gpu_peak_tflops / prices.instances[self.gpu_instance].gpu_peak_tflops
            source = f"{_rate(measured)}/s measured on the {self.gpu} × {ratio:.3g}, the ratio of peak TFLOP/s"
            return self._serving("gpu", default, measured * ratio, source), ""
        flops = c.timing.forward_flops_per_sample
        if c.modality not in ("text", "image"):
            return None, ("GPU serving not priced: a network this small spends its GPU time launching kernels, not "
                          "on FLOPs, so a FLOP projection would mean nothing; measure it with --device cuda.")
        if not flops:
            return None, "GPU serving not priced: no forward FLOPs were counted for this model."
        workload, entry = self.calibration.for_model(c.modality, c.ladder_step, forward_only=True)
        throughput = 1 / gpu_seconds(flops, prices.gpu, entry.utilization)
        source = (f"projected: {prices.gpu.gpu_peak_tflops:g} TFLOP/s × {_utilization(workload, entry)} ÷ "
                  f"{flops / 1e9:.3g} GFLOP per prediction")
        return self._serving("gpu", default, throughput, source), ""

    def _serving(self, device: str, instance: str, throughput: float, source: str) -> ServingCost:
        hourly = self.prices.instances[instance].hourly_usd
        busy_hours = self.predictions_per_month / throughput / 3600
        rate = f"{_rate(throughput)} predictions/s per instance ({source})"
        if self.serving == "batch":
            count, usd = 0, 12 * busy_hours * hourly
            basis = (f"batch: {self.predictions_per_month:,} predictions a month ÷ {rate} = "
                     f"{format_hours(busy_hours)} busy a month × 12 × ${hourly:g}/h.")
        else:
            needed = self.peak_rps / throughput
            count = max(1, math.ceil(needed))
            usd = count * 12 * HOURS_PER_MONTH * hourly
            minimum = " (the always-on minimum)" if needed < 1 else ""
            basis = (f"online: peak {_rate(self.peak_rps)} requests/s ÷ {rate} → {count:,} instance(s){minimum} × "
                     f"{12 * HOURS_PER_MONTH:,} h × ${hourly:g}/h.")
        return ServingCost(
            device=device, instance=instance, hourly_usd=hourly, throughput_per_instance=_significant(throughput),
            throughput_source=source, instances=count, busy_hours_per_month=_significant(busy_hours),
            usd_12_months=_significant(usd), basis=basis,
        )


def _volume(count: float) -> str:
    """12,300,000 → '12 million'; 4.2e9 → '4.2 billion'."""
    for size, word in ((1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if count >= size:
            return f"{count / size:.2g} {word}" if count < 10 * size else f"{count / size:,.0f} {word}"
    return f"{count:,.0f}"


def _utilization(workload: str, entry: Utilization) -> str:
    return f"{entry.utilization:.0%} utilisation ({workload}, {entry.label})"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


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


def _significant(value: float, digits: int = 9) -> float:
    """Rounded to significant digits, so tiny projected amounts keep their precision and large ones their cents."""
    return float(f"{value:.{digits}g}")


def points_gained(metric: str, score: float, reference: float, *, higher_is_better: bool) -> float:
    """Metric points over the reference: 0.01 of a bounded score, or 1% of the reference error."""
    if metric in BOUNDED_METRICS:
        return (score - reference) * 100 * (1 if higher_is_better else -1)
    return (reference - score) / abs(reference) * 100 if reference else 0.0


def format_usd(value: float | None) -> str:
    """Dollars for people: '< $0.01', '$0.42', '$18.20', '$7,050', '$1.2M'.

    Cents below $100, whole dollars up to a million, then millions (M) and billions (B) to one decimal.
    """
    if value is None or math.isnan(value):
        return "–"
    sign, amount = ("-" if value < 0 else ""), abs(value)
    if amount == 0:
        return "$0"
    if amount < 0.005:
        return "> -$0.01" if sign else "< $0.01"
    if round(amount, 2) < 100:
        return f"{sign}${amount:.2f}"
    if round(amount) < 1e6:
        return f"{sign}${amount:,.0f}"
    if round(amount / 1e6, 1) < 1000:
        return f"{sign}${amount / 1e6:.1f}M"
    return f"{sign}${amount / 1e9:,.1f}B"


def format_hours(hours: float) -> str:
    """'< 0.1 s', '3.2 s', '4.5 min', '12.0 h': durations people can compare at a glance."""
    if hours * 3600 < 0.05:
        return "< 0.1 s"
    if hours < 1 / 60:
        return f"{hours * 3600:.1f} s"
    return f"{hours * 60:.1f} min" if hours < 1 else f"{hours:,.1f} h"


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1e6 if sys.platform == "darwin" else 1024), 1)


def hardware_summary(gpu: str | None = None) -> str:
    """This machine's CPU, and `gpu` (the GPU's name) when the deep models ran on one."""
    cpu = f"{platform.machine()} CPU, {os.cpu_count()} cores"
    return f"{cpu} and {gpu} for the deep models" if gpu else f"{cpu}, no GPU used"


def gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
