"""A scikit-learn-style base for deep candidates, so the same runner, folds and metrics apply to them.

A subclass says how to turn a DataFrame into model inputs (`_inputs`), how to build the network (`_network`), how
to batch inputs (`_batches`) and how to get outputs from a batch (`_outputs`). The base class handles the rest:
label encoding, a stratified validation split for early stopping, fitting the rows to the time budget by timing a
few real steps first, the training loop, and prediction.
"""

from __future__ import annotations

import copy
import inspect
import math
import time

import numpy as np
from sklearn.base import BaseEstimator

from dladvisor.benchmark._torch import TrainSettings, agreed, shard_rows, train, with_batch_backoff, wrap_distributed

VALIDATION_SHARE = 0.15
# Enough epochs for early stopping to see a trend; the row count is cut to fit them into the budget.
TARGET_EPOCHS = 3
MIN_TRAIN_ROWS = 64
PROBE_STEPS = 2


class TorchEstimator(BaseEstimator):
    """Base class; parameters are the ones every deep candidate shares."""

    lr_schedule = True  # linear warm-up and decay; False: a constant learning rate

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The parameters of every `__init__` up the class tree. Subclasses take their own and pass the shared ones
        on through **kwargs; scikit-learn reads only the subclass's signature, so without this `get_params`,
        `set_params` (Optuna's trials) and `clone` would not see the learning rate, the task or the device."""
        names = set()
        for klass in cls.__mro__:
            if issubclass(klass, TorchEstimator) and "__init__" in vars(klass):
                names.update(p.name for p in inspect.signature(klass.__init__).parameters.values()
                             if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        return sorted(names)

    def __init__(
        self, *, task: str = "binary", n_classes: int = 2, device: str = "cpu", max_seconds: float = math.inf,
        epochs: int = 20, learning_rate: float = 1e-3, weight_decay: float = 1e-2, batch_size: int = 64,
        patience: int = 3, seed: int = 0,
    ):
        self.task = task
        self.n_classes = n_classes
        self.device = device
        self.max_seconds = max_seconds
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.patience = patience
        self.seed = seed

    # -- what subclasses provide ---------------------------------------------------------------------------
    def _inputs(self, X, *, fitting: bool):
        """Model inputs for the rows of X, indexable by an integer array."""
        raise NotImplementedError

    def _network(self, n_outputs: int):
        raise NotImplementedError

    def _batches(self, inputs, rows: np.ndarray, targets, batch_size: int, *, training: bool):
        """Yield (batch, targets) pairs; `targets` is None at prediction time."""
        raise NotImplementedError

    def _outputs(self, network, batch):
        raise NotImplementedError

    def _affordable_rows(self, X, seconds: float) -> int | None:
        """How many rows preparing inputs can afford in `seconds` (None: preparing is cheap)."""
        return None

    def _loss(self, outputs, target):
        """Mean loss of a batch: cross-entropy on logits, or squared error on standardised targets."""
        import torch

        if self._regression:
            return torch.nn.functional.mse_loss(outputs.squeeze(-1).float(), target)
        return torch.nn.functional.cross_entropy(outputs.float(), target)

    def _restore(self) -> None:
        """Recreate fitted helpers that an exported model does not store (a packaged tokenizer), before predicting."""

    # -- shared machinery ----------------------------------------------------------------------------------
    @property
    def _regression(self) -> bool:
        return self.task == "regression"

    def fit(self, X, y):
        import torch

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        y = np.asarray(y)
        started = time.perf_counter()
        rows_offered = len(y)
        if math.isfinite(self.max_seconds):
            limit = self._affordable_rows(X, self.max_seconds * 0.5)
            if limit is not None and limit < len(y):
                keep = _subsample(y, max(MIN_TRAIN_ROWS, limit), self._regression, rng)
                X, y = (X.iloc[keep] if hasattr(X, "iloc") else X[keep]), y[keep]
        if self._regression:
            self.target_mean_, self.target_std_ = float(y.mean()), float(y.std() or 1.0)
            targets = torch.tensor((y - self.target_mean_) / self.target_std_, dtype=torch.float32)
        else:
            targets = torch.tensor(y, dtype=torch.long)
        self.classes_ = np.arange(self.n_classes)
        train_rows, val_rows = _split(y, self._regression, rng)
        inputs = self._inputs(X, fitting=True)
        network = self._network(1 if self._regression else self.n_classes).to(self.device)

        def loss_of(model, batch):
            data, target = batch
            return self._loss(self._outputs(model, data), target.to(self.device))

        remaining = self.max_seconds - (time.perf_counter() - started)
        rows_available = rows_offered
        if math.isfinite(remaining):
            per_row = agreed(self._probe(network, inputs, train_rows, targets, loss_of), "max")  # same rows in all
            affordable = int(remaining * 0.8 / (TARGET_EPOCHS * per_row * (1 + VALIDATION_SHARE)))
            if affordable < len(train_rows):
                keep = max(MIN_TRAIN_ROWS, affordable)
                train_rows = np.sort(rng.choice(train_rows, min(keep, len(train_rows)), replace=False))
                val_rows = np.sort(rng.choice(val_rows, min(len(val_rows), max(16, keep // 5)), replace=False))

        def train_batches(epoch: int, size: int):
            order = np.random.default_rng(self.seed + epoch).permutation(train_rows)
            order, size = shard_rows(order, size)  # under torchrun: this process's share of each batch
            return self._batches(inputs, order, targets, size, training=True)

        self.training_log_ = train(
            wrap_distributed(network, self.device),
            make_train_batches=train_batches,
            make_val_batches=lambda size: self._batches(inputs, val_rows, targets, size, training=False),
            loss_of=loss_of,
            rows_available=rows_available,
            rows_used=len(train_rows) + len(val_rows),
            batch_size=self.batch_size,
            device=self.device,
            settings=TrainSettings(
                epochs=self.epochs, learning_rate=self.learning_rate, weight_decay=self.weight_decay,
                patience=self.patience, max_seconds=self.max_seconds - (time.perf_counter() - started),
                amp=self.device == "cuda", schedule=self.lr_schedule,
            ),
        )
        self.network_ = network
        return self

    def _probe(self, network, inputs, rows, targets, loss_of) -> float:
        """Seconds per training row, timed on a few real steps; the weights are restored afterwards."""
        import torch

        state = copy.deepcopy(network.state_dict())
        optimizer = torch.optim.AdamW(network.parameters(), lr=0.0)
        network.train()
        count, started = 0, None
        for step, batch in enumerate(self._batches(inputs, rows, targets, self.batch_size, training=True)):
            if step == 1:  # the first step pays one-off costs (allocation, lazy init)
                started = time.perf_counter()
            optimizer.zero_grad()
            loss_of(network, batch).backward()
            optimizer.step()
            if step >= 1:
                count += len(batch[1])
            if step >= PROBE_STEPS:
                break
        network.load_state_dict(state)
        if started is None or count == 0:
            return 1e-6
        return (time.perf_counter() - started) / count

    def _raw_outputs(self, X) -> np.ndarray:
        import torch

        inputs = self._inputs(X, fitting=False)
        rows = np.arange(len(X))
        self.network_.eval()

        def run(size: int) -> np.ndarray:
            parts = []
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device == "cuda"):
                for data, _ in self._batches(inputs, rows, None, size, training=False):
                    parts.append(self._outputs(self.network_, data).float().cpu().numpy())
            return np.concatenate(parts)

        outputs, _ = with_batch_backoff(run, max(self.batch_size, 128))
        return outputs

    def predict_proba(self, X) -> np.ndarray:
        logits = self._raw_outputs(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        if self._regression:
            return self._raw_outputs(X)[:, 0] * self.target_std_ + self.target_mean_
        return self.predict_proba(X).argmax(axis=1)


class MatrixEstimator(TorchEstimator):
    """A deep candidate whose inputs are one float matrix (embeddings, encoded columns); a linear head by default."""

    def _matrix(self, X, *, fitting: bool) -> np.ndarray:
        raise NotImplementedError

    def _inputs(self, X, *, fitting):
        matrix = np.asarray(self._matrix(X, fitting=fitting), dtype=np.float32)
        if fitting:
            self.n_inputs_ = matrix.shape[1]
        return matrix

    def _network(self, n_outputs: int):
        from torch import nn

        return nn.Linear(self.n_inputs_, n_outputs)

    def _batches(self, inputs, rows, targets, batch_size, *, training):
        return tensor_batches(inputs, rows, targets, batch_size)

    def _outputs(self, network, batch):
        return network(batch.to(self.device))


class EmbeddingHead(MatrixEstimator):
    """A linear head on the embeddings of a frozen pretrained encoder, cached per row by content.

    Embeddings do not depend on labels, so a row embedded once serves every fold: the runner can embed all rows up
    front (`embed`) when `rows_to_embed / embedding_rate` fits the time share, then cross-validate the cheap head.
    """

    def embed(self, X) -> np.ndarray:
        """The embedding of every row of X, computing (and caching) only the rows not seen before."""
        raise NotImplementedError

    def rows_to_embed(self, X) -> int:
        """Distinct rows of X not embedded yet."""
        raise NotImplementedError

    def embedding_rate(self, X) -> float:
        """Rows per second the encoder embeds on this device, timed (uncached) on a few rows of X."""
        raise NotImplementedError

    def _affordable_rows(self, X, seconds):
        if not self.rows_to_embed(X):
            return None  # embedded already: only the head is left to train, and it is cheap
        return int(self.embedding_rate(X) * seconds)


def _subsample(y: np.ndarray, size: int, regression: bool, rng) -> np.ndarray:
    """`size` row positions, keeping class proportions (and at least two rows of each class)."""
    if regression or size >= len(y):
        return np.sort(rng.choice(len(y), min(size, len(y)), replace=False))
    keep = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        share = max(2, round(size * len(members) / len(y)))
        keep.extend(rng.choice(members, min(share, len(members)), replace=False))
    return np.sort(np.array(keep))


def _split(y: np.ndarray, regression: bool, rng) -> tuple[np.ndarray, np.ndarray]:
    """A stratified validation split inside the training fold, used only for early stopping."""
    rows = np.arange(len(y))
    if regression:
        shuffled = rng.permutation(rows)
        cut = max(1, int(len(y) * VALIDATION_SHARE))
        return np.sort(shuffled[cut:]), np.sort(shuffled[:cut])
    val = []
    for label in np.unique(y):
        members = rng.permutation(rows[y == label])
        if len(members) > 1:
            val.extend(members[: max(1, int(len(members) * VALIDATION_SHARE))])
    val = np.sort(np.array(val, dtype=int))
    return np.setdiff1d(rows, val), val


def tensor_batches(matrix, rows: np.ndarray, targets, batch_size: int):
    """Batches of rows of a float matrix (numpy), with their targets."""
    import torch

    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        data = torch.as_tensor(np.asarray(matrix[chunk], dtype=np.float32))
        yield data, (targets[chunk] if targets is not None else None)
