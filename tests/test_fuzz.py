"""Property-based fuzzing of the edge: malformed tables and files never end in a traceback.

Hypothesis generates CSV files — random column kinds, NaN/inf/huge/empty values, duplicate names, odd encodings and
delimiters, header-only and one-row files, image columns pointing at good, missing, truncated and non-image files —
and the CLI must answer each with exit code 0 or 2, one line of error on 2, and no report folder on 2. A fixed seed
and example count keep it in the default run; `-m slow` runs many more examples.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dladvisor.cli import app

runner = CliRunner()
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
DELIMITERS = (",", ";", "\t", "|")
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, -1.0, 1e300, -1e308, 3.4e38]),
    st.integers(-10**20, 10**20),
)
WORDS = st.text(alphabet=st.sampled_from(list("abcdé xyz,;\"'\t|ü€")), max_size=30)
IMAGES = st.sampled_from(["good_0.png", "good_1.png", "missing.png", "truncated.png", "notes.png", "empty.png", ""])


@st.composite
def tables(draw):
    """(header, rows) of strings: a target column and a few random feature columns."""
    n_rows = draw(st.integers(0, 30))
    n_columns = draw(st.integers(1, 4))
    kinds = draw(st.lists(st.sampled_from(["number", "category", "text", "image", "empty"]), min_size=n_columns,
                          max_size=n_columns))
    names = [draw(st.sampled_from(["x", "y", "a b", "label", "é", "x"])) for _ in kinds]  # duplicates on purpose
    labels = draw(st.lists(st.sampled_from(["yes", "no", "maybe", "", "1"]), min_size=n_rows, max_size=n_rows))
    columns = []
    for kind in kinds:
        if kind == "number":
            values = [repr(v) for v in draw(st.lists(NUMBERS, min_size=n_rows, max_size=n_rows))]
        elif kind == "category":
            values = draw(st.lists(st.sampled_from(["red", "green", "", "NA"]), min_size=n_rows, max_size=n_rows))
        elif kind == "text":
            values = draw(st.lists(WORDS, min_size=n_rows, max_size=n_rows))
        elif kind == "image":
            values = draw(st.lists(IMAGES, min_size=n_rows, max_size=n_rows))
        else:
            values = [""] * n_rows
        columns.append(values)
    header = ["label", *names]
    rows = [[labels[i], *(column[i] for column in columns)] for i in range(n_rows)]
    return header, rows


def _write(folder, header, rows, delimiter: str, encoding: str) -> str:
    import csv
    import io

    from PIL import Image

    for shade, name in enumerate(("good_0.png", "good_1.png")):
        Image.new("RGB", (10, 10), (shade * 200, 50, 0)).save(folder / name)
    good = (folder / "good_0.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "notes.png").write_text("not an image")
    (folder / "empty.png").write_bytes(b"")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = folder / "data.csv"
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return str(path)


def _assert_clean_exit(result, out=None) -> None:
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"traceback: {result.exception!r}\n{result.output}"
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.output
        if out is not None:
            assert not out.exists()


def _fuzz_profile(tmp_path_factory, table, delimiter, encoding):
    folder = tmp_path_factory.mktemp("fuzz")
    path = _write(folder, *table, delimiter, encoding)
    _assert_clean_exit(runner.invoke(app, ["profile", path, "--target", "label", "--json"]))


FUZZ = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])


@settings(max_examples=60, **FUZZ)
@given(table=tables(), delimiter=st.sampled_from(DELIMITERS), encoding=st.sampled_from(ENCODINGS))
def test_profile_never_tracebacks(tmp_path_factory, table, delimiter, encoding):
    _fuzz_profile(tmp_path_factory, table, delimiter, encoding)


@pytest.mark.slow
@settings(max_examples=600, **FUZZ)
@given(table=tables(), delimiter=st.sampled_from(DELIMITERS), encoding=st.sampled_from(ENCODINGS))
def test_profile_never_tracebacks_many(tmp_path_factory, table, delimiter, encoding):
    _fuzz_profile(tmp_path_factory, table, delimiter, encoding)


def _fuzz_assess(tmp_path_factory, table, delimiter):
    folder = tmp_path_factory.mktemp("fuzz")
    path = _write(folder, *table, delimiter, "utf-8")
    out = folder / "report"
    result = runner.invoke(app, ["assess", path, "--target", "label", "--out", str(out), "-c", "linear",
                                 "--folds", "2", "--no-learning-curves", "--time-budget", "30s"])
    _assert_clean_exit(result, out)


@settings(max_examples=6, **FUZZ)
@given(table=tables(), delimiter=st.sampled_from(DELIMITERS))
def test_assess_never_tracebacks(tmp_path_factory, table, delimiter):
    _fuzz_assess(tmp_path_factory, table, delimiter)


@pytest.mark.slow
@settings(max_examples=60, **FUZZ)
@given(table=tables(), delimiter=st.sampled_from(DELIMITERS))
def test_assess_never_tracebacks_many(tmp_path_factory, table, delimiter):
    _fuzz_assess(tmp_path_factory, table, delimiter)

