"""GPU checks: fine-tuning on CUDA with mixed precision. Run with `pytest -m gpu` on a machine with a GPU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_text_fine_tuning_on_gpu(reviews_frame):
    from dladvisor.benchmark.text import TextFineTuner

    y = (reviews_frame["sentiment"] == "positive").astype(int).to_numpy()
    model = TextFineTuner(model_name="all-MiniLM-L6-v2", text_columns=("review",), task="binary", n_classes=2,
                          device="cuda", epochs=8, patience=8, learning_rate=1e-4, batch_size=16)
    model.fit(reviews_frame[["review"]], y)
    log = model.training_log_
    assert log.device == "cuda" and log.history[-1].train_loss < log.history[0].train_loss
    assert (model.predict(reviews_frame[["review"]]) == y).mean() > 0.8


def test_image_fine_tuning_on_gpu(digits_folder):
    import pandas as pd

    from dladvisor.benchmark.image import ImageFineTuner

    frame = pd.read_csv(digits_folder / "digits.csv")
    frame["image"] = [str(digits_folder / p) for p in frame["image"]]
    y = pd.Categorical(frame["digit"]).codes.astype(int)
    model = ImageFineTuner(model_name="tf_efficientnet_lite0", column="image", task="multiclass", n_classes=3,
                           device="cuda", epochs=6, patience=6, batch_size=32)
    model.fit(frame[["image"]], y)
    assert model.training_log_.history[-1].train_loss < model.training_log_.history[0].train_loss
