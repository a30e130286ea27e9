"""Deep tabular candidates trained from scratch on encoded columns: a plain MLP, TabM and RealMLP."""

from __future__ import annotations

import contextlib
import io
import re
import time

import numpy as np
from sklearn.base import BaseEstimator

from dladvisor.benchmark._deep import MatrixEstimator
from dladvisor.benchmark._preprocess import tabular_preprocessor
from dladvisor.benchmark._registry import BuildContext, register_candidate


def _mlp_space(trial) -> dict:
    return {"learning_rate": trial.suggest_float("learning_rate", 2e-4, 5e-3, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)}


def _tabm_space(trial) -> dict:
    return {"learning_rate": trial.suggest_float("learning_rate", 5e-4, 5e-3, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-3, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3)}


def _realmlp_space(trial) -> dict:
    """Part of the authors' RealMLP search space (pytabkit's HPO: Holzmüller et al., NeurIPS 2024, appendix)."""
    return {"lr": trial.suggest_float("lr", 2e-2, 3e-1, log=True),
            "p_drop": trial.suggest_categorical("p_drop", [0.0, 0.15, 0.3]),
            "wd": trial.suggest_categorical("wd", [0.0, 2e-2]),
            "plr_sigma": trial.suggest_float("plr_sigma", 0.05, 0.5, log=True)}


@register_candidate(
    "mlp", fast=True, label="MLP (tabular, from scratch)", family="deep", complexity=5, modality="tabular",
    search_space=_mlp_space,
    ladder_step="from scratch", parallel_folds=True,
    tuning="fixed settings (AdamW lr 1e-3, weight decay 1e-4, batch 256; 512 at 2x lr from 10,000 rows)",
    description="Two hidden layers (256, 128; GELU) on standardised, one-hot inputs; AdamW with weight decay, "
    "warm-up and decay, early stopping on a validation split of the training fold.",
)
def mlp(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline

    network = TabularMLP(
        task=ctx.task, n_classes=ctx.n_classes, device=ctx.device, max_seconds=ctx.max_seconds, epochs=60,
        learning_rate=1e-3, weight_decay=1e-4, batch_size=256, patience=6, seed=ctx.seed,
    )
    return make_pipeline(tabular_preprocessor(ctx.features, scale=True), network)


# From this many training rows, batches of 512 at twice the learning rate: on a CPU the same validation loss in
# about 60% of the time (adult census, 26k rows: ROC-AUC 0.906 either way, 3.8 s instead of 6.4 s per fold).
LARGE_BATCH_ROWS = 10_000
# ...and a learning-rate schedule over 30 epochs rather than 60: with this many rows an epoch is many steps, and the
# shorter warm-up and decay converge sooner (adult, 3 folds: ROC-AUC 0.9147 mean either way, 25% less time).
LARGE_EPOCHS = 30


class TabularMLP(MatrixEstimator):
    def fit(self, X, y):
        if len(y) < LARGE_BATCH_ROWS or self.batch_size >= 512:
            return super().fit(X, y)
        chosen = self.get_params()
        self.set_params(batch_size=512, learning_rate=self.learning_rate * 2, patience=min(self.patience, 4),
                        epochs=min(self.epochs, LARGE_EPOCHS))
        try:
            return super().fit(X, y)
        finally:
            self.set_params(**chosen)  # the parameters stay as given (scikit-learn's rule); the log has the batch

    def _matrix(self, X, *, fitting: bool):
        return X.toarray() if hasattr(X, "toarray") else X

    def _network(self, n_outputs: int):
        from torch import nn

        # No dropout: on a CPU its random masks cost as much as the layers themselves, and with weight decay and
        # early stopping it did not change the score (adult census, 3 folds: ROC-AUC 0.907/0.914/0.915 with dropout
        # 0.1, 0.907/0.914/0.915 without, 30% less time).
        return nn.Sequential(
            nn.Linear(self.n_inputs_, 256), nn.GELU(),
            nn.Linear(256, 128), nn.GELU(),
            nn.Linear(128, n_outputs),
        )


@register_candidate(
    "tabm", label="TabM (tabular, from scratch)", family="deep", complexity=6, modality="tabular",
    search_space=_tabm_space,
    ladder_step="from scratch", parallel_folds=True,
    tuning="the authors' defaults (Gorishniy et al., ICLR 2025: k = 32, 3 blocks, AdamW lr 2e-3, batch 256, "
    "early stopping after 16 epochs)",
    description="TabM (the tabm package): one MLP that holds an ensemble of 32 weight-sharing members (BatchEnsemble),"
    " trained together and averaged; standardised, one-hot inputs; early stopping on a validation split.",
)
def tabm(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline

    network = TabMEnsemble(
        task=ctx.task, n_classes=ctx.n_classes, device=ctx.device, max_seconds=ctx.max_seconds, epochs=100,
        learning_rate=2e-3, weight_decay=3e-4, batch_size=256, patience=16, seed=ctx.seed,
        d_block=512 if ctx.device == "cuda" else CPU_TABM_BLOCK,
    )
    return make_pipeline(tabular_preprocessor(ctx.features, scale=True), network)


# On a CPU, blocks of 256 rather than the authors' 512: a quarter of the arithmetic, so about four times the rows or
# epochs fit into the same time budget.
CPU_TABM_BLOCK = 256


class TabMEnsemble(MatrixEstimator):
    """TabM: k ensemble members trained on the same batches, each with its own loss; predictions are the mean of the
    members' probabilities (or values). A constant learning rate, as the authors train it."""

    lr_schedule = False

    def __init__(self, *, k: int = 32, d_block: int = 512, n_blocks: int = 3, dropout: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.k = k
        self.d_block = d_block
        self.n_blocks = n_blocks
        self.dropout = dropout

    def _matrix(self, X, *, fitting: bool):
        return X.toarray() if hasattr(X, "toarray") else X

    def _network(self, n_outputs: int):
        import tabm

        return tabm.TabM.make(n_num_features=self.n_inputs_, d_out=n_outputs, k=self.k, d_block=self.d_block,
                              n_blocks=self.n_blocks, dropout=self.dropout)

    def _outputs(self, network, batch):
        import torch

        members = network(x_num=batch.to(self.device))  # (rows, k, outputs)
        if network.training:
            return members
        if self._regression:
            return members.mean(1)
        # The ensemble's log mean probability: softmax of it (as predict_proba takes) is the mean probability.
        return torch.log(torch.softmax(members.float(), dim=-1).mean(1).clamp_min(1e-12))

    def _loss(self, outputs, target):
        if outputs.ndim == 3:  # training: every member is scored against the same targets
            return super()._loss(outputs.flatten(0, 1), target.repeat_interleave(outputs.shape[1]))
        return super()._loss(outputs, target)


@register_candidate(
    "realmlp", label="RealMLP (tabular, from scratch)", family="deep", complexity=6, modality="tabular",
    search_space=_realmlp_space, ladder_step="from scratch", parallel_folds=True, exportable=False,
    tuning="the authors' tuned defaults (pytabkit RealMLP-TD), log-loss for early stopping, no label smoothing; "
    "epochs fitted to the time budget (the schedule spans them)",
    description="RealMLP (the pytabkit package, Holzmüller et al., NeurIPS 2024): an MLP with robust scaling and "
    "smooth clipping, numerical embeddings, parametric activations and a tuned schedule; native categorical columns.",
)
def realmlp(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline

    network = RealMLP(task=ctx.task, device=ctx.device, max_seconds=ctx.max_seconds, n_jobs=ctx.n_jobs,
                      n_categorical=len(ctx.features.categorical), seed=ctx.seed)
    return make_pipeline(tabular_preprocessor(ctx.features, scale=False, categorical="ordinal"), network)


# RealMLP-TD trains 256 epochs; on a CPU that is ~0.8 s an epoch for 26,000 adult rows (3.5 minutes a fold), so the
# epochs are fitted to the budget: adult, one fold, 2 cores: 16 epochs 13 s ROC-AUC 0.9096, 64 epochs 53 s 0.9086.
REALMLP_EPOCHS = 256
REALMLP_MIN_EPOCHS = 4
REALMLP_BATCH_SIZE = 256  # RealMLP-TD's
# A pessimistic pace (twice adult's 0.8 s an epoch for 26,000 rows on 2 cores) and per-fit set-up: when the whole
# schedule surely fits the time share, no probe is spent finding out.
REALMLP_SECONDS_PER_ROW_EPOCH = 6e-5
REALMLP_SETUP_SECONDS = 5.0


class RealMLP(BaseEstimator):
    """pytabkit's RealMLP-TD on encoded columns (the last `n_categorical` are category codes), with its epochs cut to
    what `max_seconds` allows, timed on a one-epoch probe fit."""

    def __init__(self, task: str = "binary", device: str = "cpu", max_seconds: float = float("inf"), n_jobs: int = 1,
                 n_categorical: int = 0, seed: int = 0, lr: float | None = None, p_drop: float | None = None,
                 wd: float | None = None, plr_sigma: float | None = None):
        self.task = task
        self.device = device
        self.max_seconds = max_seconds
        self.n_jobs = n_jobs
        self.n_categorical = n_categorical
        self.seed = seed
        # None: RealMLP-TD's default; set by --preset thorough's search (`_realmlp_space`)
        self.lr = lr
        self.p_drop = p_drop
        self.wd = wd
        self.plr_sigma = plr_sigma

    def _frame(self, X):
        import pandas as pd

        Z = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=float)
        frame = pd.DataFrame(Z, columns=[f"x{j}" for j in range(Z.shape[1])])
        for j in range(Z.shape[1] - self.n_categorical, Z.shape[1]):
            codes = pd.Series(Z[:, j]).astype("Int64")
            frame[f"x{j}"] = codes.astype("category")
        return frame

    def _model(self, epochs: int, verbosity: int = 0):
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        tuned = {k: v for k, v in dict(lr=self.lr, p_drop=self.p_drop, wd=self.wd, plr_sigma=self.plr_sigma).items()
                 if v is not None}
        common = dict(n_epochs=epochs, device=self.device, n_threads=self.n_jobs, random_state=self.seed,
                      verbosity=verbosity, **tuned)
        if self.task == "regression":
            return RealMLP_TD_Regressor(**common)
        return RealMLP_TD_Classifier(**common, use_ls=False, val_metric_name="cross_entropy")

    def fit(self, X, y):
        with _quiet_lightning():
            return self._fit(X, y)

    def _fit(self, X, y):
        started = time.perf_counter()
        frame = self._frame(X)
        epochs = REALMLP_EPOCHS
        if REALMLP_SETUP_SECONDS + len(frame) * REALMLP_EPOCHS * REALMLP_SECONDS_PER_ROW_EPOCH > self.max_seconds:
            self._model(1)  # the first import of pytabkit (Lightning) is not an epoch
            timer = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as probe_log:
                probe = self._model(1, verbosity=2).fit(frame, y)
            per_epoch = time.perf_counter() - timer  # an overestimate: it carries the per-fit set-up too
            left = self.max_seconds - (time.perf_counter() - started)
            epochs = int(np.clip(left * 0.8 / per_epoch, REALMLP_MIN_EPOCHS, REALMLP_EPOCHS))
            if left < REALMLP_MIN_EPOCHS * per_epoch:  # no time for more: the probe is the model
                self.model_, self.epochs_ = probe, 1
                return self._fitted(len(frame), started, history=_epoch_losses(probe_log.getvalue()))
        # pytabkit logs each epoch's validation loss (the early-stopping metric on its own inner split) to stdout
        # at verbosity 2, and nowhere else; its training loss is not logged. The redirect is process-wide: fine in
        # the CLI (the progress display writes to stderr; parallel folds run in worker processes).
        with contextlib.redirect_stdout(io.StringIO()) as log:
            self.model_, self.epochs_ = self._model(epochs, verbosity=2).fit(frame, y), epochs
        return self._fitted(len(frame), started, history=_epoch_losses(log.getvalue()))

    def _fitted(self, rows: int, started: float, history: tuple):
        from dladvisor.benchmark._torch import TrainingLog, diagnose

        # Epochs cut to the budget count as a time-budget stop, so the report marks the comparison provisional the
        # way it does for a starved torch model.
        cut = self.epochs_ < REALMLP_EPOCHS
        seconds = time.perf_counter() - started
        val = [h.val_loss for h in history]
        finite = [v for v in val if np.isfinite(v)]
        # pytabkit keeps the last of the epochs tied for the best validation loss
        best = max(i for i, v in enumerate(val) if v == min(finite)) + 1 if finite else self.epochs_
        diagnosis, advice = diagnose(history, best if finite else None)
        self.training_log_ = TrainingLog(
            device=self.device, rows_available=rows, rows_used=rows, epochs_run=self.epochs_,
            best_epoch=best, batch_size=REALMLP_BATCH_SIZE, seconds=round(seconds, 2), history=history,
            stopped_because=(f"time budget: {self.epochs_} of RealMLP-TD's {REALMLP_EPOCHS} epochs fitted its share"
                             if cut else f"completed RealMLP-TD's {REALMLP_EPOCHS}-epoch schedule"),
            diagnosis=diagnosis, samples_per_second=round(rows * self.epochs_ / max(seconds, 1e-9), 2),
            advice=advice,
        )
        self.n_features_in_ = getattr(self.model_, "n_features_in_", None)
        if hasattr(self.model_, "classes_"):
            self.classes_ = np.asarray(self.model_.classes_)
        return self

    def predict(self, X):
        with _quiet_lightning():
            return np.asarray(self.model_.predict(self._frame(X))).ravel()

    def predict_proba(self, X):
        with _quiet_lightning():
            return np.asarray(self.model_.predict_proba(self._frame(X)))


# pytabkit writes the value as {:6.6f}: "nan" and "inf" come padded ("=    nan")
_EPOCH_LINE = re.compile(r"^Epoch (\d+)/\d+: val \S+ =\s*(\S+)$", re.MULTILINE)


def _epoch_losses(log: str) -> tuple:
    """pytabkit's verbosity-2 log ("Epoch 3/16: val cross_entropy = 0.301245") as validation-only epoch losses."""
    from dladvisor.benchmark._torch import EpochLoss

    return tuple(EpochLoss(epoch=int(epoch), train_loss=None, val_loss=float(value))
                 for epoch, value in _EPOCH_LINE.findall(log))


@contextlib.contextmanager
def _quiet_lightning():
    """pytabkit runs a Lightning Trainer for every fit and prediction, which logs "GPU available: False", a tip and a
    deprecation warning each time; a report run would print hundreds of them."""
    import logging
    import warnings

    import pytorch_lightning  # noqa: F401  (imported first: importing it sets its loggers back to INFO)

    for name in ("pytorch_lightning", "lightning_fabric", "lightning", "lightning.pytorch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*isinstance\(treespec")
        yield
