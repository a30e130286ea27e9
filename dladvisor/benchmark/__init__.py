"""Benchmark stage: every candidate model, cross-validated on the same folds.

Candidates live in a registry, one file per family: `classical.py` (tabular baselines), `mlp.py` (deep tabular),
`text.py` and `image.py` (classical baselines and the pretrained ladder for each modality). To add one:

1. Write a factory in the family's file that takes a `BuildContext` and returns an unfitted scikit-learn-style
   estimator (with `predict_proba` for classification). Import heavy libraries inside the factory.
2. Decorate it with `@register_candidate("name", label=..., family=..., complexity=..., description=...)`;
   `complexity` ranks simplicity, which breaks ties in the recommendation.
3. Run `pytest tests/test_benchmark.py`: the tests loop over every registered candidate.

Deep candidates subclass `_deep.TorchEstimator`, which brings the shared training loop (early stopping, time
budget, out-of-memory back-off) and training logs. Files starting with `_` are machinery: the registry,
preprocessing, folds, metrics, the torch loop, pretrained weights, the paired comparison and the runner.
"""

from dladvisor.benchmark import boosters, classical, image, mlp, text  # noqa: F401  (registers the candidates)
from dladvisor.benchmark._compare import project_to_rows
from dladvisor.benchmark._folds import SplitInfo, make_folds
from dladvisor.benchmark._metrics import (
    LOWER_IS_BETTER,
    METRIC_LABELS,
    MetricSummary,
    check_metric,
    format_number,
    metrics_for,
    score_fold,
)
from dladvisor.benchmark._pretrained import in_memory_images, read_image, resolve_image_paths, uncached
from dladvisor.benchmark._registry import (
    PRESETS,
    BuildContext,
    FeatureSpec,
    check_candidates,
    check_preset,
    get_candidate,
    list_candidates,
    register_candidate,
)
from dladvisor.benchmark._runner import (
    BenchmarkResult,
    CandidateResult,
    ColumnAblation,
    Timing,
    feature_spec,
    model_frame,
    predict,
    run_benchmark,
    usable_cores,
)
from dladvisor.benchmark._torch import DEVICES, resolve_device
from dladvisor.benchmark.image import image_size_for
from dladvisor.benchmark.text import tokenizer_for

__all__ = [
    "DEVICES",
    "LOWER_IS_BETTER",
    "METRIC_LABELS",
    "BenchmarkResult",
    "BuildContext",
    "ColumnAblation",
    "FeatureSpec",
    "CandidateResult",
    "MetricSummary",
    "SplitInfo",
    "Timing",
    "PRESETS",
    "check_candidates",
    "check_preset",
    "check_metric",
    "feature_spec",
    "format_number",
    "get_candidate",
    "image_size_for",
    "in_memory_images",
    "list_candidates",
    "make_folds",
    "project_to_rows",
    "metrics_for",
    "model_frame",
    "register_candidate",
    "predict",
    "read_image",
    "resolve_device",
    "resolve_image_paths",
    "run_benchmark",
    "score_fold",
    "tokenizer_for",
    "uncached",
    "usable_cores",
]
