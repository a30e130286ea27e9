from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dladvisor.cli import app

runner = CliRunner()


@pytest.fixture
def cancer_csv(tmp_path, cancer_frame):
    path = tmp_path / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", [
    [], ["assess"], ["profile"], ["demo"], ["estimate"], ["gate"], ["compare"], ["candidates"], ["playbooks"],
    ["playbooks", "list"], ["playbooks", "show"], ["playbooks", "validate"], ["playbooks", "path"],
])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_help_does_not_import_heavy_libraries():
    heavy = "('sklearn', 'xgboost', 'torch', 'pandas')"
    code = f"import sys, dladvisor.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "dladvisor", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "assess" in result.stdout


def test_assess_writes_a_report(cancer_csv, tmp_path):
    out = tmp_path / "reports" / "cancer"
    result = runner.invoke(app, ["assess", str(cancer_csv), "--target", "diagnosis", "--folds", "3", "--out", str(out),
                                 "--preset", "fast"])
    assert result.exit_code == 0, result.output
    assert "Leaderboard" in result.output and "· confidence" in result.output
    assert (out / "report.md").exists() and (out / "plots" / "leaderboard.png").exists()
    facts = json.loads((out / "report.json").read_text())
    assert facts["config"]["folds"] == 3 and facts["dataset"]["rows"] == 80 and facts["config"]["preset"] == "fast"
    assert {c["name"] for c in facts["benchmark"]["candidates"]} == {"dummy", "linear", "lightgbm", "mlp"}


def test_assess_with_a_subset_of_candidates_and_a_time_budget(cancer_csv, tmp_path):
    out = tmp_path / "quick"
    result = runner.invoke(app, [
        "assess", str(cancer_csv), "-t", "diagnosis", "--folds", "3", "-c", "linear", "--time-budget", "2m",
        "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    names = [c["name"] for c in json.loads((out / "report.json").read_text())["benchmark"]["candidates"]]
    assert names == ["dummy", "linear"]


def test_profile_prints_json_on_stdout(cancer_csv):
    result = runner.invoke(app, ["profile", str(cancer_csv), "--target", "diagnosis", "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert profile["rows"] == 80 and profile["class_counts"]["malignant"] > 0


def test_max_rows_benchmarks_a_stratified_sample_and_the_report_says_so(cancer_csv, tmp_path):
    out = tmp_path / "capped"
    result = runner.invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--folds", "3", "-c", "linear",
                                 "--no-learning-curves", "--max-rows", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "report.json").read_text())
    assert facts["profile"]["rows"] == facts["dataset"]["rows"] == 80  # the profile read every row
    assert facts["dataset"]["row_sample"] == {"rows": 60, "of_rows": 80, "method": "stratified", "seed": 0,
                                              "statement": "a stratified sample of 60 of 80 rows",
                                              "limited_by": "--max-rows", "basis": ""}
    markdown = (out / "report.md").read_text()
    assert "benchmarked on a stratified sample of 60 of 80 rows" in markdown
    assert "no learning curves were drawn, so this run cannot say whether more rows would matter" in markdown


def test_assess_reads_a_folder_of_parquet_files_and_samples_it(cancer_csv, tmp_path):
    import pandas as pd

    table = pd.read_csv(cancer_csv)
    folder = tmp_path / "parts"
    folder.mkdir()
    for number, start in enumerate(range(0, len(table), 30)):  # 3 files, as Spark or Dask write a table
        table.iloc[start: start + 30].to_parquet(folder / f"part-{number}.parquet", index=False)
    out = tmp_path / "report"
    result = runner.invoke(app, ["assess", str(folder), "-t", "diagnosis", "--folds", "3", "-c", "linear",
                                 "--no-learning-curves", "--max-rows", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    facts = json.loads((out / "report.json").read_text())
    assert facts["profile"]["rows"] == 80 and facts["dataset"]["row_sample"]["rows"] == 60  # streamed, sampled
    whole = json.loads(runner.invoke(app, ["profile", str(cancer_csv), "-t", "diagnosis", "--json"]).stdout)
    assert facts["profile"]["class_counts"] == whole["class_counts"]
    assert facts["profile"]["duplicate_rows"] == whole["duplicate_rows"]


def test_profile_says_when_it_sampled(cancer_csv, monkeypatch):
    from dladvisor import profile

    monkeypatch.setattr(profile, "LEAKAGE_SAMPLE_ROWS", 50)
    result = runner.invoke(app, ["profile", str(cancer_csv), "--target", "diagnosis"])
    assert result.exit_code == 0, result.output
    assert "Checks run on a seeded sample" in result.output and "50 of 80 rows" in result.output


def _bad_inputs(tmp_path):
    files = {
        "empty.csv": b"",
        "header.csv": b"a,b,label\n",
        "garbage.csv": b"\x00\xff\x00\xfe" * 100,
        "table.xlsx": b"PK\x03\x04",
        "one_class.csv": b"a,label\n1,x\n2,x\n3,x\n",
        "no_target.csv": b"a,label\n1,\n2,\n3,\n",
        "ok.csv": b"a,label\n" + b"".join(f"{i},{i % 2}\n".encode() for i in range(20)),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return [
        (["assess", str(tmp_path / "missing.csv")], "File not found"),
        (["assess", str(tmp_path / "empty.csv")], "empty"),
        (["assess", str(tmp_path / "header.csv")], "no data rows"),
        (["assess", str(tmp_path / "garbage.csv")], "not text"),
        (["assess", str(tmp_path / "table.xlsx")], "Unsupported file type"),
        (["assess", str(tmp_path / "one_class.csv")], "single value"),
        (["assess", str(tmp_path / "no_target.csv")], "empty in all"),
        (["assess", str(tmp_path / "ok.csv"), "--target", "lable"], "did you mean 'label'"),
        (["assess", str(tmp_path / "ok.csv"), "--time-budget", "soon"], "Cannot read duration"),
        (["assess", str(tmp_path / "ok.csv"), "--folds", "1"], "at least 2"),
        (["assess", str(tmp_path / "ok.csv"), "--max-rows", "lots"], "Cannot read --max-rows 'lots'"),
        (["assess", str(tmp_path / "ok.csv"), "--max-rows", "-5"], "Cannot read --max-rows '-5'"),
        (["assess", str(tmp_path / "ok.csv"), "--task", "banana"], "Unknown task"),
        (["assess", str(tmp_path / "ok.csv"), "-c", "xgbost"], "Did you mean 'xgboost'"),
        (["assess", str(tmp_path / "ok.csv"), "--serving", "nightly"], "Unknown --serving 'nightly'"),
        (["assess", str(tmp_path / "ok.csv"), "--peak-factor", "0.5"], "--peak-factor must be at least 1"),
        (["profile", str(tmp_path / "empty.csv")], "empty"),
    ]


def test_bad_input_is_one_red_line_and_exit_code_2(tmp_path):
    reports = tmp_path / "reports"
    for args, message in _bad_inputs(tmp_path):
        result = runner.invoke(app, [*args, "--out", str(reports / "x")] if args[0] == "assess" else args)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip() and "━" not in line]
        errors = [line for line in lines if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], (args, result.output)
        assert "Traceback" not in result.output
    assert not reports.exists()  # nothing half-written


@pytest.mark.parametrize(("extra", "message"), [
    (["--metric", "auc"], "Unknown --metric 'auc'; did you mean 'roc_auc'? Metrics: roc_auc, accuracy,"),
    (["--metric", "rmse", "--task", "binary"], "--metric rmse does not apply to a binary target; use one of roc_auc,"),
    (["--device", "tpu"], "Unknown --device 'tpu'; use auto, cpu or cuda."),
    (["--device", "gpu"], "did you mean 'cuda'?"),
    (["-c", "linear", "-c", "xgbost"], "Unknown candidate 'xgbost'. Did you mean 'xgboost'?"),
    (["--folds", "1"], "--folds must be at least 2"),
    (["--time-budget", "0s"], "must be longer than zero"),
    (["--max-rows", "lots"], "Cannot read --max-rows 'lots'"),
    (["--task", "banana"], "Unknown task 'banana'"),
    (["--gate", "best.roc_auc=>0.5"], "Cannot read gate"),
    (["--playbook", "hgh-stakes"], "did you mean 'high-stakes'?"),
    (["--playbook", "mine.yaml"], "Playbook file 'mine.yaml' not found"),
    (["--stakes", "extreme"], "Unknown --stakes 'extreme'"),
    (["--encoding", "latin-99"], "Unknown --encoding 'latin-99'"),
    (["--retrain", "hourly"], "Unknown --retrain 'hourly'"),
    (["--serving", "nightly"], "Unknown --serving 'nightly'"),
    (["--peak-factor", "0.5"], "--peak-factor must be at least 1"),
    (["--predictions-per-month", "-1"], "--predictions-per-month must be zero or more"),
    (["--price-table", "no-prices.yaml"], "Price table no-prices.yaml not found"),
    (["--gpu-hourly", "0"], "--gpu-hourly must be a positive price"),
    (["--target", "y", "--sensitive", "y"], "--sensitive 'y' is the target"),
    (["--drop", "age", "--group-col", "age"], "--drop 'age' is also given to --group-col"),
    (["--out", "{file}/report"], "cannot be created"),
    (["--junit", "{file}/gates.xml"], "cannot be created"),
])
def test_every_option_is_checked_before_the_data_is_read(tmp_path, extra, message):
    """The data file does not exist: reading it would fail with 'File not found', so the option's error came first."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    extra = [arg.replace("{file}", str(a_file)) for arg in extra]
    out = [] if "--out" in extra else ["--out", str(tmp_path / "out")]
    result = runner.invoke(app, ["assess", str(tmp_path / "missing.csv"), *out, *extra])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert "('" not in lines[0] and "['" not in lines[0]  # lists read as lists, not as Python tuples
    assert not (tmp_path / "out").exists()


def test_a_metric_that_does_not_suit_the_inferred_task_names_the_task_and_the_metrics(cancer_csv, tmp_path):
    result = runner.invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--metric", "r2", "-c", "linear",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert ("--metric r2 does not apply to a binary target; use one of roc_auc, accuracy, balanced_accuracy, "
            "f1_macro, log_loss.") in " ".join(result.output.split())


def test_out_folder_with_user_files_is_refused_before_any_work(cancer_csv, tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "todo.txt").write_text("keep")
    result = runner.invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--out", str(precious)])
    assert result.exit_code == 2 and "not a dladvisor report" in result.output
    assert [p.name for p in precious.iterdir()] == ["todo.txt"]


@pytest.fixture
def reviews_csv(tmp_path, reviews_frame):
    path = tmp_path / "reviews.csv"
    reviews_frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "tpu"], "Unknown --device"),
        (["-c", "image_frozen"], "needs image columns"),
        (["-c", "text_frozen", "--text-model", "no-such-org/no-such-model-dladvisor"], "--text-model all-MiniLM-L6-v2"),
    ],
)
def test_deep_options_fail_clearly(reviews_csv, tmp_path, hub_offline, extra, message):
    out = tmp_path / "out"
    result = runner.invoke(app, ["assess", str(reviews_csv), "-t", "sentiment", "--folds", "3", "--out", str(out),
                                 *extra])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_cuda_without_a_gpu_is_a_user_error(reviews_csv, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = str(tmp_path / "o")
    result = runner.invoke(app, ["assess", str(reviews_csv), "-t", "sentiment", "--device", "cuda", "--out", out])
    assert result.exit_code == 2 and "no CUDA GPU" in result.output


def test_unknown_demo_kind():
    result = runner.invoke(app, ["demo", "--kind", "audio"])
    assert result.exit_code == 2 and "Unknown demo kind 'audio'" in result.output


def test_estimate_command_prints_json(tmp_path):
    result = runner.invoke(app, ["estimate", "mlp", "--rows", "50000", "--features", "5", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.stdout)
    assert estimate["rows"] == 50000 and estimate["train_usd"] > 0 and "Projection, not a measurement" in result.output


def test_bad_price_table_fails_before_training(cancer_csv, tmp_path):
    table = tmp_path / "prices.yaml"
    table.write_text("version: 1\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--price-table", str(table),
                                 "--out", str(out)])
    assert result.exit_code == 2 and "price" in result.output and "benchmark" not in result.output
    assert not out.exists()
    result = runner.invoke(app, ["assess", str(cancer_csv), "-t", "diagnosis", "--retrain", "hourly"])
    assert result.exit_code == 2 and "Unknown --retrain 'hourly'" in result.output


# -- CI gates ------------------------------------------------------------------------------------------------------


def test_gate_command_exit_codes_and_junit(report_json, tmp_path):
    junit = tmp_path / "ci" / "gates.xml"
    passing = runner.invoke(app, ["gate", str(report_json), "--gate", "best.roc_auc>=0.5", "--junit", str(junit)])
    assert passing.exit_code == 0, passing.output
    assert junit.is_file() and "<testsuites" in junit.read_text()
    failing = runner.invoke(app, ["gate", str(report_json), "--gate", "best.roc_auc>=0.5", "--gate",
                                  "best.roc_auc>=1.01", "--junit", str(junit)])
    assert failing.exit_code == 1
    assert "FAIL" in failing.output and 'name="best.roc_auc&gt;=1.01"' in junit.read_text()
    malformed = runner.invoke(app, ["gate", str(report_json), "--gate", "best.roc_auc=>0.5"])
    assert malformed.exit_code == 2 and "Cannot read gate" in malformed.output
    listed = runner.invoke(app, ["gate", str(report_json), "--list"])
    assert listed.exit_code == 0 and "best.roc_auc\t" in listed.stdout


def test_assess_with_a_failing_gate_exits_1_after_writing_the_report(cancer_csv, tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(app, ["assess", str(cancer_csv), "--target", "diagnosis", "--folds", "3", "-c", "linear",
                                 "--no-learning-curves", "--out", str(out), "--gate", "best.roc_auc>1.5"])
    assert result.exit_code == 1, result.output
    assert (out / "report.md").is_file()


def test_malformed_gate_and_unknown_playbook_fail_before_training(cancer_csv, tmp_path):
    for extra, message in ((["--gate", "verdict>>PASS"], "Cannot read gate"),
                           (["--playbook", "hgh-stakes"], "did you mean 'high-stakes'"),
                           (["--stakes", "extreme"], "Unknown --stakes")):
        out = tmp_path / "never"
        result = runner.invoke(app, ["assess", str(cancer_csv), "--target", "diagnosis", "--out", str(out), *extra])
        assert result.exit_code == 2 and message in result.output
        assert not out.exists()


def test_compare_catches_a_degraded_run(report_json, tmp_path):
    report = json.loads(report_json.read_text())
    for candidate in report["benchmark"]["candidates"]:
        if candidate["status"] == "ok":
            candidate["metrics"]["roc_auc"]["mean"] -= 0.05
    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps(report))
    assert runner.invoke(app, ["compare", str(report_json), str(report_json)]).exit_code == 0
    result = runner.invoke(app, ["compare", str(report_json), str(worse)])
    assert result.exit_code == 1 and "regression" in result.output
    assert runner.invoke(app, ["compare", str(report_json), str(worse), "--no-fail"]).exit_code == 0


def test_playbooks_path_lists_the_bundled_then_the_user_folders(tmp_path, monkeypatch):
    from dladvisor.playbooks import BUNDLED_DIR

    monkeypatch.setenv("DLADVISOR_PLAYBOOKS", str(tmp_path / "team"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "acme.yaml").write_text("include: default\nname: acme\nversion: 1\n")
    result = runner.invoke(app, ["playbooks", "path"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{BUNDLED_DIR}\tbundled", f"{tmp_path / 'team'}\t$DLADVISOR_PLAYBOOKS",
        f"{tmp_path / 'config' / 'dladvisor' / 'playbooks'}\tuser config (does not exist yet)",
    ]
    listed = runner.invoke(app, ["playbooks", "list"])
    row = next(line for line in listed.output.splitlines() if line.startswith("│ acme "))
    assert listed.exit_code == 0 and "bundled" not in row and "/" in row


def test_playbooks_commands(tmp_path):
    listed = runner.invoke(app, ["playbooks", "list"])
    assert listed.exit_code == 0 and "high-stakes-health" in listed.output
    shown = runner.invoke(app, ["playbooks", "show", "employment"])
    assert shown.exit_code == 0 and "max_selection_rate_gap" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nstakes: low\ndescription: d\ncriteria:\n  max_eec: {limit: 1}\n")
    result = runner.invoke(app, ["playbooks", "validate", str(bad)])
    assert result.exit_code == 2 and "unknown criterion 'max_eec'" in result.output
    good = tmp_path / "good.yaml"
    good.write_text("include: default\nname: mine\nversion: 3\n")
    assert runner.invoke(app, ["playbooks", "validate", str(good)]).exit_code == 0


@pytest.mark.parametrize(("raised", "code", "message"), [
    (KeyboardInterrupt, 130, "interrupted during the benchmark stage"),
    (RuntimeError("boom"), 3, "this is a bug in dladvisor"),
])
def test_interruptions_and_internal_errors_leave_no_report(cancer_csv, tmp_path, monkeypatch, raised, code, message):
    import dladvisor.pipeline as pipeline

    def stopped(config, frame=None, progress=None):
        progress("benchmark", 0, 5)
        raise raised

    monkeypatch.setattr(pipeline, "assess", stopped)
    out = tmp_path / "run"
    result = runner.invoke(app, ["assess", str(cancer_csv), "--out", str(out)])
    assert result.exit_code == code and message in result.output.replace("\n", " ")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == [cancer_csv.name]


def test_sigterm_stops_a_run_within_seconds(cancer_csv, tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "dladvisor", "assess", str(cancer_csv), "-t", "diagnosis", "--out", str(out)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    time.sleep(6)  # past the imports, inside the pipeline
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and time.perf_counter() - sent < 6  # no wait for workers still importing
    assert "interrupted" in err and not out.exists()


def test_candidates_lists_every_name_the_candidate_option_takes():
    from dladvisor.benchmark import list_candidates

    listed = json.loads(runner.invoke(app, ["candidates", "--json"]).stdout)
    assert [c["name"] for c in listed] == [s.name for s in list_candidates()]
    by_name = {c["name"]: c for c in listed}
    assert by_name["lightgbm"]["explainer"] == "exact tree SHAP" and "fast" in by_name["lightgbm"]["presets"]
    assert by_name["tabm"]["family"] == "deep" and by_name["tabm"]["presets"] == ["standard", "thorough"]
    fast = json.loads(runner.invoke(app, ["candidates", "--preset", "fast", "--task", "regression", "--json"]).stdout)
    assert {c["name"] for c in fast} >= {"dummy", "linear", "lightgbm", "mlp"} and "catboost" not in str(fast)
    table = runner.invoke(app, ["candidates"], env={"COLUMNS": "160"})
    assert table.exit_code == 0 and "catboost" in table.output
    bad = runner.invoke(app, ["candidates", "--preset", "quick"])
    assert bad.exit_code == 2 and "Unknown --preset 'quick'" in bad.output
