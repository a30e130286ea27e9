"""Options of one assessment, parsed once at the edge (CLI or API)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError

DEFAULT_TIME_BUDGET = "10m"
# Online traffic is not flat: if a day's requests all arrive within 8 busy hours, the busy-hour rate is 3x the
# average, and serving capacity must be sized for it. 1 means perfectly flat traffic.
DEFAULT_PEAK_FACTOR = 3.0
# Tables larger than this are benchmarked (and explained and checked) on a sample of this many rows; the profile reads
# every row. The benchmark grows with the rows (2 min for the adult table's 32,561 rows on 2 cores, issue 12), and
# the learning curves show whether more rows would change the answer.
DEFAULT_MAX_ROWS = 100_000
NO_ROW_CAP = ("0", "none")
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


class AssessConfig(Frozen):
    data: str
    target: str | None = None
    task: str = "auto"
    folds: int = Field(default=5)
    seed: int = 0
    out: Path | None = None
    time_budget_seconds: float = 600.0
    max_rows: int | None = DEFAULT_MAX_ROWS  # None: benchmark every row
    metric: str | None = None
    candidates: tuple[str, ...] = ()
    group_col: str | None = None
    time_col: str | None = None
    sensitive: tuple[str, ...] = ()
    sensitive_as_feature: bool = False
    drop: tuple[str, ...] = ()
    known_at_prediction: tuple[str, ...] = ()
    positive_class: str | None = None
    stakes: str | None = None
    playbook: str | None = None
    encoding: str | None = None
    device: str = "auto"
    text_model: str = "all-MiniLM-L6-v2"
    image_model: str = "tf_efficientnet_lite0"
    learning_curves: bool = True
    price_table: str | None = None
    cpu_hourly: float | None = None
    gpu_hourly: float | None = None
    retrain: str = "monthly"
    predictions_per_month: int = 1_000_000
    serving: str = "online"
    peak_factor: float = DEFAULT_PEAK_FACTOR


def parse_duration(text: str) -> float:
    """'90s', '10m', '1h30m' or plain seconds ('45') to seconds."""
    match = _DURATION.match(text or "")
    if not text or not text.strip() or match is None or not any(match.groups()):
        raise UserError(f"Cannot read duration '{text}'; write it like 90s, 10m or 1h30m.")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise UserError(f"Duration '{text}' must be longer than zero.")
    return total


def parse_max_rows(text: str) -> int | None:
    """'100000' (or '100_000') to 100000; '0' or 'none' to None, no cap."""
    cleaned = (text or "").strip().lower()
    if cleaned in NO_ROW_CAP:
        return None
    try:
        rows = int(cleaned)
    except ValueError:
        rows = -1
    if rows < 1:
        raise UserError(f"Cannot read --max-rows '{text}'; give a whole number of rows such as 100000, or 0 (none) "
                        "to benchmark every row.")
    return rows


def default_out_dir(data: str) -> Path:
    """reports/<data file stem>, e.g. reports/credit for credit.csv."""
    stem = Path(data).name.split(".")[0] or "assessment"
    return Path("reports") / re.sub(r"[^A-Za-z0-9_-]+", "-", stem)
