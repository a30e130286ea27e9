"""The Python API: `dladvisor.assess(df_or_path, **options)` and what an `Assessment` does in a notebook or script."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import dladvisor
from dladvisor.assessment import without_volatile
from dladvisor.benchmark import format_number
from dladvisor.cli import app
from dladvisor.notebook import markdown_to_html

QUICK = {"target": "diagnosis", "folds": 3, "learning_curves": False, "time_budget": "2m"}


@pytest.fixture(scope="module")
def assessment(cancer_frame):
    """The 80-row cancer table, a classical and a deep candidate, through the documented call."""
    return dladvisor.assess(cancer_frame, candidates=["linear", "mlp"], name="cancer-80", **QUICK)


@pytest.fixture
def cancer_csv(tmp_path, cancer_frame):
    path = tmp_path / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    return path


def test_assess_takes_a_dataframe_and_cli_options(assessment):
    assert assessment.dataset.source == "cancer-80" and assessment.dataset.rows == 80
    assert assessment.config.folds == 3 and assessment.config.time_budget_seconds == 120
    assert [c.name for c in assessment.benchmark.candidates] == ["dummy", "linear", "mlp"]
    assert repr(assessment).startswith(f"<Assessment {assessment.recommendation.verdict} ")


def test_markdown_summary_gives_verdict_reason_deep_against_classical_and_next_step(assessment):
    bench, rec = assessment.benchmark, assessment.recommendation
    markdown = assessment._repr_markdown_()
    assert markdown.startswith(f"**{rec.verdict}** · confidence {rec.confidence}")
    assert rec.headline in markdown and f"**Next step:** {rec.next_steps[0]}" in markdown
    for role, family in (("Best classical", "classical"), ("Best deep", "deep")):
        best = bench.best(family)
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {role} |"))
        assert best.label in row and format_number(bench.primary(best).mean) in row
    lift = next(line for line in markdown.splitlines() if line.startswith("| Deep − classical |"))
    assert f"{bench.lift.lift:+.3f}" in lift and f"{bench.lift.rows:,} rows" in lift
    assert len(markdown.splitlines()) < 20  # a glance; the report is .write()


def test_html_summary_is_the_markdown_one_as_escaped_html(assessment):
    page = assessment._repr_html_()
    rec = assessment.recommendation
    assert f"<strong>{rec.verdict}</strong>" in page and "<table>" in page and "**" not in page
    assert page.count("<tr>") == 4  # header, best classical, best deep, the lift
    assert assessment.benchmark.best("deep").label in page


def test_markdown_to_html_escapes_and_keeps_code_verbatim():
    page = markdown_to_html("A <b>tag</b> and `x**2 < y` **bold**\n\n| h | k |\n|---|---|\n| a\\|b | *it* |\n")
    assert "&lt;b&gt;tag&lt;/b&gt;" in page and "<code>x**2 &lt; y</code>" in page and "<strong>bold</strong>" in page
    assert "<td>a|b</td><td><em>it</em></td>" in page


def test_to_json_and_write_are_what_the_cli_writes(assessment, tmp_path):
    out = assessment.write(tmp_path / "report")
    assert out == tmp_path / "report"
    assert (out / "report.json").read_text(encoding="utf-8") == assessment.to_json()
    assert (out / "report.md").is_file() and (out / "plots" / "leaderboard.png").is_file()
    assert json.loads(assessment.to_json())["recommendation"]["headline"] == assessment.recommendation.headline
    assert "### dladvisor:" in (out / "summary.md").read_text(encoding="utf-8")


def test_write_gives_the_ci_summary_with_gates_baseline_and_step_summary(assessment, tmp_path, monkeypatch):
    step = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    first = assessment.write(tmp_path / "old")
    second = assessment.write(tmp_path / "new", gates="best.roc_auc>=0.5", baseline=first / "report.json")
    summary = (second / "summary.md").read_text(encoding="utf-8")
    assert "`best.roc_auc>=0.5` | ✅ pass" in summary and "Δ vs baseline" in summary and "+0.000" in summary
    assert step.read_text(encoding="utf-8").count("### dladvisor:") == 2  # appended by each write


@pytest.mark.parametrize("verdict", ["PASS", "WARN", "FAIL"])
def test_passed_is_the_gate_commands_exit_code(assessment, tmp_path, verdict):
    judged = assessment.model_copy(update={
        "recommendation": assessment.recommendation.model_copy(update={"verdict": verdict}),
    })
    saved = judged.write(tmp_path / verdict) / "report.json"
    runner = CliRunner()
    for fail_on_warn, gates in ((False, []), (True, []), (False, ["best.roc_auc>=0.5"]), (False, ["rows>1000"])):
        expressions = ["verdict!=FAIL", *(["verdict!=WARN"] if fail_on_warn else []), *gates]
        exit_code = runner.invoke(app, ["gate", str(saved), *(a for e in expressions for a in ("--gate", e))]).exit_code
        assert judged.passed(fail_on_warn=fail_on_warn, gates=gates) == (exit_code == 0), (fail_on_warn, gates)
    assert judged.passed() == (verdict != "FAIL")
    assert judged.passed(fail_on_warn=True) == (verdict == "PASS")
    assert not judged.passed(gates="rows>1000")  # one gate as a string


def test_a_path_gives_the_report_the_cli_gives(cancer_csv, tmp_path):
    api = dladvisor.assess(cancer_csv, candidates="linear", out=tmp_path / "api", **QUICK)
    assert api.dataset.source == str(cancer_csv)
    cli = tmp_path / "cli"
    result = CliRunner().invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--folds", "3", "-c", "linear",
                                      "--no-learning-curves", "--time-budget", "2m", "--out", str(cli)])
    assert result.exit_code == 0, result.output
    from_cli = json.loads((cli / "report.json").read_text())
    from_api = json.loads(api.to_json())
    from_api["config"]["out"] = from_cli["config"]["out"]
    assert without_volatile(from_api) == without_volatile(from_cli)


def test_the_earlier_form_with_an_assess_config_still_works(cancer_frame):
    from dladvisor.config import AssessConfig

    config = AssessConfig(data="cancer-80", target="diagnosis", folds=3, candidates=("linear",), learning_curves=False)
    assessment = dladvisor.assess(config, frame=cancer_frame)
    assert assessment.config == config and assessment.benchmark.get("linear").status == "ok"
    with pytest.raises(dladvisor.UserError, match="either inside the AssessConfig"):
        dladvisor.assess(config, frame=cancer_frame, folds=4)


@pytest.mark.parametrize(("options", "message"), [
    ({"metric": "auc"}, "Unknown --metric 'auc'; did you mean 'roc_auc'?"),
    ({"time_budgt": "1m"}, "Unknown option 'time_budgt'; did you mean 'time_budget'?"),
    ({"folds": 1}, "--folds must be at least 2"),
    ({"folds": "five"}, "Cannot read --folds 'five'"),
    ({"time_budget": 0}, "--time-budget must be a positive duration"),
    ({"max_rows": -3}, "Cannot read --max-rows '-3'"),
    ({"candidates": ["linear", "xgbost"]}, "Did you mean 'xgboost'?"),
    ({"device": "gpu"}, "Unknown --device 'gpu'; did you mean 'cuda'?"),
    ({"stakes": "extreme"}, "Unknown --stakes 'extreme'"),
    ({"sensitive": "age", "drop": ["age"]}, "--drop 'age' is also given to --sensitive"),
])
def test_bad_options_fail_before_any_data_is_read(tmp_path, options, message):
    missing = tmp_path / "not-there.csv"  # reading it would fail with "File not found"
    with pytest.raises(dladvisor.UserError) as caught:
        dladvisor.assess(missing, target="y", **options)
    error = str(caught.value)
    assert message in error and "\n" not in error
    assert "('" not in error and "['" not in error  # lists read as lists, never as a Python tuple or list


def test_assess_refuses_what_is_neither_a_table_nor_a_path():
    with pytest.raises(dladvisor.UserError, match="takes a pandas DataFrame or a file path, not list"):
        dladvisor.assess([1, 2, 3], target="diagnosis")
