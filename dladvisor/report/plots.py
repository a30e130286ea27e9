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

    return plt


def _plain_numbers():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")


def render_plots(assessment: Assessment, folder: Path) -> dict[str, str]:
    """Draw every plot that applies; returns {plot name: file name relative to the report}."""
    plots = {}
    if len(assessment.benchmark.completed) > 0:
        plots["leaderboard"] = _leaderboard(assessment, folder / "leaderboard.png")
    plots["target"] = _target(assessment, folder / "target.png")
    deep_runs = [c for c in assessment.benchmark.completed if c.training]
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
        ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=8)
    finite = [m - e for m, e in zip(means, low, strict=True)]
    if bench.higher_is_better and min(finite) > 0:
        ax.set_xlim(max(0.0, min(finite) - 0.05), max(m + e for m, e in zip(means, high, strict=True)) + 0.02)
    label = METRIC_LABELS[bench.primary_metric]
    direction = "higher" if bench.higher_is_better else "lower"
    rows = []
    cross_validated = [c for c in ranked if not c.on_holdout]
    if cross_validated:
        rows.append(f"mean of {bench.split.n_folds} fold scores over {cross_validated[0].evaluated_rows:,} rows")
    if holdout:
        rows.append(f"hatched: score on {holdout[0].evaluated_rows:,} hold-out rows")
    ax.set_xlabel(f"{label} ({direction} is better) with 95% CI\n{'; '.join(rows)}", fontsize=9)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("Leaderboard" + (" (recommended in blue)" if chosen else ""))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _shap_importance(assessment: Assessment, explanations, path: Path, top: int = 8) -> Path:
    """One panel per model: the share of mean |SHAP| carried by its top features."""
    plt = _pyplot()
    columns = min(3, len(explanations))
    rows = -(-len(explanations) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.4 * columns, 0.28 * top * rows + 1.2 * rows), squeeze=False)
    for ax, e in zip(axes.flat, explanations, strict=False):
        items = e.importances[:top][::-1]
        colors = [BASELINE if i.share >= 0.5 else HIGHLIGHT for i in items]
        ax.barh([_short(i.feature) for i in items], [i.share for i in items], color=colors)
        ax.set_title(f"{assessment.benchmark.get(e.candidate).label}\n{e.method}", fontsize=8)
        ax.xaxis.set_major_formatter(_percent())
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in list(axes.flat)[len(explanations):]:
        ax.axis("off")
    fig.suptitle("Share of mean |SHAP| per feature (red: one feature carries half or more)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _shap_images(assessment: Assessment, explanations, path: Path) -> Path:
    """Example images with the SHAP attribution toward the predicted class drawn over them (red up, blue down)."""
    import numpy as np

    from dladvisor.benchmark import read_image
    from dladvisor.explain import IMAGE_SIZE

    plt = _pyplot()
    examples = max(len(e.image_examples) for e in explanations)
    fig, axes = plt.subplots(len(explanations), examples, figsize=(2.3 * examples, 2.5 * len(explanations)),
                             squeeze=False)
    for row, e in zip(axes, explanations, strict=True):
        for ax, example in zip(row, e.image_examples, strict=False):
            heat = np.asarray(example.heatmap)
            limit = float(np.abs(heat).max()) or 1.0
            with contextlib.suppress(OSError):  # an image moved since the run: show its attribution alone
                ax.imshow(read_image(example.path, IMAGE_SIZE), extent=(0, 1, 0, 1))
            ax.imshow(heat, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.55, extent=(0, 1, 0, 1),
                      interpolation="bilinear")
            ax.set_title(f"{assessment.benchmark.get(e.candidate).label}\nactual {example.actual}, "
                         f"predicted {example.predicted}", fontsize=7)
        for ax in row:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
    ax.legend(frameon=False, fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
        ax.plot(epochs, [h.train_loss for h in log.history], "o-", color=HIGHLIGHT, label="training")
        ax.plot(epochs, [h.val_loss for h in log.history], "s--", color=BASELINE, label="validation")
        if log.best_epoch:
            ax.axvline(log.best_epoch, color=MUTED, linewidth=1, linestyle=":", label="best epoch")
        ax.set_title(f"{run.label}\n{log.diagnosis}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
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
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (cost, score) in enumerate(points):
        ax.scatter(cost, score, color=HIGHLIGHT if i in front else MUTED, zorder=3)
        label = bench.get(costs[i].name).label
        offset = (5, 6) if i % 2 == 0 else (5, -11)  # alternate above and below so neighbours stay legible
        ax.annotate(label, (cost, score), fontsize=7, xytext=offset, textcoords="offset points")
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front], color=HIGHLIGHT, linewidth=1,
            label="Pareto frontier (nothing cheaper scores better)")
    from matplotlib.ticker import FuncFormatter

    dollars = FuncFormatter(lambda value, _: format_usd(value))
    costs_usd = [point[0] for point in points]
    if max(costs_usd) > 10 * min(costs_usd):  # a log axis only where the costs span more than tenfold
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(dollars)
        ax.tick_params(axis="x", which="minor", labelsize=7)
    else:  # from $0, so near-equal costs look near-equal (always-on instances make many of them so)
        ax.set_xlim(0, max(costs_usd) * 1.15)
    ax.xaxis.set_major_formatter(dollars)
    scale = ", log scale" if ax.get_xscale() == "log" else ""
    ax.set_xlabel(f"projected $ over 12 months (training + serving{scale})")
    ax.set_ylabel(f"{METRIC_LABELS[bench.primary_metric]} (leaderboard score)")
    ax.ticklabel_format(axis="y", useOffset=False)  # near-equal scores: plain values, not "1e-5 + 0.977"
    ax.set_title("Cost versus score")
    ax.legend(frameon=False, fontsize=8, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
