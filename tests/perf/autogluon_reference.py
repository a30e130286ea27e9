"""Fit AutoGluon's TabularPredictor on a CSV and print one JSON line with its fit time and held-out ROC-AUC (issue 12).

    <venv>/bin/python tests/perf/autogluon_reference.py adult.csv --target income --time-limit 60 \\
        [--presets medium_quality] [--no-nn]

The table is split 80/20, stratified on the target, with seed 0 (scikit-learn's train_test_split). AutoGluon fits on
the 80% with eval_metric="roc_auc" under the given time limit (it holds out its own validation rows from that 80%);
ROC-AUC is scored on the 20% it never saw. --no-nn leaves out the neural networks (NN_TORCH, FASTAI). Output:

    {"fit_seconds": ..., "roc_auc": ..., "presets": ..., "models": n, "best_model": ..., ...}

AutoGluon is NOT a dladvisor dependency: its pins (torch, pandas) clash with the main environment, so it lives in a
separate virtual environment that reuses the installed numpy, scikit-learn, xgboost and friends and shadows only what
it must (it pulls torch 2.13.0+cpu and pandas 2.3.3 into the venv; the main environment keeps its own). Created with:

    python -m venv --system-site-packages /work/ag-venv
    /work/ag-venv/bin/pip install "autogluon.tabular[lightgbm,catboost,xgboost,fastai,torch]"

(autogluon.tabular 1.6.3, about 1.7 GB in the venv, under a minute from the registry.) The main environment's
`import dladvisor` is unaffected. Without such a venv, cite the reference figure 16.4 s / ROC-AUC 0.926.

Observed on this 2-core machine (adult, 26,048 train / 6,513 test rows, medium_quality, --time-limit 60):
fit 62.3 s, ROC-AUC 0.9269 both with and without --no-nn: the budget runs out after LightGBMXT, LightGBM, two
RandomForests and CatBoost (+ WeightedEnsemble_L2), so the neural networks are never reached at 60 s.

If the CSV named does not exist and is called adult.csv, it is built from the mglearn package's data/adult.data.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
    "race", "gender", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]
NEURAL_NETWORKS = ["NN_TORCH", "FASTAI"]


def build_adult(path: str) -> None:
    """Write mglearn's copy of the UCI adult table (no header there) as a CSV with named columns."""
    import mglearn

    source = os.path.join(os.path.dirname(mglearn.__file__), "data", "adult.data")
    frame = pd.read_csv(source, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--target", required=True)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds handed to fit() (default 60)")
    parser.add_argument("--presets", default="medium_quality")
    parser.add_argument("--no-nn", action="store_true", help="exclude AutoGluon's neural networks (NN_TORCH, FASTAI)")
    parser.add_argument("--test-rows", help="a JSON file of row numbers to test on (e.g. dladvisor's first fold, "
                        "written by tabular_presets.py) instead of the 80/20 split")
    parser.add_argument("--metric", default="roc_auc", choices=["roc_auc", "rmse"])
    args = parser.parse_args()

    if not os.path.exists(args.csv) and os.path.basename(args.csv) == "adult.csv":
        build_adult(args.csv)
    frame = pd.read_csv(args.csv)
    if args.test_rows:
        with open(args.test_rows) as handle:
            rows = json.load(handle)
        test, train = frame.iloc[rows], frame.drop(index=frame.index[rows])
    else:
        train, test = train_test_split(frame, test_size=0.2, stratify=frame[args.target], random_state=0)

    import autogluon.tabular
    from autogluon.tabular import TabularPredictor

    fit_kwargs = {"presets": args.presets, "time_limit": args.time_limit}
    if args.no_nn:
        fit_kwargs["excluded_model_types"] = NEURAL_NETWORKS
    with tempfile.TemporaryDirectory(prefix="ag-reference-") as path:
        predictor = TabularPredictor(label=args.target, eval_metric=args.metric, path=path, verbosity=0,
                                     problem_type="regression" if args.metric == "rmse" else None)
        started = time.perf_counter()
        predictor.fit(train, **fit_kwargs)
        fit_seconds = time.perf_counter() - started
        features = test.drop(columns=[args.target])
        if args.metric == "rmse":
            error = predictor.predict(features).to_numpy() - test[args.target].to_numpy()
            score = float((error**2).mean() ** 0.5)
        else:
            proba = predictor.predict_proba(features, as_multiclass=False)
            score = float(roc_auc_score((test[args.target] == predictor.positive_class).astype(int), proba))
        result = {
            "fit_seconds": round(fit_seconds, 2),
            args.metric: round(score, 4),
            "presets": args.presets,
            "models": len(predictor.model_names()),
            "best_model": predictor.model_best,
            "model_list": predictor.model_names(),
            "no_nn": args.no_nn,
            "time_limit": args.time_limit,
            "rows": {"train": len(train), "test": len(test)},
            "cores": os.cpu_count(),
            "autogluon": autogluon.tabular.__version__,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
