"""Text candidates: TF-IDF baselines, then the pretrained-transformer ladder (frozen embeddings, fine-tuning).

Tables that also hold tabular columns feed them to the TF-IDF and frozen-embedding models beside the text; the
fine-tuned transformer reads the text alone.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from dladvisor.benchmark._deep import EmbeddingHead, TorchEstimator
from dladvisor.benchmark._preprocess import join_text, tabular_preprocessor
from dladvisor.benchmark._pretrained import (
    EMBEDDING_BATCH,
    TEXT_MAX_TOKENS,
    cached_embeddings,
    load_text_model,
    not_yet_embedded,
    uncached,
)
from dladvisor.benchmark._registry import BuildContext, register_candidate


def _tfidf_features(ctx: BuildContext):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    tfidf = make_pipeline(
        FunctionTransformer(join_text),
        FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=50_000, sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=50_000,
                                      sublinear_tf=True)),
        ]),
    )
    return tabular_preprocessor(ctx.features, scale=True, extra=[("text", tfidf, list(ctx.features.text))])


@register_candidate(
    "tfidf_logistic", label="TF-IDF + logistic regression", regression_label="TF-IDF + ridge regression",
    family="classical", complexity=1, modality="text", parallel_folds=True,
    description="Word 1-2-grams and character 2-5-grams, TF-IDF weighted, into a linear model.",
)
def tfidf_logistic(ctx: BuildContext):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    model = Ridge(alpha=1.0) if ctx.task == "regression" else LogisticRegression(C=4.0, max_iter=3000)
    return make_pipeline(_tfidf_features(ctx), model)


@register_candidate(
    "tfidf_svm", label="TF-IDF + linear SVM", family="classical", complexity=2, modality="text",
    parallel_folds=True,
    description="The same TF-IDF features into a linear support-vector machine (probabilities by 3-fold "
    "Platt calibration).",
)
def tfidf_svm(ctx: BuildContext):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC, LinearSVR

    if ctx.task == "regression":
        model = LinearSVR(C=0.5, max_iter=5000, random_state=ctx.seed)
    else:
        model = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=ctx.seed), cv=3)
    return make_pipeline(_tfidf_features(ctx), model)


@lru_cache(maxsize=2)
def _encoder(name: str, device: str):
    tokenizer, model = load_text_model(name)
    return tokenizer, model.to(device).eval()


def tokenizer_for(name: str) -> object:
    """The tokenizer of a text model (for explainers that mask its tokens)."""
    return load_text_model(name)[0]


def embed_texts(name: str, texts: list[str], device: str, batch_size: int = EMBEDDING_BATCH) -> np.ndarray:
    """Sentence embeddings: mean of the token vectors (padding masked), L2-normalised, as sentence-transformers."""
    import torch

    def encode(batch_texts: list[str]) -> np.ndarray:
        tokenizer, model = _encoder(name, device)
        order = np.argsort([len(t) for t in batch_texts])  # similar lengths together: less padding
        vectors = np.zeros((len(batch_texts), model.config.hidden_size), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                tokens = tokenizer([batch_texts[i] for i in chunk], padding=True, truncation=True,
                                   max_length=TEXT_MAX_TOKENS, return_tensors="pt").to(device)
                hidden = model(**tokens).last_hidden_state
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vectors[chunk] = torch.nn.functional.normalize(pooled, dim=1).float().cpu().numpy()
        return vectors

    return cached_embeddings(_cache_key(name), texts, encode)


def _cache_key(name: str) -> str:
    return f"text:{name}"


def _texts_per_second(name: str, texts: list[str], device: str) -> float:
    _encoder(name, device)  # load the model before timing, so the rate is the encoder's alone
    sample = texts[:EMBEDDING_BATCH]
    started = time.perf_counter()
    with uncached():
        embed_texts(name, sample, device)
    return len(sample) / max(time.perf_counter() - started, 1e-6)


@register_candidate(
    "text_frozen", label="Pretrained text embeddings + linear head", family="deep", complexity=6,
    modality="text", ladder_step="frozen", frozen_embeddings=True,
    description="Sentence embeddings from the pretrained transformer (frozen, mean-pooled), plus any tabular "
    "columns, into a linear layer trained with AdamW and early stopping.",
)
def text_frozen(ctx: BuildContext):
    return FrozenTextHead(
        model_name=ctx.text_model, text_columns=ctx.features.text, features=ctx.features, task=ctx.task,
        n_classes=ctx.n_classes, device=ctx.device, max_seconds=ctx.max_seconds, epochs=200, learning_rate=1e-2,
        weight_decay=1e-4, batch_size=128, patience=10, seed=ctx.seed,
    )


class FrozenTextHead(EmbeddingHead):
    def __init__(self, *, model_name: str = "", text_columns=(), features=None, **kwargs):
        super().__init__(**kwargs)
        self.model_name = model_name
        self.text_columns = text_columns
        self.features = features

    def frozen_encoder(self):
        return _encoder(self.model_name, self.device)[1]

    def _texts(self, X) -> list[str]:
        return join_text(X[list(self.text_columns)])

    def embed(self, X):
        return embed_texts(self.model_name, self._texts(X), self.device)

    def rows_to_embed(self, X):
        return not_yet_embedded(_cache_key(self.model_name), self._texts(X))

    def embedding_rate(self, X):
        return _texts_per_second(self.model_name, self._texts(X), self.device)

    def _matrix(self, X, *, fitting):
        embeddings = self.embed(X)
        if self.features is None or not self.features.tabular:
            return embeddings
        if fitting:
            self.tabular_ = tabular_preprocessor(self.features, scale=True).fit(X)
        tabular = self.tabular_.transform(X)
        return np.hstack([embeddings, tabular.toarray() if hasattr(tabular, "toarray") else tabular])


@register_candidate(
    "text_finetune", label="Fine-tuned pretrained transformer", family="deep", complexity=8,
    modality="text", ladder_step="fine-tune", holdout_on_cpu=True,
    description="The whole pretrained transformer fine-tuned with a new classification head: AdamW (lr 5e-5, "
    "weight decay 0.01), linear warm-up and decay, dynamic padding, early stopping on validation loss.",
)
def text_finetune(ctx: BuildContext):
    return TextFineTuner(
        model_name=ctx.text_model, text_columns=ctx.features.text, task=ctx.task, n_classes=ctx.n_classes,
        device=ctx.device, max_seconds=ctx.max_seconds, epochs=4, learning_rate=5e-5, weight_decay=0.01,
        batch_size=32 if ctx.device == "cpu" else 128, patience=1, seed=ctx.seed,
    )


class TextFineTuner(TorchEstimator):
    def __init__(self, *, model_name: str = "", text_columns=(), **kwargs):
        super().__init__(**kwargs)
        self.model_name = model_name
        self.text_columns = text_columns

    def _inputs(self, X, *, fitting):
        if fitting:
            self._restore()
        encoded = self.tokenizer_(join_text(X[list(self.text_columns)]), truncation=True, max_length=TEXT_MAX_TOKENS)
        return encoded["input_ids"], encoded["attention_mask"]

    def _network(self, n_outputs):
        _, model = load_text_model(self.model_name, num_labels=n_outputs)
        return model

    def _restore(self):
        self.tokenizer_, _ = load_text_model(self.model_name)

    def _batches(self, inputs, rows, targets, batch_size, *, training):
        ids, masks = inputs
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            padded = self.tokenizer_.pad(
                [{"input_ids": ids[i], "attention_mask": masks[i]} for i in chunk], return_tensors="pt"
            )  # dynamic padding: each batch only as long as its longest text
            yield dict(padded), (targets[chunk] if targets is not None else None)

    def _outputs(self, network, batch):
        return network(**{k: v.to(self.device) for k, v in batch.items()}).logits
