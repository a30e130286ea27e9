from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor import load
from dladvisor.errors import UserError
from dladvisor.load import cap_rows, load_dataset, read_table


def test_csv_sniffs_semicolons_and_utf8_bom(tmp_path, cancer_frame):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbf" + cancer_frame.to_csv(sep=";", index=False).encode())
    dataset = load_dataset(path, target="diagnosis")
    assert list(dataset.features.columns) == list(cancer_frame.columns[:-1])
    assert dataset.task == "binary" and dataset.classes == ("benign", "malignant")
    assert dataset.n_rows == len(cancer_frame)


def test_windows_1252_and_utf16_text_is_decoded(tmp_path):
    frame = pd.DataFrame({"city": ["Zürich", "Málaga", "Köln", "Łódź"] * 5, "label": [0, 1] * 10})
    latin = tmp_path / "latin.csv"
    latin.write_bytes(frame.iloc[:, :].replace({"Łódź": "Lodz"}).to_csv(index=False).encode("cp1252"))
    assert "Zürich" in read_table(latin)["city"].tolist()
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(frame.to_csv(index=False).encode("utf-16"))
    assert "Łódź" in read_table(utf16)["city"].tolist()


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_parquet_and_json_lines(tmp_path, iris_frame, suffix):
    path = tmp_path / f"iris{suffix}"
    if suffix == ".parquet":
        iris_frame.to_parquet(path)
    else:
        iris_frame.to_json(path, orient="records", lines=True)
    dataset = load_dataset(path, target="species")
    assert dataset.task == "multiclass" and len(dataset.classes) == 3
    assert dataset.n_rows == len(iris_frame)
    assert dataset.fingerprint == load_dataset(path, target="species").fingerprint


def test_target_inferred_from_conventional_name(mixed_frame):
    dataset = load_dataset(mixed_frame)
    assert dataset.target_name == "label"
    assert "label" not in dataset.features.columns


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b"] * 20, "binary"),
        (["a", "b", "c", "d"] * 10, "multiclass"),
        ([0, 1] * 20, "binary"),
        ([1, 2, 3, 4, 5] * 8, "multiclass"),
        (list(np.linspace(0, 1, 40)), "regression"),
        (list(range(40)), "regression"),
    ],
)
def test_task_inference(values, task):
    frame = pd.DataFrame({"x": range(len(values)), "target": values})
    dataset = load_dataset(frame)
    assert dataset.task == task
    assert dataset.task_rule  # the rule is shown in the report


def test_rows_without_target_are_set_aside(cancer_frame):
    frame = cancer_frame.copy()
    frame.loc[:4, "diagnosis"] = None
    dataset = load_dataset(frame, target="diagnosis")
    assert dataset.n_rows == len(frame) - 5 and dataset.rows_dropped_missing_target == 5
    assert "5 rows" in dataset.notes[0].message


def test_time_column_orders_rows():
    frame = pd.DataFrame({"when": ["2024-03-01", "2024-01-01", "2024-02-01"] * 4, "x": range(12), "y": [0, 1] * 6})
    dataset = load_dataset(frame, target="y", time_column="when")
    assert dataset.features["when"].is_monotonic_increasing


def _write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "target", "message"),
    [
        ("empty.csv", b"", None, "empty"),
        ("header.csv", b"a,b,label\n", None, "no data rows"),
        ("binary.csv", b"\x00\x01\x02\xff\xfe\x00" * 50, None, "not text"),
        ("data.xlsx", b"PK\x03\x04", None, "Unsupported file type"),
        ("data.csv", b"a,b,label\n1,2,x\n3,4,y\n", "lable", "did you mean 'label'"),
        ("data.csv", b"a,b\n1,2\n3,4\n", None, "pass --target"),
        ("data.csv", b"a,label\n1,x\n2,x\n3,x\n", None, "single value"),
        ("data.csv", b"a,label\n1,\n2,\n3,\n", None, "empty in all 3 rows"),
        ("data.csv", b"label\n1\n2\n", None, "only the target"),
        ("data.parquet", b"not parquet at all", None, "not a readable Parquet"),
    ],
)
def test_bad_input_raises_one_clear_user_error(tmp_path, name, content, target, message):
    path = _write(tmp_path, name, content)
    with pytest.raises(UserError, match=message) as info:
        load_dataset(path, target=target)
    assert "\n" not in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UserError, match="File not found"):
        load_dataset(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="without Parquet files or class sub-folders"):
        load_dataset(tmp_path)


def test_forced_task_is_checked():
    frame = pd.DataFrame({"x": range(12), "target": ["a", "b", "c"] * 4})
    with pytest.raises(UserError, match="--task binary needs two classes"):
        load_dataset(frame, task="binary")
    with pytest.raises(UserError, match="numeric target"):
        load_dataset(frame, task="regression")


def test_input_file_is_not_modified(tmp_path, cancer_frame):
    path = tmp_path / "data.csv"
    cancer_frame.to_csv(path, index=False)
    before = path.read_bytes()
    load_dataset(path, target="diagnosis")
    assert path.read_bytes() == before


@pytest.mark.parametrize(("labels", "given", "positive"), [
    (["benign"] * 6 + ["malignant"] * 4, None, "malignant"),  # the rarer class is the event of interest
    (["no"] * 3 + ["yes"] * 7, None, "yes"),  # a label that names the event wins over rarity
    ([0] * 3 + [1] * 7, None, "1"),
    (["a"] * 5 + ["b"] * 5, None, "b"),  # balanced and unnamed: the second in sorted order
    (["benign"] * 6 + ["malignant"] * 4, "benign", "benign"),
])
def test_positive_class(labels, given, positive):
    frame = pd.DataFrame({"x": range(len(labels)), "y": labels})
    dataset = load_dataset(frame, target="y", positive_class=given)
    assert dataset.positive_class == positive and dataset.classes[1] == positive
    assert (dataset.y == 1).sum() == sum(str(v) == positive for v in labels)
    assert dataset.positive_rule


def test_positive_class_is_validated(cancer_frame, iris_frame):
    with pytest.raises(UserError, match="not a value of 'diagnosis'.*'benign', 'malignant'"):
        load_dataset(cancer_frame, target="diagnosis", positive_class="sick")
    with pytest.raises(UserError, match="applies to binary targets"):
        load_dataset(iris_frame, target="species", positive_class="setosa")


def test_dropped_columns_are_gone_and_sensitive_ones_kept_out_of_the_inputs(cancer_frame):
    frame = cancer_frame.assign(sex=np.where(np.arange(len(cancer_frame)) % 2, "f", "m"))
    dataset = load_dataset(frame, target="diagnosis", drop_columns=("mean radius",), sensitive_columns=("sex",))
    assert "mean radius" not in dataset.features and dataset.dropped_columns == ("mean radius",)
    assert "sex" in dataset.features  # kept for the fairness audit...
    assert "sex" in dataset.model_inputs_exclude  # ...but no model reads it
    as_feature = load_dataset(frame, target="diagnosis", sensitive_columns=("sex",), sensitive_as_feature=True)
    assert "sex" not in as_feature.model_inputs_exclude
    with pytest.raises(UserError, match="--drop 'radius' is not a column; did you mean 'mean radius'"):
        load_dataset(frame, target="diagnosis", drop_columns=("radius",))
    with pytest.raises(UserError, match="--drop 'sex' is also given to --sensitive"):
        load_dataset(frame, target="diagnosis", drop_columns=("sex",), sensitive_columns=("sex",))


def test_infinities_and_absurd_numbers_become_missing_or_refuse_the_column(tmp_path):
    # The reproduction: `x,label` / `inf,0` / `1,1` … once crashed the random forest.
    rows = ["inf,0", "1,1"] + [f"{i},{i % 2}" for i in range(2, 12)] + ["1e300,1", "-inf,0"]
    (tmp_path / "x.csv").write_text("x,label\n" + "\n".join(rows) + "\n")
    dataset = load_dataset(tmp_path / "x.csv", target="label")
    assert dataset.features["x"].isna().sum() == 3 and np.isfinite(dataset.features["x"].dropna()).all()
    assert any(n.code == "bad_numbers" and n.column == "x" for n in dataset.notes)
    frame = pd.DataFrame({"x": [np.inf] * 8 + [1.0] * 4, "z": range(12), "label": [0, 1] * 6})
    dataset = load_dataset(frame, target="label")
    assert "x" not in dataset.features and [n.code for n in dataset.notes] == ["column_refused"]
    target = pd.DataFrame({"x": range(12), "y": [np.inf, *np.linspace(0, 1, 11)]})
    assert load_dataset(target, target="y", task="regression").n_rows == 11


def test_enormous_text_cells_are_cut():
    frame = pd.DataFrame({"text": ["word " * 30_000] + ["short text here"] * 11, "label": [0, 1] * 6})
    dataset = load_dataset(frame, target="label")
    assert dataset.features["text"].str.len().max() == 100_000
    assert [n.code for n in dataset.notes] == ["long_text"]


def _png(path, shade: int) -> None:
    from PIL import Image

    Image.new("RGB", (12, 12), (shade, 0, 0)).save(path)


def test_unreadable_images_drop_their_rows_and_too_few_left_is_an_error(tmp_path):
    for i in range(12):
        _png(tmp_path / f"{i}.png", i * 20)
    good = (tmp_path / "0.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    rows = [f"{i}.png,{i % 2}" for i in range(12)] + ["truncated.png,0", "notes.png,1", "empty.png,0", "gone.png,1"]
    (tmp_path / "images.csv").write_text("image,label\n" + "\n".join(rows) + "\n")
    dataset = load_dataset(tmp_path / "images.csv", target="label")
    assert dataset.n_rows == 12 and set(dataset.features["image"]) == {f"{i}.png" for i in range(12)}
    note = next(n for n in dataset.notes if n.code == "bad_images")
    assert "4 rows" in note.message and "'truncated.png'" in note.message
    (tmp_path / "few.csv").write_text("image,label\n" + "\n".join(rows[:4] + rows[12:]) + "\n")
    with pytest.raises(UserError, match="Only 4 usable rows remain after setting aside unusable rows"):
        load_dataset(tmp_path / "few.csv", target="label")
    (tmp_path / "escape.csv").write_text("image,label\n" + "\n".join(rows[:11] + ["../x.png,1"]) + "\n")
    with pytest.raises(UserError, match="points outside the data folder"):
        load_dataset(tmp_path / "escape.csv", target="label")


def test_categorical_columns_pass_validation():
    # In-memory tables (the demos, the Python API) and Parquet files carry pandas categoricals.
    frame = pd.DataFrame({"t": pd.Categorical(["a b c d e"] * 11 + ["x" * 200_000]), "label": [0, 1] * 6})
    dataset = load_dataset(frame, target="label")
    assert dataset.features["t"].str.len().max() == 100_000


def test_odd_column_names_and_refused_option_columns():
    frame = pd.DataFrame({"a{b}": ["x" * 200_000] + ["short text here"] * 11, "label": [0, 1] * 6})
    assert load_dataset(frame, target="label").notes[0].code == "long_text"  # braces in a name once crashed
    frame = pd.DataFrame({"group": [np.inf] * 9 + [1.0] * 3, "x": range(12), "label": [0, 1] * 6})
    with pytest.raises(UserError, match="--group-col 'group' holds mostly infinite or absurd numbers"):
        load_dataset(frame, target="label", group_column="group")


@pytest.mark.parametrize("fixture", ["cancer_frame", "iris_frame", "diabetes_frame", "mixed_frame", "reviews_frame"])
def test_columnar_reader_gives_the_frame_the_pandas_parser_gave(tmp_path, request, fixture):
    path = tmp_path / "data.csv"
    request.getfixturevalue(fixture).to_csv(path, index=False)
    fast = load._read_csv_arrow(path, ",")
    pd.testing.assert_frame_equal(fast, load._read_csv_decoded(path, None), check_exact=True)
    pd.testing.assert_frame_equal(read_table(path), fast, check_exact=True)


# Cells where pyarrow and pandas read CSV text differently by default; the reader must read them as pandas did.
AWKWARD_CSVS = {
    "true/false with a gap": b"flag,y\nTrue,1\n,0\nfalse,1\n",
    "an unnamed index column": b",a,y\n0,1.5,1\n1,2.5,0\n",
    "an empty column": b"a,empty,y\n1,,0\n2,,1\n",
    "dates and times": b"day,at,y\n2024-01-01,2024-01-01 10:00,1\n2024-01-02,2024-01-02T11:00:05,0\n",
    "missing-value words": b"a,b,y\nNA,x,1\n1.5,None,0\nnan,n/a,1\n",
    "quoted newlines and commas": b'text,y\n"two\nlines",1\n"one, with a comma",0\n',
    "uneven rows": b"a,b,c\n1,2\n3,4,5\n",  # pyarrow refuses; pandas fills the gap
    "duplicate names": b"a,a,y\n1,2,0\n",  # pandas renames the second 'a.1'
    "not UTF-8 past the start": b"city,y\n" + b"Paris,1\n" * 40_000 + "Zürich,0\n".encode("cp1252"),
}


@pytest.mark.parametrize("content", AWKWARD_CSVS.values(), ids=AWKWARD_CSVS.keys())
def test_awkward_csv_cells_read_as_the_pandas_parser_read_them(tmp_path, content):
    path = _write(tmp_path, "data.csv", content)
    frame, before = read_table(path), load._read_csv_decoded(path, None)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)
    assert frame.map(repr).equals(before.map(repr))  # NaN, not None, where a flag is missing


def _decode_in_python(path, encoding):
    raise AssertionError(f"{path.name} was decoded in Python")


def test_a_column_that_changes_type_after_the_first_block(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "CSV_BLOCK_BYTES", 200)  # a first block of a few rows, as 1 MB is of a large file
    rows = ["1,,2024-01-01,x,1"] * 40 + ["2.5,7,soon,y,0", "3,,2024-01-03,z,1"]
    path = _write(tmp_path, "data.csv", ("int_then_decimal,empty_then_int,date_then_word,word,y\n"
                                         + "\n".join(rows) + "\n").encode())
    before = load._read_csv_decoded(path, None)
    monkeypatch.setattr(load, "_read_csv_decoded", _decode_in_python)  # pyarrow reads it, typing from all rows
    frame = read_table(path)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)
    assert frame["int_then_decimal"].dtype == float and frame["empty_then_int"].iloc[40] == 7


def test_utf8_files_never_take_the_python_decoding_path(tmp_path, monkeypatch, cancer_frame):
    monkeypatch.setattr(load, "_read_csv_decoded", _decode_in_python)
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbf" + cancer_frame.to_csv(sep=";", index=False).encode())
    assert list(read_table(path).columns) == list(cancer_frame.columns)
    assert len(read_table(path, encoding="utf-8")) == len(cancer_frame)


def test_cap_rows_keeps_class_shares_pairs_rows_and_is_seeded():
    frame = pd.DataFrame({"x": np.arange(300), "y": np.where(np.arange(300) % 3 == 0, "a", "b")})
    dataset = load_dataset(frame, target="y")
    a = dataset.classes.index("a")
    sample = cap_rows(dataset, 90, seed=0)
    assert sample.n_rows == 90 and sample.row_sample.statement == "a stratified sample of 90 of 300 rows"
    assert (sample.y == a).sum() == 30  # a third of the rows are class 'a', as in the table
    assert ((sample.features["x"] % 3 == 0) == (sample.y == a)).all()  # each row keeps its own target
    assert sample.fingerprint == dataset.fingerprint
    assert cap_rows(dataset, 90, seed=0).features.equals(sample.features)
    assert not cap_rows(dataset, 90, seed=1).features.equals(sample.features)
    assert cap_rows(dataset, 300, seed=0) is dataset and cap_rows(dataset, None, seed=0) is dataset


def test_cap_rows_keeps_a_few_rows_of_a_rare_class():
    frame = pd.DataFrame({"x": np.arange(400), "y": ["rare"] * 8 + ["common"] * 392})
    dataset = load_dataset(frame, target="y")
    sample = cap_rows(dataset, 100, seed=0)
    assert sample.n_rows == 100 and (sample.y == dataset.classes.index("rare")).sum() == 8  # its 2% share: 2 rows


def test_cap_rows_takes_the_most_recent_rows_whole_groups_or_random_rows():
    n = 120
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=n).strftime("%Y-%m-%d")[::-1],
                          "patient": np.arange(n) // 4, "x": np.arange(n), "y": np.arange(n) % 2})
    recent = cap_rows(load_dataset(frame, target="y", time_column="when"), 30, seed=0)
    assert recent.features["when"].tolist() == sorted(frame["when"])[-30:]
    assert recent.row_sample.statement == "the most recent 30 of 120 rows by 'when'"
    grouped = cap_rows(load_dataset(frame, target="y", group_column="patient"), 30, seed=0)
    assert grouped.n_rows == 28 and (grouped.features["patient"].value_counts() == 4).all()  # 7 whole patients
    assert grouped.row_sample.method == "whole groups"
    numbers = cap_rows(load_dataset(frame.assign(y=np.linspace(0, 1, n)), target="y"), 30, seed=0)
    assert numbers.n_rows == 30 and numbers.row_sample.method == "random"
    assert np.allclose(numbers.y, numbers.features["x"] / (n - 1))
