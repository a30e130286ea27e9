"""Issue 12's speed figures: a whole `dladvisor assess` on the adult census table, and `profile` of a 1M-row CSV.

    pip install mglearn && python tests/perf/bench_speed.py [--runs 3] [--autogluon /work/ag-venv/bin/python]
        [--large-rows 1000000] [--large-assess]

- adult: 32,561 rows x 14 columns from the `mglearn` package's data/adult.data (no download). Each run is a fresh
  process under /usr/bin/time: wall seconds, peak resident memory, the seconds of every stage (report.json
  `stages`) and the best ROC-AUC (5-fold cross-validated). Goal on 2 cores: <= 60 s, ROC-AUC >= 0.925.
- AutoGluon side by side (--autogluon PYTHON: a separate environment, see autogluon_reference.py):
  `medium_quality`, 60 s limit, on an 80/20 split; the ratio is dladvisor's wall time over AutoGluon's fit time.
  Without it, the reference is 16.4 s / ROC-AUC 0.926 (issue 12).
- large: a synthetic CSV (tests/perf/large_table.py) profiled in a fresh process: wall seconds and peak memory
  against the file size. Goal: <= 10 s and <= 2x the file size. --large-assess also times `assess` on it (the
  benchmark trains on a --max-rows sample).

Prints Markdown tables to paste into tests/perf/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
    "race", "gender", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]


def adult_csv(folder: Path) -> Path:
    import mglearn
    import pandas as pd

    source = Path(mglearn.__file__).parent / "data" / "adult.data"
    frame = pd.read_csv(source, header=None, names=ADULT_COLUMNS, skipinitialspace=True, na_values="?")
    path = folder / "adult.csv"
    frame.to_csv(path, index=False)
    return path


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak resident MB, stdout) of a command in a fresh process."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    wall, peak_kb = re.findall(r"^([\d.]+) (\d+)$", result.stderr, re.MULTILINE)[-1]
    return float(wall), int(peak_kb) / 1024, result.stdout


def assess_once(csv: Path, target: str, out: Path, *extra: str) -> dict:
    wall, peak, _ = timed([sys.executable, "-m", "dladvisor", "assess", str(csv), "--target", target, "--out",
                           str(out), *extra])
    report = json.loads((out / "report.json").read_text())
    bench = report["benchmark"]
    ranked = sorted((c for c in bench["candidates"] if c["status"] == "ok"),
                    key=lambda c: -c["metrics"]["roc_auc"]["mean"])
    return {
        "wall": wall, "peak_mb": peak, "best": ranked[0]["label"], "roc_auc": ranked[0]["metrics"]["roc_auc"]["mean"],
        "stages": {s["stage"]: s["seconds"] for s in report["stages"]},
        "cuts": [c for s in report["stages"] for c in s["cuts"]],
        "verdict": report["recommendation"]["headline"],
    }


def bench_adult(folder: Path, runs: int, autogluon: str | None) -> None:
    csv = adult_csv(folder)
    results = [assess_once(csv, "income", folder / f"adult-{i}") for i in range(runs)]
    stages = list(results[0]["stages"])
    median = {s: statistics.median(r["stages"][s] for r in results) for s in stages}
    wall = statistics.median(r["wall"] for r in results)
    print(f"\n### adult census, {runs} run(s), median\n")
    print("| " + " | ".join(["whole run", *stages, "peak memory", "best model", "ROC-AUC (5-fold CV)"]) + " |")
    print("|" + "---|" * (len(stages) + 4))
    print("| " + " | ".join([f"{wall:.1f} s", *(f"{median[s]:.1f} s" for s in stages),
                             f"{statistics.median(r['peak_mb'] for r in results):.0f} MB", results[0]["best"],
                             f"{results[0]['roc_auc']:.4f}"]) + " |")
    walls = ", ".join(f"{r['wall']:.1f}" for r in results)
    print(f"\nwall per run: {walls} s; cuts: {results[0]['cuts'] or 'none'}")
    print(f"verdict: {results[0]['verdict']}")
    if autogluon:
        line = subprocess.run([autogluon, str(HERE / "autogluon_reference.py"), str(csv), "--target", "income",
                               "--time-limit", "60"], capture_output=True, text=True, check=True).stdout
        ag = json.loads(line.strip().splitlines()[-1])
        print(f"\nAutoGluon {ag.get('presets')}: fit {ag['fit_seconds']:.1f} s, ROC-AUC {ag['roc_auc']:.4f} (20% "
              f"held out); dladvisor / AutoGluon wall-time ratio {wall / ag['fit_seconds']:.2f}")
    else:
        print(f"\nAutoGluon reference (issue 12): 16.4 s, ROC-AUC 0.926; ratio {wall / 16.4:.2f}")


def bench_large(folder: Path, rows: int, with_assess: bool) -> None:
    sys.path.insert(0, str(HERE))
    from large_table import make_large_csv

    csv = make_large_csv(folder / "large.csv", rows=rows)
    size_mb = csv.stat().st_size / 2**20
    wall, peak, _ = timed([sys.executable, "-m", "dladvisor", "profile", str(csv), "--target", "y"])
    print(f"\n### {rows:,}-row synthetic CSV ({size_mb:.0f} MB)\n")
    print("| command | wall | peak memory | peak / file size |\n|---|---|---|---|")
    print(f"| profile | {wall:.1f} s | {peak:.0f} MB | {peak / size_mb:.2f}x |")
    if with_assess:
        result = assess_once(csv, "y", folder / "large-report")
        print(f"| assess | {result['wall']:.1f} s | {result['peak_mb']:.0f} MB | {result['peak_mb'] / size_mb:.2f}x |")
        print(f"\nstages: {result['stages']}; best {result['best']} ROC-AUC {result['roc_auc']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--autogluon", help="python of an environment with autogluon.tabular")
    parser.add_argument("--large-rows", type=int, default=1_000_000)
    parser.add_argument("--large-assess", action="store_true")
    parser.add_argument("--skip-adult", action="store_true")
    args = parser.parse_args()
    print(f"{date.today()}, {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_adult:
            bench_adult(Path(tmp), args.runs, args.autogluon)
        if args.large_rows:
            bench_large(Path(tmp), args.large_rows, args.large_assess)


if __name__ == "__main__":
    main()
