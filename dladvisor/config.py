"""Options of one assessment, parsed and checked once at the edge, before any data is read.

`assess_config` is that edge for both front ends: the `dladvisor assess` command and `dladvisor.assess()` pass it the
same option names (the CLI's, in snake_case), so an option means the same and fails with the same one-line error in
both. What depends on the data (a column name, whether a metric suits the inferred task) is checked once it is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

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
    preset: str = "standard"  # fast, standard or thorough (dladvisor.benchmark PRESETS)
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
    executor: str = "local"  # local, ray (local Ray or RAY_ADDRESS) or ray://HOST:PORT
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
    export_model: bool = False  # refit the recommended model on every row and save it in model/ (dladvisor.export)


# Options given as several names (repeatable on the command line): a string is one name.
LIST_OPTIONS = ("candidates", "sensitive", "drop", "known_at_prediction")
# The CLI's repeatable `--candidate` is `candidates` in the config; both spellings are accepted.
ALIASES = {"candidate": "candidates"}


def option_names() -> list[str]:
    """Every option `assess_config` accepts."""
    fields = [name for name in AssessConfig.model_fields if name not in ("data", "time_budget_seconds")]
    return sorted([*fields, "time_budget", *ALIASES])


def assess_config(data: str | Path, **options: Any) -> AssessConfig:
    """The config for assessing `data`, from the options of `dladvisor assess` in snake_case, every one checked.

    `time_budget` takes '90s', '10m', '1h30m' or seconds; `max_rows` a number, '0' or None (no cap); the repeatable
    options (`candidates`, `sensitive`, `drop`, `known_at_prediction`) one name or a list. Raises `UserError`, whose
    message names the option and the fix, before any data is read.
    """
    known = option_names()
    for name in options:
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise UserError(f"Unknown option '{name}'; {hint}options: {', '.join(known)}.")
    fields = dict(options)
    for alias, name in ALIASES.items():
        if alias in fields:
            if name in fields:
                raise UserError(f"Give '{name}' or '{alias}', not both.")
            fields[name] = fields.pop(alias)
    if "time_budget" in fields:
        budget = fields.pop("time_budget")
        fields["time_budget_seconds"] = parse_duration(budget) if isinstance(budget, str) else _seconds(budget)
    if "max_rows" in fields:
        rows = fields["max_rows"]
        fields["max_rows"] = parse_max_rows(rows if isinstance(rows, str) else str(0 if rows is None else rows))
    for name in LIST_OPTIONS:
        if name in fields:
            fields[name] = _names(fields[name], name)
    try:
        config = AssessConfig(data=str(data), **fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "options"
        raise UserError(f"Cannot read --{name.replace('_', '-')} '{error.get('input')}': "
                        f"{error['msg'].lower()}.") from None
    check_config(config)
    return config


def check_config(config: AssessConfig) -> None:
    """Every check the options allow before any data is read; raises `UserError` naming the option and the fix.

    Cheap ones first; `--device cuda` last, as asking torch whether a GPU is visible takes a second or two."""
    from dladvisor.benchmark import check_candidates, check_metric, check_preset, resolve_device
    from dladvisor.cost import check_cost_options
    from dladvisor.load import TASKS, check_column_options
    from dladvisor.playbooks import resolve
    from dladvisor.prices import load_prices
    from dladvisor.report import check_out_dir

    if config.task not in TASKS:
        raise UserError(f"Unknown task '{config.task}'; use one of {', '.join(TASKS)}.")
    if config.folds < 2:
        raise UserError(f"--folds must be at least 2 (got {config.folds}); e.g. --folds 5.")
    _seconds(config.time_budget_seconds)
    if config.max_rows is not None and config.max_rows < 1:
        raise UserError(f"--max-rows must be at least 1 (got {config.max_rows}), or 0 (none) for no cap.")
    task = None if config.task == "auto" else config.task  # else known only once the target is read
    if config.metric is not None:
        check_metric(config.metric, task)
    check_candidates(config.candidates, task)
    check_preset(config.preset)
    check_column_options(
        target=config.target, group_column=config.group_col, time_column=config.time_col,
        sensitive_columns=config.sensitive, drop_columns=config.drop, trusted_columns=config.known_at_prediction,
    )
    if config.encoding:
        import codecs

        try:
            codecs.lookup(config.encoding)
        except LookupError:
            raise UserError(f"Unknown --encoding '{config.encoding}'; use a Python codec name such as utf-8, "
                            "latin-1 or cp1252.") from None
    check_cost_options(retrain=config.retrain, serving=config.serving, peak_factor=config.peak_factor,
                       predictions_per_month=config.predictions_per_month)
    load_prices(config.price_table).with_overrides(cpu_hourly=config.cpu_hourly, gpu_hourly=config.gpu_hourly)
    resolve(config.playbook, stakes=config.stakes)  # an unknown or invalid playbook; which one fits is for later
    if config.out is not None:
        check_out_dir(config.out)
        check_writable(config.out, "--out")
    from dladvisor.benchmark._executor import check_executor

    check_executor(config.executor)
    if config.export_model:
        from dladvisor.export import _skops

        _skops()  # one line naming the extra when skops is missing
    if config.device != "auto":
        resolve_device(config.device)


def check_writable(path: Path, option: str) -> None:
    """A UserError unless `path` (a folder or file to create or replace) can be written: its nearest existing
    folder must be a folder this process may write in."""
    path = Path(path).expanduser().absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if existing != path and not existing.is_dir():
        raise UserError(f"{option} {path} cannot be created: {existing} is a file; choose a path in a folder.")
    folder = existing if existing.is_dir() else existing.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: no permission to write in {folder}; choose a folder you can write to.")


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise UserError(f"--time-budget must be a positive duration such as 90s, 10m or 1h30m (got {value}).")
    return float(value)


def _names(value: str | Iterable[str] | None, option: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(n, str) and n for n in names):
        raise UserError(f"--{option.replace('_', '-')} takes names (a string or a list of strings).")
    return names


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
