"""Image candidates: pixel baselines, then the pretrained-CNN ladder (frozen embeddings, fine-tuning).

The image column holds file paths, resolved against the data file's folder before any candidate runs. Deep
candidates work at 224 px on a GPU and at 96 px on a CPU, where the full resolution would not fit the budget.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from dladvisor.benchmark._deep import EmbeddingHead, TorchEstimator
from dladvisor.benchmark._pretrained import (
    EMBEDDING_BATCH,
    cached_embeddings,
    image_normalization,
    load_image_model,
    not_yet_embedded,
    read_image,
    uncached,
)
from dladvisor.benchmark._registry import BuildContext, register_candidate

GPU_IMAGE_SIZE, CPU_IMAGE_SIZE = 224, 96


def image_size_for(device: str) -> int:
    return GPU_IMAGE_SIZE if device == "cuda" else CPU_IMAGE_SIZE


class PixelFeatures(BaseEstimator, TransformerMixin):
    """Raw pixels as features: 28x28 grey when the images are grey, else 16x16 RGB (about 800 values either way)."""

    def __init__(self, column: str = ""):
        self.column = column

    def fit(self, X, y=None):
        sample = [read_image(p, 28) for p in X[self.column].iloc[:50]]
        self.grey_ = all(np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 1], a[..., 2]) for a in sample)
        return self

    def transform(self, X):
        if self.grey_:
            return np.stack([read_image(p, 28)[..., 0].ravel() for p in X[self.column]]).astype(np.float32) / 255
        return np.stack([read_image(p, 16).ravel() for p in X[self.column]]).astype(np.float32) / 255


@register_candidate(
    "pixels_logistic", fast=True, label="Pixels + logistic regression", regression_label="Pixels + ridge regression",
    family="classical", complexity=1, modality="image", parallel_folds=True,
    description="Resized raw pixels, standardised, into a linear model: what no feature learning at all achieves.",
)
def pixels_logistic(ctx: BuildContext):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = Ridge(alpha=10.0) if ctx.task == "regression" else LogisticRegression(C=0.1, max_iter=2000)
    return make_pipeline(PixelFeatures(ctx.features.image[0]), StandardScaler(), model)


@register_candidate(
    "pixels_xgboost", label="Pixels + XGBoost", family="classical", complexity=4, modality="image",
    description="Resized raw pixels into gradient-boosted trees (200 rounds, depth 4).",
)
def pixels_xgboost(ctx: BuildContext):
    from sklearn.pipeline import make_pipeline
    from xgboost import XGBClassifier, XGBRegressor

    cls = XGBRegressor if ctx.task == "regression" else XGBClassifier
    booster = cls(n_estimators=200, max_depth=4, learning_rate=0.1, colsample_bytree=0.5, tree_method="hist",
                  n_jobs=ctx.n_jobs, random_state=ctx.seed, verbosity=0)
    return make_pipeline(PixelFeatures(ctx.features.image[0]), booster)


def _images_tensor(paths, size: int, mean, std):
    import torch

    pixels = np.stack([read_image(p, size) for p in paths]).astype(np.float32) / 255
    tensor = torch.from_numpy(pixels).permute(0, 3, 1, 2)
    return (tensor - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


_BACKBONES: dict = {}


def embed_images(name: str, paths: list[str], device: str, batch_size: int = EMBEDDING_BATCH) -> np.ndarray:
    """Pooled features of the pretrained CNN (classifier removed), computed once per image."""
    import torch

    size = image_size_for(device)

    def encode(batch_paths: list[str]) -> np.ndarray:
        if (name, device) not in _BACKBONES:
            _BACKBONES[(name, device)] = load_image_model(name, num_classes=0).to(device).eval()
        backbone = _BACKBONES[(name, device)]
        mean, std = image_normalization(backbone)
        parts = []
        with torch.no_grad():
            for start in range(0, len(batch_paths), batch_size):
                batch = _images_tensor(batch_paths[start : start + batch_size], size, mean, std).to(device)
                parts.append(backbone(batch).float().cpu().numpy())
        return np.concatenate(parts)

    return cached_embeddings(_cache_key(name, device), paths, encode)


def _cache_key(name: str, device: str) -> str:
    return f"image:{name}:{image_size_for(device)}"


@register_candidate(
    "image_frozen", fast=True, label="Pretrained CNN embeddings + linear head", family="deep", complexity=6,
    modality="image", ladder_step="frozen", frozen_embeddings=True,
    description="Pooled features of the ImageNet-pretrained CNN (frozen) into a linear layer trained with AdamW and "
    "early stopping.",
)
def image_frozen(ctx: BuildContext):
    return FrozenImageHead(
        model_name=ctx.image_model, column=ctx.features.image[0], task=ctx.task, n_classes=ctx.n_classes,
        device=ctx.device, max_seconds=ctx.max_seconds, epochs=200, learning_rate=1e-2, weight_decay=1e-4,
        batch_size=128, patience=10, seed=ctx.seed,
    )


class FrozenImageHead(EmbeddingHead):
    def __init__(self, *, model_name: str = "", column: str = "", **kwargs):
        super().__init__(**kwargs)
        self.model_name = model_name
        self.column = column

    def frozen_encoder(self):
        return _BACKBONES.get((self.model_name, self.device))  # loaded by the embeddings computed in fit

    def embed(self, X):
        return embed_images(self.model_name, X[self.column].tolist(), self.device)

    def rows_to_embed(self, X):
        return not_yet_embedded(_cache_key(self.model_name, self.device), X[self.column].tolist())

    def embedding_rate(self, X):
        sample = X[self.column].iloc[:EMBEDDING_BATCH].tolist()
        embed_images(self.model_name, sample[:1], self.device)  # load the model before timing
        started = time.perf_counter()
        with uncached():
            embed_images(self.model_name, sample, self.device)
        return len(sample) / max(time.perf_counter() - started, 1e-6)

    def _matrix(self, X, *, fitting):
        return self.embed(X)


@register_candidate(
    "image_finetune", label="Fine-tuned pretrained CNN", family="deep", complexity=8, modality="image",
    ladder_step="fine-tune", holdout_on_cpu=True,
    description="The whole ImageNet-pretrained CNN fine-tuned with a new head: random resized crops and colour "
    "jitter, AdamW (lr 1e-3), warm-up and decay, early stopping on validation loss.",
)
def image_finetune(ctx: BuildContext):
    return ImageFineTuner(
        model_name=ctx.image_model, column=ctx.features.image[0], task=ctx.task, n_classes=ctx.n_classes,
        device=ctx.device, max_seconds=ctx.max_seconds, epochs=8, learning_rate=1e-3, weight_decay=1e-2,
        batch_size=32 if ctx.device == "cpu" else 256, patience=2, seed=ctx.seed,
    )


class ImageFineTuner(TorchEstimator):
    def __init__(self, *, model_name: str = "", column: str = "", **kwargs):
        super().__init__(**kwargs)
        self.model_name = model_name
        self.column = column

    def _inputs(self, X, *, fitting):
        return X[self.column].tolist()

    def _network(self, n_outputs):
        network = load_image_model(self.model_name, num_classes=n_outputs)
        self.normalization_ = image_normalization(network)
        return network

    def _batches(self, inputs, rows, targets, batch_size, *, training):
        from torchvision.transforms import v2

        size = image_size_for(self.device)
        augment = v2.Compose([
            v2.RandomResizedCrop(size, scale=(0.7, 1.0), ratio=(0.9, 1.1), antialias=True),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        ])
        mean, std = self.normalization_
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            if training:
                raw = [augment(_to_tensor(read_image(inputs[i], size))) for i in chunk]
                images = _normalise(raw, mean, std)
            else:
                images = _images_tensor([inputs[i] for i in chunk], size, mean, std)
            yield images, (targets[chunk] if targets is not None else None)

    def _outputs(self, network, batch):
        return network(batch.to(self.device))


def _to_tensor(array: np.ndarray):
    import torch

    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255


def _normalise(images, mean, std):
    import torch

    stacked = torch.stack(images)
    return (stacked - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
