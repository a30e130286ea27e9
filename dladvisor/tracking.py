"""Log an assessment to MLflow, the tracking tool ML teams already run: options, every candidate's scores, the
verdict, and the report folder as artifacts.

The tracking URI is the one given, else `MLFLOW_TRACKING_URI`, else a local SQLite store (`sqlite:///mlruns.db`).
A new experiment on a SQLite store keeps its artifacts in `mlartifacts/` beside the database file, so nothing lands
in the working directory that the user did not name. MLflow is an optional extra, imported only here.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dladvisor.errors import UserError

if TYPE_CHECKING:
    from dladvisor.assessment import Assessment

DEFAULT_TRACKING_URI = "sqlite:///mlruns.db"
DEFAULT_EXPERIMENT = "dladvisor"
INSTALL_HINT = "--mlflow needs MLflow: pip install 'dladvisor[mlflow]'"
# MLflow rejects longer parameter values (its limit is 6000 characters; older servers allow 500).
MAX_PARAM_CHARS = 500


def check_mlflow() -> None:
    """A one-line UserError when MLflow is not installed (checked before any data is read)."""
    if importlib.util.find_spec("mlflow") is None:
        raise UserError(INSTALL_HINT)


def tracking_uri(uri: str | None = None) -> str:
    """The store to log to: `uri`, else `MLFLOW_TRACKING_URI`, else the local SQLite default."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def metrics_of(assessment: Assessment) -> dict[str, float]:
    """Every completed candidate's scores: `cv.<candidate>.<metric>` (mean over folds) with `.ci_low`/`.ci_high`
    (its 95% interval), and `fit_seconds.<candidate>` (total over folds)."""
    metrics: dict[str, float] = {}
    for candidate in assessment.benchmark.completed:
        for name, summary in candidate.metrics.items():
            key = f"cv.{candidate.name}.{name}"
            metrics[key] = summary.mean
            metrics[f"{key}.ci_low"] = summary.ci_low
            metrics[f"{key}.ci_high"] = summary.ci_high
        if candidate.timing is not None:
            metrics[f"fit_seconds.{candidate.name}"] = candidate.timing.fit_seconds_total
    return {k: float(v) for k, v in metrics.items() if v is not None}


def params_of(assessment: Assessment) -> dict[str, str]:
    """The run's options and the dataset's shape, as MLflow parameters (strings)."""
    options = assessment.config.model_dump(mode="json")
    params = {f"option.{k}": _text(v) for k, v in options.items() if v not in (None, [], (), "")}
    info, bench = assessment.dataset, assessment.benchmark
    params.update({
        "dataset": info.source, "dataset.rows": str(info.rows), "dataset.columns": str(len(bench.features_used)),
        "dataset.fingerprint": info.fingerprint, "task": info.task, "target": info.target,
        "metric": bench.primary_metric, "seed": str(assessment.run.seed),
        "folds": str(len(bench.folds) or assessment.config.folds),
        "playbook": assessment.recommendation.playbook,
    })
    return params


def log_assessment(
    assessment: Assessment, report_dir: Path, *, uri: str | None = None, experiment: str = DEFAULT_EXPERIMENT,
) -> str:
    """Log the assessment as one MLflow run, with `report_dir` (and its `model/`, if exported) as artifacts.

    Returns the run id."""
    check_mlflow()
    import mlflow

    store = tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=store)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(
        experiment, artifact_location=_artifact_root(store, experiment)
    )
    rec = assessment.recommendation
    tags = {
        "dladvisor.verdict": rec.verdict, "dladvisor.action": rec.action,
        "dladvisor.candidate": rec.candidate or "none", "dladvisor.headline": rec.headline[:5000],
        "dladvisor.confidence": rec.confidence,
    }
    run = client.create_run(experiment_id, tags=tags, run_name=Path(assessment.dataset.source).name)
    run_id = run.info.run_id
    try:
        from mlflow.entities import Metric, Param

        now = _millis()
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics_of(assessment).items()],
            params=[Param(k, v) for k, v in params_of(assessment).items()],
        )
        client.log_artifacts(run_id, str(report_dir))
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return run_id


def _artifact_root(store: str, experiment: str) -> str | None:
    """Beside the database for a SQLite store; the server's default otherwise."""
    if not store.startswith("sqlite:///"):
        return None
    database = Path(store.removeprefix("sqlite:///"))
    return (database.resolve().parent / "mlartifacts" / experiment).as_uri()


def _millis() -> int:
    import time

    return int(time.time() * 1000)


def _text(value: object) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"
