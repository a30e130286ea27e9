"""Cost stage: what each candidate costs to train and to serve, as measured in this run."""

from __future__ import annotations

import os
import platform
import resource
import sys

from dladvisor._frozen import Frozen
from dladvisor.benchmark import BenchmarkResult


class CandidateCost(Frozen):
    name: str
    device: str
    fit_seconds_total: float
    fit_seconds_per_fold: float
    predict_ms_per_1k_rows: float
    single_row_latency_ms_p50: float
    model_size_mb: float


class CostReport(Frozen):
    """Measured figures; they vary between runs and machines, so reports state the hardware beside them."""

    hardware: str
    peak_memory_mb: float
    candidates: tuple[CandidateCost, ...]

    def get(self, name: str) -> CandidateCost | None:
        return next((c for c in self.candidates if c.name == name), None)


def measure_costs(benchmark: BenchmarkResult) -> CostReport:
    """Collect the benchmark's timings per candidate, with the process's peak memory so far."""
    costs = tuple(
        CandidateCost(
            name=c.name,
            device=benchmark.device if c.family == "deep" else "cpu",
            fit_seconds_total=c.timing.fit_seconds_total,
            fit_seconds_per_fold=c.timing.fit_seconds_per_fold,
            predict_ms_per_1k_rows=c.timing.predict_ms_per_1k_rows,
            single_row_latency_ms_p50=c.timing.single_row_latency_ms_p50,
            model_size_mb=round(c.timing.model_size_bytes / 1e6, 3),
        )
        for c in benchmark.completed
        if c.timing is not None
    )
    return CostReport(hardware=hardware_summary(benchmark.device), peak_memory_mb=peak_memory_mb(), candidates=costs)


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
