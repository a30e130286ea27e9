"""The candidate registry: every model the benchmark can run, found by name."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dladvisor.errors import UserError

ALL_TASKS = frozenset({"binary", "multiclass", "regression"})
# --preset: which candidates run when none is named, and how they are tuned. Equal for both sides in each.
PRESETS = {
    "fast": "a few strong defaults per modality (a CI run): the linear model, LightGBM with tuned defaults and the "
            "cheapest deep model; no learning curves",
    "standard": "every candidate at its published or library defaults",
    "thorough": "every candidate, then the best classical and the best deep family each tuned by the same number "
                "of Optuna trials on the same inner validation split",
}


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns a tabular candidate reads, by how they are encoded."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]
    text: tuple[str, ...] = ()
    image: tuple[str, ...] = ()

    @property
    def tabular(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]

    @property
    def all(self) -> list[str]:
        return [*self.tabular, *self.text, *self.image]

    def has(self, modality: str) -> bool:
        return bool({"tabular": self.tabular, "text": self.text, "image": self.image}[modality])


@dataclass(frozen=True)
class BuildContext:
    """What a candidate factory may use to configure its (unfitted) estimator."""

    task: str
    n_classes: int
    features: FeatureSpec
    seed: int
    n_jobs: int
    device: str = "cpu"
    max_seconds: float = float("inf")
    text_model: str = "all-MiniLM-L6-v2"
    image_model: str = "tf_efficientnet_lite0"
    preset: str = "standard"


@dataclass(frozen=True)
class CandidateSpec:
    name: str
    label: str
    family: str
    complexity: int
    description: str
    tasks: frozenset[str]
    factory: Callable[[BuildContext], Any]
    regression_label: str | None = None
    modality: str = "tabular"
    ladder_step: str = "classical"
    holdout_on_cpu: bool = False
    frozen_embeddings: bool = False
    parallel_folds: bool = False
    tuning: str = "library defaults"
    fast: bool = False
    explainer: str = "permutation"  # the SHAP explainer that handles its fitted model (dladvisor.explain)
    search_space: Callable[[Any], dict] | None = None  # Optuna trial -> parameters of its last step (thorough)
    exportable: bool = True  # --export-model can save it without pickle
    tuned_from: str | None = None  # a tuned copy (thorough): the registered candidate it was tuned from
    params: tuple[tuple[str, Any], ...] = ()  # ...and the parameters set on its last step

    def label_for(self, task: str) -> str:
        return self.regression_label if task == "regression" and self.regression_label else self.label

    @property
    def is_baseline(self) -> bool:
        return self.family == "baseline"

    @property
    def is_deep(self) -> bool:
        return self.family == "deep"


_REGISTRY: dict[str, CandidateSpec] = {}


def register_candidate(
    name: str,
    *,
    label: str,
    family: str,
    complexity: int,
    description: str,
    tasks: frozenset[str] = ALL_TASKS,
    regression_label: str | None = None,
    modality: str = "tabular",
    ladder_step: str = "classical",
    holdout_on_cpu: bool = False,
    frozen_embeddings: bool = False,
    parallel_folds: bool = False,
    tuning: str = "library defaults",
    fast: bool = False,
    explainer: str | None = None,
    search_space: Callable[[Any], dict] | None = None,
    exportable: bool = True,
) -> Callable[[Callable[[BuildContext], Any]], Callable[[BuildContext], Any]]:
    """Register a factory `(BuildContext) -> unfitted scikit-learn estimator` under `name`.

    Args:
        complexity: orders candidates from simplest (0) up; when two score alike, the simpler one is recommended.
        modality: the columns it needs ("tabular", "text" or "image"); it runs only when the data has them.
        ladder_step: "classical", "frozen" (pretrained embeddings + linear head), "fine-tune" or "from scratch".
        holdout_on_cpu: too slow for K folds on a CPU, so there it is scored on the shared held-out rows.
        frozen_embeddings: its estimator is an `EmbeddingHead` (a head on a frozen encoder's cached embeddings). On a
            CPU the runner embeds every row once and cross-validates the head on all folds when that fits the
            candidate's time share, and scores it on the shared held-out rows when it does not.
        parallel_folds: the model fits on one core, so its folds run side by side, one per core (its factory gets
            `n_jobs=1` there). Leave False for models that use every core well themselves (forests, boosting) and
            for frozen-encoder heads (their embedding cache lives in the main process). A small torch network is
            faster as one single-threaded process per fold than as one process with a thread per core (the tabular
            MLP on adult, 5 folds on 2 busy cores: 26 s instead of 334 s).
        tuning: how its hyperparameters were chosen, as the report says it.
        fast: part of `--preset fast` (the baseline always is).
        explainer: the name of the registered SHAP explainer that handles its fitted model, as `dladvisor
            candidates` lists it (default: the modality's for text and images, else permutation SHAP); a test checks
            that it is the one chosen.
        search_space: `(optuna trial) -> {parameter of the pipeline's last step: value}`; with one, `--preset
            thorough` may tune it (when it is the best of its side) with as many trials as the other side gets.
        exportable: False when `--export-model` cannot save it without pickle (the report then says so).
    """

    def decorator(factory: Callable[[BuildContext], Any]) -> Callable[[BuildContext], Any]:
        if name in _REGISTRY:
            raise ValueError(f"candidate '{name}' is registered twice")
        _REGISTRY[name] = CandidateSpec(
            name, label, family, complexity, description, tasks, factory, regression_label, modality, ladder_step,
            holdout_on_cpu, frozen_embeddings, parallel_folds, tuning, fast,
            explainer or (modality if modality != "tabular" else "permutation"), search_space, exportable,
        )
        return factory

    return decorator


def list_candidates(
    task: str | None = None, features: FeatureSpec | None = None, *, preset: str | None = None
) -> list[CandidateSpec]:
    """Registered candidates, simplest first; only those for `task` and whose columns `features` has (and, with a
    `preset`, those it runs when no candidate is named: for "fast" only the fast ones)."""
    if preset is not None:
        check_preset(preset)
    specs = sorted(_REGISTRY.values(), key=lambda s: (s.complexity, s.name))
    return [
        s for s in specs
        if (task is None or task in s.tasks) and (features is None or s.is_baseline or features.has(s.modality))
        and (preset != "fast" or s.fast or s.is_baseline)
    ]


def check_preset(preset: str) -> None:
    if preset not in PRESETS:
        raise UserError(f"Unknown --preset '{preset}'; use one of {', '.join(PRESETS)}.")


def check_candidates(names: list[str] | tuple[str, ...], task: str | None = None) -> list[CandidateSpec]:
    """The named candidates; a UserError for an unknown name or, once the task is known, one that cannot do it."""
    specs = [get_candidate(name) for name in names]
    for spec in specs:
        if task is not None and task not in spec.tasks:
            able = ", ".join(s.name for s in list_candidates(task))
            raise UserError(f"Candidate '{spec.name}' does not support {task} tasks; candidates for {task}: {able}.")
    return specs


def get_candidate(name: str) -> CandidateSpec:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UserError(f"Unknown candidate '{name}'.{hint} Known: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[name]
