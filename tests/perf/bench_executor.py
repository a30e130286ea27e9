"""Issue 16: wall time of the benchmark with the local executor vs Ray (a local Ray with 2 CPUs) on a small real table.

Run: python tests/perf/bench_executor.py   (needs `pip install 'dladvisor[ray]'`)
Prints each executor's wall time, the scores (identical), and the per-fold fit seconds the N-node projection uses.
"""

from __future__ import annotations

import time

import pandas as pd
from sklearn.datasets import load_breast_cancer

from dladvisor.benchmark import run_benchmark
from dladvisor.benchmark._executor import LocalExecutor, RayExecutor
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset

CANDIDATES = ["dummy", "linear", "knn", "random_forest", "xgboost", "mlp"]


def main() -> None:
    data = load_breast_cancer(as_frame=True)
    frame = pd.concat([data.data, data.target.rename("diagnosis")], axis=1)
    dataset = load_dataset(frame, target="diagnosis")
    profile = profile_dataset(dataset)
    runs = {}
    for name, make in (("local", LocalExecutor), ("ray", RayExecutor)):
        started = time.perf_counter()
        executor = make()
        ready = time.perf_counter() - started
        bench = run_benchmark(dataset, profile, n_folds=5, seed=0, learning_curves=False, candidates=CANDIDATES,
                              executor=executor)
        wall = time.perf_counter() - started
        executor.close()
        runs[name] = bench
        print(f"{name}: wall {wall:.1f} s (executor start {ready:.1f} s), {bench.executor}, "
              f"{bench.cluster_nodes} node(s), {bench.cluster_cpus} CPUs")
        for c in bench.candidates:
            auc = c.metrics["roc_auc"].mean if c.status == "ok" else float("nan")
            fit = c.timing.fit_seconds_per_fold if c.timing else float("nan")
            print(f"  {c.name:14s} {c.status:7s} roc_auc {auc:.4f}  fit s/fold {fit:.3f}")
    same = all(a.metrics["roc_auc"].per_fold == b.metrics["roc_auc"].per_fold
               for a, b in zip(runs["local"].candidates, runs["ray"].candidates, strict=True) if a.family != "deep")
    print("classical scores identical:", same)


if __name__ == "__main__":
    main()
