"""Judgements across the explained candidates: classical-versus-deep agreement and red flags (a dominating column,
a sensitive attribute or its proxy in the top features, an unstable ranking)."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from dladvisor.benchmark import BenchmarkResult
from dladvisor.criteria import STABILITY_MIN_ROWS
from dladvisor.explain._common import TOP_K
from dladvisor.explain._results import Agreement, ModelExplanation
from dladvisor.load import Dataset
from dladvisor.profile import Alert, DatasetProfile, is_strong

DOMINANT_SHARE = 0.5
DOMINANT_FLOOR, DOMINANT_RATIO = 0.25, 3.0
UNSTABLE_BELOW = 0.5
SENSITIVE_TOP = 5
PROXY_ASSOCIATION = 0.5



def agreement(benchmark: BenchmarkResult, explanations: list[ModelExplanation]) -> Agreement | None:
    """Top-k overlap between the best classical and the best deep model that were both explained."""
    explained = {e.candidate: e for e in explanations}
    ranked = [c for c in benchmark.ranked() if c.name in explained]
    classical = next((c for c in ranked if c.family == "classical"), None)
    deep = next((c for c in ranked if c.family == "deep"), None)
    if classical is None or deep is None:
        return None
    a, b = explained[classical.name], explained[deep.name]
    k = min(TOP_K, len(a.importances), len(b.importances))
    if k == 0:
        return None
    shared = [i.feature for i in a.importances[:k] if i.feature in {j.feature for j in b.importances[:k]}]
    return Agreement(classical=classical.name, deep=deep.name, k=k, overlap=round(len(shared) / k, 3),
                     shared=tuple(shared))


def red_flags(
    explanations: list[ModelExplanation], benchmark: BenchmarkResult, dataset: Dataset,
    profile: DatasetProfile,
) -> list[Alert]:
    alerts = []
    labels = {c.name: c.label for c in benchmark.candidates}
    strong = {s.column: s for s in profile.strongest_single_columns if is_strong(s)}

    dominant: dict[str, list[str]] = defaultdict(list)
    by_columns = [e for e in explanations if e.unit == "column"]
    for e in by_columns:
        if _dominated(e):
            dominant[e.importances[0].feature].append(f"{labels[e.candidate]} {e.top_share:.0%}")
    for column, where in dominant.items():
        # Critical when it dominates most models and is also very strong on its own: the signature of a leak.
        most = len(where) > len(by_columns) / 2
        critical = most and column in strong and column not in dataset.trusted_columns
        single = strong.get(column)
        linked = (f" Alone it reaches {'ROC-AUC' if single.metric == 'roc_auc' else 'R²'} {single.score:.3f}."
                  if single else "") + " Check it is known at prediction time; if not, remove it with --drop."
        alerts.append(Alert(
            code="attribution_dominance", severity="critical" if critical else "warning", column=column,
            message=f"'{column}' dominates the SHAP attribution ({', '.join(where)} of the total): a leakage suspect."
            + linked,
        ))

    for name in dataset.sensitive_columns:
        proxies = _proxies(dataset.features, name, {
            i.feature for e in explanations if e.unit == "column" for i in e.importances[:SENSITIVE_TOP]
        })
        for e in explanations:
            top = [i.feature for i in e.importances[:SENSITIVE_TOP]]
            if name in top:
                alerts.append(Alert(
                    code="sensitive_attribute", severity="warning", column=name, candidate=e.candidate,
                    message=f"Sensitive attribute '{name}' is #{top.index(name) + 1} in {labels[e.candidate]}'s "
                    "SHAP ranking: decisions depend on it directly; review whether it may be used.",
                ))
        for proxy, strength in proxies.items():
            alerts.append(Alert(
                code="sensitive_proxy", severity="warning", column=proxy,
                message=f"'{proxy}' is among the top {SENSITIVE_TOP} SHAP features and tracks sensitive attribute "
                f"'{name}' (Cramér's V {strength:.2f}): a likely proxy.",
            ))

    for e in explanations:
        if e.stability is not None and e.stability < UNSTABLE_BELOW and e.rows_explained >= STABILITY_MIN_ROWS:
            alerts.append(Alert(
                code="unstable_explanation", severity="warning", column=None, candidate=e.candidate,
                message=f"{labels[e.candidate]}'s feature ranking is unstable (rank correlation {e.stability:.2f} "
                f"across {e.stability_basis}; below {UNSTABLE_BELOW}): do not read much into its top features.",
            ))
    return alerts


def _dominated(e: ModelExplanation) -> bool:
    """One column carries most of the attribution, or far more than any other (DOMINANT_RATIO x the next)."""
    if not e.importances:
        return False
    runner_up = e.importances[1].share if len(e.importances) > 1 else 0.0
    clear_lead = e.top_share >= DOMINANT_FLOOR and e.top_share >= DOMINANT_RATIO * runner_up
    return e.top_share >= DOMINANT_SHARE or clear_lead


def _proxies(frame: pd.DataFrame, sensitive: str, candidates: set[str]) -> dict[str, float]:
    """Columns among `candidates` associated with the sensitive column (Cramér's V ≥ PROXY_ASSOCIATION)."""
    found = {}
    for column in sorted(candidates - {sensitive}):
        if column not in frame.columns:
            continue
        strength = cramers_v(frame[column], frame[sensitive])
        if strength >= PROXY_ASSOCIATION:
            found[column] = strength
    return found


def cramers_v(a: pd.Series, b: pd.Series, bins: int = 5) -> float:
    """Association between two columns (numeric ones binned into quantiles), 0 = none, 1 = one determines the other."""
    from scipy.stats.contingency import association

    def binned(s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s) and s.nunique() > bins:
            return pd.qcut(s, bins, duplicates="drop").astype(str)
        return s.astype(str)

    table = pd.crosstab(binned(a), binned(b))
    if min(table.shape) < 2:
        return 0.0
    return float(association(table.to_numpy(), method="cramer"))
