"""The explain stage's frozen results, which the recommendation, the checks and the report read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dladvisor._frozen import Frozen
from dladvisor.profile import Alert

Level = Literal["native", "exact post-hoc", "approximate post-hoc"]


class Attribution(Frozen):
    feature: str
    mean_abs_shap: float
    share: float


class TokenWeight(Frozen):
    token: str
    weight: float


class TextExample(Frozen):
    actual: str
    predicted: str
    output: str  # which model output the weights explain
    tokens: tuple[TokenWeight, ...]


class ImageExample(Frozen):
    path: str  # relative to the data file's folder when inside it (as a shared report should show it)
    file: str = Field(default="", exclude=True, repr=False)  # where this run read it (for the plots), not saved
    actual: str
    predicted: str
    heatmap: tuple[tuple[float, ...], ...]  # HEATMAP x HEATMAP attributions toward the predicted class


class ModelExplanation(Frozen):
    """The explainability summary of one candidate, which the recommendation reads."""

    candidate: str
    modality: str
    level: Level
    method: str
    output: str
    unit: str  # what the attributions are on: column, token, image region
    importances: tuple[Attribution, ...]
    top_share: float
    rows_explained: int
    ms_per_row: float
    stability: float | None
    stability_basis: str
    additivity_error: float | None = None
    class_tokens: dict[str, tuple[TokenWeight, ...]] = {}
    text_examples: tuple[TextExample, ...] = ()
    image_examples: tuple[ImageExample, ...] = ()
    seconds: float = 0.0  # the whole explanation of this candidate, every fold model included
    rows_planned: int = 0
    # Non-empty when the model's share of the explain budget, not its kind's usual sample, set the rows planned: a
    # planned cut, the same every run (from the model's size and the budget, never from the clock).
    budget_note: str = ""
    # Non-empty when the clock, not the plan, decided how many rows were explained: then the same seed may explain
    # a different number of rows next time, and the report says so.
    cut_short: str = ""


class Agreement(Frozen):
    classical: str
    deep: str
    k: int
    overlap: float
    shared: tuple[str, ...]


class ExplanationReport(Frozen):
    method: str
    candidates: tuple[ModelExplanation, ...]
    agreement: Agreement | None = None
    alerts: tuple[Alert, ...] = ()
    not_explained: dict[str, str] = {}
    budget_seconds: float = 0.0  # the explain stage's budget, split among the candidates
    compile_seconds: float = 0.0  # SHAP's one-off just-in-time compilation, outside the per-row timings
    cut_for_budget: tuple[str, ...] = ()  # candidates in `not_explained` because their share covered too few rows

    def get(self, name: str) -> ModelExplanation | None:
        return next((c for c in self.candidates if c.candidate == name), None)
