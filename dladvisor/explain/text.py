"""Text explainer: Partition SHAP with a text masker, attributing to tokens (word tokens for TF-IDF models, the
model's own tokenizer for transformers), on a small sample of texts."""

from __future__ import annotations

import re
from collections import defaultdict

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
from dladvisor.explain._results import TextExample, TokenWeight
from dladvisor.load import Dataset

TEXT_EVALS = 100  # model calls per explained text
DEEP_TEXT_ROWS = 12  # a transformer evaluates TEXT_EVALS masked copies of every text explained
WORDS = r"\W+"


@register_explainer
class Text(Explainer):
    name = "text"
    method = "Partition SHAP, text masker"
    unit = "token"
    rows, floor = 60, 10
    same_rows = True  # tokens belong to rows, so fold models are compared on the same texts

    def handles(self, candidate, model) -> bool:
        return candidate.modality == "text"

    def planned_rows(self, candidate) -> int:
        return DEEP_TEXT_ROWS if candidate.family == "deep" else self.rows

    def seconds_per_row(self, candidate, model, dataset, features) -> float:
        return TEXT_EVALS * seconds_per_prediction(candidate, len(features.all))

    def warm_up(self, outputs: int) -> None:
        import shap

        def f(texts):
            score = np.array([len(str(t)) for t in texts], dtype=float)
            return score if outputs == 1 else np.outer(score, np.arange(1, outputs + 1))

        shap.PartitionExplainer(f, shap.maskers.Text(WORDS))(["a b c d"], silent=True)

    def explain(self, job: Job) -> Raw:
        import shap

        column = job.features.text[0]  # with several text columns, the first is explained and the rest held fixed
        predict = prediction_function(job.model, job.dataset)
        masker = shap.maskers.Text(_text_tokenizer(job.model))
        outputs = n_outputs(job.dataset)
        per_row: list[dict[str, float]] = []
        signed: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        examples = []

        def explain_rows(chunk):
            for row in chunk:
                context = job.X.iloc[[row]]

                def f(strings, context=context):
                    frame = pd.concat([context] * len(strings), ignore_index=True)
                    frame[column] = [str(s) for s in strings]
                    return predict(frame)

                text = "" if pd.isna(job.X[column].iloc[row]) else str(job.X[column].iloc[row])
                explanation = shap.PartitionExplainer(f, masker)([text], max_evals=TEXT_EVALS, silent=True)[0]
                tokens = [str(t) for t in explanation.data]
                values = np.asarray(explanation.values, dtype=float).reshape(len(tokens), outputs)
                weights: dict[str, float] = defaultdict(float)
                for token, value in zip(tokens, values, strict=True):
                    key = _token_key(token)
                    if key:
                        weights[key] += float(np.abs(value).sum())
                        for output in range(outputs):
                            signed[output][key].append(float(value[output]))
                per_row.append(weights)
                if len(examples) < 3:
                    examples.append((row, tokens, values))
            return None

        _, used, elapsed, cut = job.explain_planned(explain_rows)
        vocabulary = sorted({token for weights in per_row for token in weights})
        values = np.array([[weights.get(t, 0.0) for t in vocabulary] for weights in per_row]).reshape(
            len(per_row), -1)
        return Raw(values, vocabulary, len(per_row), elapsed, cut=cut, extras={
            "class_tokens": _class_tokens(signed, job.dataset, len(per_row)),
            "text_examples": [_text_example(row, tokens, vals, job) for row, tokens, vals in examples],
        })


def _text_tokenizer(model):
    """The transformer's own tokenizer when the model has one, else word tokens (TF-IDF models)."""
    tokenizer = getattr(model, "tokenizer_", None)
    if tokenizer is None and hasattr(model, "frozen_encoder") and hasattr(model, "text_columns"):
        from dladvisor.benchmark import tokenizer_for

        tokenizer = tokenizer_for(model.model_name)
    return tokenizer if tokenizer is not None else WORDS


def _token_key(token: str) -> str:
    """Tokens as a reader sees them: lower case, without sub-word markers, spaces and punctuation."""
    return re.sub(r"^(##|Ġ|▁)", "", token.strip()).strip().lower().strip(".,;:!?\"'()[]")


def _class_tokens(signed, dataset: Dataset, rows: int, top: int = 8) -> dict[str, tuple[TokenWeight, ...]]:
    """The tokens whose presence pushes each class up most (mean SHAP per explained row)."""
    if dataset.task == "regression":
        pushes = {"higher": (0, 1), "lower": (0, -1)}
    elif dataset.task == "binary":
        pushes = {dataset.classes[1]: (0, 1), dataset.classes[0]: (0, -1)}
    else:
        pushes = {label: (i, 1) for i, label in enumerate(dataset.classes)}
    result = {}
    for label, (output, sign) in pushes.items():
        totals = {token: sign * sum(v) / max(rows, 1) for token, v in signed[output].items()}
        best = sorted((t for t in totals if totals[t] > 0), key=lambda t: -totals[t])[:top]
        result[str(label)] = tuple(TokenWeight(token=t, weight=round(totals[t], 5)) for t in best)
    return result


def _text_example(row: int, tokens: list[str], values: np.ndarray, job: Job) -> TextExample:
    dataset = job.dataset
    scores = prediction_function(job.model, dataset)(job.X.iloc[[row]])
    if dataset.task == "regression":
        predicted, output, column = f"{float(scores[0]):.4g}", "prediction", 0
    elif dataset.task == "binary":
        predicted = dataset.classes[int(scores[0] >= 0.5)]
        output, column = f"probability of '{dataset.classes[1]}'", 0
    else:
        column = int(np.argmax(scores[0]))
        predicted, output = dataset.classes[column], f"probability of '{dataset.classes[column]}'"
    actual = dataset.classes[dataset.y[row]] if dataset.classes else f"{float(dataset.y[row]):.4g}"
    weights = tuple(TokenWeight(token=t, weight=round(float(v), 5)) for t, v in zip(tokens, values[:, column],
                                                                                   strict=True))
    return TextExample(actual=str(actual), predicted=str(predicted), output=output, tokens=weights)
