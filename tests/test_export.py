"""`--export-model`: the recommended model refitted on every row, saved with skops (no pickle), reloaded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dladvisor
from dladvisor.cli import app
from dladvisor.errors import UserError
from dladvisor.export import MANIFEST, load_model, refit

QUICK = {"target": "diagnosis", "folds": 3, "learning_curves": False, "time_budget": "2m"}


@pytest.fixture
def cancer_csv(tmp_path, cancer_frame):
    path = tmp_path / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    return path


def _no_pickle(folder):
    files = [p.name for p in folder.rglob("*") if p.is_file()]
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))], files
    return files


def test_cli_exports_linear_model_that_reloads_and_predicts_raw_rows(tmp_path, cancer_csv):
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["assess", str(cancer_csv), "--target", "diagnosis", "-c", "linear",
                                      "--folds", "3", "--no-learning-curves", "--export-model", "--out", str(out)])
    assert result.exit_code == 0, result.output
    model_dir = out / "model"
    assert sorted(_no_pickle(model_dir)) == ["manifest.json", "model.skops"]
    manifest = json.loads((model_dir / MANIFEST).read_text())
    assert manifest["candidate"] == "linear" and manifest["format"] == "skops"
    assert manifest["classes"] == json.loads((out / "report.json").read_text())["dataset"]["classes"]
    assert len(manifest["how_to_load"]) == 3
    raw = pd.read_csv(cancer_csv).drop(columns="diagnosis")
    model = load_model(model_dir)
    # The manifest's example predictions were made in the run; the reloaded model must make the same from raw rows.
    assert model.predict(raw.head(len(manifest["examples"]["predictions"]))).tolist() == \
        manifest["examples"]["predictions"]
    assert "| Exported model | model/ beside this report" in (out / "report.md").read_text()


@pytest.fixture(scope="module")
def cancer_head():
    """The first 80 rows of the breast-cancer data, where XGBoost is recommended (no leak flagged)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.iloc[:80, :8].copy()
    frame["diagnosis"] = [bunch.target_names[t] for t in bunch.target[:80]]
    return frame


def test_api_export_xgboost_matches_an_in_process_refit(tmp_path, cancer_head):
    pytest.importorskip("xgboost")
    assessment = dladvisor.assess(cancer_head, candidates=["xgboost"], name="cancer-head", **QUICK)
    assert assessment.recommendation.candidate == "xgboost", assessment.recommendation.headline
    folder = assessment.export_model(tmp_path / "model")
    _no_pickle(folder)
    raw = cancer_head.drop(columns="diagnosis")
    reloaded = load_model(folder)
    expected = refit(assessment)
    np.testing.assert_allclose(reloaded.predict_proba(raw), expected.predict_proba(raw), rtol=1e-6)
    assert reloaded.predict(raw).tolist() == expected.predict(raw).tolist()
    # Predictions are class codes: mapped through the manifest's classes they are mostly the true labels.
    classes = np.array(json.loads((folder / MANIFEST).read_text())["classes"])
    assert (classes[reloaded.predict(raw)] == cancer_head["diagnosis"]).mean() > 0.9


def test_no_model_is_exported_when_the_verdict_is_fix_the_data(tmp_path, cancer_frame):
    # On these 80 rows XGBoost flags 'mean concave points' as a leak: the playbook says fix the data, ship nothing.
    assessment = dladvisor.assess(cancer_frame, candidates=["xgboost"], name="cancer-80", **QUICK)
    assert assessment.recommendation.candidate is None
    assert assessment.export_model(tmp_path / "model") is None and not (tmp_path / "model").exists()
    assert assessment.export_note == "not exported: no model was recommended, so none was exported."


def test_load_refuses_a_type_the_manifest_does_not_trust(tmp_path, cancer_frame):
    assessment = dladvisor.assess(cancer_frame, candidates=["linear"], name="cancer-80", **QUICK)
    folder = assessment.export_model(tmp_path / "model")
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["trusted_types"] = [t for t in manifest["trusted_types"] if not t.endswith("RawColumns")]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="RawColumns"):
        load_model(folder)


def test_api_exports_a_torch_model_as_safetensors_that_reloads(tmp_path, cancer_head):
    assessment = dladvisor.assess(cancer_head, candidates=["mlp"], name="cancer-head", **QUICK)
    assert assessment.recommendation.candidate == "mlp", assessment.recommendation.headline
    folder = assessment.export_model(tmp_path / "model")
    assert sorted(_no_pickle(folder)) == ["manifest.json", "network.json", "network.safetensors", "preprocess.skops"]
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["format"] == "safetensors" and manifest["network"]["class"].endswith("TabularMLP")
    assert manifest["network"]["parameters"] > 1000
    examples = pd.DataFrame(manifest["examples"]["rows"])
    reloaded = load_model(folder)
    # The probabilities the refitted network gave in the run, from the weights and preprocessing read back.
    np.testing.assert_allclose(reloaded.predict_proba(examples), manifest["examples"]["probabilities"], atol=1e-5)
    raw = cancer_head.drop(columns="diagnosis")
    classes = np.array(manifest["classes"])
    assert (classes[reloaded.predict(raw)] == cancer_head["diagnosis"]).mean() > 0.85


def test_load_refuses_a_network_class_outside_dladvisor(tmp_path, cancer_head):
    assessment = dladvisor.assess(cancer_head, candidates=["mlp"], name="cancer-head", **QUICK)
    folder = assessment.export_model(tmp_path / "model")
    config = json.loads((folder / "network.json").read_text())
    config["class"] = "subprocess.Popen"
    (folder / "network.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="not a dladvisor deep model"):
        load_model(folder)


@pytest.mark.parametrize("candidate", ["text_frozen", "text_finetune"])
def test_text_models_export_and_reload(tmp_path, reviews_frame, candidate):
    from sklearn.pipeline import Pipeline

    from dladvisor.benchmark import get_candidate
    from dladvisor.benchmark._registry import BuildContext, FeatureSpec
    from dladvisor.export import _save_torch, _skops, load_model

    features = FeatureSpec(numeric=("stars",), categorical=(), datetime=(), text=("review",))
    frame = reviews_frame.assign(stars=np.arange(len(reviews_frame)) % 5)
    ctx = BuildContext(task="binary", n_classes=2, features=features, seed=0, n_jobs=1, max_seconds=20)
    model = get_candidate(candidate).factory(ctx)
    y = (frame["sentiment"] == "positive").astype(int).to_numpy()
    pipeline = Pipeline([("model", model)]).fit(frame[features.all], y)
    saved = _save_torch(pipeline, tmp_path, _skops())
    manifest = {**saved, "trusted_types": sorted(_skops().get_untrusted_types(file=tmp_path / saved["file"]))}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    reloaded = load_model(tmp_path)
    np.testing.assert_allclose(reloaded.predict_proba(frame[features.all]),
                               pipeline.predict_proba(frame[features.all]), atol=1e-5)


@pytest.mark.parametrize("candidate", ["lightgbm", "catboost", "tabm"])
def test_the_new_tabular_models_export_and_reload(tmp_path, cancer_head, candidate):
    assessment = dladvisor.assess(cancer_head, candidates=[candidate], name="cancer-head", **QUICK)
    assert assessment.recommendation.candidate == candidate, assessment.recommendation.headline
    folder = assessment.export_model(tmp_path / "model")
    _no_pickle(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    examples = pd.DataFrame(manifest["examples"]["rows"])
    np.testing.assert_allclose(load_model(folder).predict_proba(examples), manifest["examples"]["probabilities"],
                               atol=1e-5)


def test_a_model_without_a_safe_format_is_not_exported_and_says_why(tmp_path, cancer_frame):
    assessment = dladvisor.assess(cancer_frame, candidates=["linear"], name="cancer-80", **QUICK)
    chose_realmlp = assessment.recommendation.model_copy(update={"candidate": "realmlp"})
    moved = assessment.model_copy(update={"recommendation": chose_realmlp})
    assert moved.export_model(tmp_path / "model") is None and not (tmp_path / "model").exists()
    assert "RealMLP" in moved.export_note and "without pickle" in moved.export_note
