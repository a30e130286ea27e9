"""The candidate registry: every model the benchmark can run, found by name."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dladvisor.errors import UserError

ALL_TASKS = frozenset({"binary", "multiclass", "regression"})


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns a tabular candidate reads, by how they are encoded."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.datetime]


@dataclass(frozen=True)
class BuildContext:
    """What a candidate factory may use to configure its (unfitted) estimator."""

    task: str
    n_classes: int
    features: FeatureSpec
    seed: int
    n_jobs: int


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

    def label_for(self, task: str) -> str:
        return self.regression_label if task == "regression" and self.regression_label else self.label

    @property
    def is_baseline(self) -> bool:
        return self.family == "baseline"


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
) -> Callable[[Callable[[BuildContext], Any]], Callable[[BuildContext], Any]]:
    """Register a factory `(BuildContext) -> unfitted scikit-learn estimator` under `name`.

    `complexity` orders candidates from simplest (0) up: when two score alike, the simpler one is recommended.
    """

    def decorator(factory: Callable[[BuildContext], Any]) -> Callable[[BuildContext], Any]:
        if name in _REGISTRY:
            raise ValueError(f"candidate '{name}' is registered twice")
        _REGISTRY[name] = CandidateSpec(name, label, family, complexity, description, tasks, factory, regression_label)
        return factory

    return decorator


def list_candidates(task: str | None = None) -> list[CandidateSpec]:
    specs = sorted(_REGISTRY.values(), key=lambda s: (s.complexity, s.name))
    return [s for s in specs if task is None or task in s.tasks]


def get_candidate(name: str) -> CandidateSpec:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UserError(f"Unknown candidate '{name}'.{hint} Known: {', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[name]
