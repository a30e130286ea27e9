"""A model to ship: the recommended candidate refitted on every row, saved with its preprocessing without pickle.

scikit-learn and XGBoost candidates are saved with skops (`model/model.skops`), whose loader refuses any type not
on the list that `model/manifest.json` records, so loading runs no arbitrary code. The saved pipeline reads the
original columns (a DataFrame of raw rows, as in the data file) and predicts class codes, indexes into the
manifest's `classes` (or values, for regression).
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from dladvisor.errors import UserError

MODEL_FILE = "model.skops"
MANIFEST = "manifest.json"
EXAMPLE_ROWS = 5
LOAD_SNIPPET = (
    "from dladvisor.export import load_model",
    "model = load_model('{folder}')  # checks every type in model.skops against manifest.json's trusted list",
    "predictions = model.predict(raw_rows_dataframe)  # class codes: index manifest['classes'] with them",
)


class RawColumns(BaseEstimator, TransformerMixin):
    """Selects, in order, the columns the candidate was trained on from a DataFrame of raw rows."""

    def __init__(self, columns: tuple[str, ...] = ()):
        self.columns = columns

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise ValueError(f"the rows lack column(s) {', '.join(missing)} that the model reads")
        return X[list(self.columns)].copy()


def not_exportable(assessment) -> str | None:
    """Why the recommendation ships no model here (None: it does)."""
    from dladvisor.benchmark import get_candidate

    name = assessment.recommendation.candidate
    bench = assessment.benchmark
    if name is None:
        return "no model was recommended, so none was exported."
    spec = get_candidate(name)
    if spec.family not in ("classical", "baseline") or spec.modality != "tabular":
        return f"{spec.label} is a deep model; exporting deep models is not supported yet."
    if bench.features is None or bench.frame is None or bench.target is None:
        return "the benchmark's rows are not kept in this assessment (it was read back from JSON)."
    if bench.features.text or bench.features.image:
        return "the model reads text or image columns; only tabular pipelines are exported yet."
    return None


def refit(assessment):
    """The recommended candidate's pipeline, fitted on every benchmarked row, reading raw rows."""
    from sklearn.pipeline import Pipeline

    from dladvisor.benchmark import get_candidate
    from dladvisor.benchmark._registry import BuildContext

    bench, info = assessment.benchmark, assessment.dataset
    ctx = BuildContext(task=info.task, n_classes=len(info.classes), features=bench.features,
                       seed=assessment.run.seed, n_jobs=1)
    model = get_candidate(assessment.recommendation.candidate).factory(ctx)
    columns = tuple(bench.features.tabular)
    pipeline = Pipeline([("columns", RawColumns(columns)), ("model", model)])
    pipeline.fit(bench.frame[list(columns)], bench.target)
    return pipeline


def export_model(assessment, folder: Path) -> str | None:
    """Write model/ (model.skops + manifest.json) into `folder`; returns why nothing was written, else None."""
    reason = not_exportable(assessment)
    if reason is not None:
        return reason
    sio = _skops()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pipeline = refit(assessment)
    path = folder / MODEL_FILE
    sio.dump(pipeline, path)
    bench, info = assessment.benchmark, assessment.dataset
    examples = bench.frame[list(bench.features.tabular)].head(EXAMPLE_ROWS)
    result = next(c for c in bench.candidates if c.name == assessment.recommendation.candidate)
    summary = result.metrics.get(bench.primary_metric)
    manifest: dict[str, Any] = {
        "candidate": result.name, "label": result.label, "task": info.task, "target": info.target,
        "file": MODEL_FILE, "format": "skops",
        "columns": {c: str(bench.frame[c].dtype) for c in bench.features.tabular},
        "classes": list(info.classes), "positive_class": info.positive_class,
        "predicts": "class codes (indexes into classes)" if info.classes else "target values",
        "rows_fitted": len(bench.target),
        "cv_score": {"metric": bench.primary_metric, **(summary.model_dump(mode="json") if summary else {})},
        "versions": {name: _version(name) for name in ("dladvisor", "scikit-learn", "skops", "xgboost", "numpy")},
        "trusted_types": sorted(sio.get_untrusted_types(file=path)),
        "examples": {"rows": json.loads(examples.to_json(orient="records", date_format="iso")),
                     "predictions": np.asarray(pipeline.predict(examples)).tolist()},
        "how_to_load": [line.format(folder=folder.name) for line in LOAD_SNIPPET],
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return None


def load_model(folder: str | Path):
    """The exported pipeline in `folder`, after checking that model.skops holds only the manifest's trusted types."""
    sio = _skops()
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    path = folder / manifest["file"]
    trusted = list(manifest["trusted_types"])
    unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted))
    if unexpected:
        raise UserError(f"{path} holds types its manifest does not list ({', '.join(unexpected)}); "
                        "refusing to load it. Re-export the model with dladvisor.")
    return sio.load(path, trusted=trusted)


def _skops():
    try:
        import skops.io as sio
    except ImportError:
        raise UserError("--export-model needs skops: pip install 'dladvisor[export]'.") from None
    return sio


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
