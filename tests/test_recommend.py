"""Decision-table tests: fixed measurements in, one recommendation out."""

from __future__ import annotations

import pytest

from dladvisor.benchmark import BenchmarkResult, CandidateResult, MetricSummary, SplitInfo, Timing
from dladvisor.cost import CostReport, measure_costs
from dladvisor.prices import load_prices
from dladvisor.profile import Alert, DatasetProfile, DataSufficiency
from dladvisor.recommend import recommend

COMPLEXITY = {"dummy": 0, "linear": 1, "knn": 2, "random_forest": 3, "xgboost": 4}


def _bench(scores: dict[str, tuple[float, float]], metric: str = "roc_auc") -> BenchmarkResult:
    """scores: name -> (mean, half-width of the 95% interval)."""
    candidates = tuple(
        CandidateResult(
            name=name, label=name.title(), family="baseline" if name == "dummy" else "classical",
            complexity=COMPLEXITY[name], description="", status="ok",
            metrics={metric: MetricSummary(mean=m, ci_low=m - h, ci_high=m + h, std=h, per_fold=(m,) * 5)},
            timing=Timing(fit_seconds_total=1, fit_seconds_per_fold=0.2, predict_ms_per_1k_rows=1,
                          throughput_rows_per_second=1000, single_row_latency_ms_p50=1, single_row_latency_ms_p95=2,
                          model_size_bytes=1000 * (1 + COMPLEXITY[name]), peak_host_memory_mb=1),
        )
        for name, (m, h) in scores.items()
    )
    return BenchmarkResult(
        task="binary", primary_metric=metric, higher_is_better=metric != "rmse",
        split=SplitInfo(kind="stratified", n_folds=5, description=""), features_used=["x"],
        time_budget_seconds=600, candidates=candidates,
    )


def _profile(*alerts: Alert) -> DatasetProfile:
    return DatasetProfile(
        rows=1000, feature_columns=3, target="y", task="binary", task_rule="", columns=(), duplicate_rows=0,
        conflicting_duplicate_rows=0, alerts=alerts,
        data_sufficiency=DataSufficiency(verdict="limited", reason="1,000 rows of tabular data."),
    )


def _cost(bench: BenchmarkResult) -> CostReport:
    return measure_costs(bench, load_prices(), n_rows=1000)


def _decide(bench, *alerts):
    return recommend(_profile(*alerts), bench, _cost(bench))


def test_simplest_candidate_inside_the_best_interval_wins():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.84, 0.01), "random_forest": (0.85, 0.02), "xgboost": (0.86, 0.02)})
    decision = _decide(bench)
    assert (decision.verdict, decision.action, decision.candidate) == ("PASS", "use_classical", "linear")
    assert "0.860 (95% CI 0.840–0.880)" in decision.reasons[0]
    assert "Linear scores 0.840, inside that interval, and is simpler (2 kB vs 5 kB serialized)" in decision.reasons[1]
    assert any("Random_Forest (0.850)" in r for r in decision.reasons)


def test_clear_winner_outside_the_interval_is_kept():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.70, 0.01), "xgboost": (0.90, 0.01)})
    decision = _decide(bench)
    assert decision.candidate == "xgboost"
    assert "improves on the baseline (0.500) by 0.400" in " ".join(decision.reasons)


def test_lower_is_better_metrics():
    bench = _bench({"dummy": (10.0, 0.1), "linear": (6.2, 0.1), "xgboost": (5.0, 0.3)}, metric="rmse")
    assert _decide(bench).candidate == "xgboost"
    bench = _bench({"dummy": (10.0, 0.1), "linear": (5.2, 0.1), "xgboost": (5.0, 0.3)}, metric="rmse")
    assert _decide(bench).candidate == "linear"


def test_no_signal_when_the_baseline_is_inside_the_best_interval():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.52, 0.03), "xgboost": (0.51, 0.04)})
    decision = _decide(bench)
    assert (decision.verdict, decision.action, decision.candidate) == ("WARN", "no_signal", None)


def test_critical_alert_blocks_the_recommendation():
    leak = Alert(code="leakage_suspect", severity="critical", column="x", message="'x' alone predicts the target.")
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.99, 0.01)})
    decision = _decide(bench, leak)
    assert (decision.verdict, decision.action, decision.candidate) == ("FAIL", "fix_data", None)
    assert decision.reasons[0] == leak.message


@pytest.mark.parametrize("severity, verdict", [("warning", "WARN"), ("info", "PASS")])
def test_warnings_turn_pass_into_warn(severity, verdict):
    alert = Alert(code="duplicate_rows", severity=severity, message="3 rows repeat.")
    bench = _bench({"dummy": (0.5, 0), "linear": (0.8, 0.01)})
    assert _decide(bench, alert).verdict == verdict


def test_leakage_warnings_are_spelled_out_not_counted():
    suspect = Alert(code="leakage_suspect", severity="warning", column="injury", message="'injury' alone reaches 0.98.")
    other = Alert(code="class_imbalance", severity="warning", message="Imbalanced.")
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.99, 0.01)})
    reasons = _decide(bench, suspect, other).reasons
    assert "Check before shipping: 'injury' alone reaches 0.98." in reasons
    assert "1 other data warning(s) in the profile deserve a look." in reasons


def test_nothing_finished():
    bench = _bench({"dummy": (0.5, 0)})
    assert _decide(bench).action == "no_result"


def _with_deep(bench, name, step, mean, lift, low, high):
    from dladvisor.benchmark._compare import PairedLift

    deep = CandidateResult(
        name=name, label=name.title(), family="deep", complexity=6, description="", status="ok",
        ladder_step=step, evaluation="held-out rows",
        metrics={"roc_auc": MetricSummary(mean=mean, ci_low=mean - 0.02, ci_high=mean + 0.02, std=0.01,
                                          per_fold=(mean,), method="bootstrap")},
        timing=bench.candidates[-1].timing,
    )
    paired = PairedLift(deep=name, classical="xgboost", metric="roc_auc", rows=500, deep_score=mean,
                        classical_score=mean - lift, lift=lift, ci_low=low, ci_high=high,
                        significant=low > 0 or high < 0, method="paired bootstrap")
    return bench.model_copy(update={"candidates": (*bench.candidates, deep), "lift": paired})


@pytest.mark.parametrize(("step", "action"), [("frozen", "use_embeddings"), ("fine-tune", "fine_tune")])
def test_significant_deep_lift_recommends_the_deep_rung(step, action):
    bench = _with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", step, 0.90, 0.05, 0.02,
                       0.08)
    decision = _decide(bench)
    assert (decision.action, decision.candidate) == (action, "text_model")
    assert "lift of +0.050 ROC-AUC (95% CI +0.020 to +0.080, significant)" in decision.reasons[0]


def test_insignificant_deep_lift_keeps_the_classical_model():
    bench = _with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", "fine-tune", 0.86, 0.01,
                       -0.01, 0.03)
    decision = _decide(bench)
    assert (decision.action, decision.candidate) == ("use_classical", "xgboost")
    assert any("not significant" in r and "does not pay off" in r for r in decision.reasons)
