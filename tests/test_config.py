from __future__ import annotations

from pathlib import Path

import pytest

from dladvisor.config import default_out_dir, parse_duration, parse_max_rows
from dladvisor.errors import UserError


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("1h30m", 5400), ("45", 45), ("2.5m", 150), ("1h", 3600)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10x", "0s", "-5m"])
def test_bad_durations(text):
    with pytest.raises(UserError, match="duration|Duration"):
        parse_duration(text)


def test_default_out_dir_is_named_after_the_data():
    assert default_out_dir("data/credit risk.v2.csv") == Path("reports/credit-risk")


@pytest.mark.parametrize(("text", "rows"), [("100000", 100_000), ("100_000", 100_000), (" 50 ", 50), ("0", None),
                                            ("none", None), ("None", None)])
def test_parse_max_rows(text, rows):
    assert parse_max_rows(text) == rows


@pytest.mark.parametrize("text", ["", "lots", "-5", "1e5", "10.5"])
def test_bad_max_rows(text):
    with pytest.raises(UserError, match="Cannot read --max-rows"):
        parse_max_rows(text)
