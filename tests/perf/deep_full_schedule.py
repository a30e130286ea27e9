"""One fold of a table (dladvisor's fold 1 of 5): candidates fitted with no time limit, so deep models run their
whole schedule (issue 15: is the deep-vs-booster gap on adult a CPU-budget artefact?). Not part of the test run.

    python tests/perf/deep_full_schedule.py adult.csv income xgboost realmlp [tabm ...]

Prints one JSON line per candidate: fold-1 ROC-AUC, fit seconds, epochs run and why training stopped.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import torch
    from sklearn.metrics import roc_auc_score

    from dladvisor.benchmark import make_folds
    from dladvisor.benchmark._registry import BuildContext, get_candidate
    from dladvisor.benchmark._runner import feature_spec, model_frame, usable_cores
    from dladvisor.load import load_dataset
    from dladvisor.profile import profile_dataset

    path, target, *names = sys.argv[1:]
    dataset = load_dataset(path, target=target)
    features = feature_spec(profile_dataset(dataset), dataset)
    X, y = model_frame(dataset, features), dataset.y
    folds, _ = make_folds(dataset, n_folds=5, seed=0)
    train, test = folds[0]
    torch.set_num_threads(usable_cores())
    context = BuildContext(task=dataset.task, n_classes=len(dataset.classes), features=features, seed=0,
                           n_jobs=usable_cores())
    for name in names:
        model = get_candidate(name).factory(context)
        started = time.perf_counter()
        model.fit(X.iloc[train], y[train])
        fit = time.perf_counter() - started
        log = getattr(model[-1], "training_log_", None)
        score = roc_auc_score(y[test], model.predict_proba(X.iloc[test])[:, 1])
        print(json.dumps({"candidate": name, "fold": 1, "fit_s": round(fit, 1), "roc_auc": round(score, 5),
                          "epochs": getattr(log, "epochs_run", None),
                          "stopped": getattr(log, "stopped_because", None)}), flush=True)


if __name__ == "__main__":
    main()
