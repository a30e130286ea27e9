"""One time budget for the whole run: each stage's stated share of `--time-budget`, and what each stage used.

The shares are fixed, so the same budget gives every stage the same allowance on every machine, and the stages plan
their work from it (models and folds, rows to explain, rows to perturb) rather than from the clock. Loading,
profiling, costing and writing the report are bounded by sampling, not by a share; they use what the three
budgeted stages leave. A stage reports what it cut to stay inside its share, and the report lists the cuts.
"""

from __future__ import annotations

from dladvisor._frozen import Frozen

# Share of --time-budget per budgeted stage; the remaining 10% covers loading, profiling, costing and the report.
STAGE_SHARES = {"benchmark": 0.80, "explain": 0.05, "checks": 0.05}


class StageTime(Frozen):
    """How long one stage took against its allowance, and what it cut to keep to it."""

    stage: str
    seconds: float
    budget_seconds: float | None = None  # None: bounded by sampling, not by a share of the budget
    cuts: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        return STAGE_SHARES.get(self.stage)


def stage_budget(stage: str, total_seconds: float) -> float:
    """The seconds `stage` may take out of a `total_seconds` run budget."""
    return STAGE_SHARES[stage] * total_seconds
