"""Estimate stage: what would training a candidate cost, before training it?

Deep candidates: build the real model, time a few real training steps (or, for frozen embeddings, real encoder
passes) on synthetic inputs of the requested shape on the local device, count FLOPs with torch, and extrapolate
to the requested rows and epochs. Classical candidates: time real fits at two small sizes and extrapolate with the
observed growth exponent. Nothing is trained to completion.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dladvisor._frozen import Frozen
from dladvisor.benchmark import BuildContext, FeatureSpec, get_candidate, usable_cores
from dladvisor.calibration import GpuCalibration, load_calibration
from dladvisor.cost import gpu_name, gpu_seconds
from dladvisor.errors import UserError
from dladvisor.prices import PriceTable

TIMED_STEPS = 3
WORDS = (
    "the", "price", "of", "the", "new", "phone", "was", "fair", "and", "the", "battery", "lasted", "well",
    "into", "the", "evening", "while", "the", "screen", "stayed", "bright", "in", "sunlight", "but", "the",
    "camera", "struggled", "indoors", "and", "support", "answered", "slowly", "after", "delivery",
)
# Beyond timing noise, extrapolating a few steps to a full run misses validation passes, data loading and early
# stopping: the stated range widens the measured spread by this factor each way.
EXTRAPOLATION_MARGIN = 1.5


class Estimate(Frozen):
    candidate: str
    label: str
    device: str
    rows: int
    epochs: int
    inputs: str
    seconds_per_sample: float
    seconds_per_sample_low: float
    seconds_per_sample_high: float
    forward_flops_per_sample: float | None
    train_hours: float
    train_hours_low: float
    train_hours_high: float
    train_usd: float
    train_usd_low: float
    train_usd_high: float
    priced_on: str
    gpu_projection_hours: float | None
    gpu_projection_usd: float | None
    gpu_instance: str
    gpu_utilization: str | None = None  # the calibration behind the GPU projection, e.g. "20% (text-train, …)"
    prices_read_on: str
    method: str
    seconds_spent: float


def estimate_cost(
    candidate: str, *, rows: int, prices: PriceTable, epochs: int = 3, task: str = "binary", n_classes: int = 2,
    text_words: int = 64, image_size: int | None = None, features: int = 20, device: str = "auto", seed: int = 0,
    sample: tuple[pd.DataFrame, FeatureSpec, str] | None = None, calibration: GpuCalibration | None = None,
) -> Estimate:
    """Project training time and cost for `rows` rows.

    Args:
        sample: real rows to time instead of synthetic ones (frame, its feature spec, a description); real text
            lengths and image sizes make the estimate far closer than word counts do.
        calibration: GPU utilisation per model family for the projection from FLOPs (default: the packaged table).
    """
    from dladvisor.benchmark import resolve_device

    started = time.perf_counter()
    if rows < 1 or epochs < 1:
        raise UserError("--rows and --epochs must be at least 1.")
    spec = get_candidate(candidate)
    if spec.is_baseline:
        raise UserError("The baseline costs nothing worth estimating; pick a model, e.g. xgboost or text_finetune.")
    device = resolve_device(device)
    n_classes = 0 if task == "regression" else n_classes
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as scratch:
        if sample is not None:
            frame, spec_features, inputs = sample
            if not spec_features.has(spec.modality):
                raise UserError(f"The sample has no {spec.modality} columns for '{spec.name}'.")
        else:
            frame, spec_features, inputs = _synthetic(
                spec.modality, 256, rng, text_words, image_size, features, Path(scratch)
            )
        # Enough rows for every timed step to be a full batch (rows repeat when a sample is small).
        frame = pd.concat([frame] * math.ceil(1024 / len(frame)), ignore_index=True) if len(frame) < 1024 else frame
        y = rng.normal(size=len(frame)) if task == "regression" else np.arange(len(frame)) % max(n_classes, 2)
        context = BuildContext(
            task=task, n_classes=n_classes, features=spec_features, seed=seed, n_jobs=usable_cores(),
            device=device,
        )
        if spec.is_deep:
            per_sample, flops, method = _time_deep(spec, context, frame, y)
        else:
            per_sample, flops, method = _time_classical(spec, context, frame, y, rows, rng, features)
    mid, low, high = per_sample
    effective_epochs = epochs if spec.is_deep and spec.ladder_step != "frozen" else 1
    scale = rows * effective_epochs / 3600
    # Timed on a GPU: priced on the table's entry for that GPU (the default GPU when the table lacks it).
    priced_on = (prices.instance_for_gpu(gpu_name()) or prices.default_gpu) if device == "cuda" else prices.default_cpu
    hourly = prices.instances[priced_on].hourly_usd
    gpu_hours = gpu_usd = utilization = None
    if flops:
        factor = 3 if spec.ladder_step in ("fine-tune", "from scratch") else 1
        calibration = calibration or load_calibration()
        if prices.assumed_gpu_utilization is not None:
            calibration = calibration.overridden(prices.assumed_gpu_utilization, "the price table's figure")
        workload, entry = calibration.for_model(spec.modality, spec.ladder_step)
        gpu_hours = gpu_seconds(factor * flops * rows * effective_epochs, prices.gpu, entry.utilization) / 3600
        gpu_usd = gpu_hours * prices.gpu.hourly_usd
        utilization = f"{entry.utilization:.0%} utilisation ({workload}, {entry.label})"
    return Estimate(
        candidate=spec.name, label=spec.label_for(task), device=device, rows=rows, epochs=effective_epochs,
        inputs=inputs, seconds_per_sample=mid, seconds_per_sample_low=low, seconds_per_sample_high=high,
        forward_flops_per_sample=flops, train_hours=mid * scale, train_hours_low=low * scale,
        train_hours_high=high * scale, train_usd=mid * scale * hourly, train_usd_low=low * scale * hourly,
        train_usd_high=high * scale * hourly,
        priced_on=priced_on, gpu_projection_hours=gpu_hours, gpu_projection_usd=gpu_usd,
        gpu_instance=prices.default_gpu, gpu_utilization=utilization,
        prices_read_on=prices.read_on, method=method, seconds_spent=round(time.perf_counter() - started, 2),
    )


def sample_rows(path: Path, *, target: str | None, rows: int = 256, seed: int = 0):
    """Up to `rows` real rows of a data file, as (frame, feature spec, description) for `estimate_cost`."""
    from dladvisor.benchmark import feature_spec, resolve_image_paths
    from dladvisor.load import load_dataset
    from dladvisor.profile import profile_dataset

    dataset = load_dataset(path, target=target)
    spec = feature_spec(profile_dataset(dataset, seed=seed), dataset)
    frame = dataset.features[spec.all].sample(min(rows, dataset.n_rows), random_state=seed).reset_index(drop=True)
    for column in spec.image:
        frame[column] = resolve_image_paths(frame[column], dataset.base_dir)
    return frame, spec, f"{len(frame)} real rows sampled from {Path(path).name}"


def _synthetic(modality, n, rng, text_words, image_size, features, scratch: Path):
    if modality == "text":
        texts = [" ".join(rng.choice(WORDS, text_words)) for _ in range(n)]
        spec = FeatureSpec(numeric=(), categorical=(), datetime=(), text=("text",))
        return pd.DataFrame({"text": texts}), spec, f"texts of {text_words} words"
    if modality == "image":
        from PIL import Image

        from dladvisor.benchmark import image_size_for

        size = image_size or image_size_for("cpu")
        paths = []
        for i in range(min(n, 64)):
            path = scratch / f"{i}.png"
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)
            paths.append(str(path))
        paths = [paths[i % len(paths)] for i in range(n)]
        spec = FeatureSpec(numeric=(), categorical=(), datetime=(), image=("image",))
        return pd.DataFrame({"image": paths}), spec, f"{size}x{size} px images"
    columns = [f"x{i}" for i in range(features)]
    frame = pd.DataFrame(rng.normal(size=(n, features)), columns=columns)
    return frame, FeatureSpec(numeric=tuple(columns), categorical=(), datetime=()), f"{features} numeric columns"


def _time_deep(spec, context, frame, y):
    """Seconds per training sample over a few real steps (the first, which pays one-off costs, is not counted)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from dladvisor.benchmark import uncached

    model = spec.factory(context)
    steps = model.steps if hasattr(model, "steps") else [("model", model)]
    estimator = steps[-1][1]
    X = frame
    for _, transform in steps[:-1]:
        X = transform.fit_transform(X, y)
    targets = torch.tensor(y, dtype=torch.float32 if context.task == "regression" else torch.long)
    if spec.ladder_step == "frozen":
        batch = 32
        times = []
        for start in range(0, batch * (TIMED_STEPS + 1), batch):
            rows = X.iloc[start:start + batch]
            began = time.perf_counter()
            with uncached():
                estimator._inputs(rows, fitting=True)
            times.append((time.perf_counter() - began) / len(rows))
        with uncached(), FlopCounterMode(display=False) as counter:
            estimator._inputs(X.iloc[:8], fitting=True)
        flops = counter.get_total_flops() / 8
        method = f"timed {TIMED_STEPS} real encoder passes of {batch} rows (embedding is the training cost)"
    else:
        inputs = estimator._inputs(X, fitting=True)
        network = estimator._network(1 if context.task == "regression" else context.n_classes).to(context.device)
        estimator.network_ = network
        optimizer = torch.optim.AdamW(network.parameters(), lr=1e-5)
        rows = np.arange(len(y))
        times = []
        for step, (data, target) in enumerate(estimator._batches(inputs, rows, targets, estimator.batch_size,
                                                                 training=True)):
            began = time.perf_counter()
            out = estimator._outputs(network, data)
            target = target.to(context.device)
            if context.task == "regression":
                loss = torch.nn.functional.mse_loss(out.squeeze(-1).float(), target)
            else:
                loss = torch.nn.functional.cross_entropy(out.float(), target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if context.device == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - began) / len(target))
            if step >= TIMED_STEPS:
                break
        network.eval()
        first_batch = next(iter(estimator._batches(inputs, rows[:8], None, 8, training=False)))[0]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            estimator._outputs(network, first_batch)
        flops = counter.get_total_flops() / 8
        method = f"timed {TIMED_STEPS} real training steps of batch {estimator.batch_size} (forward, backward, AdamW)"
    measured = np.array(times[1:])  # the first step pays one-off costs
    spread = measured.max() / max(measured.min(), 1e-12)
    mid = float(measured.mean())
    low = float(measured.min()) / EXTRAPOLATION_MARGIN
    high = float(measured.max()) * EXTRAPOLATION_MARGIN
    method += (
        f"; step-to-step spread {spread:.2f}x, widened {EXTRAPOLATION_MARGIN}x each way for what a few steps cannot "
        "see (validation passes, data loading, early stopping)"
    )
    return (mid, low, high), float(flops), method


def _time_classical(spec, context, frame, y, rows, rng, features):
    """Fit at two sizes and extrapolate time with the observed exponent (clipped to [1, 2])."""
    sizes = (1000, 2000)
    times = []
    for size in sizes:
        X = pd.DataFrame(rng.normal(size=(size, features)), columns=frame.columns) if spec.modality == "tabular" \
            else pd.concat([frame] * math.ceil(size / len(frame))).head(size).reset_index(drop=True)
        target = rng.normal(size=size) if context.task == "regression" else np.arange(size) % max(context.n_classes, 2)
        model = spec.factory(context)
        began = time.perf_counter()
        model.fit(X, target)
        times.append(time.perf_counter() - began)
    exponent = float(np.clip(math.log(max(times[1], 1e-9) / max(times[0], 1e-9)) / math.log(2), 1.0, 2.0))
    total = times[1] * (rows / sizes[1]) ** exponent
    mid = total / rows
    method = (
        f"timed real fits on {sizes[0]:,} and {sizes[1]:,} synthetic rows ({times[0]:.2f} s, {times[1]:.2f} s) and "
        f"extrapolated as rows^{exponent:.2f}; the range takes the exponent 0.25 lower and higher"
    )
    ratio = max(rows / sizes[1], 1.0)
    low = times[1] * ratio ** max(exponent - 0.25, 0.75) / rows
    high = times[1] * ratio ** (exponent + 0.25) / rows
    return (mid, min(low, mid), max(high, mid)), None, method
