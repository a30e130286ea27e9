"""Calibration, fairness and robustness measurements on known numbers and a small real table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.checks import calibration_of, fairness_of, run_checks, sensitive_groups, typos
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset


def test_calibrated_probabilities_have_small_ece_and_overconfident_ones_large():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, 20_000)
    y_true = (rng.uniform(size=p.size) < p).astype(int)  # class 1 happens with probability p
    calibrated = calibration_of(y_true, np.column_stack([1 - p, p]))
    assert calibrated.ece < 0.02
    always_sure = calibration_of(y_true, np.column_stack([np.zeros_like(p), np.ones_like(p)]))
    assert always_sure.ece == pytest.approx(1 - y_true.mean(), abs=1e-3)
    assert len(calibrated.bin_confidence) == len(calibrated.bin_accuracy) == len(calibrated.bin_rows)


def test_brier_score_on_known_numbers():
    y = np.array([1, 0, 1, 1])
    probabilities = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [0.0, 1.0]])
    # binary Brier: mean of (p1 - y)^2 = (0.04 + 0.16 + 0.25 + 0) / 4
    assert calibration_of(y, probabilities).brier == pytest.approx(0.1125)


def test_fairness_gaps_per_group_with_sizes():
    frame = pd.DataFrame({"sex": ["f"] * 40 + ["m"] * 40 + ["x"] * 5, "score": range(85),
                          "label": (["good"] * 20 + ["bad"] * 20) * 2 + ["good"] * 5})
    dataset = load_dataset(frame, target="label", sensitive_columns=("sex",), positive_class="good")
    assert dataset.classes == ("bad", "good")
    predicted_good = np.r_[np.ones(30), np.zeros(10), np.ones(10), np.zeros(30), np.ones(5)]
    probabilities = np.column_stack([1 - predicted_good, predicted_good])
    fairness = fairness_of(dataset, "sex", np.arange(85), probabilities)
    rates = {g.group: g for g in fairness.groups}
    assert (rates["f"].rows, rates["f"].selection_rate, rates["f"].tpr) == (40, 0.75, 1.0)
    assert (rates["m"].selection_rate, rates["m"].tpr) == (0.25, 0.5)
    assert fairness.groups_compared == 2  # 'x' has 5 rows, too few to compare
    assert (fairness.selection_rate_gap, fairness.tpr_gap) == (0.5, 0.5)


def test_numeric_sensitive_columns_are_cut_into_quartiles():
    groups = sensitive_groups(pd.Series(np.arange(100, dtype=float)))
    assert groups.nunique() == 4


def test_typos_change_some_words_and_keep_the_rest():
    rng = np.random.default_rng(0)
    text = " ".join(["wonderful"] * 200)
    changed = typos(text, rng).split(" ")
    assert len(changed) == 200
    assert 5 < sum(w != "wonderful" for w in changed) < 40


def test_checks_on_a_small_real_table(cancer_frame):
    frame = cancer_frame.assign(site=np.where(np.arange(len(cancer_frame)) % 2, "north", "south"))
    dataset = load_dataset(frame, target="diagnosis", sensitive_columns=("site",))
    profile = profile_dataset(dataset)
    bench = run_benchmark(dataset, profile, n_folds=3, candidates=["linear", "xgboost"], time_budget_seconds=60,
                          learning_curves=False)
    report = run_checks(dataset, bench, profile)
    assert [c.candidate for c in report.candidates] == ["linear", "xgboost"]
    for c in report.candidates:
        assert 0 <= c.calibration.ece <= 1 and c.calibration.rows == len(frame)
        assert c.fairness[0].column == "site" and c.fairness[0].groups_compared == 2
        names = [p.name for p in c.robustness.perturbations]
        assert names == ["numeric noise (10% of spread)", "10% of cells missing"]
        assert c.robustness.rows == len(bench.folds[0][1])
