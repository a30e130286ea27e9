"""A large file is streamed (`dladvisor/_stream.py`): it must give what reading it whole and `cap_rows` give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor import _stream, load
from dladvisor.errors import UserError
from dladvisor.load import cap_rows, load_dataset
from dladvisor.profile import profile_dataset

ROWS = 3000
SAMPLE = 1000


def _awkward_table(rows: int = ROWS, *, unlabelled: int = 25, numbered: bool = False) -> pd.DataFrame:
    """Every case the two readers must agree on: integers with gaps, a column empty at first, infinite and absurd
    numbers, true/false with gaps, -0.0, a long text cell, dates, an identifier, rows without a label, duplicate rows
    and rows that repeat with another label."""
    rng = np.random.default_rng(0)
    income = rng.normal(50, 10, rows).round(1)
    frame = pd.DataFrame({
        "row": np.arange(rows),
        "income": income,
        "debt": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(0, 50, rows)),
        "late": [np.nan] * (rows - 200) + list(rng.normal(0, 1, 200).round(2)),
        "ratio": np.where(rng.random(rows) < 0.02, np.inf, rng.normal(0, 1, rows).round(2)),
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "member": rng.choice(np.array([True, False, None], dtype=object), rows),
        "signup": (np.datetime64("2024-01-01") + rng.integers(0, 400, rows).astype("timedelta64[D]")).astype(str),
        "zero": rng.choice([0.0, -0.0, 1.0], rows),
        "note": rng.choice(["short", "a note"], rows).astype(object),
        "label": np.where(income + rng.normal(0, 8, rows) > 52, "churn", "stay").astype(object),
    })
    frame.loc[7, "note"] = "x" * (load.MAX_TEXT_CHARS + 10)
    frame.loc[rng.choice(rows, unlabelled, replace=False), "label"] = None
    frame.loc[11, "ratio"] = 1e40
    repeats = frame.iloc[100:130].assign(row=frame["row"].iloc[100:130])
    flipped = frame.iloc[200:205].assign(label=lambda f: f["label"].map({"churn": "stay", "stay": "churn"}))
    frame = pd.concat([frame, repeats, flipped], ignore_index=True)
    return frame.assign(n=np.arange(len(frame))) if numbered else frame  # consecutive, not named like an identifier


@pytest.fixture
def streamed(monkeypatch):
    """Stream every file, in 128 KB blocks (the long cell fits one), the first of which sets the CSV columns' types
    (so 'late' is typed from all its values), 700 rows at a time (several batches)."""
    monkeypatch.setattr(_stream, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(_stream, "STREAM_BATCH_ROWS", 700)
    monkeypatch.setattr(_stream, "STREAM_BLOCK_BYTES", 1 << 17)
    monkeypatch.setattr(load, "CSV_BLOCK_BYTES", 1 << 17)


def _same_as_read_whole(path, **options):
    whole = load_dataset(path, **options)
    sample = cap_rows(whole, SAMPLE, seed=3)
    streamed = load_dataset(path, max_rows=SAMPLE, seed=3, **options)
    assert streamed.scan is not None and streamed.scan.rows == whole.n_rows
    assert streamed.fingerprint == whole.fingerprint
    assert streamed.row_sample == sample.row_sample and streamed.row_sample.of_rows == whole.n_rows
    pd.testing.assert_frame_equal(streamed.features, sample.features)
    np.testing.assert_array_equal(streamed.y, sample.y)
    assert streamed.notes == whole.notes and streamed.rows_dropped_missing_target == whole.rows_dropped_missing_target
    assert (streamed.task, streamed.classes, streamed.positive_rule) == (whole.task, whole.classes, whole.positive_rule)
    assert cap_rows(streamed, SAMPLE, seed=3) is streamed  # drawn once: `assess` does not sample the sample

    by_rows, by_scan = profile_dataset(whole), profile_dataset(streamed)
    facts = ("rows", "duplicate_rows", "conflicting_duplicate_rows", "class_counts", "target_summary",
             "target_histogram", "data_sufficiency")
    assert {f: getattr(by_scan, f) for f in facts} == {f: getattr(by_rows, f) for f in facts}
    assert [(c.name, c.kind, c.missing_share, c.cardinality, c.cardinality_capped) for c in by_scan.columns] == [
        (c.name, c.kind, c.missing_share, c.cardinality, False) for c in by_rows.columns]
    return by_rows, by_scan


def test_a_streamed_csv_gives_the_facts_and_sample_of_the_whole_table(tmp_path, streamed):
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    by_rows, by_scan = _same_as_read_whole(path, target="label")
    assert by_rows.duplicate_rows > 20 and by_rows.conflicting_duplicate_rows > 5  # labels set aside: fewer
    assert {n.code for n in load_dataset(path, target="label").notes} == {"bad_numbers", "long_text",
                                                                          "target_missing"}
    checks = {s.check.split(" (")[0]: (s.rows, s.of_rows) for s in by_scan.sampled_checks}
    rows = by_rows.rows
    assert checks["kind of each column"] == (SAMPLE, rows)
    assert checks["single-column screens"] == (SAMPLE, rows)
    assert by_rows.sampled_checks == () or all(s.of_rows == rows for s in by_rows.sampled_checks)


def test_a_column_consecutive_over_every_row_is_an_identifier(tmp_path, streamed):
    path = tmp_path / "labelled.csv"
    _awkward_table(unlabelled=0, numbered=True).to_csv(path, index=False)
    by_rows, by_scan = _same_as_read_whole(path, target="label")
    assert next(c for c in by_scan.columns if c.name == "n").note == "every value unique, consecutive"
    assert (np.diff(load_dataset(path, target="label", max_rows=SAMPLE).features["n"]) > 1).any()  # not the sample


@pytest.mark.parametrize("options", [
    {"target": "label", "time_column": "signup", "drop_columns": ("ratio",)},
    {"target": "label", "group_column": "region", "positive_class": "stay"},
    {"target": "income"},  # regression: a random sample
])
def test_streaming_agrees_with_every_sampling_rule(tmp_path, streamed, options):
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    _same_as_read_whole(path, **options)


def test_a_streamed_parquet_file_gives_the_facts_and_sample_of_the_whole_table(tmp_path, streamed, monkeypatch):
    path = tmp_path / "awkward.parquet"
    _awkward_table().to_parquet(path, index=False)
    _same_as_read_whole(path, target="label")
    monkeypatch.setattr(_stream, "STREAM_MIN_BYTES", 1 << 30)  # by size no more: by the row count in its metadata
    assert _stream.streams(path, max_rows=SAMPLE) and not _stream.streams(path, max_rows=10 * ROWS)


def test_distinct_values_are_counted_up_to_a_cap(tmp_path, streamed, monkeypatch):
    monkeypatch.setattr(load, "DISTINCT_CAP", 100)
    monkeypatch.setattr(_stream, "DISTINCT_CAP", 100)
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    profile = profile_dataset(load_dataset(path, target="label", max_rows=SAMPLE))
    income = next(c for c in profile.columns if c.name == "income")
    assert income.cardinality == 100 and income.cardinality_capped and income.kind == "numeric"
    region = next(c for c in profile.columns if c.name == "region")
    assert region.cardinality == 4 and not region.cardinality_capped


def test_small_files_and_no_row_cap_are_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    assert not _stream.streams(path, max_rows=SAMPLE)  # 0.3 MB: below STREAM_MIN_BYTES
    assert load_dataset(path, target="label", max_rows=SAMPLE).scan is None
    monkeypatch.setattr(_stream, "STREAM_MIN_BYTES", 0)
    assert load_dataset(path, target="label").scan is None  # no --max-rows: every row in memory


def test_a_streamed_file_with_few_rows_is_kept_whole(tmp_path, streamed):
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    whole = load_dataset(path, target="label")
    kept = load_dataset(path, target="label", max_rows=10 * ROWS)
    assert kept.scan is None and kept.row_sample is None and kept.fingerprint == whole.fingerprint
    pd.testing.assert_frame_equal(kept.features, whole.features)


def test_bad_streamed_input_fails_as_the_whole_table_would(tmp_path, streamed):
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    for options, message in [({"target": "lable"}, "did you mean 'label'"),
                             ({"target": "label", "group_column": "debt"}, "--group-col 'debt' has missing"),
                             ({"target": "label", "time_column": "label"}, "is the target")]:
        with pytest.raises(UserError, match=message):
            load_dataset(path, max_rows=SAMPLE, **options)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("a,b,label\n")
    with pytest.raises(UserError, match="no data rows"):
        load_dataset(header_only, target="label", max_rows=SAMPLE)


def test_a_row_longer_than_a_streaming_block_is_read_in_larger_blocks(tmp_path, streamed, monkeypatch):
    monkeypatch.setattr(_stream, "STREAM_BLOCK_BYTES", 16_384)  # the 100,010-character cell straddles two blocks
    path = tmp_path / "awkward.csv"
    _awkward_table().to_csv(path, index=False)
    _same_as_read_whole(path, target="label")


def _write_parts(frame: pd.DataFrame, folder, parts: int = 3) -> None:
    """The table as a folder of Parquet files, as Spark or Dask write one (and a _SUCCESS marker to skip)."""
    folder.mkdir()
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{number:05d}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")


def test_a_folder_of_parquet_files_is_the_table_of_their_rows(tmp_path, streamed):
    table = _awkward_table()
    table.to_parquet(tmp_path / "whole.parquet", index=False)
    _write_parts(table, tmp_path / "parts")
    whole = load_dataset(tmp_path / "whole.parquet", target="label")
    folder = load_dataset(tmp_path / "parts", target="label")  # read whole: no row cap
    pd.testing.assert_frame_equal(folder.features, whole.features)
    assert folder.fingerprint == whole.fingerprint

    streamed = load_dataset(tmp_path / "parts", target="label", max_rows=SAMPLE, seed=3)
    sample = cap_rows(whole, SAMPLE, seed=3)
    assert streamed.scan is not None and streamed.scan.rows == whole.n_rows
    assert streamed.fingerprint == whole.fingerprint
    pd.testing.assert_frame_equal(streamed.features, sample.features)
    np.testing.assert_array_equal(streamed.y, sample.y)
    by_rows, by_scan = profile_dataset(whole), profile_dataset(streamed)
    facts = ("rows", "duplicate_rows", "conflicting_duplicate_rows", "class_counts", "target_summary")
    assert {f: getattr(by_scan, f) for f in facts} == {f: getattr(by_rows, f) for f in facts}
    assert by_rows.duplicate_rows > 20
    assert [(c.name, c.kind, c.missing_share, c.cardinality) for c in by_scan.columns] == [
        (c.name, c.kind, c.missing_share, c.cardinality) for c in by_rows.columns]


def test_a_parquet_folder_whose_files_differ_is_refused_by_name(tmp_path, streamed):
    table = _awkward_table()
    _write_parts(table, tmp_path / "parts", parts=2)
    table.drop(columns=["note"]).iloc[:50].to_parquet(tmp_path / "parts" / "part-00009.parquet", index=False)
    for max_rows in (None, SAMPLE):
        with pytest.raises(UserError, match=r"part-00009.parquet has other columns .* same columns"):
            load_dataset(tmp_path / "parts", target="label", max_rows=max_rows)
