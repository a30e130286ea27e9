"""The Python API: `dladvisor.assess(df_or_path, target=..., **options) -> Assessment`, for notebooks and scripts.

    import dladvisor
    a = dladvisor.assess("credit.csv", target="Status", stakes="high", time_budget="2m", candidates=["xgboost", "mlp"])
    a                                   # in Jupyter: verdict, reason, best deep vs best classical, next step
    a.passed(fail_on_warn=True)         # the CI gate, as `dladvisor assess --gate` decides it
    a.write("reports/credit")           # report.md, report.json and plots, as the CLI writes them

Options are the CLI's, in snake_case, checked by the same code (`config.assess_config`) before any data is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dladvisor.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from dladvisor.assessment import Assessment

DATAFRAME_NAME = "dataframe"


def assess(
    data: pd.DataFrame | str | os.PathLike,
    /,
    *,
    name: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    frame: pd.DataFrame | None = None,
    **options: Any,
) -> Assessment:
    """Assess a table: profile it, benchmark classical and deep models on the same folds, cost, explain, recommend.

    Args:
        data: a pandas DataFrame, or the path of a CSV/TSV, Parquet or JSON Lines file (or a folder of class
            sub-folders of images), as `dladvisor assess DATA` takes.
        name: what to call an in-memory table in the report (default "dataframe"); a file is named by its path.
        progress: called as `progress(stage, done, total)` while the stages run (default: silent).
        frame: only with the older form `assess(AssessConfig(...), frame=df)`, which still works.
        **options: `dladvisor assess`'s options in snake_case: `target`, `task`, `folds`, `seed`, `time_budget`
            ("90s", "10m" or seconds), `max_rows`, `metric`, `candidates` (a list), `stakes`, `playbook`,
            `sensitive`, `drop`, `device`, ... (`dladvisor assess --help` lists them all).

    Returns:
        The `Assessment`: it renders itself in Jupyter and has `.passed()`, `.to_json()` and `.write(folder)`.

    Raises:
        UserError: bad data or options, with a message naming the problem and the fix (an option before any data
            is read).
    """
    from dladvisor.config import AssessConfig, assess_config, check_config
    from dladvisor.pipeline import assess as run_pipeline

    if isinstance(data, AssessConfig):  # the form used before this API: assess(AssessConfig(...), frame=df)
        if options or name is not None:
            raise UserError("Pass options either inside the AssessConfig or as keywords with a table or path.")
        check_config(data)
        config = data
    elif frame is not None:
        raise UserError("`frame=` goes with an AssessConfig; pass the DataFrame itself: dladvisor.assess(df, ...).")
    elif _is_dataframe(data):
        config, frame = assess_config(name or DATAFRAME_NAME, **options), data
    elif isinstance(data, str | os.PathLike):
        config = assess_config(Path(data), **options)
    else:
        raise UserError(f"dladvisor.assess takes a pandas DataFrame or a file path, not {type(data).__name__}.")
    return run_pipeline(config, frame=frame, progress=progress or _silent)


def _is_dataframe(data: object) -> bool:
    import pandas as pd

    return isinstance(data, pd.DataFrame)


def _silent(stage: str, done: int, total: int) -> None:
    pass
