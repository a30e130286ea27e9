"""The deep training loop under DistributedDataParallel: 2 CPU processes (gloo) train the project's MLP as one
process does, their weights kept equal by the gradient all-reduce (issue 16's multi-GPU design, tested on CPU)."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark.mlp import TabularMLP

ROWS, BATCH = 240, 32  # 204 training rows after the validation split: 6 whole batches and a short one


def _table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, 5)).astype(np.float32)
    return pd.DataFrame(X), (X[:, 0] + X[:, 1] > 0).astype(int)


def _fit() -> TabularMLP:
    import torch

    torch.set_num_threads(1)
    X, y = _table()
    return TabularMLP(epochs=3, batch_size=BATCH, patience=10, seed=0).fit(X.to_numpy(), y)


def _weights(model: TabularMLP) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in model.network_.parameters()])


def _rank(rank: int, world: int, port: int, results) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        model = _fit()
        results[rank] = (_weights(model), model.training_log_.history)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _single_process_with_whole_batches() -> np.ndarray:
    """What one process learns from the same batches (the short last batch left out, as `shard_rows` does)."""
    from dladvisor.benchmark import _deep

    original = _deep.shard_rows
    _deep.shard_rows = lambda order, size: (order[: len(order) // size * size], size)
    try:
        model = _fit()
    finally:
        _deep.shard_rows = original
    return _weights(model), model.training_log_.history


# ~13 s on the 2-core machine (30 s beside other work): two processes each import torch and scikit-learn
def test_two_gloo_processes_train_the_mlp_as_one_process_does():
    import torch.multiprocessing as mp

    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_rank, args=(2, _free_port(), results), nprocs=2, join=True)
    (rank0, history0), (rank1, history1) = results[0], results[1]
    assert history0 == history1  # the same epochs, the same agreed losses
    np.testing.assert_array_equal(rank0, rank1)  # the all-reduce kept the two copies identical
    single, history = _single_process_with_whole_batches()
    np.testing.assert_allclose(rank0, single, atol=1e-5)  # half of each batch per process = the whole batch
    assert [e.val_loss for e in history0] == pytest.approx([e.val_loss for e in history], abs=1e-5)
