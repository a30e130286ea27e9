"""How an `Assessment` shows itself in a notebook: a short summary (verdict, reason, best deep against best classical,
next step) as Markdown, and the same summary as HTML for front ends that render only that.

The full report stays `Assessment.write(folder)`; this is the glance a notebook cell gives.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from dladvisor.benchmark import METRIC_LABELS, format_number

if TYPE_CHECKING:
    from dladvisor.assessment import Assessment


def summary_markdown(assessment: Assessment) -> str:
    a, bench, rec = assessment, assessment.benchmark, assessment.recommendation
    metric = METRIC_LABELS[bench.primary_metric]
    lines = [
        f"**{rec.verdict}** · confidence {rec.confidence} · playbook `{rec.playbook}` · `{a.dataset.source}`: "
        f"{a.dataset.rows:,} rows, {a.dataset.task} target `{a.dataset.target}`",
        "",
        f"{rec.headline} {rec.confidence_reason}",
        "",
        f"| | Candidate | {metric} (95% CI) | Evaluated on |",
        "|---|---|---:|---|",
    ]
    for role, family in (("Best classical", "classical"), ("Best deep", "deep")):
        candidate = bench.best(family)
        if candidate is None:
            lines.append(f"| {role} | none ran | – | – |")
            continue
        score = bench.primary(candidate)
        interval = f"{format_number(score.ci_low)}–{format_number(score.ci_high)}"
        lines.append(f"| {role} | {_cell(candidate.label)} | {format_number(score.mean)} ({interval}) | "
                     f"{_cell(candidate.evaluation)} |")
    if bench.lift is not None:
        lift = bench.lift
        significance = "significant" if lift.significant else "not significant"
        lines.append(f"| Deep − classical | paired, {significance} | {lift.lift:+.3f} ({lift.ci_low:+.3f} to "
                     f"{lift.ci_high:+.3f}) | {lift.rows:,} rows both scored |")
    if rec.next_steps:
        lines += ["", f"**Next step:** {rec.next_steps[0]}"]
    lines += ["", "Full report with plots: `assessment.write(folder)`; the CI gate: `assessment.passed()`."]
    return "\n".join(lines) + "\n"


def summary_html(assessment: Assessment) -> str:
    return markdown_to_html(summary_markdown(assessment))


def markdown_to_html(markdown: str) -> str:
    """The Markdown `summary_markdown` writes (paragraphs, pipe tables, bold, italics, code) as escaped HTML; no
    dependency, as notebooks render `_repr_html_` where they do not render Markdown."""
    parts = []
    for block in markdown.strip().split("\n\n"):
        lines = block.splitlines()
        if len(lines) >= 2 and all(line.startswith("|") for line in lines):
            parts.append(_table(lines))
        else:
            parts.append(f"<p>{_inline(' '.join(lines))}</p>")
    return '<div class="dladvisor-summary">\n' + "\n".join(parts) + "\n</div>\n"


_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _table(lines: list[str]) -> str:
    rows = [[cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT.split(line.strip())[1:-1]] for line in lines]
    header, body = rows[0], rows[2:]  # rows[1] is the |---| rule
    head = "".join(f"<th>{_inline(cell)}</th>" for cell in header)
    rows_html = "".join("<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"


def _inline(text: str) -> str:
    """Code spans kept verbatim (escaped); bold and italics marked outside them."""
    parts = re.split(r"`([^`]+)`", text)  # odd items are the insides of code spans
    out = []
    for i, part in enumerate(parts):
        escaped = html.escape(part, quote=False)
        if i % 2:
            out.append(f"<code>{escaped}</code>")
            continue
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        out.append(re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped))
    return "".join(out)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
