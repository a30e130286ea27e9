"""`--mlflow`: an assessment logged to a real MLflow store (SQLite in a temporary folder) and read back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dladvisor.cli import app
from dladvisor.errors import UserError
from dladvisor.tracking import INSTALL_HINT, check_mlflow, tracking_uri


def test_cli_logs_scores_verdict_and_report_to_sqlite_store(tmp_path, cancer_frame, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # whatever MLflow writes by default would land here: nothing must
    data = tmp_path / "cancer.csv"
    cancer_frame.to_csv(data, index=False)
    store = f"sqlite:///{tmp_path / 'mlruns.db'}"
    out = tmp_path / "report"
    result = CliRunner().invoke(app, [
        "assess", str(data), "--target", "diagnosis", "-c", "linear", "-c", "dummy", "--folds", "3",
        "--no-learning-curves", "--out", str(out), "--mlflow-uri", store, "--mlflow-experiment", "churn",
    ])
    assert result.exit_code == 0, result.output
    assert list(work.iterdir()) == []

    mlflow.set_tracking_uri(store)
    try:
        runs = mlflow.search_runs(experiment_names=["churn"], output_format="list")
    finally:
        mlflow.set_tracking_uri(None)
    assert len(runs) == 1
    run = runs[0]
    report = json.loads((out / "report.json").read_text())
    for candidate in report["benchmark"]["candidates"]:
        for metric, summary in candidate["metrics"].items():
            assert run.data.metrics[f"cv.{candidate['name']}.{metric}"] == pytest.approx(summary["mean"])
            assert run.data.metrics[f"cv.{candidate['name']}.{metric}.ci_low"] == pytest.approx(summary["ci_low"])
    assert run.data.tags["dladvisor.verdict"] == report["recommendation"]["verdict"]
    assert run.data.params["task"] == "binary" and run.data.params["option.folds"] == "3"
    artifacts = [a.path for a in mlflow.MlflowClient(tracking_uri=store).list_artifacts(run.info.run_id)]
    assert "report.md" in artifacts and "report.json" in artifacts
    assert (tmp_path / "mlartifacts" / "churn").is_dir()  # artifacts beside the database, not in the cwd


def test_tracking_uri_order(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == "sqlite:///mlruns.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert tracking_uri() == "http://mlflow.internal:5000"
    assert tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


def test_missing_mlflow_is_one_line_exit_2(monkeypatch, tmp_path, cancer_frame):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(UserError, match="pip install 'dladvisor\\[mlflow\\]'"):
        check_mlflow()
    data = tmp_path / "cancer.csv"
    cancer_frame.to_csv(data, index=False)
    result = CliRunner().invoke(app, ["assess", str(data), "--target", "diagnosis", "--mlflow",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert INSTALL_HINT in result.output
    assert not (tmp_path / "r").exists()  # refused before any work
