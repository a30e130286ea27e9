from __future__ import annotations

import pytest

from dladvisor.errors import UserError
from dladvisor.estimate import estimate_cost
from dladvisor.prices import load_prices


def test_deep_estimate_times_real_steps_and_counts_flops():
    prices = load_prices().with_overrides(cpu_hourly=1.0)
    small = estimate_cost("mlp", rows=10_000, epochs=10, features=8, prices=prices, device="cpu")
    large = estimate_cost("mlp", rows=1_000_000, epochs=10, features=8, prices=prices, device="cpu")
    assert small.train_hours_low <= small.train_hours <= small.train_hours_high
    assert small.forward_flops_per_sample == 2 * (8 * 256 + 256 * 128 + 128 * 2)
    # Per-sample cost is measured, so the projection scales with rows x epochs.
    ratio = large.seconds_per_sample / small.seconds_per_sample
    assert large.train_hours / small.train_hours == pytest.approx(100 * ratio)
    assert large.train_usd == pytest.approx(large.train_hours * 1.0)
    assert large.gpu_projection_hours is not None and "training steps" in large.method


def test_text_fine_tuning_estimate(tmp_path):
    estimate = estimate_cost("text_finetune", rows=1_000_000, epochs=3, text_words=32, prices=load_prices(),
                             device="cpu")
    assert estimate.epochs == 3 and estimate.inputs == "texts of 32 words"
    assert 1e8 < estimate.forward_flops_per_sample < 1e11  # MiniLM-L6: ~22M parameters over ~40 tokens
    assert estimate.train_hours > estimate.gpu_projection_hours


def test_classical_estimate_extrapolates_two_fits():
    estimate = estimate_cost("random_forest", rows=200_000, features=10, prices=load_prices(), device="cpu")
    assert estimate.forward_flops_per_sample is None and estimate.epochs == 1
    assert "rows^" in estimate.method and estimate.train_hours_low <= estimate.train_hours <= estimate.train_hours_high


def test_estimate_refuses_nonsense():
    with pytest.raises(UserError, match="at least 1"):
        estimate_cost("xgboost", rows=0, prices=load_prices())
    with pytest.raises(UserError, match="baseline"):
        estimate_cost("dummy", rows=10, prices=load_prices())
    with pytest.raises(UserError, match="Did you mean 'xgboost'"):
        estimate_cost("xgbost", rows=10, prices=load_prices())


def test_estimate_on_real_sampled_rows(tmp_path, cancer_frame):
    from dladvisor.estimate import sample_rows

    path = tmp_path / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    sample = sample_rows(path, target="diagnosis", rows=50)
    assert len(sample[0]) == 50 and sample[1].numeric and "real rows" in sample[2]
    estimate = estimate_cost("mlp", rows=10_000, prices=load_prices(), device="cpu", sample=sample)
    assert estimate.inputs == sample[2]
    assert estimate.forward_flops_per_sample == 2 * (8 * 256 + 256 * 128 + 128 * 2)
    with pytest.raises(UserError, match="no text columns"):
        estimate_cost("text_finetune", rows=10, prices=load_prices(), device="cpu", sample=sample)
