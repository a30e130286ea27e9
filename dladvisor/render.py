"""Terminal rendering with rich: stage progress bars, the leaderboard and the verdict panel (all on stderr)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dladvisor.profile import DatasetProfile

# The assessment, benchmark and cost modules import scikit-learn (~90 MB), which `dladvisor profile` does without:
# they are imported where they are used.
if TYPE_CHECKING:
    from dladvisor.assessment import Assessment

VERDICT_STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "red"}
SEVERITY_STYLE = {"critical": "red", "warning": "yellow", "info": "dim"}


class StageProgress:
    """A progress bar per pipeline stage; pass the instance as the pipeline's `progress` callback."""

    def __init__(self, console: Console):
        self._progress = Progress(
            TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self._tasks: dict[str, int] = {}
        self.stage = "start"  # the stage last reported, so an interruption can say where it stopped

    def __enter__(self) -> StageProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage = stage
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


def summary(console: Console, assessment: Assessment, out_dir: Path) -> None:
    from dladvisor.benchmark import METRIC_LABELS, format_number
    from dladvisor.cost import format_usd

    bench = assessment.benchmark
    metric = METRIC_LABELS[bench.primary_metric]
    table = Table(title=f"Leaderboard ({metric}, 95% CI)", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Candidate")
    table.add_column(metric, justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("Evaluated on")
    table.add_column("Fit s/fold", justify="right")
    table.add_column("$ over 12 months", justify="right")
    chosen = assessment.recommendation.candidate
    for rank, candidate in enumerate(bench.ranked(), start=1):
        score = bench.primary(candidate)
        style = "bold cyan" if candidate.name == chosen else None
        cost = assessment.cost.get(candidate.name)
        table.add_row(
            str(rank), candidate.label, format_number(score.mean),
            f"{format_number(score.ci_low)}–{format_number(score.ci_high)}", candidate.evaluation,
            f"{candidate.timing.fit_seconds_per_fold:.2f}", format_usd(cost.total_usd_12_months if cost else None),
            style=style,
        )
    for candidate in bench.candidates:
        if candidate.status != "ok":
            table.add_row("–", candidate.label, candidate.status, "", "", "", style="dim")
    console.print(table)
    recommendation = assessment.recommendation
    body = "\n".join([f"[bold]{recommendation.headline}[/]", ""] + [f"• {r}" for r in recommendation.reasons])
    colour = VERDICT_STYLE[recommendation.verdict]
    title = (f"[bold {colour}]{recommendation.verdict}[/] · confidence {recommendation.confidence} · "
             f"{recommendation.playbook}")
    console.print(Panel(body, title=title, border_style=colour))
    console.print(f"Report: [bold]{out_dir / 'report.md'}[/] and {out_dir / 'report.json'}")


def profile_table(console: Console, profile: DatasetProfile) -> None:
    console.print(
        f"[bold]{profile.rows:,} rows[/], {profile.feature_columns} feature columns; target "
        f"[bold]{profile.target}[/] → {profile.task} ({profile.task_rule})"
    )
    table = Table(title="Columns", title_justify="left")
    for name, justify in (("Column", "left"), ("Kind", "left"), ("Missing", "right"), ("Distinct", "right")):
        table.add_column(name, justify=justify)
    for column in profile.columns:
        distinct = f"{'>' if column.cardinality_capped else ''}{column.cardinality:,}"
        table.add_row(column.name, column.kind, f"{column.missing_share:.1%}", distinct)
    console.print(table)
    if profile.class_counts:
        balance = ", ".join(f"{name}: {count:,}" for name, count in profile.class_counts.items())
        console.print(f"Class balance: {balance} (imbalance {profile.imbalance_ratio:.1f}:1)")
    console.print(f"Duplicates: {profile.duplicate_rows}; conflicting labels: {profile.conflicting_duplicate_rows}")
    if profile.sampled_checks:
        sampled = "; ".join(f"{s.check}: {s.rows:,} of {s.of_rows:,} rows" for s in profile.sampled_checks)
        console.print(f"Checks run on a seeded sample (the rest read every row): {sampled}")
    console.print(f"Deep learning data: {profile.data_sufficiency.verdict}: {profile.data_sufficiency.reason}")
    for alert in profile.alerts:
        style = SEVERITY_STYLE[alert.severity]
        console.print(f"[{style}]{alert.severity:>8}[/] {alert.message}", highlight=False)


def estimate_table(console: Console, estimate) -> None:
    from dladvisor.cost import format_hours, format_usd

    e = estimate
    title = f"Estimate: {e.label} on {e.rows:,} rows x {e.epochs} epoch(s), {e.inputs}"
    table = Table(title=title, title_justify="left")
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_column("Range", justify="right")
    table.add_row(
        f"Training time on this {e.device.upper()}", format_hours(e.train_hours),
        f"{format_hours(e.train_hours_low)} – {format_hours(e.train_hours_high)}",
    )
    cost_range = f"{format_usd(e.train_usd_low)} – {format_usd(e.train_usd_high)}"
    table.add_row(f"Training cost on {e.priced_on}", format_usd(e.train_usd), cost_range)
    if e.forward_flops_per_sample:
        table.add_row("Forward FLOPs per sample (counted)", f"{e.forward_flops_per_sample:,.3g}", "")
    if e.gpu_projection_hours is not None:
        table.add_row(f"GPU projection from FLOPs ({e.gpu_instance}, {e.gpu_utilization})",
                      format_hours(e.gpu_projection_hours), format_usd(e.gpu_projection_usd))
    console.print(table)
    console.print(f"[dim]Projection, not a measurement: {e.method}. Prices read on {e.prices_read_on}. "
                  f"Took {e.seconds_spent:.1f} s.[/]")


def gate_table(console: Console, results) -> None:
    table = Table(title="Gates", title_justify="left")
    for name in ("Result", "Gate", "Actual"):
        table.add_column(name)
    for r in results:
        style = "green" if r.passed else "red"
        actual = f"{r.actual:.4g}" if isinstance(r.actual, float) else str(r.actual)
        table.add_row(f"[{style}]{'pass' if r.passed else 'FAIL'}[/]", r.gate.expression, actual)
    console.print(table)


def comparison_table(console: Console, comparison) -> None:
    if not comparison.same_data:
        console.print("[yellow]The two reports are on different data (fingerprints differ).[/]")
    if not comparison.changes:
        console.print(f"No change beyond the tolerance ({comparison.tolerance} {comparison.metric}).")
        return
    table = Table(title=f"Changes beyond {comparison.tolerance} {comparison.metric}", title_justify="left")
    for name in ("", "What", "Old", "New"):
        table.add_column(name)
    for c in comparison.changes:
        table.add_row("[red]regression[/]" if c.regression else "[dim]change[/]", c.what, c.old, c.new)
    console.print(table)
    console.print(f"{len(comparison.regressions)} regression(s).")


def candidate_table(console: Console, specs, methods: dict[str, str]) -> None:
    """Every candidate: the name `--candidate` and the gates use, what it is, and how it is tuned and explained."""
    table = Table(title="Candidates (simplest first; --json adds descriptions and tuning)", title_justify="left")
    table.add_column("Name", no_wrap=True)
    for name in ("Model", "Family", "Modality", "Tasks", "Presets", "Explained by"):
        table.add_column(name)
    for spec in specs:
        table.add_row(spec.name, spec.label, spec.family, spec.modality,
                      "all" if len(spec.tasks) == 3 else ", ".join(sorted(spec.tasks)), ", ".join(presets_of(spec)),
                      "–" if spec.is_baseline else methods[spec.explainer])
    console.print(table)


def presets_of(spec) -> list[str]:
    return ["fast", "standard", "thorough"] if spec.fast or spec.is_baseline else ["standard", "thorough"]


def playbook_list(console: Console, playbooks) -> None:
    from dladvisor.playbooks import is_bundled

    table = Table(title="Playbooks", title_justify="left")
    for name in ("Name", "Version", "Stakes", "For"):
        table.add_column(name)
    table.add_column("From", overflow="fold")  # a user playbook's whole path, never cut short
    for p in playbooks:
        table.add_row(p.name, str(p.version), p.stakes, ", ".join(p.examples) or p.description,
                      "bundled" if is_bundled(p.source) else p.source)
    console.print(table)


def playbook_detail(console: Console, playbook) -> None:
    from dladvisor.criteria import CRITERIA

    console.print(f"[bold]{playbook.name}[/] v{playbook.version} · {playbook.stakes} stakes · {playbook.source}")
    console.print(playbook.description)
    if playbook.intended_use:
        console.print(f"Intended use: {playbook.intended_use}")
    table = Table(title="Criteria", title_justify="left")
    table.add_column("Criterion", no_wrap=True)
    for name in ("Measures", "Limit", "On breach"):
        table.add_column(name)
    for name, criterion in playbook.criteria.items():
        spec = CRITERIA[name]
        table.add_row(name, spec.measures, spec.threshold(criterion.limit), criterion.on_breach)
    console.print(table)
    for risk in playbook.risks:
        console.print(f"• [bold]Risk:[/] {risk.risk} [dim]Mitigation:[/] {risk.mitigation}")
