"""Image explainer: Partition SHAP with a blurring image masker, attributing to pixels, summarised on a grid of
regions, on a handful of images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dladvisor.explain._common import (
    Explainer,
    Job,
    Raw,
    n_outputs,
    prediction_function,
    register_explainer,
    seconds_per_prediction,
)
from dladvisor.explain._results import ImageExample

IMAGE_EVALS = 200  # model calls per explained image
GRID = 6  # image attributions are summarised on GRID x GRID regions
HEATMAP = 24  # side of the stored attribution map drawn over example images
IMAGE_SIZE = 96


@register_explainer
class Image(Explainer):
    name = "image"
    method = "Partition SHAP, blur masker"
    unit = "image region"
    rows, floor = 8, 8
    same_rows = True  # regions belong to images, so fold models are compared on the same images

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "image"

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        return IMAGE_EVALS * seconds_per_prediction(candidate, len(features.all))

    def warm_up(self, outputs: int) -> None:
        import shap

        def f(x):
            score = np.asarray(x, dtype=float).reshape(len(x), -1).mean(axis=1)
            return score if outputs == 1 else np.outer(score, np.arange(1, outputs + 1))

        masker = shap.maskers.Image(np.zeros((8, 8, 3)), (8, 8, 3))
        shap.PartitionExplainer(f, masker)(np.ones((1, 8, 8, 3)), max_evals=20, silent=True)

    def explain(self, job: Job) -> Raw:
        import shap

        from dladvisor.benchmark import in_memory_images, read_image

        column = job.features.image[0]
        predict = prediction_function(job.model, job.dataset)
        outputs = n_outputs(job.dataset)

        def f(images):
            batch = np.clip(np.asarray(images), 0, 255).astype(np.uint8)
            with in_memory_images(batch) as paths:
                scores = predict(pd.DataFrame({column: paths}))
            return scores.reshape(len(batch), outputs)

        maps, examples = [], []

        def explain_rows(chunk):
            for row in chunk:
                path = job.X[column].iloc[row]
                image = read_image(path, IMAGE_SIZE)[None].astype(float)
                scores = f(image)[0]
                target = int(np.argmax(scores)) if outputs > 1 else 0
                # Hidden regions are replaced by the same image blurred (PIL), as SHAP's own blur masker does with
                # OpenCV.
                masker = shap.maskers.Image(_blurred(image[0]), image.shape[1:])
                explanation = shap.PartitionExplainer(f, masker)(image, max_evals=IMAGE_EVALS, batch_size=50,
                                                                 silent=True)
                values = np.asarray(explanation.values)[0].reshape(IMAGE_SIZE, IMAGE_SIZE, 3, outputs)[..., target]
                attribution = values.sum(axis=2)
                maps.append(attribution)
                if len(examples) < 3:
                    examples.append(_image_example(row, path, attribution, scores, job))
            return None

        _, used, elapsed, cut = job.explain_planned(explain_rows)
        cell = IMAGE_SIZE // GRID
        regions = [f"r{r + 1}c{c + 1}" for r in range(GRID) for c in range(GRID)]
        pooled = [np.abs(m[: cell * GRID, : cell * GRID]).reshape(GRID, cell, GRID, cell).sum(axis=(1, 3))
                  for m in maps]
        values = np.array([p.ravel() for p in pooled]).reshape(len(maps), len(regions))
        return Raw(values, regions, len(maps), elapsed, cut=cut, extras={"image_examples": examples})


def _blurred(image: np.ndarray) -> np.ndarray:
    from PIL import Image as Picture
    from PIL import ImageFilter

    picture = Picture.fromarray(image.astype(np.uint8)).filter(ImageFilter.GaussianBlur(IMAGE_SIZE / 16))
    return np.asarray(picture, dtype=float)


def _image_example(row: int, path: str, attribution: np.ndarray, scores: np.ndarray, job: Job) -> ImageExample:
    dataset = job.dataset
    step = IMAGE_SIZE // HEATMAP
    pooled = attribution.reshape(HEATMAP, step, HEATMAP, step).sum(axis=(1, 3))
    if dataset.task == "binary":
        predicted = dataset.classes[int(scores[0] >= 0.5)]
    elif dataset.task == "multiclass":
        predicted = dataset.classes[int(np.argmax(scores))]
    else:
        predicted = f"{float(scores[0]):.4g}"
    actual = dataset.classes[dataset.y[row]] if dataset.classes else f"{float(dataset.y[row]):.4g}"
    shown = Path(path)
    if dataset.base_dir is not None and shown.is_relative_to(dataset.base_dir):
        shown = shown.relative_to(dataset.base_dir)
    return ImageExample(
        path=str(shown), file=str(path), actual=str(actual), predicted=str(predicted),
        heatmap=tuple(tuple(round(float(v), 6) for v in line) for line in pooled),
    )
