"""A model to ship: the recommended candidate refitted on every row, saved with its preprocessing without pickle.

scikit-learn and XGBoost candidates are saved with skops (`model/model.skops`), whose loader refuses any type not
on the list that `model/manifest.json` records, so loading runs no arbitrary code. Deep (torch) candidates are saved
as three files: the network's weights in safetensors (`network.safetensors`: tensors only, nothing to execute), its
class and settings in `network.json`, and the scikit-learn preprocessing in front of it with skops
(`preprocess.skops`). Pretrained encoders that ship inside a Python package (MiniLM, EfficientNet-Lite0) are named in
`network.json`, not copied, unless they were fine-tuned, in which case their weights are in the safetensors file.
The saved model reads the original columns (a DataFrame of raw rows, as in the data file) and predicts class codes,
indexes into the manifest's `classes` (or values, for regression).
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
WEIGHTS_FILE, NETWORK_FILE, PREPROCESS_FILE = "network.safetensors", "network.json", "preprocess.skops"
# A refit may take this many times the benchmark's per-fold fit time (it sees ~1/(1-1/k) more rows); deep models
# stop at this limit, as they did in the benchmark.
REFIT_TIME_FACTOR = 2.0
EXAMPLE_ROWS = 5
LOAD_SNIPPET = (
    "from dladvisor.export import load_model",
    "model = load_model('{folder}')  # checks the .skops file's types against manifest.json's trusted list",
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
    result = next((c for c in bench.candidates if c.name == name), None)
    spec = get_candidate(result.tuned_from if result is not None and result.tuned_from else name)  # another version?
    if not spec.exportable:
        return (f"{spec.label} cannot be saved without pickle (pytabkit keeps the network inside its own training "
                "objects); refit it with pytabkit to ship it, or choose an exportable candidate.")
    if bench.features is None or bench.frame is None or bench.target is None:
        return "the benchmark's rows are not kept in this assessment (it was read back from JSON)."
    return None


def refit(assessment):
    """The recommended candidate's pipeline, fitted on every benchmarked row, reading raw rows."""
    from sklearn.pipeline import Pipeline

    from dladvisor.benchmark import get_candidate
    from dladvisor.benchmark._registry import BuildContext

    bench, info = assessment.benchmark, assessment.dataset
    name = assessment.recommendation.candidate
    result = next(c for c in bench.candidates if c.name == name)
    per_fold = result.timing.fit_seconds_per_fold if result.timing else None
    ctx = BuildContext(task=info.task, n_classes=len(info.classes), features=bench.features,
                       seed=assessment.run.seed, n_jobs=1, device=bench.device,
                       max_seconds=REFIT_TIME_FACTOR * per_fold if per_fold else float("inf"),
                       text_model=assessment.config.text_model, image_model=assessment.config.image_model,
                       preset=assessment.config.preset)
    model = get_candidate(result.tuned_from or name).factory(ctx)
    if result.params:  # a model tuned by --preset thorough: its registered pipeline with the chosen parameters
        from dladvisor.benchmark._tuning import with_params

        with_params(model, result.params)
    columns = tuple(bench.features.all)
    steps = model.steps if isinstance(model, Pipeline) else [("model", model)]
    pipeline = Pipeline([("columns", RawColumns(columns)), *steps])
    pipeline.fit(bench.frame[list(columns)], bench.target)
    return pipeline


def export_model(assessment, folder: Path) -> str | None:
    """Write model/ (model.skops + manifest.json) into `folder`; returns why nothing was written, else None."""
    reason = not_exportable(assessment)
    if reason is not None:
        return reason
    sio = _skops()
    pipeline = refit(assessment)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if _torch_estimator(pipeline) is not None:
        path = folder / PREPROCESS_FILE
        saved = _save_torch(pipeline, folder, sio)
    else:
        path = folder / MODEL_FILE
        sio.dump(pipeline, path)
        saved = {"file": MODEL_FILE, "format": "skops"}
    bench, info = assessment.benchmark, assessment.dataset
    examples = bench.frame[list(bench.features.all)].head(EXAMPLE_ROWS)
    result = next(c for c in bench.candidates if c.name == assessment.recommendation.candidate)
    summary = result.metrics.get(bench.primary_metric)
    manifest: dict[str, Any] = {
        "candidate": result.name, "label": result.label, "task": info.task, "target": info.target,
        **saved,
        "columns": {c: str(bench.frame[c].dtype) for c in bench.features.all},
        "classes": list(info.classes), "positive_class": info.positive_class,
        "predicts": "class codes (indexes into classes)" if info.classes else "target values",
        "rows_fitted": len(bench.target),
        "cv_score": {"metric": bench.primary_metric, **(summary.model_dump(mode="json") if summary else {})},
        "versions": {name: _version(name) for name in ("dladvisor", "scikit-learn", "skops", "xgboost", "numpy",
                                                         *(("torch", "safetensors") if "network" in saved else ()))},
        "trusted_types": sorted(sio.get_untrusted_types(file=path)),
        "examples": {"rows": json.loads(examples.to_json(orient="records", date_format="iso")),
                     "predictions": np.asarray(pipeline.predict(examples)).tolist(),
                     **({"probabilities": np.round(pipeline.predict_proba(examples), 6).tolist()}
                        if info.classes else {})},
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
    loaded = sio.load(path, trusted=trusted)
    if manifest["format"] != "safetensors":
        return loaded
    return _load_torch(loaded, folder / manifest["network"]["config"], folder / manifest["network"]["weights"])


# -- torch models --------------------------------------------------------------------------------------------------
def _torch_estimator(pipeline):
    from dladvisor.benchmark._deep import TorchEstimator

    last = pipeline.steps[-1][1]
    return last if isinstance(last, TorchEstimator) else None


def _save_torch(pipeline, folder: Path, sio) -> dict[str, Any]:
    """network.safetensors + network.json, and the preprocessing (incl. the estimator's own) in preprocess.skops."""
    from safetensors.torch import save_file
    from sklearn.base import BaseEstimator

    estimator = _torch_estimator(pipeline)
    fitted, preprocessing = {}, {}
    for key, value in vars(estimator).items():
        if not key.endswith("_") or key.startswith("_") or key in _REBUILT:
            continue
        if isinstance(value, BaseEstimator):
            preprocessing[key] = value
        else:
            fitted[key] = _to_json(value, f"{type(estimator).__name__}.{key}")
    config = {
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": {k: _to_json(v, f"{type(estimator).__name__}({k}=...)") for k, v in estimator.get_params().items()},
        "fitted": fitted,
        "outputs": 1 if estimator.task == "regression" else estimator.n_classes,
    }
    (folder / NETWORK_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    state = {k: v.detach().cpu().contiguous() for k, v in estimator.network_.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))
    sio.dump({"steps": pipeline.steps[:-1], "estimator": preprocessing}, folder / PREPROCESS_FILE)
    return {"file": PREPROCESS_FILE, "format": "safetensors",
            "network": {"config": NETWORK_FILE, "weights": WEIGHTS_FILE, "class": config["class"],
                        "parameters": int(sum(v.numel() for v in state.values()))}}


# Fitted attributes that loading rebuilds rather than saves: the network (its weights are the safetensors file), the
# training log (in the report), and what `_network`/`_restore` recreate from the packaged pretrained model.
_REBUILT = frozenset({"network_", "training_log_", "tokenizer_", "normalization_"})


def _load_torch(preprocess: dict, config_path: Path, weights_path: Path):
    import importlib

    from safetensors.torch import load_file
    from sklearn.pipeline import Pipeline

    from dladvisor.benchmark._deep import TorchEstimator

    config = json.loads(config_path.read_text(encoding="utf-8"))
    module, _, name = config["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name, None) if module.startswith("dladvisor.") else None
    if not (isinstance(cls, type) and issubclass(cls, TorchEstimator)):
        raise UserError(f"{config_path} names {config['class']}, which is not a dladvisor deep model; "
                        "refusing to load it. Re-export the model with dladvisor.")
    params = {k: _from_json(v) for k, v in config["params"].items()}
    estimator = cls(**{**params, "device": "cpu", "max_seconds": float("inf")})
    for key, value in config["fitted"].items():
        setattr(estimator, key, _from_json(value))
    for key, value in preprocess["estimator"].items():
        setattr(estimator, key, value)
    estimator._restore()
    network = estimator._network(config["outputs"])
    network.load_state_dict(load_file(str(weights_path)))
    estimator.network_ = network.eval()
    return Pipeline([*preprocess["steps"], ("model", estimator)])


def _to_json(value, where: str):
    from dataclasses import asdict

    from dladvisor.benchmark._registry import FeatureSpec

    if isinstance(value, FeatureSpec):
        return {"__feature_spec__": {k: list(v) for k, v in asdict(value).items()}}
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_to_json(v, where) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{where}: {type(value).__name__} has no JSON form for export")


def _from_json(value):
    from dladvisor.benchmark._registry import FeatureSpec

    if isinstance(value, dict) and "__feature_spec__" in value:
        return FeatureSpec(**{k: tuple(v) for k, v in value["__feature_spec__"].items()})
    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


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
