from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dladvisor.assessment import without_volatile
from dladvisor.config import AssessConfig
from dladvisor.errors import UserError
from dladvisor.pipeline import assess
from dladvisor.report import render_json, render_markdown, write_report
from dladvisor.report.plots import render_plots

GOLDEN = Path(__file__).parent / "golden" / "report_binary.md"
# Sections and rows whose numbers are timings, dates or library versions: only their structure is compared.
VOLATILE_SECTIONS = ("## Cost", "## Reproducibility")
VOLATILE_ROWS = ("| Run |", "| 12-month cost", "Both costs are the same")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def assessment(cancer_frame):
    config = AssessConfig(data="breast-cancer-80", target="diagnosis", folds=3, seed=0)
    return assess(config, frame=cancer_frame)


def _comparable(markdown: str) -> list[str]:
    kept, volatile = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            volatile = line.startswith(VOLATILE_SECTIONS)
        elif volatile and not line.startswith("#"):
            continue  # timings and what depends on them (costs, the cheapest model): headings only
        if line.startswith(VOLATILE_ROWS) or (not line and kept and not kept[-1]):
            continue  # a timing-dependent line, or the blank line left where an optional one was dropped
        kept.append(line)
    return kept


def test_markdown_matches_golden(assessment, tmp_path, update_golden):
    plots = render_plots(assessment, tmp_path)
    markdown = render_markdown(assessment, plots)
    if update_golden:
        GOLDEN.write_text(markdown, encoding="utf-8")
    expected = _comparable(GOLDEN.read_text(encoding="utf-8"))
    actual = _comparable(markdown)
    assert [NUMBER.sub("#", line) for line in actual] == [NUMBER.sub("#", line) for line in expected]
    for got, want in zip(actual, expected, strict=True):
        got_numbers = [float(n.replace(",", "")) for n in NUMBER.findall(got)]
        want_numbers = [float(n.replace(",", "")) for n in NUMBER.findall(want)]
        assert got_numbers == pytest.approx(want_numbers, abs=0.02, rel=0.01), got


def test_report_has_the_sections_a_reviewer_needs(assessment, tmp_path):
    out = write_report(assessment, tmp_path / "run")
    markdown = (out / "report.md").read_text()
    for heading in ("## Recommendation", "## Leaderboard", "## Data profile", "### Alerts", "## Cost"):
        assert heading in markdown
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown):
        assert (out / image).stat().st_size > 1000, image
    facts = json.loads((out / "report.json").read_text())
    assert facts["run"]["schema_version"] == "1.1" and facts["run"]["seed"] == 0
    assert facts["dataset"]["fingerprint"].startswith("sha256:")
    assert {"scikit-learn", "xgboost"} <= set(facts["run"]["libraries"])
    assert facts["recommendation"]["candidate"] in {c["name"] for c in facts["benchmark"]["candidates"]}


def test_same_seed_gives_the_same_json_apart_from_timings(assessment, cancer_frame):
    again = assess(AssessConfig(data="breast-cancer-80", target="diagnosis", folds=3, seed=0), frame=cancer_frame)
    assert without_volatile(again.to_json_dict()) == without_volatile(assessment.to_json_dict())
    # Another seed moves the folds and so the scores (shown on the quicker fast preset).
    fast = {seed: assess(AssessConfig(data="breast-cancer-80", target="diagnosis", folds=3, seed=seed, preset="fast",
                                      learning_curves=False), frame=cancer_frame) for seed in (0, 1)}
    assert without_volatile(fast[1].to_json_dict()) != without_volatile(fast[0].to_json_dict())


def test_failed_write_leaves_nothing_behind(assessment, tmp_path, monkeypatch):
    import dladvisor.report as report

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "render_markdown", broken)
    with pytest.raises(RuntimeError):
        write_report(assessment, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_rewrite_replaces_an_earlier_report_but_never_user_files(assessment, tmp_path):
    out = write_report(assessment, tmp_path / "run")
    (out / "stale.txt").write_text("from an earlier run")
    write_report(assessment, out)
    assert not (out / "stale.txt").exists() and (out / "report.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

    precious = tmp_path / "my-notes"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not a dladvisor report"):
        write_report(assessment, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_report_json_names_the_data_relative_to_the_working_folder(assessment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    absolute = str(tmp_path / "data" / "cancer.csv")
    moved = assessment.model_copy(update={"config": assessment.config.model_copy(update={"data": absolute}),
                                          "dataset": assessment.dataset.model_copy(update={"source": absolute})})
    report = json.loads(render_json(moved))
    assert report["config"]["data"] == report["dataset"]["source"] == "data/cancer.csv"
    assert str(tmp_path) not in render_json(moved)
