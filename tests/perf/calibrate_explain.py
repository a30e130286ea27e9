"""Calibrate the explain stage's cost constants: how fast each explainer really is, per unit of model size.

    python tests/perf/calibrate_explain.py --csv adult.csv --target income

The explain stage plans its rows from a model's size and fixed rates (never from the clock), so the same model and
budget always explain the same rows. This script fits the tabular candidates on 80% of a table and times each
explainer on a few held-out rows, printing the rate the constant should not exceed. About 40 s on 2 cores for the
adult census table (32,561 rows; `mglearn/data/adult.data`, see tests/perf/RESULTS.md).

Measured on the project's 2-core CPU machine (shap 0.51, xgboost 3.2, scikit-learn 1.9), adult census, on
2026-11-22 while other jobs kept the load average at 3-4 (figures in brackets: the same on a quiet machine):

- forest, 20 fully grown trees (4,545 leaves, depth 55 on average): 1.3e9 leaves x depth² operations/s [1.35e9 for
  the benchmark's 300 such trees: 3.1 s a row]; 20 trees with min_samples_leaf=20 (213 leaves, depth 23): 7.2e8,
  as fixed costs per tree and row weigh more in small trees. FOREST_OPERATIONS_PER_SECOND = 5e8;
- XGBoost pred_contribs, 400 rounds of depth 6 on 2 threads: 1.8e8 operations/s, 3.2 ms a row [3.6e8, 1.5 ms];
  BOOSTER_OPERATIONS_PER_SECOND = 1e8;
- linear SHAP in chunks of 50 rows: 25 µs per cell (row x column), preprocessing included;
  PREPROCESS_SECONDS_PER_CELL = 5e-5;
- kNN permutation SHAP (20 MB model: 26,048 training rows): 2.0 ms per prediction, 1.5e9 operations/s after the
  preprocessing; on 80 rows of the cancer table (11 columns, a tiny model) 51 µs per prediction, 4.6 µs per cell
  (86 µs before the explainer kept OpenMP to one thread). AGNOSTIC_OPERATIONS_PER_SECOND = 5e8,
  SECONDS_PER_CELL = 1e-5.

After the permutation explainer became dladvisor's own (every masked input of a chunk in one model call, no
just-in-time compilation), on a quiet machine: kNN permutation 0.25 s a row, 207 µs per prediction, 140 µs of it
preprocessing as this script splits it. In the assess runs of the same day, per prediction (a stacked call of
~1,200-2,500 masked rows): kNN on adult 194 µs (2.5M "operations": 1.3e10/s), the MLP on adult 9 µs, kNN on the
30-column breast-cancer table 6 µs (0.2 µs per cell at most). SECONDS_PER_CELL = 5e-7,
AGNOSTIC_OPERATIONS_PER_SECOND = 5e9: 2.5-3x slower than measured, so plans err towards fewer rows.

Each constant is set below every rate measured, so a plan errs towards fewer rows rather than an overrun (the
explainer's floor of rows is explained whatever the budget).
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np
import pandas as pd

from dladvisor.benchmark import BuildContext, feature_spec, get_candidate
from dladvisor.explain._common import SECONDS_PER_CELL, Job
from dladvisor.explain.tabular import (
    AGNOSTIC_BACKGROUND_ROWS,
    ForestTrees,
    Permutation,
    _booster_trees,
    _max_evals,
    exact_explainer,
    split_pipeline,
)
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    dataset = load_dataset(pd.read_csv(args.csv), target=args.target)
    features = feature_spec(profile_dataset(dataset), dataset)
    X, y = dataset.features[features.all], dataset.y
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[: int(0.8 * len(X))], order[int(0.8 * len(X)) :]
    ctx = BuildContext(task=dataset.task, n_classes=len(dataset.classes), features=features, seed=0, n_jobs=2)

    def fitted(name: str, **forest):
        model = get_candidate(name).factory(ctx)
        if forest:
            model[-1].set_params(**forest)
        return model.fit(X.iloc[train], y[train])

    for settings, rows in (({"n_estimators": 20}, 3), ({"n_estimators": 20, "min_samples_leaf": 20}, 20)):
        model = fitted("random_forest", **settings)
        trees = model[-1].estimators_
        operations = sum(t.tree_.n_leaves * max(t.tree_.max_depth, 1) ** 2 for t in trees)
        explain = exact_explainer(model, "forest")
        seconds = timed(explain, X.iloc[test[:rows]]) / rows
        estimate = ForestTrees().seconds_per_row(None, model, dataset, features)
        print(f"forest {settings}: {np.mean([t.tree_.n_leaves for t in trees]):,.0f} leaves, depth "
              f"{np.mean([t.tree_.max_depth for t in trees]):.1f}; {seconds:.3f} s/row -> "
              f"{operations / seconds:.2e} operations/s (planned at {estimate:.3f} s/row)")

    model = fitted("xgboost")
    booster = split_pipeline(model)[1].get_booster()
    operations = sum(leaves * depth**2 for leaves, depth in _booster_trees(booster))
    explain = exact_explainer(model, "xgboost")
    explain(X.iloc[test[:50]])  # the booster caches its trees' node statistics on the first call
    seconds = timed(explain, X.iloc[test[:500]]) / 500
    print(f"xgboost: {seconds * 1000:.2f} ms/row -> {operations / seconds:.2e} operations/s")

    model = fitted("linear")
    explain = exact_explainer(model, "linear", X.iloc[train[:50]])
    seconds = sum(timed(explain, X.iloc[test[i : i + 50]]) for i in range(0, 1000, 50)) / 1000
    print(f"linear: {seconds * 1000:.2f} ms/row -> {seconds / len(features.all) * 1e6:.0f} µs per cell")

    model = fitted("knn")
    size = len(pickle.dumps(model))
    rows = 3
    job = Job(model=model, X=X, dataset=dataset, features=features, rows=test[:rows], background=train[:50], seed=0,
              seconds=1e9, floor=rows)
    seconds = timed(Permutation().explain, job) / rows
    predictions = _max_evals(len(features.all)) * AGNOSTIC_BACKGROUND_ROWS
    per_prediction = seconds / predictions
    preprocessing = len(features.all) * SECONDS_PER_CELL
    print(f"knn permutation: {seconds:.2f} s/row, {per_prediction * 1e6:.0f} µs per prediction; model "
          f"{size / 1e6:.1f} MB -> {size / 8 / max(per_prediction - preprocessing, 1e-9):.2e} operations/s after "
          f"{preprocessing * 1e6:.0f} µs of preprocessing")


if __name__ == "__main__":
    main()
