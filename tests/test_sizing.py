"""Sizing the benchmark's sample to the time budget: classical fits timed on two pilots of a real table, the largest
sample whose folds fit the share, and an assessment that reads that sample and says so."""

from __future__ import annotations

import json

import pytest

from dladvisor.benchmark import _sizing
from dladvisor.benchmark._sizing import rows_for_budget
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


@pytest.fixture
def small_pilots(monkeypatch):
    """The breast-cancer table's 569 rows stand in for a large table: pilots of 100 and 200 rows."""
    monkeypatch.setattr(_sizing, "SIZING_MIN_ROWS", 300)
    monkeypatch.setattr(_sizing, "PILOT_ROWS", (100, 200))
    monkeypatch.setattr(_sizing, "SIZED_MIN_ROWS", 150)
    monkeypatch.setattr(_sizing, "SIZING_STEP", 10)


@pytest.fixture(scope="module")
def cancer(cancer_frame):
    from sklearn.datasets import load_breast_cancer

    whole = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "diagnosis"})
    dataset = load_dataset(whole, target="diagnosis")
    return dataset, profile_dataset(dataset)


def _allowed(cancer, budget, candidates=("linear", "random_forest")):
    dataset, profile = cancer
    return rows_for_budget(dataset, profile, n_folds=3, preset="standard", candidates=list(candidates),
                           budget_seconds=budget, seed=0)


def test_a_budget_the_folds_overrun_gets_the_largest_sample_that_fits(cancer, small_pilots):
    generous = _allowed(cancer, 1e6)
    assert generous.rows == generous.offered == 569 and generous.projected_seconds <= generous.share_seconds
    # A share about the projection for 200 rows (less the pilots' own time): the sample is cut, and fits unless it
    # is already at the floor of 150 rows.
    tight = _allowed(cancer, 2 * generous.projected_seconds * (200 / 569))
    assert 150 <= tight.rows < 569
    assert tight.projected_seconds <= tight.share_seconds or tight.rows == 150
    assert "Logistic regression, Random forest timed on stratified pilots of 100 and 200 rows" in tight.method


def test_small_tables_and_deep_only_runs_are_not_sized(cancer, monkeypatch):
    assert _allowed(cancer, 1.0) is None  # 569 rows are below the 50,000 that are worth the pilots
    monkeypatch.setattr(_sizing, "SIZING_MIN_ROWS", 300)
    assert _allowed(cancer, 1.0, candidates=("mlp",)) is None  # deep candidates fit themselves to their share


def test_an_assessment_reads_the_sample_the_budget_allows_and_says_so(cancer_frame, tmp_path, small_pilots,
                                                                      monkeypatch):
    from sklearn.datasets import load_breast_cancer
    from typer.testing import CliRunner

    from dladvisor.cli import app

    monkeypatch.setattr(_sizing, "CLASSICAL_SHARE", 1e-5)  # nothing fits: the smallest sample allowed
    path = tmp_path / "cancer.csv"
    load_breast_cancer(as_frame=True).frame.rename(columns={"target": "diagnosis"}).to_csv(path, index=False)
    out = tmp_path / "sized"
    result = CliRunner().invoke(app, ["assess", str(path), "-t", "diagnosis", "--folds", "3", "-c", "linear",
                                      "--no-learning-curves", "--out", str(out)])
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "report.json").read_text())
    sample = facts["dataset"]["row_sample"]
    assert sample["rows"] == 150 and sample["of_rows"] == 569 and sample["limited_by"] == "--time-budget"
    assert facts["benchmark"]["candidates"][1]["evaluated_rows"] == 150 and facts["profile"]["rows"] == 569
    markdown = (out / "report.md").read_text()
    assert "the rows the time budget allows, projected before the folds were drawn" in markdown
    assert "(`--time-budget`)" in markdown and "A larger --time-budget measures it on more rows." in markdown
