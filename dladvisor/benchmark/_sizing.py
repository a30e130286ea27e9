"""How many rows the time budget allows the benchmark, measured before the folds are drawn.

Deep candidates fit themselves into their share of the budget (fewer rows or epochs, and the report says so); the
classical ones cannot, so on a large table they would be skipped one by one as their folds overran. Instead, each
classical candidate of the run is fitted on two small stratified pilots of the table (PILOT_ROWS) and timed, fit and
prediction together, as a fold would be; the time is extrapolated with the growth each showed (rows^e, e clipped to
[1, 2], as `dladvisor estimate` does), and the benchmark reads the largest stratified sample whose k folds fit
CLASSICAL_SHARE of what is left of its budget after the pilots. The size depends on measured times, so a run on
another machine (or a busier one) may read a slightly different number of rows; the report states the number.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from dladvisor._frozen import Frozen
from dladvisor.benchmark._registry import BuildContext
from dladvisor.errors import UserError
from dladvisor.load import Dataset, draw_rows
from dladvisor.profile import DatasetProfile

# Tables up to this many rows are not sized: the pilots would cost a noticeable part of a short run, and when such a
# table's folds overrun the budget the candidates that do not fit are skipped and say so.
SIZING_MIN_ROWS = 50_000
PILOT_ROWS = (2_000, 4_000)
# The classical candidates' folds may take this share of the benchmark budget; the deep candidates, the learning
# curves and the leak refits share the rest.
CLASSICAL_SHARE = 0.5
# A sample is never made smaller than this, and its size is found to within (and rounded down to) SIZING_STEP rows.
SIZED_MIN_ROWS = 10_000
SIZING_STEP = 1_000


class RowBudget(Frozen):
    rows: int  # the largest sample whose classical folds fit the share (<= the rows offered)
    offered: int  # rows the benchmark was offered
    projected_seconds: float  # the classical folds' projected time on `rows`
    share_seconds: float
    method: str  # for people: how the projection was made


def rows_for_budget(dataset: Dataset, profile: DatasetProfile, *, n_folds: int, preset: str,
                    candidates: list[str] | None, budget_seconds: float, seed: int) -> RowBudget | None:
    """The rows the benchmark's budget allows its classical candidates, or None when the table is small enough not
    to be sized (or the run has no classical tabular or text candidate to time)."""
    from dladvisor.benchmark._runner import THOROUGH_SHARE, _select, feature_spec, model_frame, predict, usable_cores

    n = dataset.n_rows
    if n <= SIZING_MIN_ROWS or not math.isfinite(budget_seconds):
        return None
    features = feature_spec(profile, dataset)
    specs = _select(dataset.task, candidates, features, preset)
    classical = [s for s in specs if not s.is_deep and not s.is_baseline and s.modality in ("tabular", "text")]
    if not classical:
        return None
    if preset == "thorough":  # the defaults get part of the time; tuning and its cross-validation the rest
        budget_seconds *= 1 - THOROUGH_SHARE
    started = time.perf_counter()
    try:
        # One stratified pilot of the larger size, shuffled: its first rows are the smaller pilot, and each pilot is
        # a fold, fitted on (k-1)/k of its rows and predicting the rest.
        _, rows = draw_rows(dataset.y, PILOT_ROWS[1], seed=seed,
                            classes=dataset.classes if dataset.is_classification else None)
    except UserError:  # a class too rare for a stratified pilot: leave the size to --max-rows
        return None
    rows = np.random.default_rng(seed).permutation(rows)
    pilot = dataclasses.replace(dataset, features=dataset.features.iloc[rows].reset_index(drop=True),
                                y=dataset.y[rows])
    X, y = model_frame(pilot, features), pilot.y
    pilots = [(np.arange(size * (n_folds - 1) // n_folds), np.arange(size * (n_folds - 1) // n_folds, size))
              for size in PILOT_ROWS]
    workers = usable_cores()
    context = BuildContext(task=dataset.task, n_classes=len(dataset.classes), features=features, seed=seed,
                           n_jobs=workers, preset=preset)
    growth = []
    for spec in classical:
        ctx = dataclasses.replace(context, n_jobs=1) if spec.parallel_folds and workers > 1 else context
        seconds = []
        try:
            for train, test in pilots:
                model = spec.factory(ctx)  # built outside the timer: factories import their library
                timer = time.perf_counter()
                model.fit(X.iloc[train], y[train])
                predict(model, X.iloc[test], len(dataset.classes))
                seconds.append(time.perf_counter() - timer)
        except Exception:  # noqa: BLE001  a pilot that cannot fit is left out; its folds will say why
            continue
        exponent = float(np.clip(math.log(max(seconds[1], 1e-9) / max(seconds[0], 1e-9)) / math.log(2), 1.0, 2.0))
        rounds = math.ceil(n_folds / workers) if spec.parallel_folds else n_folds
        growth.append((spec, seconds, exponent, rounds))
    if not growth:
        return None
    budget_seconds -= time.perf_counter() - started  # the pilots' time is the benchmark's

    def projected(rows: int) -> float:
        # A fold fits on (k-1)/k of the rows and predicts the rest: both grow with the sample as the pilot's did.
        return sum(s[1] * (rows / PILOT_ROWS[1]) ** e * rounds for _, s, e, rounds in growth)

    share = CLASSICAL_SHARE * budget_seconds
    method = (f"{', '.join(spec.label for spec, *_ in growth)} timed on stratified pilots of {PILOT_ROWS[0]:,} and "
              f"{PILOT_ROWS[1]:,} rows and extrapolated with the growth each showed (rows^e, e in [1, 2]) to "
              f"{n_folds} folds")
    if projected(n) <= share:
        return RowBudget(rows=n, offered=n, projected_seconds=projected(n), share_seconds=share,
                         method=method)
    low, high = SIZED_MIN_ROWS, n  # projected(low) may overrun too: then the skip rule takes over, as for any table
    while high - low > SIZING_STEP:
        middle = (low + high) // 2
        low, high = (middle, high) if projected(middle) <= share else (low, middle)
    rows = max(SIZED_MIN_ROWS, low // SIZING_STEP * SIZING_STEP)
    return RowBudget(rows=rows, offered=n, projected_seconds=projected(rows), share_seconds=share,
                     method=method)
