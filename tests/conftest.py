"""Shared fixtures: tiny slices of real datasets bundled with scikit-learn, and hand-made edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/* from the current output.")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def _sample(frame: pd.DataFrame, target: str, n: int, seed: int = 0) -> pd.DataFrame:
    """A stratified-ish sample of n rows, so every class keeps several rows."""
    parts = [
        group.sample(min(len(group), max(6, round(n * len(group) / len(frame)))), random_state=seed)
        for _, group in frame.groupby(target, observed=True)
    ]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture(scope="session")
def cancer_frame() -> pd.DataFrame:
    """80 rows of the Wisconsin breast-cancer data (binary), first 8 features, labels as words."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.iloc[:, :8].copy()
    frame["diagnosis"] = np.where(bunch.target == 0, "malignant", "benign")
    return _sample(frame, "diagnosis", 80)


@pytest.fixture(scope="session")
def iris_frame() -> pd.DataFrame:
    """60 rows of iris (multiclass)."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map(dict(enumerate(bunch.target_names)))
    return _sample(frame, "species", 60)


@pytest.fixture(scope="session")
def diabetes_frame() -> pd.DataFrame:
    """80 rows of the diabetes progression data (regression)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    return frame.sample(80, random_state=0).reset_index(drop=True)


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """60 rows with one column of each kind the profiler must tell apart."""
    rng = np.random.default_rng(0)
    n = 60
    words = ["quick", "brown", "fox", "jumps", "over", "lazy", "dog", "today", "again", "slowly"]
    income = rng.normal(50, 10, n).round(1)
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "income": income,
        "region": rng.choice(["north", "south", "east"], n),
        "member": rng.choice(["yes", "no"], n),
        "signup": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "comment": [" ".join(rng.choice(words, 7)) for _ in range(n)],
        "photo": [f"img/{i}.png" for i in range(n)],
        "country": ["FR"] * n,
        "label": np.where(income + rng.normal(0, 8, n) > 50, "churn", "stay"),
    })
