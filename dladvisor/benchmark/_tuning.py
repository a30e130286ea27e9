"""`--preset thorough`: the best classical and the best deep family each tuned by Optuna, on equal terms.

Both sides get the same number of trials, the same inner validation split (80/20 of the reference fold's training
rows, stratified for classification) and the same metric; the defaults are the first trial of each, so a tuned
model is never worse than its defaults on that split. The tuned configurations are then cross-validated on the same
folds as every other candidate, and the paired deep-vs-classical lift is measured between the two tuned models.

The other folds' test rows overlap the rows the tuning saw (they are part of the reference fold's training rows), so
a tuned model's cross-validated score can be a little optimistic; it is so for both sides alike, and the report says
so. Search spaces are registered with their candidates (`register_candidate(search_space=...)`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from dladvisor.benchmark._metrics import LOWER_IS_BETTER, score_fold
from dladvisor.benchmark._registry import BuildContext, CandidateSpec

MAX_TRIALS = 20
MIN_TRIALS = 3  # fewer than this is no search: tuning is left out, and the report says why
INNER_VALIDATION_SHARE = 0.2
TUNING_SHARE = 0.6  # of the time left for thorough: the searches; the rest cross-validates the two tuned models


@dataclasses.dataclass(frozen=True)
class Tuned:
    spec: CandidateSpec  # the tuned candidate, ready to run on the folds like any other
    trials: int
    best_params: dict
    inner_score: float  # on the inner validation split
    default_score: float


def plan_trials(seconds_per_fit: list[float], seconds: float) -> int:
    """The same number of trials for every side, as many as the slowest side's fits allow in its half of `seconds`
    (at most MAX_TRIALS); 0 when fewer than MIN_TRIALS fit."""
    slowest = max(seconds_per_fit)
    trials = int(seconds / len(seconds_per_fit) / max(slowest, 1e-3))
    trials = min(trials, MAX_TRIALS)
    return trials if trials >= MIN_TRIALS else 0


def inner_split(y: np.ndarray, rows: np.ndarray, regression: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    labels = y[rows]
    stratify = None if regression or np.min(np.unique(labels, return_counts=True)[1]) < 2 else labels
    train, val = train_test_split(rows, test_size=INNER_VALIDATION_SHARE, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def tune(spec: CandidateSpec, context: BuildContext, X, y: np.ndarray, split: tuple[np.ndarray, np.ndarray], *,
         trials: int, primary: str, seconds_per_trial: float) -> Tuned:
    """Search `spec.search_space` with Optuna's TPE sampler for `trials` trials on the inner `split`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train, val = split
    lower = primary in LOWER_IS_BETTER
    trial_context = dataclasses.replace(context, max_seconds=seconds_per_trial if spec.is_deep else math.inf)
    n_classes = context.n_classes

    def objective(trial) -> float:
        params = {} if trial.number == 0 else spec.search_space(trial)  # trial 0: the registered defaults
        model = with_params(spec.factory(trial_context), params)
        model.fit(X.iloc[train], y[train])
        prediction = model.predict(X.iloc[val]) if context.task == "regression" else model.predict_proba(X.iloc[val])
        return score_fold(context.task, y[val], prediction, n_classes, only=primary)[primary]

    study = optuna.create_study(direction="minimize" if lower else "maximize",
                                sampler=optuna.samplers.TPESampler(seed=context.seed))
    study.optimize(objective, n_trials=trials)
    best = study.best_trial
    params = {} if best.number == 0 else spec.search_space(_Replay(best.params))
    chose = ", ".join(f"{k.removeprefix('model__')}={_short(v)}" for k, v in params.items()) or "its defaults"
    tuned = dataclasses.replace(
        spec, name=f"{spec.name}_tuned", label=f"{spec.label.replace(' (tuned defaults)', '')} (tuned)",
        regression_label=None, factory=_factory(spec.factory, params), fast=False, search_space=None,
        tuned_from=spec.name, params=tuple(params.items()),
        tuning=f"Optuna TPE, {trials} trials (the same for the best classical and the best deep family) on an inner "
               f"80/20 split of one fold's training rows, the defaults first; chose {chose}",
    )
    return Tuned(spec=tuned, trials=len(study.trials), best_params=params, inner_score=float(best.value),
                 default_score=float(study.trials[0].value))


class _Replay:
    """A stand-in for an Optuna trial that returns the values a finished trial chose."""

    def __init__(self, params: dict):
        self.params = params

    def suggest_float(self, name, *args, **kwargs):
        return self.params[name]

    suggest_int = suggest_categorical = suggest_float


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def with_params(model, params: dict):
    """A candidate pipeline with `params` set on its last step."""
    step = model.steps[-1][1] if hasattr(model, "steps") else model
    step.set_params(**params)
    return model


def _factory(factory: Callable, params: dict) -> Callable:
    def tuned(ctx: BuildContext):
        return with_params(factory(ctx), params)

    return tuned
