"""The benchmark's sample sized to the time budget (issue 16; not part of the test run).

    python tests/perf/budget_sizing.py --folder /work/tmp/sized [--rows 2000000] [--budgets 3m 10m]

Writes a folder of Parquet files (`large_parquet_folder.write_folder`: `large_table.make_large_table` parts, 20
columns) unless it holds them already, then runs
`python -m dladvisor assess FOLDER --target y --time-budget B` in a fresh process for each budget and prints, from
each report: the rows the benchmark read and what set that number, the classical candidates' fold time (projected
from the pilots beforehand vs measured), the deep candidates' rows, the verdict, and the run's wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from large_parquet_folder import write_folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--parts", type=int, default=4)
    parser.add_argument("--budgets", nargs="+", default=["3m", "10m"])
    args = parser.parse_args()
    write_folder(args.folder / "data", args.rows, args.parts)
    print("| --time-budget | wall s | rows benchmarked | set by | classical folds: share s / measured s | "
          "deep rows used | verdict |")
    print("|---|---|---|---|---|---|---|")
    for budget in args.budgets:
        out = args.folder / f"report-{budget}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dladvisor", "assess", str(args.folder / "data"), "--target", "y",
                        "--time-budget", budget, "--out", str(out)], check=True, capture_output=True)
        wall = time.perf_counter() - started
        report = json.loads((out / "report.json").read_text())
        sample = report["dataset"]["row_sample"]
        candidates = report["benchmark"]["candidates"]
        classical = sum(c["timing"]["fit_seconds_total"] for c in candidates
                        if c["family"] == "classical" and c["name"] != "dummy" and c["timing"])
        deep = {c["name"]: max((t["rows_used"] for t in c["training"]), default=None) for c in candidates
                if c["family"] == "deep" and c["training"]}
        share = report["stages"][1]["budget_seconds"] / 2
        recommendation = report["recommendation"]
        print(f"| {budget} | {wall:.0f} | {sample['rows']:,} of {sample['of_rows']:,} | `{sample['limited_by']}` | "
              f"{share:.0f} / {classical:.0f} | {', '.join(f'{k} {v:,}' for k, v in deep.items())} | "
              f"{recommendation['verdict']}: {recommendation['action']} ({recommendation['candidate']}) |")
        print(f"  basis: {sample['basis'] or '-'}", file=sys.stderr)


if __name__ == "__main__":
    main()
