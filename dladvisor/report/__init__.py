"""Report stage: render one `Assessment` as Markdown (with PNG plots) and JSON, written atomically."""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from pathlib import Path

from dladvisor.assessment import Assessment
from dladvisor.benchmark import METRIC_LABELS, format_number, metrics_for
from dladvisor.cost import format_hours, format_usd
from dladvisor.errors import UserError
from dladvisor.explain import UNSTABLE_BELOW
from dladvisor.recommend import LEAK_MARGIN

REPORT_FILES = ("report.md", "report.json", "report.html")
# The report's collapsible sections, in order: each is templates/sections/<name>.md.j2. A new section is one file
# there and one name here; the summary (verdict, reason, deep vs classical, next step) always comes first.
SECTIONS = (
    "recommendation", "leaderboard", "deep_learning", "data_profile", "explainability", "calibration", "cost",
    "model_card", "run", "reproducibility", "glossary",
)


def render_markdown(assessment: Assessment, plots: dict[str, str]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dladvisor.report", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=format_number, pct=_pct, ci=_ci, cell=_cell, usd=format_usd, hours=format_hours, si=_si,
        highlight_tokens=_highlight_tokens, measured=_measured, rate=_rate,
        verdict_reasons=_verdict_reasons, deep_reason=_deep_reason,
    )
    template = env.get_template("report.md.j2")
    return _without_absolute_paths(assessment, template.render(
        a=assessment,
        sections=SECTIONS,
        plots=_Plots(plots),
        metrics=metrics_for(assessment.dataset.task),
        labels=METRIC_LABELS,
        metric_label=METRIC_LABELS[assessment.benchmark.primary_metric],
        unstable_below=UNSTABLE_BELOW,
        leak_margin=LEAK_MARGIN,
    ))


def _shown_source(assessment: Assessment) -> str:
    from dladvisor.report.summary import shown_path

    source = assessment.dataset.source
    return shown_path(Path(source)) if Path(source).is_absolute() else source


def _without_absolute_paths(assessment: Assessment, text: str) -> str:
    """A report is shared: the data file shows as a path relative to the working folder (or its name alone)."""
    from dladvisor.report.summary import shown_path

    for path in {assessment.dataset.source, assessment.config.data}:
        if path and Path(path).is_absolute():
            text = text.replace(str(path), shown_path(Path(path)))
    return text


def render_json(assessment: Assessment) -> str:
    from dladvisor.report.summary import shown_path

    report = assessment.to_json_dict()
    for section, key in (("config", "data"), ("dataset", "source")):
        if report[section][key] and Path(report[section][key]).is_absolute():
            report[section][key] = shown_path(Path(report[section][key]))
    return json.dumps(report, indent=2, allow_nan=False, default=str) + "\n"


def check_out_dir(out_dir: Path) -> None:
    """Refuse to overwrite a folder that is not an earlier dladvisor report, so no user file is lost."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir} is a file; give a folder path such as reports/my-run.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / "report.json").exists():
        raise UserError(
            f"--out {out_dir} already holds files that are not a dladvisor report; choose a new or empty folder."
        )


def write_report(assessment: Assessment, out_dir: Path) -> Path:
    """Write report.md, report.json and plots/ into `out_dir`, replacing an earlier report only when complete."""
    from dladvisor.report.html import render_html
    from dladvisor.report.plots import render_plots

    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a report folder is meant to be shared
    try:
        plots_dir = staging / "plots"
        plots_dir.mkdir()
        plots = render_plots(assessment, plots_dir)
        markdown = render_markdown(assessment, plots)
        (staging / "report.md").write_text(markdown, encoding="utf-8")
        (staging / "report.html").write_text(
            render_html(markdown, staging, title=f"dladvisor: {_shown_source(assessment)}"), encoding="utf-8")
        (staging / "report.json").write_text(render_json(assessment), encoding="utf-8")
        if assessment.config.export_model:
            from dladvisor.export import export_model

            export_model(assessment, staging / "model")
        if out_dir.exists():
            retired = staging.with_name(f".{out_dir.name}.old-{staging.name.rsplit('-', 1)[-1]}")
            out_dir.rename(retired)
            staging.rename(out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


class _Plots(dict):
    """Missing plots read as empty, so the template can test `plots.name`."""

    def __getattr__(self, name: str) -> str:
        return self.get(name, "")


def _pct(value: float) -> str:
    if not value:
        return "0%"
    return "<0.1%" if value < 0.001 else f"{value:.1%}"


def _ci(summary) -> str:
    if math.isnan(summary.mean):
        return "–"
    return f"{format_number(summary.mean)} ({format_number(summary.ci_low)}–{format_number(summary.ci_high)})"


def _si(value: float) -> str:
    """4.1 G, 278 M, 42 k: counts people can compare at a glance."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {suffix}"
    return f"{value:.3g}"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _highlight_tokens(example, share: float = 0.25) -> str:
    """A sentence in Markdown with its strongest tokens marked: **up** (+0.12), ~~down~~ (-0.05)."""
    strongest = max((abs(t.weight) for t in example.tokens), default=0.0)
    parts = []
    for t in example.tokens:
        word = _MARKDOWN_SPECIAL.sub(r"\\\1", t.token.replace("\n", " "))
        core = word.strip()
        if not core or strongest == 0 or abs(t.weight) < share * strongest:
            parts.append(word)
            continue
        mark = "**" if t.weight > 0 else "~~"
        lead, trail = word[: len(word) - len(word.lstrip())], word[len(word.rstrip()) :]
        parts.append(f"{lead}{mark}{core}{mark} ({t.weight:+.2f}){trail}")
    return "".join(parts).strip()


def _measured(value) -> str:
    if value is None:
        return "not measured"
    return format_number(value) if isinstance(value, float | int) else str(value)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _verdict_reasons(recommendation) -> list[str]:
    """The reasons that set a WARN or FAIL verdict, for the report's first screen."""
    if recommendation.verdict == "PASS":
        return []
    prefix = f"{recommendation.verdict}:"
    # recommend.py words these as "WARN: …", "Check before shipping: …" and "N data warning(s) …"
    chosen = [r[len(prefix):].strip() if r.startswith(prefix) else r for r in recommendation.reasons
              if r.startswith((prefix, "Check before shipping:")) or "data warning(s)" in r]
    return [r[:1].upper() + r[1:] for r in chosen]


def _deep_reason(recommendation) -> str:
    """The one reason that says whether deep learning pays off here (empty when none was given)."""
    return next((r for r in recommendation.reasons if r.startswith("Deep learning")), "")
