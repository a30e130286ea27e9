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
# Distinct values per column are counted exactly up to this many in a streamed table (their 64-bit hashes kept,
# 0.8 MB a column); past it the column is near-unique for every purpose here and counting stops.
DISTINCT_CAP = 100_000
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
    limited_by: Literal["--max-rows", "--time-budget"] = "--max-rows"  # what set the sample's size
    basis: str = ""  # for --time-budget: how the rows the budget allows were projected


@dataclass(frozen=True)
class LoadNote:
    """Something the load stage changed or set aside, for the profile's alerts."""

    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class ColumnScan:
    """One feature column, over every row of a streamed table (target-less rows set aside, values cleaned)."""

    missing: int
    distinct: int  # exact up to DISTINCT_CAP; past it counting stops and this is DISTINCT_CAP
    distinct_capped: bool
    integer_valued: bool | None = None  # numeric columns: every value a whole number
    consecutive: bool | None = None  # numeric columns: each value one more than the one before, in file order


@dataclass(frozen=True)
class TableScan:
    """What a streaming read of a table too large to hold learnt from every row, for the profile: `Dataset.features`
    holds the `Dataset.row_sample` rows only."""

    rows: int
    columns: dict[str, ColumnScan]
    y: np.ndarray  # the encoded target of every row (file order)
    row_keys: np.ndarray  # a 64-bit hash of each row's features (`row_hashes`), for duplicates


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
    scan: TableScan | None = None  # set when a large file was streamed: facts about every row, for the profile

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
    """The dataset itself when it has at most `max_rows` rows (or `max_rows` is None, or it is a sample already: a
    large file is sampled as it is read), else a seeded sample of that many: the most recent rows with a time
    column, whole groups with a group column, class shares kept for classification, random rows for regression. The
    sample keeps the table's fingerprint and file order."""
    if max_rows is None or dataset.n_rows <= max_rows or dataset.row_sample is not None:
        return dataset
    groups = dataset.features[dataset.group_column] if dataset.group_column is not None else None
    sample, rows = draw_rows(dataset.y, max_rows, seed=seed, classes=dataset.classes if dataset.is_classification
                             else None, time_column=dataset.time_column, group_column=dataset.group_column,
                             groups=groups)
    return replace(dataset, features=dataset.features.iloc[rows].reset_index(drop=True), y=dataset.y[rows],
                   row_sample=sample)


def shrink_sample(dataset: Dataset, rows: int, *, seed: int, basis: str) -> Dataset:
    """A sample of `rows` rows of `dataset` (itself a sample or the whole table), drawn as `cap_rows` draws one and
    described against the whole table, its size set by the time budget (`basis` says how)."""
    groups = dataset.features[dataset.group_column] if dataset.group_column is not None else None
    whole = dataset.row_sample.of_rows if dataset.row_sample is not None else dataset.n_rows
    sample, picked = draw_rows(dataset.y, rows, seed=seed, classes=dataset.classes if dataset.is_classification
                               else None, time_column=dataset.time_column, group_column=dataset.group_column,
                               groups=groups, of_rows=whole)
    sample = sample.model_copy(update={"limited_by": "--time-budget", "basis": basis})
    return replace(dataset, features=dataset.features.iloc[picked].reset_index(drop=True), y=dataset.y[picked],
                   row_sample=sample)


def draw_rows(
    y: np.ndarray, max_rows: int, *, seed: int, classes: tuple[str, ...] | None, time_column: str | None = None,
    group_column: str | None = None, groups: pd.Series | None = None, of_rows: int | None = None,
) -> tuple[RowSample, np.ndarray]:
    """The `cap_rows` sample of a table with more than `max_rows` rows (in time order when `time_column` is set):
    its description and its sorted row numbers. `classes` is None for regression. `of_rows` is the whole table's
    rows when `y` is already a sample of it."""
    n = len(y)
    rng = np.random.default_rng(seed)
    if time_column is not None:  # the rows are sorted by time: the last ones are the most recent
        method, rows = "most recent", np.arange(n - max_rows, n)
    elif group_column is not None:
        method, rows = "whole groups", _whole_groups(groups, max_rows, rng)
    elif classes is not None:
        method, rows = "stratified", _stratified(y, max_rows, rng)
    else:
        method, rows = "random", np.sort(rng.choice(n, max_rows, replace=False))
    of = f"{len(rows):,} of {of_rows or n:,} rows"
    how = {
        "most recent": f"the most recent {of} by '{time_column}'",
        "whole groups": f"a sample of whole '{group_column}' groups, {of}",
        "stratified": f"a stratified sample of {of}",
        "random": f"a random sample of {of}",
    }[method]
    if classes is not None:
        counts = np.bincount(y[rows], minlength=len(classes))
        if (counts < 2).any():
            rare = classes[int(counts.argmin())]
            raise UserError(f"Benchmarking on {how} leaves class '{rare}' with {counts.min()} rows; raise "
                            "--max-rows, or pass --max-rows 0 to benchmark every row.")
    return RowSample(rows=len(rows), of_rows=of_rows or n, method=method, seed=seed, statement=how), rows


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
        files = parquet_folder_files(path)
        return read_parquet_folder(path, files) if files else read_image_folder(path)
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


def parquet_folder_files(folder: Path) -> list[Path]:
    """The Parquet files of a folder and its sub-folders, in path order, the table's parts (as Spark, Dask or DuckDB
    write a table: part-0.parquet, ...); names starting with '.' or '_' (_SUCCESS, .crc files) are left out."""
    return sorted(
        file for file in folder.rglob("*")
        if SUPPORTED_SUFFIXES.get(file.suffix.lower()) == "parquet" and file.is_file()
        and not any(part.startswith((".", "_")) for part in file.relative_to(folder).parts)
    )


def parquet_folder_schema(folder: Path, files: list[Path]) -> pa.Schema:
    """The schema every Parquet file of the folder shares (the first file's, its metadata included); a UserError
    naming the first file that differs, or cannot be read."""
    import pyarrow.parquet as pq

    schemas = []
    for file in files:
        try:
            schemas.append(pq.read_schema(file))
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise UserError(f"{file} is not a readable Parquet file ({exc}); re-export it or move it out of "
                            f"{folder}.") from exc
    first = schemas[0]
    for file, schema in zip(files[1:], schemas[1:], strict=True):
        if not schema.remove_metadata().equals(first.remove_metadata()):
            raise UserError(
                f"{file} has other columns or types than {files[0].name} ({_schema_difference(first, schema)}); "
                f"every Parquet file of {folder} must hold the same columns with the same types."
            )
    return first


def _schema_difference(first: pa.Schema, other: pa.Schema) -> str:
    names, others = dict(zip(first.names, first.types, strict=True)), dict(zip(other.names, other.types, strict=True))
    if list(names) != list(others):
        return f"columns {other.names} instead of {first.names}"
    return ", ".join(f"'{n}' is {others[n]}, not {t}" for n, t in names.items() if others[n] != t)


def read_parquet_folder(folder: Path, files: list[Path]) -> pd.DataFrame:
    """A folder of Parquet files with one schema as one table, the files' rows in path order."""
    import pyarrow.parquet as pq

    schema = parquet_folder_schema(folder, files)
    table = pa.concat_tables([pq.read_table(file).replace_schema_metadata(schema.metadata) for file in files])
    # one pandas index over the parts, as `_stream`'s batches convert: each file's own index would repeat
    return table.to_pandas().reset_index(drop=True)


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
            f"{folder} is a folder without Parquet files or class sub-folders of images; pass a data file (.csv, "
            ".parquet, .jsonl), a folder of Parquet files (one table) or a folder laid out as CLASS_NAME/image.png."
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
    plan = csv_column_plan(path, delimiter, type_from_all_rows=type_from_all_rows)
    if plan is None:
        return None
    column_types, typed_later = plan
    with open_csv(path, delimiter, column_types) as reader:
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
    frame.columns = csv_column_names(frame.columns)
    return frame


def open_csv(path: Path, delimiter: str, column_types: dict[str, pa.DataType], *, use_threads: bool = True,
             block_bytes: int | None = None):
    """pyarrow's streaming CSV reader, reading missing values, true and false as the pandas parser does. It reads
    about 32 blocks ahead (36 MB with 1 MB blocks)."""
    import pyarrow.csv as pa_csv

    return pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(block_size=block_bytes or CSV_BLOCK_BYTES, use_threads=use_threads),
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=column_types, null_values=NA_STRINGS, strings_can_be_null=True,
            true_values=TRUE_STRINGS, false_values=FALSE_STRINGS,
        ),
    )


def csv_column_plan(
    path: Path, delimiter: str, *, type_from_all_rows: bool
) -> tuple[dict[str, pa.DataType], list[str]] | None:
    """The type of every column, as the first block sets them, and the columns to type from all their values (read
    as text until then: `_typed_text`); None where the columnar reader would read the file otherwise than pandas
    (duplicate column names, which pandas renames; bytes that are not UTF-8)."""
    reader = open_csv(path, delimiter, {}, use_threads=False)
    first_block = reader.schema  # the streaming reader keeps these types for the whole file
    reader.close()
    duplicate_names = len(set(first_block.names)) < len(first_block.names)
    if duplicate_names or any(pa.types.is_binary(f.type) for f in first_block):  # binary: not UTF-8 after all
        return None
    # Dates and times stay text, as pandas leaves them (the profile decides what a column holds). A column empty in
    # the first block (or any non-text one, on the second try) is read as text and typed from all its values.
    as_text = [f.name for f in first_block if pa.types.is_temporal(f.type) or pa.types.is_string(f.type)]
    typed_later = [f.name for f in first_block if pa.types.is_null(f.type) or (
        type_from_all_rows and not pa.types.is_temporal(f.type) and not pa.types.is_string(f.type))]
    column_types = {f.name: f.type for f in first_block}
    # large_string is what pandas keeps text in: read so, its text is not copied on the way to pandas.
    column_types.update({name: pa.large_string() for name in as_text + typed_later})
    return column_types, typed_later


def csv_column_names(names) -> list[str]:
    return [name or f"Unnamed: {i}" for i, name in enumerate(names)]  # pandas' name for no name


TEXT_TYPING_ORDER = (pa.int64(), pa.float64(), pa.bool_())


def _typed_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as integers, else decimals, else true/false, else text: the order the pandas parser tries."""
    for arrow_type in TEXT_TYPING_ORDER:
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
    max_rows: int | None = None,
    seed: int = 0,
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
        max_rows: a file too large to hold comfortably (`dladvisor._stream.streams`) is read in two streaming passes
            that keep the `cap_rows` sample of at most this many rows, and `Dataset.scan` holds the profile's facts
            about every row; None reads every row into memory.
        seed: draws that sample.
    """
    if task not in TASKS:
        raise UserError(f"Unknown task '{task}'; use one of {', '.join(TASKS)}.")
    request = _Request(
        target=target, task=task, group_column=group_column, time_column=time_column,
        sensitive_columns=tuple(sensitive_columns), sensitive_as_feature=sensitive_as_feature,
        drop_columns=tuple(dict.fromkeys(drop_columns)), trusted_columns=tuple(trusted_columns),
        positive_class=positive_class,
    )
    if isinstance(source, pd.DataFrame):
        frame, base_dir = source.copy(), None
        name = source_name or "in-memory table"
    else:
        path = Path(source)
        base_dir = path.resolve() if path.is_dir() else path.resolve().parent
        name = source_name or str(source)
        if max_rows is not None:
            from dladvisor._stream import load_sample, streams

            if streams(path, max_rows):
                dataset = load_sample(path, request, name=name, encoding=encoding, max_rows=max_rows, seed=seed)
                if dataset is not None:  # else the file is one the columnar reader cannot stream: read it whole
                    return dataset
        frame = read_table(path, encoding=encoding)

    target_name = _resolve_target(frame, target)
    request.check_columns(frame, target_name)
    frame = frame.drop(columns=list(request.drop_columns))

    notes: list[LoadNote] = []
    frame = _clean_values(frame, target_name, notes)
    request.check_cleaned(frame.columns)
    if base_dir is not None:
        frame = _verify_images(frame, base_dir, notes)

    raw_target = frame[target_name]
    missing = missing_targets(raw_target, target_name)
    if missing.any():  # else no copy: a large table is held once
        frame = frame.loc[~missing].reset_index(drop=True)
        raw_target = raw_target.loc[~missing].reset_index(drop=True)
    features = frame.drop(columns=[target_name])
    check_has_features(features.shape[1], target_name)
    target_facts = encode_target(raw_target, target_name, task, positive_class)
    y = target_facts.y
    if time_column is not None:
        order = _time_order(features[time_column], time_column)
        features = features.iloc[order].reset_index(drop=True)
        y = y[order]
    if group_column is not None:
        check_groups(features[group_column], group_column)
    note_missing_targets(missing, target_name, notes)
    _check_enough_rows(y, target_facts.task, notes)
    return request.dataset(features=features, y=y, target=target_facts, target_name=target_name, source=name,
                           fingerprint=fingerprint(frame), rows_dropped=int(missing.sum()), base_dir=base_dir,
                           notes=notes)


@dataclass(frozen=True)
class EncodedTarget:
    """The target as the models read it, and what was inferred on the way."""

    task: Task
    rule: str
    y: np.ndarray
    classes: tuple[str, ...]
    positive_rule: str


@dataclass(frozen=True)
class _Request:
    """What `load_dataset` was asked for besides the data, checked against the table's columns."""

    target: str | None
    task: str
    group_column: str | None
    time_column: str | None
    sensitive_columns: tuple[str, ...]
    sensitive_as_feature: bool
    drop_columns: tuple[str, ...]
    trusted_columns: tuple[str, ...]
    positive_class: str | None

    def _named(self) -> list[tuple[str, str | None]]:
        return _column_options(self.group_column, self.time_column, self.sensitive_columns, self.drop_columns)

    def check_columns(self, frame: pd.DataFrame, target_name: str) -> None:
        """Every column named in an option exists, is not the target, and is not both dropped and used."""
        for option, column in self._named() + [("--known-at-prediction", c) for c in self.trusted_columns]:
            if column is not None and column not in frame.columns:
                raise UserError(f"{option} '{column}' is not a column; {_columns_hint(frame, column)}")
        check_column_options(
            target=target_name, group_column=self.group_column, time_column=self.time_column,
            sensitive_columns=self.sensitive_columns, drop_columns=self.drop_columns,
            trusted_columns=self.trusted_columns,
        )

    def check_cleaned(self, columns) -> None:
        """No option names a column that cleaning refused."""
        for option, column in self._named() + [("--known-at-prediction", c) for c in self.trusted_columns]:
            if column is not None and column not in columns and option != "--drop":
                raise UserError(f"{option} '{column}' holds mostly infinite or absurd numbers and cannot be used; fix "
                                "the column or leave the option out.")

    def dataset(self, *, features: pd.DataFrame, y: np.ndarray, target: EncodedTarget, target_name: str, source: str,
                fingerprint: str, rows_dropped: int, base_dir: Path | None, notes: list[LoadNote],
                row_sample: RowSample | None = None, scan: TableScan | None = None) -> Dataset:
        return Dataset(
            features=features, y=y, target_name=target_name, task=target.task, task_rule=target.rule,
            classes=target.classes, source=source, fingerprint=fingerprint, rows_dropped_missing_target=rows_dropped,
            base_dir=base_dir, group_column=self.group_column, time_column=self.time_column,
            sensitive_columns=self.sensitive_columns, sensitive_as_feature=self.sensitive_as_feature,
            dropped_columns=self.drop_columns, trusted_columns=self.trusted_columns,
            positive_rule=target.positive_rule, notes=tuple(notes), row_sample=row_sample, scan=scan,
        )


def missing_targets(raw_target: pd.Series, target_name: str) -> pd.Series:
    """Rows without a usable target value (missing or infinite); an error when that is every row."""
    missing = raw_target.isna()
    if pd.api.types.is_numeric_dtype(raw_target) and not pd.api.types.is_bool_dtype(raw_target):
        missing |= ~np.isfinite(raw_target.to_numpy(dtype=float, na_value=np.nan))
    if missing.all():
        raise UserError(
            f"Target '{target_name}' is empty in all {len(raw_target)} rows; choose the column that holds the labels."
        )
    return missing


def check_has_features(n_features: int, target_name: str) -> None:
    if n_features == 0:
        raise UserError(f"The table holds only the target '{target_name}'; add feature columns to learn from.")


def encode_target(raw_target: pd.Series, target_name: str, task: str, positive_class: str | None) -> EncodedTarget:
    """Infer the task from the (present) target values and encode them: class codes 0..k-1, or floats."""
    resolved_task, rule = _infer_task(raw_target, target_name, task)
    positive_rule = ""
    if positive_class is not None and resolved_task != "binary":
        raise UserError(f"--positive-class applies to binary targets; '{target_name}' is {resolved_task}.")
    if resolved_task == "regression":
        return EncodedTarget(resolved_task, rule, pd.to_numeric(raw_target).to_numpy(dtype=float), (), "")
    categorical = pd.Categorical(raw_target)
    if resolved_task == "binary":
        positive, positive_rule = _positive_class(categorical, positive_class, target_name)
        negative = next(c for c in categorical.categories if c != positive)
        categorical = categorical.reorder_categories([negative, positive])
    return EncodedTarget(resolved_task, rule, categorical.codes.astype(np.int64),
                         tuple(str(c) for c in categorical.categories), positive_rule)


def check_groups(groups: pd.Series, group_column: str) -> None:
    if groups.isna().any():
        raise UserError(f"--group-col '{group_column}' has missing values; fill them so every row has a group.")


def note_missing_targets(missing: pd.Series, target_name: str, notes: list[LoadNote]) -> None:
    if missing.any():
        notes.append(LoadNote("target_missing", f"{int(missing.sum())} rows with no (or an infinite) target value "
                              "were set aside.", target_name))


@dataclass
class ValueCheck:
    """What `_clean_values` looks for in one column, summed over the rows seen: numbers no model can take (infinite,
    beyond ±ABSURD_MAGNITUDE) among the present ones, and text cells longer than MAX_TEXT_CHARS."""

    present: int = 0
    bad: int = 0
    example: float | None = None  # the first bad number
    long_cells: int = 0
    longest: int = 0

    def add_numbers(self, numbers: np.ndarray) -> None:
        bad = bad_numbers(numbers)
        self.present += int((~np.isnan(numbers)).sum())
        if bad.any():
            self.bad += int(bad.sum())
            if self.example is None:
                self.example = float(numbers[bad][0])

    def add_lengths(self, long_cells: int, longest: int) -> None:
        self.long_cells += long_cells
        self.longest = max(self.longest, longest)


@dataclass(frozen=True)
class CleaningPlan:
    """What `_clean_values` changes, decided once from the checks of whole columns."""

    refused: tuple[str, ...] = ()  # left out: mostly infinite or absurd numbers
    masked: tuple[str, ...] = ()  # infinite or absurd numbers become missing
    cut: tuple[str, ...] = ()  # text cells cut to MAX_TEXT_CHARS
    notes: tuple[LoadNote, ...] = ()

    @classmethod
    def of(cls, checks: dict[str, ValueCheck]) -> CleaningPlan:
        refused, masked, cut, notes = [], [], [], []
        for column, check in checks.items():
            if check.bad:
                if check.bad > REFUSE_BAD_SHARE * check.present:
                    notes.append(LoadNote("column_refused", f"'{column}' was left out: {check.bad:,} of its "
                                          f"{check.present:,} values are infinite or beyond ±{ABSURD_MAGNITUDE:g} "
                                          f"(e.g. {check.example:g}); fix the export or the unit.", column))
                    refused.append(column)
                    continue
                notes.append(LoadNote("bad_numbers", f"'{column}': {check.bad:,} infinite or absurd values "
                                      f"(beyond ±{ABSURD_MAGNITUDE:g}, e.g. {check.example:g}) are treated as missing.",
                                      column))
                masked.append(column)
            elif check.long_cells:
                notes.append(LoadNote("long_text", f"'{column}': {check.long_cells:,} cells longer than "
                                      f"{MAX_TEXT_CHARS:,} characters were cut to that length (the longest had "
                                      f"{check.longest:,}).", column))
                cut.append(column)
        return cls(refused=tuple(refused), masked=tuple(masked), cut=tuple(cut), notes=tuple(notes))

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` cleaned (a copy only when something changes): refused columns dropped, bad numbers missing, long
        text cut."""
        masked = [c for c in self.masked if c in frame.columns]
        cut = [c for c in self.cut if c in frame.columns]
        refused = [c for c in self.refused if c in frame.columns]
        if not (masked or cut or refused):
            return frame
        frame = frame.drop(columns=refused)
        for column in masked:
            values = frame[column]
            frame[column] = values.mask(bad_numbers(values.to_numpy(dtype=float, na_value=np.nan)))
        for column in cut:
            frame[column] = frame[column].astype(object).map(lambda v: v[:MAX_TEXT_CHARS] if isinstance(v, str) else v)
        return frame


def bad_numbers(numbers: np.ndarray) -> np.ndarray:
    """Which of these numbers no model can take: infinite, or beyond ±ABSURD_MAGNITUDE."""
    return ~np.isfinite(numbers) & ~np.isnan(numbers) | (np.abs(np.nan_to_num(numbers)) > ABSURD_MAGNITUDE)


def _clean_values(frame: pd.DataFrame, target: str, notes: list[LoadNote]) -> pd.DataFrame:
    """Every value that reaches the models must be one every model can take: infinities and absurd magnitudes become
    missing (a column made mostly of them is refused), and enormous text cells are cut."""
    checks = {}
    for column in frame.columns:
        values = frame[column]
        check = ValueCheck()
        if column != target and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            check.add_numbers(values.to_numpy(dtype=float, na_value=np.nan))
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            lengths = _text_lengths(values)
            check.add_lengths(int((lengths > MAX_TEXT_CHARS).sum()), int(lengths.max()) if len(lengths) else 0)
        checks[column] = check
    plan = CleaningPlan.of(checks)
    notes.extend(plan.notes)
    return plan.apply(frame)


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
    digest = fingerprint_digest(frame.columns)
    digest.update(row_hashes(frame).tobytes())
    return "sha256:" + digest.hexdigest()[:16]


def fingerprint_digest(columns) -> hashlib._Hash:
    """The fingerprint's hash, fed the column names; then the `row_hashes` of every row, in order."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, columns)).encode())
    return digest


def row_hashes(frame: pd.DataFrame, column_hashes: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """A 64-bit hash of each row's values (`pd.util.hash_pandas_object`, index left out), from `column_hashes` of
    its columns where given."""
    if column_hashes is None:
        return pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return _combine_hashes([column_hashes[c] for c in frame.columns], len(frame))


def column_hashes(values: pd.Series) -> np.ndarray:
    """A 64-bit hash of each value of a column, the one `row_hashes` combines."""
    return pd.util.hash_pandas_object(values, index=False).to_numpy()


def _combine_hashes(hashes: list[np.ndarray], rows: int) -> np.ndarray:
    """pandas' `combine_hash_arrays` (CPython's tuple hash), which `hash_pandas_object` applies to a frame's columns."""
    out = np.full(rows, 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for i, hashed in enumerate(hashes):
        out ^= hashed
        out *= multiplier
        multiplier += np.uint64(82520 + 2 * (len(hashes) - i))
    return out + np.uint64(97531)


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
