"""CI summaries: summary.md, $GITHUB_STEP_SUMMARY and the `compare --markdown` comment body, on a real report."""

from __future__ import annotations

import copy

from typer.testing import CliRunner

from dladvisor.cli import app
from dladvisor.compare import compare_reports
from dladvisor.gate import evaluate_gates, load_report
from dladvisor.report.summary import MAX_LINES, comparison_markdown, render_summary, write_summary

runner = CliRunner()


def _worse(report, drop=0.05):
    worse = copy.deepcopy(report)
    for candidate in worse["benchmark"]["candidates"]:
        if candidate["status"] == "ok" and candidate["family"] != "baseline":
            candidate["metrics"]["roc_auc"]["mean"] -= drop
    worse["recommendation"]["verdict"] = "FAIL"
    return worse


def test_summary_holds_verdict_gates_and_leaderboard(report_json):
    report = load_report(report_json)
    gates = evaluate_gates(report, ["verdict!=FAIL", "best.roc_auc>=0.99999"])
    text = render_summary(report, gates=gates)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES
    assert lines[0].startswith(f"### dladvisor: {report['recommendation']['verdict']}")
    assert "| `verdict!=FAIL` | ✅ pass |" in text and "| `best.roc_auc>=0.99999` | ❌ fail |" in text
    assert "| 1 | " in text and "Δ vs baseline" not in text


def test_summary_shows_deltas_against_a_baseline(report_json):
    report = load_report(report_json)
    text = render_summary(_worse(report), baseline=report)
    assert "Δ vs baseline" in text and "-0.050" in text
    assert f"{report['recommendation']['verdict']} → FAIL (changed)" in text


def test_step_summary_is_appended_not_overwritten(report_json, tmp_path, monkeypatch):
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    text = render_summary(load_report(report_json))
    path = write_summary(tmp_path, text)
    assert path.read_text() == text
    assert step.read_text() == "earlier step\n" + text + "\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    write_summary(tmp_path, text)
    assert step.read_text() == "earlier step\n" + text + "\n"


def test_comparison_markdown_lists_regressions_first(report_json):
    report = load_report(report_json)
    body = comparison_markdown(compare_reports(report, _worse(report)), old_name="main.json", new_name="pr.json")
    assert body.startswith("### dladvisor compare: ❌")
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| Change")]
    assert rows[0].endswith("| yes |") and any("| verdict |" in r for r in rows)
    same = comparison_markdown(compare_reports(report, report), old_name="a", new_name="b")
    assert "✅ no regression" in same and "Nothing changed" in same


def test_compare_cli_prints_markdown(report_json, tmp_path):
    import json

    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps(_worse(load_report(report_json))))
    result = runner.invoke(app, ["compare", str(report_json), str(worse), "--markdown"])
    assert result.exit_code == 1
    assert "### dladvisor compare: ❌" in result.stdout and "| verdict |" in result.stdout
