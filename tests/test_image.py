"""The image ladder on scikit-learn's bundled digits, and proof that the packaged CNN weights are pretrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.benchmark._pretrained import load_image_model
from dladvisor.errors import UserError
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset

IMAGE_CANDIDATES = ["pixels_logistic", "pixels_xgboost", "image_frozen", "image_finetune"]


def test_packaged_weights_are_the_imagenet_pretrained_ones():
    import torch
    from PIL import Image
    from skimage import data

    model = load_image_model("tf_efficientnet_lite0", num_classes=1000).eval()
    predictions = []
    for picture in (data.chelsea(), data.coffee()):
        resized = np.asarray(Image.fromarray(picture).resize((224, 224)), dtype=np.float32) / 255
        tensor = (torch.from_numpy(resized).permute(2, 0, 1)[None] - 0.5) / 0.5
        with torch.no_grad():
            predictions.append(int(model(tensor).argmax()))
    assert predictions == [285, 967]  # Egyptian cat, espresso


@pytest.fixture(scope="module")
def ladder(digits_folder):
    dataset = load_dataset(digits_folder / "digits.csv", target="digit")
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=IMAGE_CANDIDATES, time_budget_seconds=60)
    return profile, bench


def test_image_paths_are_detected_and_every_rung_runs(ladder):
    profile, bench = ladder
    assert profile.columns_of("image_path") == ["image"]
    for name in IMAGE_CANDIDATES:
        result = bench.get(name)
        assert result.status == "ok", result.reason
    assert bench.get("pixels_logistic").metrics["accuracy"].mean > 0.8  # 0, 1 and 7 differ clearly
    assert bench.get("image_finetune").training[0].history
    assert bench.lift is not None and bench.learning_curves is not None


def test_frozen_cnn_is_cross_validated_on_every_row_and_fine_tuning_on_the_holdout(ladder):
    _, bench = ladder
    frozen, finetuned = bench.get("image_frozen"), bench.get("image_finetune")
    # The 72 digits are embedded once; the linear head runs the same 3 folds as the pixel models.
    assert frozen.evaluation == bench.get("pixels_xgboost").evaluation == "3-fold CV: 72 rows"
    assert frozen.evaluated_rows == 72 and np.isfinite(frozen.oof).all()
    assert all(log.rows_used == log.rows_available for log in frozen.training)
    assert finetuned.on_holdout and finetuned.evaluated_rows == bench.holdout_rows
    assert finetuned.evaluation == f"hold-out: {bench.holdout_rows} rows of fold 1"
    if bench.lift.deep == "image_frozen":
        assert bench.lift.rows == 72  # both cross-validated: the lift is tested on every row


def test_folder_of_class_subfolders_is_a_dataset(digits_folder):
    dataset = load_dataset(digits_folder / "images")
    assert dataset.target_name == "label" and dataset.classes == ("0", "1", "7")
    assert profile_dataset(dataset).columns_of("image_path") == ["image"]


def test_paths_escaping_the_data_folder_are_refused(digits_folder, tmp_path):
    frame = pd.read_csv(digits_folder / "digits.csv")
    frame.loc[0, "image"] = "../../etc/passwd.png"
    path = digits_folder / "escape.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(UserError, match="outside the data folder"):  # refused at load, before any work
        load_dataset(path, target="digit")


def test_missing_image_files_drop_their_rows_with_an_alert(digits_folder):
    frame = pd.read_csv(digits_folder / "digits.csv")
    frame.loc[:2, "image"] = "images/0/missing.png"
    path = digits_folder / "missing.csv"
    frame.to_csv(path, index=False)
    dataset = load_dataset(path, target="digit")
    assert dataset.n_rows == len(frame) - 3
    profile = profile_dataset(dataset)
    assert any(a.code == "bad_images" and "3 rows" in a.message for a in profile.alerts)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=["pixels_logistic"], learning_curves=False)
    assert bench.get("pixels_logistic").status == "ok"


def test_unknown_timm_model_is_a_clear_error():
    with pytest.raises(UserError, match="--image-model tf_efficientnet_lite0"):
        load_image_model("no_such_timm_model_xyz", num_classes=3)


def test_shap_explains_every_image_model_with_overlays(ladder, digits_folder):
    from dladvisor.explain import GRID, HEATMAP, explain_models

    profile, bench = ladder
    dataset = load_dataset(digits_folder / "digits.csv", target="digit")
    report = explain_models(dataset, bench, profile, budget_seconds=30 * len(IMAGE_CANDIDATES))
    explained = {e.candidate: e for e in report.candidates}
    assert set(explained) == set(IMAGE_CANDIDATES)
    for e in explained.values():
        assert e.method == "Partition SHAP, blur masker" and e.unit == "image region"
        assert e.importances and all(i.feature.startswith("r") for i in e.importances)
        assert len(e.importances) == min(10, GRID * GRID)
        example = e.image_examples[0]
        assert np.asarray(example.heatmap).shape == (HEATMAP, HEATMAP)
        assert example.predicted in dataset.classes
        # A shared report shows the image as the data file names it, relative; the plots read the file itself.
        assert not Path(example.path).is_absolute() and (digits_folder / example.path).is_file()
        assert "file" not in example.model_dump(mode="json") and Path(example.file).is_file()
    # Digits are centred: the outer ring of regions matters less than the centre for the pixel model.
    top = explained["pixels_logistic"].importances[0].feature
    assert top not in {f"r1c{c}" for c in range(1, GRID + 1)}
