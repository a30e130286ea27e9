"""PNG plots for the Markdown report (matplotlib, headless)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from dladvisor.assessment import Assessment
from dladvisor.benchmark import METRIC_LABELS
from dladvisor.cost import format_usd

HIGHLIGHT, MUTED, BASELINE = "#1f6feb", "#8c959f", "#cf222e"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # GitHub shows a report about 900 px wide: figures at most MAX_WIDTH_IN inches at DPI keep text >= 10 px there
    plt.rcParams.update({"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "xtick.labelsize": 9,
                         "ytick.labelsize": 9, "legend.fontsize": 9})
    return plt


DPI = 100
MAX_WIDTH_IN = 9.0


def _save(fig, path: Path) -> None:
    """Save at a width GitHub shows unscaled, cropped to what is drawn so no label is cut off."""
    width, height = fig.get_size_inches()
    if width > MAX_WIDTH_IN:
        fig.set_size_inches(MAX_WIDTH_IN, height * MAX_WIDTH_IN / width)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.1)


def _plain_numbers():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")


def render_plots(assessment: Assessment, folder: Path) -> dict[str, str]:
    """Draw every plot that applies; returns {plot name: file name relative to the report}."""
    plots = {}
    if len(assessment.benchmark.completed) > 0:
        plots["leaderboard"] = _leaderboard(assessment, folder / "leaderboard.png")
    plots["target"] = _target(assessment, folder / "target.png")
    deep_runs = [c for c in assessment.benchmark.completed if c.training and c.training[0].history]
    if deep_runs:
        plots["loss_curves"] = _loss_curves(deep_runs, folder / "loss_curves.png")
    if assessment.benchmark.learning_curves is not None:
        plots["learning_curves"] = _learning_curves(assessment, folder / "learning_curves.png")
    if any(assessment.benchmark.get(c.name).family != "baseline" for c in assessment.cost.candidates):
        plots["cost"] = _cost_versus_score(assessment, folder / "cost.png")
    calibrated = [c for c in assessment.checks.candidates if c.calibration is not None]
    if calibrated:
        plots["reliability"] = _reliability(assessment, calibrated, folder / "reliability.png")
    explained = [e for e in assessment.explanation.candidates if e.importances]
    if explained:
        plots["shap_importance"] = _shap_importance(assessment, explained, folder / "shap_importance.png")
    with_images = [e for e in explained if e.image_examples]
    if with_images:
        plots["shap_images"] = _shap_images(assessment, with_images, folder / "shap_images.png")
    return {name: f"{folder.name}/{Path(path).name}" for name, path in plots.items()}


def _leaderboard(assessment: Assessment, path: Path) -> Path:
    plt = _pyplot()
    bench = assessment.benchmark
    ranked = bench.ranked()[::-1]
    means = [bench.primary(c).mean for c in ranked]
    low = [bench.primary(c).mean - bench.primary(c).ci_low for c in ranked]
    high = [bench.primary(c).ci_high - bench.primary(c).mean for c in ranked]
    chosen = assessment.recommendation.candidate
    colors = [HIGHLIGHT if c.name == chosen else MUTED for c in ranked]
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(ranked) + 1.6))
    # Each bar is labelled with the rows behind it; hold-out bars are hatched, as their scores use fewer rows.
    bars = ax.barh([f"{c.label}\n{c.evaluation}" for c in ranked], means, xerr=[low, high], color=colors, capsize=4,
                   hatch=["//" if c.on_holdout else "" for c in ranked], edgecolor="white")
    handles = []
    holdout = [c for c in ranked if c.on_holdout]
    if holdout:
        index = ranked.index(holdout[0])
        bars[index].set_label(f"hold-out: {holdout[0].evaluated_rows:,} rows, 95% bootstrap CI")
        handles.append(bars[index])
    baseline = next((c for c in ranked if c.family == "baseline"), None)
    if baseline is not None:
        handles.append(ax.axvline(bench.primary(baseline).mean, color=BASELINE, linestyle="--", linewidth=1,
                                  label="baseline"))
    if handles:
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=9)
    # Zoom on the real candidates' intervals, so scores that all sit near 0.99 still show their differences;
    # a baseline far below is then named at the left edge instead of stretching the axis.
    shown = [i for i, c in enumerate(ranked) if c.family != "baseline"] or list(range(len(ranked)))
    left = min(means[i] - low[i] for i in shown)
    right = max(means[i] + high[i] for i in shown)
    pad = max(right - left, 0.002) * 0.15
    ax.set_xlim(left - pad, right + pad)
    for i, (bar, mean) in enumerate(zip(bars, means, strict=True)):
        if mean < left - pad or mean > right + pad:
            ax.text(left - pad, bar.get_y() + bar.get_height() / 2, f" {mean:.3f} (off scale)", va="center",
                    fontsize=9, color=BASELINE)
        else:
            ax.text(mean + high[i], bar.get_y() + bar.get_height() / 2, f"  {mean:.3f}", va="center", fontsize=9)
    ax.set_xlim(left - pad, right + 2.5 * pad)  # room for the value labels
    label = METRIC_LABELS[bench.primary_metric]
    direction = "higher" if bench.higher_is_better else "lower"
    rows = []
    cross_validated = [c for c in ranked if not c.on_holdout]
    if cross_validated:
        rows.append(f"mean of {bench.split.n_folds} fold scores over {cross_validated[0].evaluated_rows:,} rows")
    if holdout:
        rows.append(f"hatched: score on {holdout[0].evaluated_rows:,} hold-out rows")
    ax.set_xlabel(f"{label} ({direction} is better) with 95% CI\n{'; '.join(rows)}", fontsize=9)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_title("Leaderboard" + (" (recommended in blue)" if chosen else ""))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _target(assessment: Assessment, path: Path) -> Path:
    plt = _pyplot()
    profile = assessment.profile
    fig, ax = plt.subplots(figsize=(6, 2.8))
    if profile.class_counts:
        names, counts = zip(*profile.class_counts.items(), strict=True)
        ax.bar([str(n) for n in names], counts, color=HIGHLIGHT)
        ax.set_ylabel("rows")
        ax.set_title(f"Class balance of '{profile.target}'")
        if len(names) > 8:
            ax.tick_params(axis="x", labelrotation=60)
    else:
        summary, edges, counts = profile.target_summary, profile.target_histogram[0], profile.target_histogram[1]
        ax.stairs(counts, edges, fill=True, color=HIGHLIGHT)
        ax.set_ylabel("rows")
        ax.set_title(f"Distribution of '{profile.target}' (mean {summary['mean']:.3g}, sd {summary['std']:.3g})")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _shap_importance(assessment: Assessment, explanations, path: Path, top: int = 8) -> Path:
    """One panel per model: the share of mean |SHAP| carried by its top features."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    columns = min(2, len(explanations))  # two panels fit the ~900 px GitHub column
    rows = -(-len(explanations) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.4 * columns, 0.28 * top * rows + 1.2 * rows), squeeze=False)
    for ax, e in zip(axes.flat, explanations, strict=False):
        items = e.importances[:top][::-1]
        colors = [BASELINE if i.share >= 0.5 else HIGHLIGHT for i in items]
        ax.barh([_short(i.feature) for i in items], [i.share for i in items], color=colors)
        ax.set_title(f"{assessment.benchmark.get(e.candidate).label}\n{e.method}", fontsize=9)
        ax.xaxis.set_major_formatter(_percent())
        ax.xaxis.set_major_locator(MaxNLocator(4))  # four ticks: narrow panels crowded six labels together
        ax.tick_params(labelsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(explanations):]:
        ax.axis("off")
    fig.suptitle("Share of mean |SHAP| per feature (red: one feature carries half or more)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _shap_images(assessment: Assessment, explanations, path: Path) -> Path:
    """Example images with the SHAP attribution toward the predicted class drawn over them (red up, blue down)."""
    import numpy as np

    from dladvisor.benchmark import read_image
    from dladvisor.explain import IMAGE_SIZE

    plt = _pyplot()
    examples = max(len(e.image_examples) for e in explanations)
    fig, axes = plt.subplots(len(explanations), examples, figsize=(2.3 * examples, 2.8 * len(explanations)),
                             squeeze=False)
    for row, e in zip(axes, explanations, strict=True):
        for ax, example in zip(row, e.image_examples, strict=False):
            heat = np.asarray(example.heatmap)
            limit = float(np.abs(heat).max()) or 1.0
            with contextlib.suppress(OSError):  # an image moved since the run: show its attribution alone
                ax.imshow(read_image(example.file or example.path, IMAGE_SIZE), extent=(0, 1, 0, 1))
            ax.imshow(heat, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.55, extent=(0, 1, 0, 1),
                      interpolation="bilinear")
            ax.set_title(f"actual {example.actual}, predicted {example.predicted}", fontsize=9)
        # the model's name once, above its row: long names as per-panel titles ran into each other
        row[0].text(0, 1.22, assessment.benchmark.get(e.candidate).label, transform=row[0].transAxes,
                    fontsize=10, fontweight="bold")
        for ax in row:
            ax.axis("off")
    fig.subplots_adjust(hspace=0.5, wspace=0.08)  # not tight_layout: the row names sit outside the axes
    _save(fig, path)
    plt.close(fig)
    return path


def _reliability(assessment: Assessment, checks, path: Path) -> Path:
    """Observed accuracy against predicted confidence per bin; the diagonal is perfect calibration."""
    plt = _pyplot()
    bench = assessment.benchmark
    chosen = assessment.recommendation.candidate
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    ax.plot([0, 1], [0, 1], color=MUTED, linestyle=":", linewidth=1, label="perfectly calibrated")
    for c in checks:
        cal = c.calibration
        highlight = c.candidate == chosen
        ax.plot(cal.bin_confidence, cal.bin_accuracy, "o-" if highlight else ".-", markersize=4,
                linewidth=2 if highlight else 1, alpha=1 if highlight else 0.6,
                label=f"{bench.get(c.candidate).label} (ECE {cal.ece:.3f})")
    ax.set_xlabel("predicted probability of the predicted class")
    ax.set_ylabel("observed accuracy")
    ax.set_title("Reliability (calibration)")
    ax.legend(frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1)  # picks the decimals the ticks need (2.5%, not a rounded 2%)


def _loss_curves(runs, path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.2), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        log = run.training[0]
        epochs = [h.epoch for h in log.history]
        with_training = all(h.train_loss is not None for h in log.history)  # pytabkit's RealMLP: validation only
        if with_training:
            ax.plot(epochs, [h.train_loss for h in log.history], "o-", color=HIGHLIGHT, label="training")
        ax.plot(epochs, [h.val_loss for h in log.history], "s--", color=BASELINE, label="validation")
        if log.best_epoch:
            ax.axvline(log.best_epoch, color=MUTED, linewidth=1, linestyle=":", label="best epoch")
        ax.set_title(f"{run.label}\n{log.diagnosis}{'' if with_training else ' (validation loss only)'}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.spines[["top", "right"]].set_visible(False)
    # the legend where every line is drawn: a panel with a training curve if there is one
    legend_at = next((ax for ax, run in zip(axes[0], runs, strict=True)
                      if all(h.train_loss is not None for h in run.training[0].history)), axes[0][0])
    legend_at.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def _learning_curves(assessment: Assessment, path: Path) -> Path:
    plt = _pyplot()
    curves = assessment.benchmark.learning_curves
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for curve, color in zip(curves.curves, (MUTED, HIGHLIGHT), strict=True):
        ax.plot([p.rows_used for p in curve.points], [p.score for p in curve.points], "o-", color=color,
                label=curve.label)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(_plain_numbers())
    ax.set_xlabel("training rows used (log scale)")
    ax.set_ylabel(f"{METRIC_LABELS[curves.metric]} on {curves.scored_on or f'{curves.evaluated_rows:,} rows'}")
    ax.set_title("Learning curves: would more data change the winner?")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def pareto_front(points: list[tuple[float, float]], *, higher_is_better: bool) -> list[int]:
    """Indices of points no other point beats on both cost (lower) and score; cheapest first."""
    sign = 1 if higher_is_better else -1
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -sign * points[i][1]))
    front, best = [], None
    for i in order:
        score = sign * points[i][1]
        if best is None or score > best:
            front.append(i)
            best = score
    return front


def _cost_versus_score(assessment: Assessment, path: Path) -> Path:
    plt = _pyplot()
    bench = assessment.benchmark
    # The baseline is no option to ship and would stretch the axis until the real candidates overlap.
    costs = [c for c in assessment.cost.candidates if bench.get(c.name).family != "baseline"]
    points = [(max(c.total_usd_12_months, 1e-6), bench.primary(bench.get(c.name)).mean) for c in costs]
    front = pareto_front(points, higher_is_better=bench.higher_is_better)
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    # Points are numbered and named in a key beside the plot: near-equal costs put names on top of each other.
    key = []
    for i, (cost, score) in enumerate(points):
        ax.scatter(cost, score, color=HIGHLIGHT if i in front else MUTED, zorder=3)
        ax.annotate(str(i + 1), (cost, score), fontsize=9, xytext=(4, 4), textcoords="offset points")
        key.append(f"{i + 1}  {_short(bench.get(costs[i].name).label)}: {format_usd(cost)}, {score:.3f}")
    fig.text(1.0, 0.5, "\n".join(key), fontsize=9, va="center", ha="left", transform=ax.transAxes,
             bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#d0d7de"})
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front], color=HIGHLIGHT, linewidth=1,
            label="Pareto frontier (nothing cheaper scores better)")
    from matplotlib.ticker import FuncFormatter

    dollars = FuncFormatter(lambda value, _: format_usd(value))
    costs_usd = [point[0] for point in points]
    if max(costs_usd) > 10 * min(costs_usd):  # a log axis only where the costs span more than tenfold
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(dollars)
        ax.tick_params(axis="x", which="minor", labelsize=9)
    else:  # from $0, so near-equal costs look near-equal (always-on instances make many of them so)
        ax.set_xlim(0, max(costs_usd) * 1.15)
    ax.xaxis.set_major_formatter(dollars)
    scale = ", log scale" if ax.get_xscale() == "log" else ""
    ax.set_xlabel(f"projected $ over 12 months (training + serving{scale})")
    ax.set_ylabel(f"{METRIC_LABELS[bench.primary_metric]} (leaderboard score)")
    ax.ticklabel_format(axis="y", useOffset=False)  # near-equal scores: plain values, not "1e-5 + 0.977"
    ax.set_title("Cost versus score")
    ax.legend(frameon=False, fontsize=9, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path
