"""Resource measurements around a candidate: peak memory, parameter count and FLOPs per sample."""

from __future__ import annotations

import os
import threading
import time

SAMPLE_EVERY_SECONDS = 0.02


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):  # not Linux: fall back to the process peak so far
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 1024)


class PeakMemory:
    """Peak resident host memory above the starting level (sampled every 20 ms) and peak GPU memory."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.host_mb = 0.0
        self.gpu_mb: float | None = None

    def __enter__(self) -> PeakMemory:
        self._start = _rss_mb()
        self._peak = self._start
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        if self.device == "cuda":
            import torch

            torch.cuda.reset_peak_memory_stats()
        return self

    def _sample(self) -> None:
        while self._running:
            self._peak = max(self._peak, _rss_mb())
            time.sleep(SAMPLE_EVERY_SECONDS)

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()
        self.host_mb = round(max(self._peak, _rss_mb()) - self._start, 1)
        if self.device == "cuda":
            import torch

            self.gpu_mb = round(torch.cuda.max_memory_allocated() / 2**20, 1)


def torch_network(model):
    """The torch module inside a fitted candidate, or None for scikit-learn models."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return getattr(final, "network_", None)


def serving_modules(model) -> list:
    """Every torch module a prediction runs through: the trained network and any frozen encoder before it."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    network = getattr(final, "network_", None)
    if network is None:
        return []
    encoder = final.frozen_encoder() if hasattr(final, "frozen_encoder") else None
    return [network] + ([encoder] if encoder is not None else [])


def count_parameters(model) -> int | None:
    modules = serving_modules(model)
    return int(sum(p.numel() for m in modules for p in m.parameters())) if modules else None


def weights_bytes(model) -> int | None:
    modules = serving_modules(model)
    return int(sum(t.numel() * t.element_size() for m in modules for t in m.state_dict().values())) if modules else None


def forward_flops_per_sample(model, X) -> float | None:
    """FLOPs of one prediction, counted by torch's FlopCounterMode over the rows of X (frozen encoders included)."""
    if torch_network(model) is None:
        return None
    from torch.utils.flop_counter import FlopCounterMode

    from dladvisor.benchmark._pretrained import uncached

    with uncached(), FlopCounterMode(display=False) as counter:
        model.predict_proba(X) if hasattr(model, "predict_proba") and _is_classifier(model) else model.predict(X)
    return float(counter.get_total_flops()) / max(len(X), 1)


def _is_classifier(model) -> bool:
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return getattr(final, "task", "binary") != "regression"
