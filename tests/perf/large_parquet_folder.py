"""Peak memory and wall time of `dladvisor profile` and `assess` on a folder of Parquet files larger than memory
would comfortably hold (issue 16; not part of the test run).

    python tests/perf/large_parquet_folder.py --folder /work/tmp/big [--rows 20000000] [--parts 20] [--assess]

Writes `--parts` files of `large_table.make_large_table` rows (20 columns, a different seed per part) into `--folder`
unless it already holds them, estimates the table's size in pandas from one part (`memory_usage(deep=True)` times
the parts), and runs `python -m dladvisor profile FOLDER --target y` (and `assess ... --time-budget 10m` with
`--assess`) in a fresh process under /usr/bin/time. Delete the folder afterwards: it is ~1 GB per 20M rows.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from large_table import make_large_table  # noqa: E402


def write_folder(folder: Path, rows: int, parts: int, columns: int = 20) -> None:
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    per_part = rows // parts
    for part in range(parts):
        path = folder / f"part-{part:05d}.parquet"
        if not path.exists():
            pq.write_table(make_large_table(per_part, columns, seed=part), path)


def pandas_size_mb(folder: Path, parts: int) -> float:
    """The whole table's size as a pandas frame, from the first part's (`memory_usage(deep=True)`) times the parts."""
    import pandas as pd

    return pd.read_parquet(folder / "part-00000.parquet").memory_usage(deep=True).sum() / 2**20 * parts


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak resident MB and stdout of a command in a fresh process."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    wall, peak_kb = re.findall(r"^([\d.]+) (\d+)$", result.stderr, re.MULTILINE)[-1]
    return float(wall), int(peak_kb) / 1024, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--parts", type=int, default=20)
    parser.add_argument("--assess", action="store_true", help="time `assess --time-budget 10m` too")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dladvisor-large-folder-report"))
    args = parser.parse_args()
    started = time.perf_counter()
    write_folder(args.folder, args.rows, args.parts)
    disk_mb = sum(f.stat().st_size for f in args.folder.glob("*.parquet")) / 2**20
    in_pandas = pandas_size_mb(args.folder, args.parts)
    print(f"folder: {args.rows:,} rows × 20 columns in {args.parts} files, {disk_mb:,.0f} MB on disk "
          f"(written in {time.perf_counter() - started:.0f} s); in pandas ≈ {in_pandas:,.0f} MB")
    wall, peak, _ = timed([sys.executable, "-m", "dladvisor", "profile", str(args.folder), "--target", "y"])
    print(f"profile: wall {wall:.1f} s, peak {peak:,.0f} MB")
    if args.assess:
        wall, peak, _ = timed([sys.executable, "-m", "dladvisor", "assess", str(args.folder), "--target", "y",
                               "--time-budget", "10m", "--out", str(args.out)])
        print(f"assess --time-budget 10m: wall {wall:.1f} s, peak {peak:,.0f} MB, report in {args.out}")


if __name__ == "__main__":
    main()
