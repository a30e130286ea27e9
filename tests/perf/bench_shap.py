"""Time the SHAP stage for XGBoost on a 10,000-row x 50-column table (goal: under 5 s on 2 CPU cores).

    python tests/perf/bench_shap.py [--rows 10000 --columns 50]

The table is scikit-learn's make_classification (10 informative columns, the rest noise or redundant), so the
figure depends on shape, not content. XGBoost is benchmarked as in `assess` (5 folds, 400 rounds, depth 6), then the
explain stage is timed alone. Figures are recorded in tests/perf/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from dladvisor.benchmark import run_benchmark
from dladvisor.explain import explain_models
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=50)
    args = parser.parse_args()
    X, y = make_classification(args.rows, args.columns, n_informative=10, n_redundant=10, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(args.columns)]).assign(label=np.where(y, "yes", "no"))
    dataset = load_dataset(frame, target="label")
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, candidates=["xgboost"], learning_curves=False)
    started = time.perf_counter()
    report = explain_models(dataset, bench, profile)
    seconds = time.perf_counter() - started
    e = report.get("xgboost")
    print(f"{args.rows:,} rows x {args.columns} columns on {os.cpu_count()} cores: SHAP stage {seconds:.2f} s "
          f"(fold 1: {e.rows_explained:,} rows at {e.ms_per_row:.2f} ms/row, plus 2 more folds for stability "
          f"{e.stability}); top feature {e.importances[0].feature} {e.top_share:.1%}")


if __name__ == "__main__":
    main()
