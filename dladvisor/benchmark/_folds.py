"""One set of folds, made once and shared by every candidate so their scores are paired."""

from __future__ import annotations

import numpy as np

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError
from dladvisor.load import Dataset


class SplitInfo(Frozen):
    kind: str
    n_folds: int
    description: str


def make_folds(dataset: Dataset, *, n_folds: int, seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], SplitInfo]:
    """Stratified K folds by default; grouped with a group column, time-ordered with a time column."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold, TimeSeriesSplit

    if n_folds < 2:
        raise UserError(f"--folds must be at least 2 (got {n_folds}).")
    if n_folds > dataset.n_rows // 2:
        raise UserError(f"--folds {n_folds} is too many for {dataset.n_rows} rows; use --folds 5 or fewer.")
    y = dataset.y
    rows = np.arange(dataset.n_rows)
    if dataset.is_classification and dataset.time_column is None:
        counts = np.bincount(y, minlength=len(dataset.classes))
        rarest = int(counts.argmin())
        if counts[rarest] < n_folds:
            raise UserError(
                f"Class '{dataset.classes[rarest]}' has only {counts[rarest]} rows, fewer than --folds {n_folds}; "
                f"use --folds {max(2, int(counts[rarest]))} or collect more rows of that class."
            )

    if dataset.time_column is not None:
        splitter = TimeSeriesSplit(n_splits=n_folds)
        folds = list(splitter.split(rows))
        info = SplitInfo(
            kind="time-ordered", n_folds=n_folds,
            description=f"{n_folds} expanding-window folds ordered by '{dataset.time_column}': each fold trains on "
            "the past and tests on the next block, so the first block is never scored.",
        )
    elif dataset.group_column is not None:
        groups = dataset.features[dataset.group_column].to_numpy()
        n_groups = len(np.unique(groups))
        if n_groups < n_folds:
            raise UserError(
                f"--group-col '{dataset.group_column}' has {n_groups} groups, fewer than --folds {n_folds}; "
                f"use --folds {max(2, n_groups)}."
            )
        if dataset.is_classification:
            folds = list(StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed).split(rows, y, groups))
        else:
            folds = list(GroupKFold(n_folds).split(rows, y, groups))
        info = SplitInfo(
            kind="grouped", n_folds=n_folds,
            description=f"{n_folds} folds keeping all rows of one '{dataset.group_column}' in the same fold "
            f"({n_groups} groups).",
        )
    elif dataset.is_classification:
        folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(rows, y))
        info = SplitInfo(
            kind="stratified", n_folds=n_folds,
            description=f"{n_folds} stratified folds (shuffled, seed {seed}); every candidate sees the same folds.",
        )
    else:
        folds = list(KFold(n_folds, shuffle=True, random_state=seed).split(rows))
        info = SplitInfo(
            kind="shuffled", n_folds=n_folds,
            description=f"{n_folds} shuffled folds (seed {seed}); every candidate sees the same folds.",
        )
    return folds, info
