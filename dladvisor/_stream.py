"""Load stage for large files: facts about every row from two streaming passes, and only a row sample in memory.

`streams` decides which files take this path; `load_sample` reads them:

1. a survey pass over the file's record batches keeps the target (and the --time-col and --group-col columns) of
   every row, and learns what the cleaning rules and the conversion to pandas must know of every column: whether it
   has gaps, its infinite or absurd numbers and overlong text cells, and, for a column the CSV reader types from all
   its values, that type;
2. the target is encoded and checked as `load.load_dataset` does for a table in memory, and the rows to keep are
   drawn as `load.cap_rows` draws them (by class, the most recent, whole groups or at random);
3. a scan pass converts each batch to pandas as the whole table would have been converted, cleans it as the whole
   table would have been cleaned, and records the missing and distinct values of each column, a hash of each row
   (duplicates) and the table's fingerprint, and keeps the drawn rows.

The dataset holds the sample, in the order and with the fingerprint `cap_rows` would have given it, and a
`TableScan` of every row for the profile. Memory holds a batch, the sample, and about 25 bytes per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from dladvisor import load
from dladvisor.errors import UserError
from dladvisor.load import (
    DISTINCT_CAP,
    MAX_TEXT_CHARS,
    SUPPORTED_SUFFIXES,
    TEXT_TYPING_ORDER,
    CleaningPlan,
    ColumnScan,
    Dataset,
    LoadNote,
    TableScan,
    ValueCheck,
    _check_enough_rows,
    _delimiter,
    _resolve_target,
    _time_order,
    _utf8_head,
    check_groups,
    check_has_features,
    column_hashes,
    csv_column_names,
    csv_column_plan,
    draw_rows,
    encode_target,
    fingerprint_digest,
    image_path_columns,
    missing_targets,
    note_missing_targets,
    open_csv,
    parquet_folder_files,
    parquet_folder_schema,
    row_hashes,
)

# Files larger than this are streamed when a row cap (--max-rows) is set: at 1.5x its size in pandas, such a table
# would take ~50 MB and more to hold whole, on top of ~110 MB of pandas and pyarrow. Parquet files are also streamed
# when their metadata counts more rows than the cap. Smaller files are read whole, as they always were.
STREAM_MIN_BYTES = 32 * 2**20
# Each pass handles this many rows at a time: per-batch work (conversion to pandas, hashing) costs less in fewer,
# larger batches, and more memory.
STREAM_BATCH_ROWS = 32_768
# The CSV reader parses blocks of this size, one thread, each column's type given (from the 1 MB first block, as when
# the file is read whole): it reads ~32 blocks ahead, 36 MB with 1 MB blocks, 8 MB with these; 8 MB blocks on
# threads held ~190 MB more.
STREAM_BLOCK_BYTES = 256 * 2**10


def streams(path: Path, max_rows: int) -> bool:
    """Whether `load_dataset` streams this file: a CSV/TSV or Parquet file larger than STREAM_MIN_BYTES, or a Parquet
    file with more rows than `max_rows`."""
    if path.is_dir():  # a folder of Parquet files (else of images, read whole)
        files = parquet_folder_files(path)
        return bool(files) and (sum(f.stat().st_size for f in files) > STREAM_MIN_BYTES
                                or _parquet_rows(files) > max_rows)
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if not path.is_file() or kind not in ("csv", "parquet"):
        return False
    if path.stat().st_size > STREAM_MIN_BYTES:
        return True
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows > max_rows
        except Exception:  # not a readable Parquet file: reading it whole says so
            return False
    return False


def _parquet_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    try:
        return sum(pq.ParquetFile(file).metadata.num_rows for file in files)
    except Exception:  # a file that is not readable Parquet: `parquet_folder_schema` names it
        return 0


def load_sample(path: Path, request, *, name: str, encoding: str | None, max_rows: int, seed: int) -> Dataset | None:
    """The dataset of a large file, its features a `cap_rows` sample of at most `max_rows` rows (all of them when it
    has no more) and its `scan` the profile's facts about every row; None for a file this path cannot read as the
    whole-table reader would (not UTF-8, duplicate column names, a column whose type changes twice, image paths)."""
    # pyarrow's own allocator (mimalloc) keeps what a batch freed for the next: the passes allocate from the
    # system's, which hands it back (`_hand_back_freed_memory`); ~35 MB less at the peak on a 1,000,000-row table.
    default_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        return _load_sample(path, request, name=name, encoding=encoding, max_rows=max_rows, seed=seed)
    finally:
        pa.set_memory_pool(default_pool)
        _hand_back_freed_memory()


def _hand_back_freed_memory() -> None:
    """Return what malloc keeps after a batch's frees to the system (glibc's `malloc_trim`; elsewhere nothing): the
    pages one batch freed otherwise stay in the process, ~20 MB more at the peak on a 1,000,000-row table, and more
    after the passes. (pyarrow's `release_unused` does not trim glibc's heap.)"""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def _load_sample(path: Path, request, *, name: str, encoding: str | None, max_rows: int, seed: int) -> Dataset | None:
    source = _source(path, encoding)
    if source is None:
        return None
    if len(set(source.names)) < len(source.names):
        duplicated = sorted({n for n in source.names if source.names.count(n) > 1})
        raise UserError(f"{path.name} has duplicate column names {duplicated}; rename them so each is unique.")
    header = pd.DataFrame(columns=source.names)
    target = _resolve_target(header, request.target)
    request.check_columns(header, target)
    kept = [c for c in source.names if c in {target, request.time_column, request.group_column}]
    source, survey = _survey(source, kept)
    if survey is None:
        return None
    if survey.image_columns:
        return None  # image rows are verified file by file, which wants the whole table
    if survey.rows == 0:
        raise UserError(f"{path.name} has a header but no data rows; export the rows too.")
    return _Reading(source, survey, request, target, name=name, max_rows=max_rows, seed=seed).dataset()


def _survey(source: _Source, kept: list[str]) -> tuple[_Source, _Survey | None]:
    """The survey pass, retried as the whole-table reader retries a CSV: a value further down that does not fit the
    type its column's first block set, and every non-text column is typed from all its values; a row longer than a
    streaming block, and blocks as large as the whole-table reader's. None where that fails too."""
    while True:
        try:
            return source, _Survey.of(source, kept)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if not isinstance(source, _CsvSource):
                raise
            if "straddl" in str(exc) and source.block_bytes < load.CSV_BLOCK_BYTES:
                source = source.with_block_bytes(load.CSV_BLOCK_BYTES)
            elif not source.type_from_all_rows:
                source = source.typed_from_all_rows()
            else:
                source = None
            if source is None:
                return None, None


class _Source:
    """A file read batch by batch, each batch converted to pandas exactly as the whole table would be."""

    names: list[str]  # the columns as pandas names them, in file order
    arrow_names: list[str]  # ... as the file names them
    typed_later: dict[str, tuple[pa.DataType, ...]]  # CSV columns typed from all their values: the candidate types
    flags: set[str]  # true/false columns
    missing_flag: object  # how pandas marks a gap in a true/false column read from this kind of file

    def batches(self) -> Iterator[pa.Table]:
        """The file, about STREAM_BATCH_ROWS rows at a time."""
        pending, rows = [], 0
        for batch in self._record_batches():
            pending.append(batch)
            rows += batch.num_rows
            if rows >= STREAM_BATCH_ROWS:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
                _hand_back_freed_memory()
        if pending:
            yield pa.Table.from_batches(pending)

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def select(self, batch: pa.Table, names: list[str]) -> pa.Table:
        """These columns of the batch (pandas names), in this order."""
        arrow = dict(zip(self.names, self.arrow_names, strict=True))
        return batch.select([arrow[n] for n in names])

    def to_frame(self, batch: pa.Table, types: dict[str, pa.DataType],
                 gaps: set[str]) -> pd.DataFrame:
        """Columns of the file (`select`) in pandas, with the dtypes of the whole table: `types` for the columns
        typed from all their values, and integers and true/false with `gaps` anywhere in the file as their whole
        column converts (decimals with NaN; objects)."""
        names = dict(zip(self.arrow_names, self.names, strict=True))
        for position, field in enumerate(batch.schema):
            wanted = types.get(names[field.name])
            if wanted is not None and wanted != field.type:
                batch = batch.set_column(position, field.name, batch.column(position).cast(wanted))
        frame = self._convert(batch)
        frame.columns = [names[field.name] for field in batch.schema]
        flags = self.flags | {n for n, t in types.items() if pa.types.is_boolean(t)}
        for column in gaps & set(frame.columns):
            values = frame[column]
            if column in flags:
                frame[column] = values.astype(object).where(values.notna(), self.missing_flag)
            elif pd.api.types.is_integer_dtype(values) and isinstance(values.dtype, np.dtype):
                frame[column] = values.astype(float)
        return frame

    def _convert(self, batch: pa.Table) -> pd.DataFrame:
        return batch.to_pandas(split_blocks=True)


class _CsvSource(_Source):
    missing_flag = np.nan  # pandas' parser's mark, which `load._read_arrow_stream` gives too

    def __init__(self, path: Path, delimiter: str, column_types: dict[str, pa.DataType], typed_later: list[str], *,
                 type_from_all_rows: bool = False, block_bytes: int | None = None):
        self.path, self.delimiter, self.column_types = path, delimiter, column_types
        self.type_from_all_rows, self.block_bytes = type_from_all_rows, block_bytes or STREAM_BLOCK_BYTES
        self.typed_later_arrow = typed_later
        self.arrow_names = list(column_types)
        self.names = [str(n).strip() for n in csv_column_names(self.arrow_names)]
        renamed = dict(zip(self.arrow_names, self.names, strict=True))
        self.typed_later = {renamed[n]: TEXT_TYPING_ORDER for n in typed_later}
        self.flags = {renamed[n] for n, t in column_types.items() if pa.types.is_boolean(t)}

    def typed_from_all_rows(self) -> _CsvSource | None:
        plan = csv_column_plan(self.path, self.delimiter, type_from_all_rows=True)
        return None if plan is None else _CsvSource(self.path, self.delimiter, *plan, type_from_all_rows=True,
                                                     block_bytes=self.block_bytes)

    def with_block_bytes(self, block_bytes: int) -> _CsvSource:
        return _CsvSource(self.path, self.delimiter, self.column_types, self.typed_later_arrow,
                          type_from_all_rows=self.type_from_all_rows, block_bytes=block_bytes)

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        with open_csv(self.path, self.delimiter, self.column_types, use_threads=False,
                      block_bytes=self.block_bytes) as reader:
            yield from reader


class _ParquetSource(_Source):
    """A Parquet file, or the files of a folder one after another (`read_parquet_folder`'s table)."""

    missing_flag = None  # as pyarrow converts a gap in a true/false column

    def __init__(self, files: list[Path], schema: pa.Schema | None = None):
        import pyarrow.parquet as pq

        self.files = [pq.ParquetFile(file) for file in files]
        schema = schema or self.files[0].schema_arrow
        self.metadata = schema.metadata
        index = {c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
        self.arrow_names = [n for n in schema.names if n not in index]
        converted = schema.empty_table().select(self.arrow_names).to_pandas()
        self.names = [str(c).strip() for c in converted.columns]
        if len(self.names) != len(self.arrow_names):
            raise ValueError("the pandas metadata names other columns than the file holds")
        self.typed_later = {}
        renamed = dict(zip(self.arrow_names, self.names, strict=True))
        self.flags = {renamed[f.name] for f in schema if f.name in renamed and pa.types.is_boolean(f.type)}

    def _record_batches(self) -> Iterator[pa.RecordBatch]:
        for file in self.files:  # the first file's pandas metadata on every batch, so batches of two files concatenate
            for batch in file.iter_batches(batch_size=STREAM_BATCH_ROWS):
                yield batch.replace_schema_metadata(self.metadata)

    def _convert(self, batch: pa.Table) -> pd.DataFrame:
        # The file's pandas metadata (in every batch's schema) restores the dtypes pandas wrote; index left out.
        return batch.unify_dictionaries().to_pandas(split_blocks=True).reset_index(drop=True)


def _source(path: Path, encoding: str | None) -> _Source | None:
    if path.is_dir():
        files = parquet_folder_files(path)
        schema = parquet_folder_schema(path, files)  # a UserError naming a file that differs or is not Parquet
        return _ParquetSource(files, schema)
    if SUPPORTED_SUFFIXES[path.suffix.lower()] == "parquet":
        try:
            return _ParquetSource([path])
        except Exception:  # pyarrow raises several types for corrupt files; reading it whole names the problem
            return None
    head = _utf8_head(path, encoding)
    if head is None:
        return None
    delimiter = _delimiter(path, head)
    try:
        plan = csv_column_plan(path, delimiter, type_from_all_rows=False)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return None if plan is None else _CsvSource(path, delimiter, *plan)


class _Survey:
    """The first pass: what every column holds that the conversion and the cleaning rules depend on, and the `kept`
    columns (target, time, group), whole."""

    def __init__(self, source: _Source, kept: list[str]):
        self.source, self.kept_names = source, kept
        self.rows = 0
        self.gaps = dict.fromkeys(source.names, 0)
        self.checks = {name: ValueCheck() for name in source.names}
        self.text_checks = {name: ValueCheck() for name in source.typed_later}  # in case they stay text
        self.candidates = {name: list(types) for name, types in source.typed_later.items()}
        self.kept: list[pa.Table] = []
        self.image_columns: list[str] = []

    @classmethod
    def of(cls, source: _Source, kept: list[str]) -> _Survey:
        survey = cls(source, kept)
        for batch in source.batches():
            survey.add(batch)
        return survey

    def add(self, batch: pa.Table) -> None:
        batch = self.source.select(batch, self.source.names)
        if self.rows == 0:
            self.image_columns = image_path_columns(self.source.to_frame(batch.slice(0, 2000), {}, set()))
        self.rows += batch.num_rows
        self.kept.append(self.source.select(batch, self.kept_names))
        for name, array in zip(self.source.names, batch.columns, strict=True):
            self.gaps[name] += array.null_count
            if name in self.candidates:
                self._add_typed_later(name, array)
            elif pa.types.is_floating(array.type):
                self.checks[name].add_numbers(array.to_numpy(zero_copy_only=False))
            elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
                self.checks[name].add_lengths(*_text_lengths(array))

    def _add_typed_later(self, name: str, array: pa.ChunkedArray) -> None:
        for arrow_type in list(self.candidates[name]):
            try:
                typed = array.cast(arrow_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                self.candidates[name].remove(arrow_type)
                continue
            if pa.types.is_floating(arrow_type):
                self.checks[name].add_numbers(typed.to_numpy(zero_copy_only=False))
        self.text_checks[name].add_lengths(*_text_lengths(array))

    def types(self) -> dict[str, pa.DataType]:
        """The type of each column typed from all its values: the first every batch could take, else text."""
        return {name: next(iter(candidates), pa.large_string()) for name, candidates in self.candidates.items()}

    def value_checks(self) -> dict[str, ValueCheck]:
        types = self.types()
        return {name: self.text_checks[name] if name in types and pa.types.is_large_string(types[name])
                else self.checks[name] for name in self.source.names}

    def kept_table(self) -> pa.Table:
        table = pa.concat_tables(self.kept)
        self.kept = []
        return table


def _text_lengths(array: pa.ChunkedArray) -> tuple[int, int]:
    """(cells longer than MAX_TEXT_CHARS, the longest cell's length) of a text column."""
    import pyarrow.compute as pc

    longest = pc.max(pc.utf8_length(array)).as_py() or 0
    if longest <= MAX_TEXT_CHARS:
        return 0, longest
    return int(pc.sum(pc.greater(pc.utf8_length(array), MAX_TEXT_CHARS)).as_py()), longest


class _Reading:
    """From the survey to the dataset: the target checked and encoded, the sample drawn, the scan pass."""

    def __init__(self, source: _Source, survey: _Survey, request, target: str, *, name: str, max_rows: int,
                 seed: int):
        self.source, self.survey, self.request, self.target = source, survey, request, target
        self.name, self.max_rows, self.seed = name, max_rows, seed

    def dataset(self) -> Dataset:
        request, survey, target = self.request, self.survey, self.target
        columns = [c for c in self.source.names if c not in request.drop_columns]
        plan = CleaningPlan.of({c: check for c, check in survey.value_checks().items() if c in columns})
        columns = [c for c in columns if c not in plan.refused]
        request.check_cleaned(columns)
        types, gaps = survey.types(), {c for c, n in survey.gaps.items() if n}
        whole = plan.apply(self.source.to_frame(survey.kept_table(), types, gaps))

        missing = missing_targets(whole[target], target)
        present = whole.loc[~missing].reset_index(drop=True) if missing.any() else whole
        check_has_features(len(columns) - 1, target)
        encoded = encode_target(present[target], target, request.task, request.positive_class)
        order = None
        if request.time_column is not None:
            order = _time_order(present[request.time_column], request.time_column)
        groups = present[request.group_column] if request.group_column is not None else None
        if groups is not None:
            check_groups(groups, request.group_column)
        notes: list[LoadNote] = list(plan.notes)
        note_missing_targets(missing, target, notes)
        _check_enough_rows(encoded.y, encoded.task, notes)
        del whole, present
        _hand_back_freed_memory()

        y = encoded.y
        n = len(y)
        sample = None
        chosen = np.ones(n, dtype=bool)
        if n > self.max_rows:
            sample, rows = draw_rows(y[order] if order is not None else y, self.max_rows, seed=self.seed,
                                     classes=encoded.classes if encoded.task != "regression" else None,
                                     time_column=request.time_column, group_column=request.group_column,
                                     groups=groups)
            chosen[:] = False
            chosen[order[rows] if order is not None else rows] = True
        kept_rows = np.flatnonzero(chosen)
        by_time = None
        if order is not None:  # the rows in time order, as `cap_rows` takes them from the time-sorted table
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n)
            by_time = np.argsort(rank[kept_rows], kind="stable")
            kept_rows = kept_rows[by_time]
            del rank
        sample_y = y[kept_rows]
        # the scan's copy of every row's target: class codes in the smallest integer type that holds them
        scan_y = y if encoded.task == "regression" else y.astype(np.min_scalar_type(len(encoded.classes)))
        encoded = replace(encoded, y=scan_y)
        del y, order, groups, kept_rows

        scan = _Scan(self.source, columns, target, types, gaps, plan, missing.to_numpy(), chosen,
                     track=sample is not None)
        features = scan.run()
        if by_time is not None:
            features = features.iloc[by_time].reset_index(drop=True)
        table_scan = None
        if sample is not None:
            table_scan = TableScan(rows=n, columns=scan.column_facts(), y=scan_y, row_keys=scan.row_keys)
        return request.dataset(
            features=features, y=sample_y, target=encoded, target_name=target, source=self.name,
            fingerprint=scan.fingerprint(), rows_dropped=int(missing.sum()), base_dir=None, notes=notes,
            row_sample=sample, scan=table_scan,
        )


class _Scan:
    """The second pass: every batch as the whole table would be (converted, cleaned, target-less rows set aside),
    hashed for the fingerprint, duplicates and distinct values, and the chosen rows kept."""

    def __init__(self, source: _Source, columns: list[str], target: str, types: dict[str, pa.DataType],
                 gaps: set[str], plan: CleaningPlan, missing_target: np.ndarray, chosen: np.ndarray, *, track: bool):
        self.source, self.columns, self.target = source, columns, target
        self.types, self.gaps, self.plan = types, gaps, plan
        self.missing_target, self.chosen, self.track = missing_target, chosen, track
        self.features = [c for c in columns if c != target]
        self.digest = fingerprint_digest(columns)
        self.row_keys = np.empty(len(chosen) if track else 0, dtype=np.uint64)
        self.trackers = {c: _ColumnTracker() for c in self.features} if track else {}

    def run(self) -> pd.DataFrame:
        """The chosen rows' features, in file order."""
        kept: list[pa.Table] = []
        file_row = row = 0
        for batch in self.source.batches():
            present = ~self.missing_target[file_row: file_row + batch.num_rows]
            file_row += batch.num_rows
            frame = self.plan.apply(self.source.to_frame(self.source.select(batch, self.columns), self.types,
                                                         self.gaps))
            if not present.all():
                frame = frame.loc[present].reset_index(drop=True)
            hashes = {c: column_hashes(frame[c]) for c in self.columns}
            self.digest.update(row_hashes(frame, hashes).tobytes())
            chosen = self.chosen[row: row + len(frame)]
            if self.track:
                self.row_keys[row: row + len(frame)] = row_hashes(frame[self.features], hashes)
                for column in self.features:
                    self.trackers[column].add(frame[column], hashes[column])
            row += len(frame)
            if chosen.any():
                take = np.zeros(batch.num_rows, dtype=bool)
                take[np.flatnonzero(present)[chosen]] = True
                kept.append(self.source.select(batch, self.columns).filter(pa.array(take)))
        del frame
        table = pa.concat_tables(kept).combine_chunks()  # one chunk per column: ~500 made every pandas step slow
        del kept
        pa.default_memory_pool().release_unused()
        frame = self.plan.apply(self.source.to_frame(table, self.types, self.gaps))
        return frame.drop(columns=[self.target])

    def fingerprint(self) -> str:
        return "sha256:" + self.digest.hexdigest()[:16]

    def column_facts(self) -> dict[str, ColumnScan]:
        return {column: tracker.facts() for column, tracker in self.trackers.items()}


class _ColumnTracker:
    """One feature column over every row: missing values, distinct values (by their hashes, exactly up to
    DISTINCT_CAP) and, for numbers, whether they are whole and consecutive."""

    def __init__(self) -> None:
        self.missing = 0
        self.known = np.empty(0, dtype=np.uint64)
        self.pending: list[np.ndarray] = []
        self.pending_size = 0
        self.capped = False
        self.numeric: bool | None = None
        self.integer = self.consecutive = True
        self.last: float | None = None

    def add(self, values: pd.Series, hashes: np.ndarray) -> None:
        gaps = values.isna().to_numpy()
        self.missing += int(gaps.sum())
        if self.numeric is None:
            self.numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        numbers = values.to_numpy(dtype=float, na_value=np.nan)[~gaps] if self.numeric else None
        if not self.capped:
            hashes = hashes[~gaps]
            if numbers is not None and pd.api.types.is_float_dtype(values) and np.signbit(numbers[numbers == 0]).any():
                hashes = column_hashes(pd.Series(numbers + 0.0))  # -0.0 counts as 0.0, as pandas' nunique counts it
            self.pending.append(pd.unique(hashes))  # a hash table: 5-10x faster than np.unique's here
            self.pending_size += len(self.pending[-1])
            if self.pending_size > DISTINCT_CAP:
                self._merge()
        if numbers is not None and len(numbers):
            self.integer = self.integer and bool(np.all(np.mod(numbers, 1) == 0))
            steps = np.diff(numbers) if self.last is None else np.diff(np.concatenate([[self.last], numbers]))
            self.consecutive = self.consecutive and bool(np.all(steps == 1))
            self.last = float(numbers[-1])

    def _merge(self) -> None:
        self.known = pd.unique(np.concatenate([self.known, *self.pending]))
        self.pending, self.pending_size = [], 0
        if len(self.known) > DISTINCT_CAP:
            self.capped, self.known = True, np.empty(0, dtype=np.uint64)

    def facts(self) -> ColumnScan:
        self._merge()
        return ColumnScan(
            missing=self.missing, distinct=DISTINCT_CAP if self.capped else len(self.known),
            distinct_capped=self.capped, integer_valued=self.integer if self.numeric else None,
            consecutive=self.consecutive if self.numeric else None,
        )

