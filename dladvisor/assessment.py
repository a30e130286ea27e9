"""The `Assessment`: every stage's result in one frozen object, which every report renders."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from dladvisor import __version__
from dladvisor._frozen import Frozen
from dladvisor.benchmark import BenchmarkResult
from dladvisor.budget import StageTime
from dladvisor.checks import ChecksReport
from dladvisor.config import AssessConfig
from dladvisor.cost import CostReport, gpu_name
from dladvisor.explain import ExplanationReport
from dladvisor.load import Dataset, RowSample
from dladvisor.playbooks import Playbook
from dladvisor.profile import DatasetProfile
from dladvisor.recommend import Recommendation

SCHEMA_VERSION = "1.1"  # 1.1: a loss-curve epoch's train_loss may be null (RealMLP logs validation only)
# JSON keys whose values are measured timings or memory: they differ between runs of the same seed.
VOLATILE_KEYS = frozenset({
    "timing", "cost", "created_at", "wall_seconds", "seconds", "samples_per_second", "ms_per_row", "compile_seconds",
    "timed_checks",
})
LIBRARIES = ("dladvisor", "numpy", "pandas", "scikit-learn", "xgboost", "scipy", "torch", "transformers", "timm")


class DatasetInfo(Frozen):
    source: str
    fingerprint: str
    rows: int  # rows of the table as loaded (the profile's); `row_sample` says how many the benchmark read
    target: str
    task: str
    task_rule: str
    classes: tuple[str, ...]
    sensitive: tuple[str, ...] = ()
    sensitive_as_feature: bool = False
    positive_class: str | None = None
    positive_rule: str = ""
    dropped: tuple[str, ...] = ()
    known_at_prediction: tuple[str, ...] = ()
    row_sample: RowSample | None = None  # set when the table had more rows than --max-rows

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetInfo:
        sample = dataset.row_sample
        return cls(
            source=dataset.source, fingerprint=dataset.fingerprint, rows=sample.of_rows if sample else dataset.n_rows,
            target=dataset.target_name, task=dataset.task, task_rule=dataset.task_rule, classes=dataset.classes,
            sensitive=dataset.sensitive_columns, sensitive_as_feature=dataset.sensitive_as_feature,
            positive_class=dataset.positive_class, positive_rule=dataset.positive_rule,
            dropped=dataset.dropped_columns, known_at_prediction=dataset.trusted_columns, row_sample=sample,
        )


class RunInfo(Frozen):
    schema_version: str
    created_at: str
    seed: int
    wall_seconds: float
    libraries: dict[str, str]
    hardware: dict[str, Any]

    @classmethod
    def now(cls, *, seed: int, wall_seconds: float, device: str = "cpu") -> RunInfo:
        return cls(
            schema_version=SCHEMA_VERSION,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            seed=seed,
            wall_seconds=round(wall_seconds, 2),
            libraries=library_versions(),
            hardware=hardware_facts(device),
        )


class Assessment(Frozen):
    run: RunInfo
    config: AssessConfig
    dataset: DatasetInfo
    profile: DatasetProfile
    benchmark: BenchmarkResult
    cost: CostReport
    explanation: ExplanationReport
    checks: ChecksReport
    playbook: Playbook
    recommendation: Recommendation
    # Seconds per stage against its share of --time-budget, and what each stage cut to keep to it.
    stages: tuple[StageTime, ...] = ()
    # Where the wall clock, not the data and options, decided a size that changes results: then the same seed may
    # give different numbers next time. Empty: reproducible apart from timings.
    clock_cuts: tuple[str, ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    # -- the Python API: what a notebook or script does with a finished assessment ---------------------------------

    def to_json(self) -> str:
        """The JSON of report.json, exactly as the CLI writes it."""
        from dladvisor.report import render_json

        return render_json(self)

    def write(self, folder: str | os.PathLike | None = None, *, gates: Iterable[str] = (),
              baseline: str | os.PathLike | dict | None = None) -> Path:
        """Write what the CLI writes (report.md, report.html, report.json, plots/, summary.md) into `folder`
        (default: the `out` option, else reports/<data name>); an earlier report there is replaced only once the new
        one is complete. summary.md shows `gates` and the deltas against `baseline` (an earlier report.json), and is
        appended to $GITHUB_STEP_SUMMARY when that is set, as the CLI does."""
        from dladvisor.config import default_out_dir
        from dladvisor.gate import load_report
        from dladvisor.report import write_report
        from dladvisor.report.summary import write_ci_summary

        gates = [gates] if isinstance(gates, str) else list(gates)
        if baseline is not None and not isinstance(baseline, dict):
            baseline = load_report(Path(baseline))
        out_dir = write_report(self, Path(folder or self.config.out or default_out_dir(self.config.data)))
        write_ci_summary(out_dir, gates, baseline)
        return out_dir

    @property
    def export_note(self) -> str:
        """One line on the exported model: where it is, or why the recommendation ships none."""
        from dladvisor.export import not_exportable

        reason = not_exportable(self)
        return f"not exported: {reason}" if reason else "model/ beside this report (manifest.json says how to load it)"

    def export_model(self, path: str | os.PathLike) -> Path | None:
        """Refit the recommended model on every row and save it (skops, no pickle) with manifest.json in `path`.
        Returns the folder, or None when the recommendation ships no model (`export_note` says why)."""
        from dladvisor.export import export_model

        return None if export_model(self, Path(path)) else Path(path)

    def passed(self, fail_on_warn: bool = False, gates: Iterable[str] = ()) -> bool:
        """The CI gate: False when the playbook's verdict is FAIL (or WARN, with `fail_on_warn`) or a gate fails.

        Gates are the CLI's (`"best.roc_auc>=0.85"`), checked by the same code on the same JSON: this is True exactly
        when `dladvisor gate report.json --gate 'verdict!=FAIL' [--gate 'verdict!=WARN'] [--gate G ...]` exits 0.
        """
        from dladvisor.gate import evaluate_gates

        gates = [gates] if isinstance(gates, str) else list(gates)
        expressions = ["verdict!=FAIL", *(["verdict!=WARN"] if fail_on_warn else []), *gates]
        return all(result.passed for result in evaluate_gates(json.loads(self.to_json()), expressions))

    def _repr_markdown_(self) -> str:
        from dladvisor.notebook import summary_markdown

        return summary_markdown(self)

    def _repr_html_(self) -> str:
        from dladvisor.notebook import summary_html

        return summary_html(self)

    def __repr__(self) -> str:  # pydantic's would print every stage's result
        rec = self.recommendation
        return f"<Assessment {rec.verdict} ({rec.confidence} confidence) of {self.dataset.source!r}: {rec.headline}>"


def without_volatile(value: Any) -> Any:
    """A report's JSON without its timing keys (`VOLATILE_KEYS`): what the same seed must reproduce exactly."""
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = __version__ if name == "dladvisor" else metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def hardware_facts(device: str = "cpu") -> dict[str, Any]:
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    return {
        "machine": platform.machine(),
        "system": platform.system(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory_gb": memory_gb,
        "accelerator": gpu_name() if device == "cuda" else "none used",
    }


def benchmark_cuts(benchmark: BenchmarkResult) -> tuple[str, ...]:
    """What the benchmark left out or shortened to stay inside its share of the time budget."""
    cuts = []
    for c in benchmark.candidates:
        if c.status == "skipped" and c.reason.startswith("time budget"):
            cuts.append(f"{c.label}: {c.reason.removeprefix('time budget: ')}")
        for log in c.training[:1]:
            if log.rows_used < log.rows_available:
                cuts.append(f"{c.label}: trained on {log.rows_used:,} of {log.rows_available:,} rows, as many as "
                            "its time share afforded on this machine")
            elif log.stopped_because.startswith("time budget"):
                cuts.append(f"{c.label}: training stopped by the time budget after {log.epochs_run} epoch(s)")
    return (*cuts, *benchmark.cuts)


def explain_cuts(benchmark: BenchmarkResult, explanation: ExplanationReport) -> tuple[str, ...]:
    """What the explain stage's budget cut, model by model: planned row cuts, then the clock's."""
    skipped = tuple(f"{benchmark.get(name).label}: not explained; {explanation.not_explained[name]}"
                    for name in explanation.cut_for_budget)
    return skipped + tuple(f"{benchmark.get(e.candidate).label}: {note}" for e in explanation.candidates
                           for note in (e.budget_note, e.cut_short) if note)


def clock_cuts(benchmark: BenchmarkResult, explanation: ExplanationReport, checks: ChecksReport) -> tuple[str, ...]:
    """The cuts the wall clock decided (rather than the data and options): the same seed may differ next run."""
    cuts = list(benchmark_cuts(benchmark))
    for e in explanation.candidates:
        if e.cut_short:
            cuts.append(f"{benchmark.get(e.candidate).label}'s explanation: {e.cut_short}")
    return (*cuts, *checks.cuts)
