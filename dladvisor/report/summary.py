"""CI summaries: a short `summary.md` for a job page, and a pull-request comment body from `compare`.

Both read saved report dicts (the `report.json` form), so they work on a run just written and on two old files alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SUMMARY_FILE = "summary.md"
MAX_LINES = 60  # a job summary is read at a glance; the full report is one click away
LEADERBOARD_ROWS = 5
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # GitHub Actions: Markdown appended here shows on the job's page


def render_summary(report: dict[str, Any], *, gates: list | None = None,
                   baseline: dict[str, Any] | None = None) -> str:
    """Verdict, reason, gates, the top of the leaderboard and, with a baseline run, what changed since it."""
    rec, bench = report["recommendation"], report["benchmark"]
    metric = bench["primary_metric"]
    labels = {c["name"]: c.get("label", c["name"]) for c in bench["candidates"]}
    source = report["dataset"]["source"]
    source = shown_path(Path(source)) if Path(source).is_absolute() else source
    lines = [f"### dladvisor: {rec['verdict']} — `{source}`", "", f"**{rec['headline']}**", ""]
    if rec.get("next_steps"):
        lines += [f"Next step: {rec['next_steps'][0]}", ""]
    if gates:
        lines += ["| Gate | Result | Value |", "|---|---|---|"]
        lines += [f"| `{g.gate.expression}` | {'✅ pass' if g.passed else '❌ fail'} | {_cell(g.actual)} |"
                  for g in gates]
        lines.append("")
    old_scores = _scores(baseline, metric) if baseline else {}
    scored = [c for c in bench["candidates"] if c["status"] == "ok" and c["metrics"][metric]["mean"] is not None]
    ranked = sorted(scored, key=lambda c: c["metrics"][metric]["mean"], reverse=bench["higher_is_better"])
    header = f"| # | Candidate | {metric} (95% CI) |" + (" Δ vs baseline |" if baseline else "")
    lines += [header, "|---|---|---|" + ("---:|" if baseline else "")]
    for rank, c in enumerate(ranked[:LEADERBOARD_ROWS], start=1):
        m = c["metrics"][metric]
        star = " ⭐" if c["name"] == rec.get("candidate") else ""
        row = f"| {rank} | {_cell(labels[c['name']])}{star} | {m['mean']:.3f} ({m['ci_low']:.3f}–{m['ci_high']:.3f}) |"
        if baseline:
            old = old_scores.get(c["name"])
            row += f" {m['mean'] - old:+.3f} |" if old is not None else " new |"
        lines.append(row)
    if len(ranked) > LEADERBOARD_ROWS:
        lines.append(f"\n{len(ranked) - LEADERBOARD_ROWS} more candidate(s) in the full report.")
    if baseline:
        old_rec = baseline["recommendation"]
        lines += ["", f"Baseline verdict: {old_rec['verdict']} → {rec['verdict']}"
                  f"{'' if old_rec['verdict'] == rec['verdict'] else ' (changed)'}; recommended "
                  f"{old_rec.get('candidate') or '–'} → {rec.get('candidate') or '–'}."]
        if baseline["dataset"]["fingerprint"] != report["dataset"]["fingerprint"]:
            lines.append("The baseline ran on different data (fingerprints differ), so deltas mix data and model.")
    lines += ["", "Full report: `report.md` / `report.html` in the report folder (artifact)."]
    text = "\n".join(lines[:MAX_LINES]) + "\n"
    return text.replace(report["dataset"]["source"], source)  # next steps quote the data path


def write_ci_summary(out_dir: Path, gates: list[str] = (), baseline: dict[str, Any] | None = None) -> Path:
    """summary.md for the report just written in `out_dir` (gates evaluated on its report.json), appended to
    $GITHUB_STEP_SUMMARY when that is set."""
    from dladvisor.gate import evaluate_gates, load_report

    report = load_report(Path(out_dir) / "report.json")
    return write_summary(out_dir, render_summary(report, gates=evaluate_gates(report, list(gates)), baseline=baseline))


def write_summary(out_dir: Path, text: str) -> Path:
    """Write summary.md into the report folder and append it to $GITHUB_STEP_SUMMARY when that is set."""
    path = Path(out_dir) / SUMMARY_FILE
    path.write_text(text, encoding="utf-8")
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:  # append: earlier steps' summaries stay
            handle.write(text + "\n")
    return path


def comparison_markdown(comparison, *, old_name: str, new_name: str) -> str:
    """A pull-request comment body: what changed between two runs, regressions first."""
    regressions = comparison.regressions
    status = f"❌ {len(regressions)} regression(s)" if regressions else "✅ no regression"
    lines = [f"### dladvisor compare: {status}", "",
             f"`{old_name}` → `{new_name}`; {comparison.metric}, tolerance {comparison.tolerance:g}."]
    if not comparison.same_data:
        lines += ["", "⚠️ The two runs used different data (fingerprints differ)."]
    if comparison.changes:
        lines += ["", "| Change | Old | New | Regression |", "|---|---|---|---|"]
        for c in sorted(comparison.changes, key=lambda c: not c.regression):
            lines.append(f"| {_cell(c.what)} | {_cell(c.old)} | {_cell(c.new)} | {'yes' if c.regression else 'no'} |")
    else:
        lines += ["", "Nothing changed beyond the tolerance."]
    return "\n".join(lines) + "\n"


def shown_path(path: Path) -> str:
    """A path as a report may show it: relative to the working folder when inside it, else its name alone."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def _scores(report: dict[str, Any], metric: str) -> dict[str, float]:
    if report["benchmark"]["primary_metric"] != metric:
        return {}
    return {c["name"]: c["metrics"][metric]["mean"] for c in report["benchmark"]["candidates"]
            if c["status"] == "ok" and c["metrics"][metric]["mean"] is not None}


def _cell(value: object) -> str:
    return "–" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
