"""Load stage: read a table, pick the target, infer the task, and validate once at the edge.

Everything downstream can trust a `Dataset`: the target has no missing values, holds at least two values, and
classification targets are encoded as integer codes `0..k-1` with their original names kept in `classes`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from dladvisor._frozen import Frozen
from dladvisor.errors import UserError

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("auto", "binary", "multiclass", "regression")
CONVENTIONAL_TARGETS = ("target", "label", "labels", "class", "y", "outcome", "response")
SUPPORTED_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# An integer target with at most this many distinct values is read as class labels, not a quantity.
MAX_CLASSES_FOR_INTEGER_TARGET = 20
# Numbers beyond this are treated as missing: float32 models (XGBoost, torch) overflow near 3.4e38, and no measured
# quantity in a table reaches it; infinities likewise. A column where such values are the majority is refused.
ABSURD_MAGNITUDE = 1e30
REFUSE_BAD_SHARE = 0.5
# Text cells longer than this are cut: every text model truncates far earlier (MiniLM reads 128 tokens), and a
# pasted document in one cell should not stall TF-IDF.
MAX_TEXT_CHARS = 100_000
# Image files larger than this (bytes, or decoded pixels) are refused as rows; PIL's own bomb check is 89M pixels.
MAX_IMAGE_BYTES = 50_000_000
MAX_IMAGE_PIXELS = 50_000_000
# The start of a CSV read to detect its encoding and sniff its delimiter (characters).
SNIFF_CHARS = 65536
# What the pandas parser reads as missing, true and false by default, so that both CSV readers agree.
NA_STRINGS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
              "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
TRUE_STRINGS = ["True", "TRUE", "true"]
FALSE_STRINGS = ["False", "FALSE", "false"]
# The CSV reader parses this much at a time; the first block also fixes each column's type (pyarrow's default;
# larger blocks measured no faster and held more memory on a 1,000,000-row table).
CSV_BLOCK_BYTES = 1 << 20
# An assessment needs at least this many rows left after unreadable rows are dropped, and 2 per class.
MIN_ROWS = 10
# A class in a row sample (--max-rows) keeps at least this many of its rows, all of them if it has fewer, so that
# each of 5 folds still sees some: 30 rows of 1,000,000 would otherwise keep 3 in a 100,000-row sample.
SAMPLE_MIN_PER_CLASS = 20


class RowSample(Frozen):
    """The rows the benchmark, explain and checks stages read when the table is larger than --max-rows."""

    rows: int
    of_rows: int
    method: Literal["stratified", "random", "most recent", "whole groups"]
    seed: int
    statement: str  # for people: "a stratified sample of 100,000 of 1,000,000 rows" (by class, seeded)


@dataclass(frozen=True)
class LoadNote:
    """Something the load stage changed or set aside, for the profile's alerts."""

    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A validated table: features, an encoded target and what we inferred about it."""

    features: pd.DataFrame
    y: np.ndarray
    target_name: str
    task: Task
    task_rule: str
    classes: tuple[str, ...]
    source: str
    fingerprint: str
    rows_dropped_missing_target: int = 0
    base_dir: Path | None = None
    group_column: str | None = None
    sensitive_columns: tuple[str, ...] = ()
    # False (the default): sensitive columns are audited (fairness, proxies) but kept out of every model's inputs.
    sensitive_as_feature: bool = False
    time_column: str | None = None
    dropped_columns: tuple[str, ...] = ()  # removed with --drop: known leaks, or not available at prediction time
    trusted_columns: tuple[str, ...] = ()  # confirmed known at prediction time: strong, but not blocked as leaks
    positive_rule: str = ""  # binary tasks: which class is positive (code 1), and why
    notes: tuple[LoadNote, ...] = field(default=())
    row_sample: RowSample | None = None  # set by `cap_rows`: these rows are a sample of the loaded table

    @property
    def n_rows(self) -> int:
        return len(self.features)

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def positive_class(self) -> str | None:
        return self.classes[1] if self.task == "binary" else None

    @property
    def model_inputs_exclude(self) -> dict[str, str]:
        """Columns present in `features` that no model may read, with the reason."""
        excluded = {}
        if self.group_column:
            excluded[self.group_column] = "--group-col: defines the folds"
        if not self.sensitive_as_feature:
            for column in self.sensitive_columns:
                excluded[column] = "--sensitive: audited for fairness, not learned from"
        return excluded


def cap_rows(dataset: Dataset, max_rows: int | None, *, seed: int) -> Dataset:
    """The dataset itself when it has at most `max_rows` rows (or `max_rows` is None), else a seeded sample of that
    many: the most recent rows with a time column, whole groups with a group column, class shares kept for
    classification, random rows for regression. The sample keeps the table's fingerprint and file order."""
    n = dataset.n_rows
    if max_rows is None or n <= max_rows:
        return dataset
    rng = np.random.default_rng(seed)
    if dataset.time_column is not None:  # load sorted the rows by time: the last ones are the most recent
        method, rows = "most recent", np.arange(n - max_rows, n)
    elif dataset.group_column is not None:
        method, rows = "whole groups", _whole_groups(dataset.features[dataset.group_column], max_rows, rng)
    elif dataset.is_classification:
        method, rows = "stratified", _stratified(dataset.y, max_rows, rng)
    else:
        method, rows = "random", np.sort(rng.choice(n, max_rows, replace=False))
    of = f"{len(rows):,} of {n:,} rows"
    how = {
        "most recent": f"the most recent {of} by '{dataset.time_column}'",
        "whole groups": f"a sample of whole '{dataset.group_column}' groups, {of}",
        "stratified": f"a stratified sample of {of}",
        "random": f"a random sample of {of}",
    }[method]
    y = dataset.y[rows]
    if dataset.is_classification:
        counts = np.bincount(y, minlength=len(dataset.classes))
        if (counts < 2).any():
            rare = dataset.classes[int(counts.argmin())]
            raise UserError(f"Benchmarking on {how} leaves class '{rare}' with {counts.min()} rows; raise "
                            "--max-rows, or pass --max-rows 0 to benchmark every row.")
    sample = RowSample(rows=len(rows), of_rows=n, method=method, seed=seed, statement=how)
    return replace(dataset, features=dataset.features.iloc[rows].reset_index(drop=True), y=y, row_sample=sample)


def _stratified(y: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    """`rows` row numbers in which each class keeps its share (rare classes at least `SAMPLE_MIN_PER_CLASS`)."""
    counts = np.bincount(y)
    share = rows * counts / counts.sum()
    quota = np.floor(share).astype(int)
    quota[np.argsort(quota - share, kind="stable")[: rows - quota.sum()]] += 1  # largest remainders: `rows` in all
    quota = np.maximum(quota, np.minimum(counts, min(SAMPLE_MIN_PER_CLASS, rows // len(counts))))
    quota[quota.argmax()] -= quota.sum() - rows  # the rows given to rare classes come from the largest one
    picked = [rng.choice(np.flatnonzero(y == label), size, replace=False) for label, size in enumerate(quota)]
    return np.sort(np.concatenate(picked))


def _whole_groups(groups: pd.Series, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Row numbers of randomly chosen whole groups, as many groups as fit in `rows` (at least one)."""
    codes, _ = pd.factorize(groups)
    sizes = np.bincount(codes)
    order = rng.permutation(len(sizes))
    fitting = int(np.searchsorted(np.cumsum(sizes[order]), rows, side="right"))
    return np.flatnonzero(np.isin(codes, order[: max(1, fitting)]))


def read_table(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read CSV/TSV, Parquet or JSON Lines into a DataFrame, with errors that say how to fix the file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"File not found: {path}. Check the path (it is relative to {Path.cwd()}).")
    if path.is_dir():
        return read_image_folder(path)
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UserError(
            f"Unsupported file type '{path.suffix or '(none)'}' for {path.name}; "
            f"save the data as one of {supported}."
        )
    if path.stat().st_size == 0:
        raise UserError(f"{path.name} is empty (0 bytes); export the data again with a header and rows.")
    if kind == "csv":
        frame = _read_csv(path, encoding)
    elif kind == "parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise UserError(f"{path.name} is not a readable Parquet file ({exc}); re-export it.") from exc
    else:
        try:
            frame = pd.read_json(path, lines=True, encoding=encoding or "utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(
                f"{path.name} is not valid JSON Lines (one JSON object per line): {exc}."
            ) from exc
    frame.columns = [str(column).strip() for column in frame.columns]
    if frame.columns.duplicated().any():
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise UserError(f"{path.name} has duplicate column names {duplicated}; rename them so each is unique.")
    if len(frame) == 0:
        raise UserError(f"{path.name} has a header but no data rows; export the rows too.")
    return frame


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_image_folder(folder: Path) -> pd.DataFrame:
    """A folder of class sub-folders (cats/1.png, dogs/2.png) as a table of relative image paths and labels."""
    rows = [
        {"image": str(file.relative_to(folder)), "label": sub.name}
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        for file in sorted(sub.rglob("*"))
        if file.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not rows:
        raise UserError(
            f"{folder} is a folder without class sub-folders of images; pass a data file (.csv, .parquet, .jsonl) "
            "or a folder laid out as CLASS_NAME/image.png."
        )
    return pd.DataFrame(rows)


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    head = _utf8_head(path, encoding)
    if head is not None:
        try:
            frame = _read_csv_arrow(path, _delimiter(path, head))
        except (pa.ArrowInvalid, UnicodeDecodeError):
            # Uneven rows, invalid UTF-8 past the start, a value that does not fit the type the first block set: the
            # pandas parser below reads the file the way it always did, or names the problem.
            frame = None
        if frame is not None:
            return frame
    return _read_csv_decoded(path, encoding)


def _utf8_head(path: Path, encoding: str | None) -> str | None:
    """The first `SNIFF_CHARS` characters when the file is UTF-8 text (as far as its start shows), else None: the
    columnar reader reads UTF-8 only; other encodings are decoded in Python."""
    try:
        if encoding and codecs.lookup(encoding).name != "utf-8":
            return None
    except LookupError:
        return None  # the Python decoder names the unknown encoding
    with path.open("rb") as file:
        raw = file.read(4 * SNIFF_CHARS)  # UTF-8 needs at most 4 bytes per character
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(raw.removeprefix(codecs.BOM_UTF8), final=False)
    except UnicodeDecodeError:
        return None
    text = text[:SNIFF_CHARS]
    return text if text.strip() and _looks_like_text(text) else None


def _delimiter(path: Path, text: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","  # a single column, or too irregular to sniff: the common default


def _read_csv_arrow(path: Path, delimiter: str) -> pd.DataFrame | None:
    """Read a UTF-8 CSV with pyarrow's streaming reader, to the frame the pandas parser gives; None where the two
    would differ (duplicate column names, which pandas renames; bytes that are not UTF-8)."""
    try:
        return _read_arrow_stream(path, delimiter, type_from_all_rows=False)
    except pa.ArrowInvalid:
        # A value further down does not fit the type the first block set (an integer column that turns decimal):
        # read the numeric and true/false columns as text and type each from all its values.
        return _read_arrow_stream(path, delimiter, type_from_all_rows=True)


def _read_arrow_stream(path: Path, delimiter: str, *, type_from_all_rows: bool) -> pd.DataFrame | None:
    import pyarrow.csv as pa_csv

    def open_reader(column_types: dict[str, pa.DataType]) -> pa_csv.CSVStreamingReader:
        return pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=column_types, null_values=NA_STRINGS, strings_can_be_null=True,
                true_values=TRUE_STRINGS, false_values=FALSE_STRINGS,
            ),
        )

    reader = open_reader({})
    first_block = reader.schema  # the streaming reader keeps these types for the whole file
    duplicate_names = len(set(first_block.names)) < len(first_block.names)
    if duplicate_names or any(pa.types.is_binary(f.type) for f in first_block):  # binary: not UTF-8 after all
        reader.close()
        return None
    # Dates and times stay text, as pandas leaves them (the profile decides what a column holds). A column empty in
    # the first block (or any non-text one, on the second try) is read as text and typed from all its values.
    as_text = [f.name for f in first_block if pa.types.is_temporal(f.type) or pa.types.is_string(f.type)]
    typed_later = [f.name for f in first_block if pa.types.is_null(f.type) or (
        type_from_all_rows and not pa.types.is_temporal(f.type) and not pa.types.is_string(f.type))]
    reader.close()
    # large_string is what pandas keeps text in: read so, its text is not copied on the way to pandas.
    reader = open_reader({name: pa.large_string() for name in as_text + typed_later})
    with reader:
        table = reader.read_all()
    for name in typed_later:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, _typed_text(table.column(index)))
    flags_with_gaps = [f.name for f in table.schema if pa.types.is_boolean(f.type) and table[f.name].null_count]
    # One block per column, and the table freed as it converts: the peak stays near one copy of the data.
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()  # hand the parsing buffers back to the OS, not just to pyarrow
    for column in flags_with_gaps:  # pandas marks a missing true/false with NaN, pyarrow with None
        frame[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)
    frame.columns = [name or f"Unnamed: {i}" for i, name in enumerate(frame.columns)]  # pandas' name for no name
    return frame


def _typed_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as integers, else decimals, else true/false, else text: the order the pandas parser tries."""
    for arrow_type in (pa.int64(), pa.float64(), pa.bool_()):
        try:
            return column.cast(arrow_type)
        except pa.ArrowInvalid:
            continue
    return column


def _read_csv_decoded(path: Path, encoding: str | None) -> pd.DataFrame:
    """The whole file decoded in Python, then parsed by pandas: for encodings other than UTF-8, and for files the
    columnar reader refuses."""
    raw = path.read_bytes()
    text = _decode(raw, path.name, encoding)
    if not text.strip():
        raise UserError(f"{path.name} holds only whitespace; export the data again with a header and rows.")
    try:
        return pd.read_csv(io.StringIO(text), sep=_delimiter(path, text), low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise UserError(f"{path.name} has no columns; export the data again with a header row.") from exc
    except pd.errors.ParserError as exc:
        raise UserError(
            f"{path.name} is not a well-formed table ({str(exc).strip()}); "
            "check for unquoted delimiters inside values."
        ) from exc


def _decode(raw: bytes, name: str, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UserError(f"{name} cannot be read as {encoding} ({exc}); try --encoding utf-8.") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for candidate in ("utf-8", "cp1252"):
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise UserError(
        f"{name} is not text in UTF-8, UTF-16 (with BOM) or Windows-1252; "
        "re-save it as UTF-8 or pass --encoding NAME."
    )


def _looks_like_text(text: str) -> bool:
    sample = text[:SNIFF_CHARS]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" not in sample and control <= len(sample) * 0.01


def _column_options(group_column, time_column, sensitive_columns, drop_columns) -> list[tuple[str, str | None]]:
    named = [("--group-col", group_column), ("--time-col", time_column)]
    return named + [("--sensitive", c) for c in sensitive_columns] + [("--drop", c) for c in drop_columns]


def check_column_options(
    *, target: str | None = None, group_column: str | None = None, time_column: str | None = None,
    sensitive_columns: tuple[str, ...] = (), drop_columns: tuple[str, ...] = (), trusted_columns: tuple[str, ...] = (),
) -> None:
    """The column options' conflicts that need no data (the target named in another option, a column both dropped
    and used); checked before reading and again once the target is known."""
    named = _column_options(group_column, time_column, sensitive_columns, drop_columns)
    for option, column in named + [("--known-at-prediction", c) for c in trusted_columns]:
        if column is not None and column == target:
            raise UserError(f"{option} '{column}' is the target; pick another column.")
    for column in drop_columns:
        for option, other in named:
            if other == column and option != "--drop":
                raise UserError(f"--drop '{column}' is also given to {option}; drop it or use it, not both.")


def load_dataset(
    source: Path | str | pd.DataFrame,
    *,
    target: str | None = None,
    task: str = "auto",
    source_name: str | None = None,
    encoding: str | None = None,
    group_column: str | None = None,
    time_column: str | None = None,
    sensitive_columns: tuple[str, ...] = (),
    sensitive_as_feature: bool = False,
    drop_columns: tuple[str, ...] = (),
    trusted_columns: tuple[str, ...] = (),
    positive_class: str | None = None,
) -> Dataset:
    """Read and validate a dataset.

    Args:
        source: a file path, or an in-memory DataFrame (used by the bundled demos).
        target: the target column; inferred from a conventional name when omitted.
        task: "auto" infers binary / multiclass / regression from the target values.
        source_name: how to name the data in the report (defaults to the file path).
        encoding: text encoding of a CSV when sniffing is not enough.
        group_column: rows sharing a value stay in the same fold (e.g. patient id); excluded from features.
        time_column: folds are time-ordered by this column (train on the past, test on the future).
        sensitive_columns: protected attributes (e.g. sex, age) checked for fairness and as explanation red flags;
            kept out of the models' inputs unless `sensitive_as_feature`.
        drop_columns: columns removed before anything else (known leaks, or not available at prediction time).
        trusted_columns: columns confirmed to be known at prediction time; the leakage check does not block on them.
        positive_class: binary tasks: the class whose probability is scored (default: see `_positive_class`).
    """
    if task not in TASKS:
        raise UserError(f"Unknown task '{task}'; use one of {', '.join(TASKS)}.")
    if isinstance(source, pd.DataFrame):
        frame, base_dir = source.copy(), None
        name = source_name or "in-memory table"
    else:
        path = Path(source)
        frame = read_table(path, encoding=encoding)
        base_dir = path.resolve() if path.is_dir() else path.resolve().parent
        name = source_name or str(source)

    target_name = _resolve_target(frame, target)
    named = _column_options(group_column, time_column, sensitive_columns, drop_columns)
    for option, column in named + [("--known-at-prediction", c) for c in trusted_columns]:
        if column is not None and column not in frame.columns:
            raise UserError(f"{option} '{column}' is not a column; {_columns_hint(frame, column)}")
    check_column_options(
        target=target_name, group_column=group_column, time_column=time_column, sensitive_columns=sensitive_columns,
        drop_columns=drop_columns, trusted_columns=trusted_columns,
    )
    frame = frame.drop(columns=list(dict.fromkeys(drop_columns)))

    notes: list[LoadNote] = []
    frame = _clean_values(frame, target_name, notes)
    for option, column in named + [("--known-at-prediction", c) for c in trusted_columns]:
        if column is not None and column not in frame.columns and option != "--drop":
            raise UserError(f"{option} '{column}' holds mostly infinite or absurd numbers and cannot be used; fix the "
                            "column or leave the option out.")
    if base_dir is not None:
        frame = _verify_images(frame, base_dir, notes)

    raw_target = frame[target_name]
    missing = raw_target.isna()
    if pd.api.types.is_numeric_dtype(raw_target) and not pd.api.types.is_bool_dtype(raw_target):
        missing |= ~np.isfinite(raw_target.to_numpy(dtype=float, na_value=np.nan))
    if missing.all():
        raise UserError(
            f"Target '{target_name}' is empty in all {len(frame)} rows; choose the column that holds the labels."
        )
    if missing.any():  # else no copy: a large table is held once
        frame = frame.loc[~missing].reset_index(drop=True)
        raw_target = raw_target.loc[~missing].reset_index(drop=True)
    features = frame.drop(columns=[target_name])
    if features.shape[1] == 0:
        raise UserError(f"The table holds only the target '{target_name}'; add feature columns to learn from.")

    resolved_task, rule = _infer_task(raw_target, target_name, task)
    positive_rule = ""
    if positive_class is not None and resolved_task != "binary":
        raise UserError(f"--positive-class applies to binary targets; '{target_name}' is {resolved_task}.")
    if resolved_task == "regression":
        y = pd.to_numeric(raw_target).to_numpy(dtype=float)
        classes: tuple[str, ...] = ()
    else:
        categorical = pd.Categorical(raw_target)
        if resolved_task == "binary":
            positive, positive_rule = _positive_class(categorical, positive_class, target_name)
            negative = next(c for c in categorical.categories if c != positive)
            categorical = categorical.reorder_categories([negative, positive])
        y = categorical.codes.astype(np.int64)
        classes = tuple(str(c) for c in categorical.categories)

    if time_column is not None:
        order = _time_order(features[time_column], time_column)
        features = features.iloc[order].reset_index(drop=True)
        y = y[order]
    if group_column is not None and features[group_column].isna().any():
        raise UserError(f"--group-col '{group_column}' has missing values; fill them so every row has a group.")

    if missing.any():
        notes.append(LoadNote("target_missing", f"{int(missing.sum())} rows with no (or an infinite) target value "
                              "were set aside.", target_name))
    _check_enough_rows(y, resolved_task, notes)
    return Dataset(
        features=features,
        y=y,
        target_name=target_name,
        task=resolved_task,
        task_rule=rule,
        classes=classes,
        source=name,
        fingerprint=fingerprint(frame),
        rows_dropped_missing_target=int(missing.sum()),
        base_dir=base_dir,
        group_column=group_column,
        time_column=time_column,
        sensitive_columns=tuple(sensitive_columns),
        sensitive_as_feature=sensitive_as_feature,
        dropped_columns=tuple(dict.fromkeys(drop_columns)),
        trusted_columns=tuple(trusted_columns),
        positive_rule=positive_rule,
        notes=tuple(notes),
    )


def _clean_values(frame: pd.DataFrame, target: str, notes: list[LoadNote]) -> pd.DataFrame:
    """Every value that reaches the models must be one every model can take: infinities and absurd magnitudes become
    missing (a column made mostly of them is refused), and enormous text cells are cut."""
    cleaned = {}
    for column in frame.columns:
        values = frame[column]
        if column != target and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=float, na_value=np.nan)
            bad = ~np.isfinite(numbers) & ~np.isnan(numbers) | (np.abs(np.nan_to_num(numbers)) > ABSURD_MAGNITUDE)
            if bad.any():
                present = int((~np.isnan(numbers)).sum())
                example = numbers[bad][0]
                if bad.sum() > REFUSE_BAD_SHARE * present:
                    notes.append(LoadNote("column_refused", f"'{column}' was left out: {int(bad.sum()):,} of its "
                                          f"{present:,} values are infinite or beyond ±{ABSURD_MAGNITUDE:g} (e.g. "
                                          f"{example:g}); fix the export or the unit.", column))
                    cleaned[column] = None
                    continue
                notes.append(LoadNote("bad_numbers", f"'{column}': {int(bad.sum()):,} infinite or absurd values "
                                      f"(beyond ±{ABSURD_MAGNITUDE:g}, e.g. {example:g}) are treated as missing.",
                                      column))
                cleaned[column] = values.mask(bad)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            lengths = _text_lengths(values)
            if (lengths > MAX_TEXT_CHARS).any():
                notes.append(LoadNote("long_text", f"'{column}': {int((lengths > MAX_TEXT_CHARS).sum()):,} cells "
                                      f"longer than {MAX_TEXT_CHARS:,} characters were cut to that length (the "
                                      f"longest had {int(lengths.max()):,}).", column))
                cleaned[column] = values.astype(object).map(lambda v: v[:MAX_TEXT_CHARS] if isinstance(v, str) else v)
    if not cleaned:
        return frame
    frame = frame.copy()
    for column, values in cleaned.items():
        if values is None:
            frame = frame.drop(columns=[column])
        else:
            frame[column] = values
    return frame


def _text_lengths(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.StringDtype):  # pandas' own text columns (any CSV): measured without a Python loop
        return values.str.len().fillna(0).astype(int)
    return values.astype(object).map(lambda v: len(v) if isinstance(v, str) else 0).astype(int)


def image_path_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose values are mostly image file names (by extension), the same rule the profile uses."""
    found = []
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty or pd.api.types.is_numeric_dtype(values):
            continue
        sample = values.astype(str).head(500).str.strip().str.lower()
        if sample.str.endswith(IMAGE_SUFFIXES).mean() >= 0.9:
            found.append(column)
    return found


def _verify_images(frame: pd.DataFrame, base_dir: Path, notes: list[LoadNote]) -> pd.DataFrame:
    """Open every referenced image once (header and size, in parallel, cached): rows whose file is missing,
    unreadable, not an image or too large are dropped, with a note naming a few."""
    from concurrent.futures import ThreadPoolExecutor

    root = base_dir.resolve()
    keep = np.ones(len(frame), dtype=bool)
    for column in image_path_columns(frame):
        values = frame[column].astype("string")
        paths = {}
        for value in values.dropna().unique():
            path = (root / str(value)).resolve()
            if not path.is_relative_to(root):
                raise UserError(f"Image path '{value}' points outside the data folder {root}; move the images under "
                                "it and use relative paths.")
            paths[value] = path
        with ThreadPoolExecutor(max_workers=8) as pool:
            problems = dict(zip(paths, pool.map(_image_problem, paths.values()), strict=True))
        problems[pd.NA] = "no path"
        found = [problems[v] if v is not pd.NA else problems[pd.NA] for v in values]
        bad = np.array([problem is not None for problem in found])
        if bad.any():
            shown = list(dict.fromkeys(f"'{v}' ({p})" for v, p in zip(values, found, strict=True) if p))[:3]
            notes.append(LoadNote("bad_images", f"'{column}': {int(bad.sum()):,} rows point at image files that are "
                                  f"missing, unreadable or too large, e.g. {', '.join(shown)}; those rows were "
                                  "dropped.", column))
            keep &= ~bad
    return frame if keep.all() else frame.loc[keep].reset_index(drop=True)


@lru_cache(maxsize=200_000)
def _image_problem_cached(path: str, size: int, mtime: float) -> str | None:
    from PIL import Image

    if size == 0:
        return "empty file"
    if size > MAX_IMAGE_BYTES:
        return f"{size / 1e6:.0f} MB"
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return f"{width}x{height} pixels"
            image.verify()
    except Exception as exc:  # PIL raises many types for corrupt files; each one means "not a readable image"
        return f"not a readable image: {type(exc).__name__}"
    return None


def _image_problem(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return "not found"
    if not path.is_file():
        return "not a file"
    return _image_problem_cached(str(path), stat.st_size, stat.st_mtime)


def _check_enough_rows(y: np.ndarray, task: str, notes: list[LoadNote]) -> None:
    dropped = [n for n in notes if n.code in ("bad_images", "target_missing")]
    why = f" after setting aside unusable rows ({'; '.join(n.message for n in dropped)})" if dropped else ""
    if len(y) < MIN_ROWS:
        raise UserError(f"Only {len(y)} usable rows remain{why}; an assessment needs at least {MIN_ROWS}.")
    if task != "regression":
        counts = np.bincount(y)
        if len(counts) < 2 or (counts < 2).any() or (counts == 0).any():
            raise UserError(f"Some class has fewer than 2 usable rows{why}; add examples of every class.")


# Labels that name the event of interest in a binary target, whatever the other label is.
POSITIVE_WORDS = ("1", "1.0", "true", "yes", "y", "t", "positive", "pos")


def _positive_class(categorical: pd.Categorical, requested: str | None, target: str) -> tuple[object, str]:
    """The class scored as positive: as requested; else 1/true/yes; else the rarer class (the event of interest
    in most binary problems: default, fraud, disease); else the second in sorted order."""
    categories = list(categorical.categories)
    if requested is not None:
        match = [c for c in categories if str(c) == requested] or [
            c for c in categories if str(c).strip().lower() == requested.strip().lower()
        ]
        if not match:
            raise UserError(f"--positive-class '{requested}' is not a value of '{target}'; its classes are "
                            f"{', '.join(repr(str(c)) for c in categories)}.")
        return match[0], "given with --positive-class"
    words = [c for c in categories if str(c).strip().lower() in POSITIVE_WORDS]
    if len(words) == 1:
        return words[0], f"'{words[0]}' names the event; --positive-class to change"
    counts = pd.Series(categorical).value_counts()
    if counts.iloc[0] != counts.iloc[-1]:
        rarer = counts.index[-1]
        return rarer, f"the rarer class, {counts.iloc[-1]:,} of {counts.sum():,} rows; --positive-class to change"
    return categories[1], "the second class in sorted order (classes are balanced); --positive-class to change"


def fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of the table as loaded (values, dtypes and column names)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def _resolve_target(frame: pd.DataFrame, target: str | None) -> str:
    if target is not None:
        if target in frame.columns:
            return target
        by_lower = {str(c).lower(): c for c in frame.columns}
        if target.lower() in by_lower:
            return by_lower[target.lower()]
        raise UserError(f"Target column '{target}' not found; {_columns_hint(frame, target)}")
    by_lower = {str(c).lower(): c for c in frame.columns}
    for name in CONVENTIONAL_TARGETS:
        if name in by_lower:
            return by_lower[name]
    raise UserError(
        "No --target given and no column is named "
        f"{'/'.join(CONVENTIONAL_TARGETS)}; pass --target COL (columns: {_column_list(frame)})."
    )


def _columns_hint(frame: pd.DataFrame, wanted: str) -> str:
    close = difflib.get_close_matches(wanted, [str(c) for c in frame.columns], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}Columns are: {_column_list(frame)}."


def _column_list(frame: pd.DataFrame, limit: int = 12) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:limit])
    return shown + (f" … ({len(names) - limit} more)" if len(names) > limit else "")


def _infer_task(target: pd.Series, name: str, requested: str) -> tuple[Task, str]:
    n_unique = int(target.nunique())
    if n_unique < 2:
        value = target.iloc[0]
        raise UserError(
            f"Target '{name}' has the single value {value!r} in all {len(target)} rows; there is nothing to "
            "predict. Check the target column or the filter that produced this file."
        )
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target)
    integer_valued = numeric and bool(np.all(np.mod(target.to_numpy(dtype=float), 1) == 0))

    if requested == "regression":
        if not numeric:
            raise UserError(f"--task regression needs a numeric target, but '{name}' holds text labels.")
        return "regression", f"--task regression was given ({n_unique} distinct values)."
    if requested in ("binary", "multiclass"):
        if requested == "binary" and n_unique != 2:
            raise UserError(
                f"--task binary needs two classes, but '{name}' has {n_unique}; use --task multiclass."
            )
        return requested, f"--task {requested} was given ({n_unique} classes)."  # type: ignore[return-value]

    if not numeric:
        kind: Task = "binary" if n_unique == 2 else "multiclass"
        return kind, f"'{name}' holds labels (not numbers) with {n_unique} distinct values, so {kind}."
    if n_unique == 2:
        return "binary", f"'{name}' is numeric with exactly 2 distinct values, so binary."
    if integer_valued and n_unique <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "multiclass", (
            f"'{name}' holds whole numbers with {n_unique} ≤ {MAX_CLASSES_FOR_INTEGER_TARGET} distinct values, "
            "so multiclass (pass --task regression if they are quantities)."
        )
    return "regression", f"'{name}' is numeric with {n_unique} distinct values, so regression."


def _time_order(column: pd.Series, name: str) -> np.ndarray:
    parsed = column if pd.api.types.is_datetime64_any_dtype(column) else None
    if parsed is None and pd.api.types.is_numeric_dtype(column):
        parsed = column
    if parsed is None:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
        if parsed.isna().mean() > 0.05:
            raise UserError(
                f"--time-col '{name}' does not parse as dates in {parsed.isna().mean():.0%} of rows; "
                "use ISO dates (YYYY-MM-DD) or pick another column."
            )
    return np.argsort(parsed.to_numpy(), kind="stable")
