"""Wall time and peak memory of `dladvisor profile` on a large synthetic CSV (not part of the test run).

    python tests/perf/large_table.py [--rows 1000000] [--keep DIR]

`make_large_csv` writes a realistic mixed table (numbers with gaps, categories from 3 to ~50,000 levels, a date,
a boolean, a binary target that depends on several columns); `main` builds one in a temporary folder and times
`python -m dladvisor profile` on it in a fresh process under /usr/bin/time. Issue 12's goal: 1,000,000 rows × 20
columns in ≤ 10 s on 2 cores, peak memory ≤ 2× the file size.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

NUMERIC_COLUMNS = 12
# (name, number of levels): the string columns, from a handful of levels to an entity-like identifier.
STRING_COLUMNS = (("region", 5), ("plan", 3), ("product", 60), ("city", 2_000), ("merchant", 50_000))


def make_large_csv(path: Path, rows: int = 1_000_000, columns: int = 20, seed: int = 0) -> Path:
    """Write `make_large_table` to `path` as a CSV."""
    import pyarrow.csv as pacsv

    # No quotes, as pandas and spreadsheets export: no generated value holds a comma or a quote.
    pacsv.write_csv(make_large_table(rows, columns, seed), path, pacsv.WriteOptions(quoting_style="none"))
    return path


def make_large_table(rows: int = 1_000_000, columns: int = 20, seed: int = 0):
    """A synthetic pyarrow table of `rows` rows and `columns` columns (the target `y` included).

    About 60% of the features are numeric (a quarter of those with 5–30% missing values), the rest strings of
    various cardinality plus one date and one boolean; `y` (0/1, about 30% positive) depends on four numbers, a
    category and the boolean, so the profile finds real signal.
    """
    import pyarrow as pa

    if columns < 4:
        raise ValueError("make_large_table needs at least 4 columns (a number, a string, a boolean and the target)")
    rng = np.random.default_rng(seed)
    n_features = columns - 1
    n_strings = min(len(STRING_COLUMNS) + 1, max(1, round(n_features * 0.3)))  # + 1: the date column
    n_numeric = n_features - n_strings - 1  # - 1: the boolean
    table: dict[str, object] = {}
    for i in range(n_numeric):
        scale = 10.0 ** (i % 4)
        values = rng.normal(0, 1, rows) * scale if i % 3 else rng.lognormal(0, 1, rows) * scale
        values = values.round(3 if i % 2 else 1)
        if i % 4 == 3:  # a quarter of the numbers have gaps
            values[rng.random(rows) < 0.05 + 0.05 * (i % 5)] = np.nan
        table[f"num_{i}"] = values
    for name, levels in STRING_COLUMNS[: n_strings - 1]:
        weights = 1.0 / np.arange(1, levels + 1)  # Zipf-like: a few common levels, a long tail
        codes = rng.choice(levels, rows, p=weights / weights.sum())
        table[name] = np.char.add(f"{name}_", codes.astype(str))
    days = rng.integers(0, 3 * 365, rows)
    table["signup_date"] = (np.datetime64("2022-01-01") + days.astype("timedelta64[D]")).astype(str)
    member = rng.random(rows) < 0.4
    table["is_member"] = member

    numbers = [np.nan_to_num(table[f"num_{i}"]) / 10.0 ** (i % 4) for i in range(min(4, n_numeric))]
    logit = sum((0.8 - 0.2 * k) * x for k, x in enumerate(numbers)) + 0.7 * member - 1.2
    if "region" in table:
        logit = logit + np.where(np.char.endswith(table["region"], "_0"), 0.6, 0.0)
    table["y"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pa.table({name: pa.array(values, from_pandas=True) for name, values in table.items()})


def time_profile(csv: Path, target: str = "y") -> tuple[float, float]:
    """Wall seconds and peak resident MB of `python -m dladvisor profile CSV --target TARGET`, in a fresh process."""
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "dladvisor", "profile", str(csv),
               "--target", target]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    wall, peak_kb = re.findall(r"^([\d.]+) (\d+)$", result.stderr, re.MULTILINE)[-1]
    return float(wall), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="write the CSV into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv = make_large_csv(folder / f"large_{args.rows}x{args.columns}.csv", rows=args.rows, columns=args.columns)
        file_mb = csv.stat().st_size / 2**20
        wall, peak = time_profile(csv)
        print(f"profile {args.rows:,} rows × {args.columns} columns: wall {wall:.1f} s, peak {peak:,.0f} MB, "
              f"file {file_mb:,.0f} MB (peak/file {peak / file_mb:.2f})")


if __name__ == "__main__":
    main()
