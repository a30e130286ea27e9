"""Torch machinery shared by the deep candidates: device choice, one training loop, OOM back-off, diagnosis.

torch is imported inside functions so that the registry (and `dladvisor --help`) stays light.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError

Diagnosis = Literal["converged", "underfitting", "overfitting", "diverging", "too short to tell"]


class EpochLoss(Frozen):
    epoch: int
    train_loss: float | None  # None where the training loop logs only the validation loss (pytabkit's RealMLP)
    val_loss: float


class TrainingLog(Frozen):
    """How one deep model trained: the loss curves and everything that limited the run."""

    device: str
    rows_available: int  # rows of the training fold offered to the model
    rows_used: int  # rows it could afford in its time budget, including its early-stopping validation split
    epochs_run: int
    best_epoch: int
    batch_size: int
    stopped_because: str
    seconds: float
    history: tuple[EpochLoss, ...]
    diagnosis: Diagnosis
    advice: str
    samples_per_second: float


DEVICES = ("auto", "cpu", "cuda")
# Device names from other tools, for the "did you mean" of an unknown --device.
DEVICE_ALIASES = {"gpu": "cuda", "nvidia": "cuda", "cuda": "cuda", "cpu": "cpu", "auto": "auto", "default": "auto"}


def resolve_device(preference: str) -> str:
    """'auto' picks CUDA when a GPU is visible; asking for CUDA without one is a user error."""
    if preference not in DEVICES:
        meant = DEVICE_ALIASES.get(str(preference).lower().split(":")[0])
        hint = f"did you mean '{meant}'? " if meant else ""
        raise UserError(f"Unknown --device '{preference}'; {hint}use auto, cpu or cuda.")
    if preference == "cpu":
        return "cpu"  # no torch import needed to say so
    import torch

    if preference == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto.")
    if preference == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return preference


def is_out_of_memory(error: BaseException) -> bool:
    import torch

    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def with_batch_backoff(step: Callable[[int], object], batch_size: int, *, minimum: int = 1):
    """Call `step(batch_size)`, halving the batch after each out-of-memory error; returns (result, batch size)."""
    import torch

    while True:
        try:
            return step(batch_size), batch_size
        except (RuntimeError, MemoryError) as error:
            if not is_out_of_memory(error) or batch_size <= minimum:
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            batch_size = max(minimum, batch_size // 2)


def distributed_world() -> tuple[int, int]:
    """(rank, world size) of this process in a torch.distributed group (`torchrun` starts one process per GPU and
    the caller calls `init_process_group`); (0, 1) outside one, where `train` runs exactly as it always did."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def wrap_distributed(network, device: str):
    """The network wrapped in DistributedDataParallel (which averages gradients over the processes in `backward`)
    when this process is one of several, else the network itself."""
    if distributed_world()[1] == 1:
        return network
    import os

    from torch.nn.parallel import DistributedDataParallel

    # torchrun sets LOCAL_RANK: the GPU of this process on its node (the caller has set it as the current device)
    local_gpu = [int(os.environ.get("LOCAL_RANK", 0))] if device == "cuda" else None
    return DistributedDataParallel(network, device_ids=local_gpu)


def shard_rows(order, batch_size: int) -> tuple[object, int]:
    """This process's share of every `batch_size` batch of the row `order` and its batch size: rows rank, rank +
    world, ... of each batch, so the gradients DistributedDataParallel averages are those of the whole batch. A last
    short batch is left out: a process with a batch fewer than the others would wait for them for ever."""
    rank, world = distributed_world()
    if world == 1:
        return order, batch_size
    if batch_size % world:
        raise ValueError(f"batch size {batch_size} is not a multiple of the {world} processes")
    whole = len(order) // batch_size * batch_size
    return order[:whole].reshape(-1, batch_size)[:, rank::world].reshape(-1), batch_size // world


def agreed(value: float, op: Literal["max", "min", "mean"]) -> float:
    """`value` agreed by every process (their max, min or mean), so that they take the same branches and none waits
    in an all-reduce the others skipped; `value` itself in a single process."""
    if distributed_world()[1] == 1:
        return value
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([float(value)], dtype=torch.float64)
    reduce = {"max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN, "mean": dist.ReduceOp.SUM}[op]
    dist.all_reduce(tensor, op=reduce)
    return float(tensor) / (distributed_world()[1] if op == "mean" else 1)


@dataclass
class TrainSettings:
    """Knobs of `train`; `max_seconds` is the wall-clock budget for the whole fit."""

    epochs: int = 20
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    warmup_share: float = 0.1
    patience: int = 3
    max_seconds: float = math.inf
    amp: bool = False
    schedule: bool = True
    extra: dict = field(default_factory=dict)


def train(
    model,
    *,
    make_train_batches: Callable[[int, int], Iterable],
    make_val_batches: Callable[[int], Iterable],
    loss_of: Callable[[object, object], object],
    rows_available: int,
    rows_used: int,
    batch_size: int,
    device: str,
    settings: TrainSettings,
) -> TrainingLog:
    """AdamW with linear warm-up and decay, early stopping on validation loss, and a wall-clock budget.

    `make_train_batches(epoch, batch_size)` yields training batches; `make_val_batches(batch_size)` the
    validation ones; `loss_of(model, batch)` returns the mean loss of a batch. The best epoch's weights are
    restored at the end. A CUDA out-of-memory error restarts the epoch with half the batch.
    """
    import torch

    started = time.perf_counter()
    optimizer = torch.optim.AdamW(
        (p for p in model.parameters() if p.requires_grad), lr=settings.learning_rate,
        weight_decay=settings.weight_decay,
    )
    steps_per_epoch = max(1, math.ceil(rows_used / batch_size))
    total_steps = steps_per_epoch * settings.epochs
    warmup = max(1, int(total_steps * settings.warmup_share))

    def lr_factor(step: int) -> float:
        if not settings.schedule:
            return 1.0
        if step < warmup:
            return (step + 1) / warmup
        return max(0.05, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    use_amp = settings.amp and device == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[EpochLoss] = []
    best_state, best_loss, best_epoch, bad_epochs = None, math.inf, 0, 0
    stopped = f"finished all {settings.epochs} epochs"
    samples = 0

    for epoch in range(1, settings.epochs + 1):
        def run_epoch(size: int, epoch: int = epoch) -> tuple[float, int]:
            model.train()
            total, count = 0.0, 0
            for batch in make_train_batches(epoch, size):
                optimizer.zero_grad(set_to_none=True)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                    loss = loss_of(model, batch)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                n = _batch_len(batch)
                total, count = total + float(loss.detach()) * n, count + n
                if agreed(time.perf_counter() - started > settings.max_seconds, "max"):
                    break
            return total / max(count, 1), count

        (train_loss, seen), batch_size = with_batch_backoff(run_epoch, batch_size)
        samples += seen
        # every process scores the same validation rows with the unwrapped network (no collective in eval), and
        # they agree on the loss so early stopping ends the same epoch everywhere
        plain = getattr(model, "module", model)
        val_loss = agreed(evaluate_loss(plain, make_val_batches(batch_size), loss_of, use_amp), "mean")
        train_loss = agreed(train_loss, "mean")
        history.append(EpochLoss(epoch=epoch, train_loss=round(train_loss, 5), val_loss=round(val_loss, 5)))
        if not math.isfinite(train_loss):
            stopped = f"training loss became {train_loss} in epoch {epoch}"
            break
        if val_loss < best_loss - 1e-4:
            best_loss, best_epoch, bad_epochs = val_loss, epoch, 0
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        else:
            bad_epochs += 1
            if bad_epochs >= settings.patience:
                stopped = f"early stopping: validation loss did not improve for {settings.patience} epochs"
                break
        if agreed(time.perf_counter() - started > settings.max_seconds, "max"):
            stopped = f"time budget of {settings.max_seconds:.0f} s reached in epoch {epoch}"
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    seconds = time.perf_counter() - started
    diagnosis, advice = diagnose(history, best_epoch)
    return TrainingLog(
        device=device, rows_available=rows_available, rows_used=rows_used, epochs_run=len(history),
        best_epoch=best_epoch, batch_size=batch_size, stopped_because=stopped, seconds=round(seconds, 2),
        history=tuple(history), diagnosis=diagnosis, advice=advice,
        samples_per_second=round(samples / max(seconds, 1e-9), 2),
    )


def evaluate_loss(model, batches: Iterable, loss_of, use_amp: bool = False) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
        for batch in batches:
            n = _batch_len(batch)
            total, count = total + float(loss_of(model, batch)) * n, count + n
    return total / max(count, 1)


def _batch_len(batch) -> int:
    """Rows in a (data, targets) batch; data may be a dict of tensors (tokenised text)."""
    return len(batch[1])


def diagnose(history: list[EpochLoss] | tuple[EpochLoss, ...], best_epoch: int | None = None) -> tuple[Diagnosis, str]:
    """Read the loss curves the way a practitioner would, and say what to try. A history with validation losses
    only (no training loss logged) is read from the validation curve alone. `best_epoch`: the epoch the training
    kept (1-based), so the advice names the same one as the log; else the last of the lowest validation losses."""
    if not history:
        return "too short to tell", "No epoch finished inside the time budget; raise --time-budget or use a GPU."
    val = [h.val_loss for h in history]
    train = [h.train_loss for h in history] if all(h.train_loss is not None for h in history) else None
    # without a training loss, a validation loss that never went below its first epoch's and grew half again
    rising = train[-1] > train[0] * 1.5 if train else min(val) >= val[0] and val[-1] > val[0] * 1.5
    if not all(map(math.isfinite, (train or []) + val)) or rising:
        return "diverging", (
            f"The {'training' if train else 'validation'} loss grew: lower the learning rate (try 3-10x smaller) and "
            "check the inputs and labels for errors or extreme values."
        )
    if len(history) < 2:
        return "too short to tell", (
            "Only one epoch fitted in the budget, so convergence is unknown; give it more time (--time-budget) or "
            "a GPU (--device cuda)."
        )
    best = best_epoch - 1 if best_epoch else max(i for i, v in enumerate(val) if v == min(val))
    gap = val[-1] - train[-1] if train else math.inf  # no training loss: the validation curve alone decides
    if best < len(val) - 1 and val[-1] > val[best] * 1.05 and gap > 0:
        return "overfitting", (
            f"Validation loss was best at epoch {best + 1} and then rose"
            f"{' while training loss kept falling' if train else ''}: early "
            "stopping kept the best epoch; more data, stronger regularisation (weight decay, dropout) or fewer "
            "trainable layers (the frozen step) would help."
        )
    # falling by more than 0.1% of the loss (at least 1e-3): RealMLP's regression loss is an RMSE in target units
    improving = val[-1] < val[-2] - 1e-3 * max(abs(val[-2]), 1.0) and (
        train is None or train[-1] < train[-2] - 1e-3 * max(abs(train[-2]), 1.0))
    if improving:
        return "underfitting", (
            f"{'Both losses were' if train else 'The validation loss was'} still falling when training stopped: more "
            "epochs or a larger time budget (or a GPU) should improve the score; a slightly higher learning rate may "
            "also help."
        )
    return "converged", "Losses levelled off: training ran long enough for this data; more gains need more data."
