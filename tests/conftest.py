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


@pytest.fixture(scope="session")
def reviews_frame() -> pd.DataFrame:
    """60 short product reviews, hand-written, labelled positive or negative."""
    from pathlib import Path

    return pd.read_csv(Path(__file__).parent / "data" / "reviews.csv")


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory):
    """72 of scikit-learn's bundled 8x8 handwritten digits (classes 0, 1, 7) as PNG files, with a CSV of paths."""
    from PIL import Image
    from sklearn.datasets import load_digits

    folder = tmp_path_factory.mktemp("digits")
    digits = load_digits()
    rows = []
    for digit in (0, 1, 7):
        for i in np.flatnonzero(digits.target == digit)[:24]:
            path = folder / "images" / str(digit) / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray((digits.images[i] * 16).astype(np.uint8)).save(path)
            rows.append({"image": f"images/{digit}/{i}.png", "digit": f"d{digit}"})
    pd.DataFrame(rows).sample(frac=1, random_state=0).to_csv(folder / "digits.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def report_json(cancer_frame, tmp_path_factory):
    """A real report.json: the 80-row cancer table assessed with three candidates, as CI gates would read it."""
    from dladvisor.config import AssessConfig
    from dladvisor.pipeline import assess
    from dladvisor.report import write_report

    config = AssessConfig(data="breast-cancer-80", target="diagnosis", folds=3, seed=0,
                          candidates=("linear", "xgboost", "mlp"), learning_curves=False)
    out = write_report(assess(config, frame=cancer_frame), tmp_path_factory.mktemp("report") / "cancer")
    return out / "report.json"


@pytest.fixture
def hub_offline(monkeypatch):
    """HF_HUB_OFFLINE=1, also where huggingface_hub read it on import: when another test imported it first (pytabkit
    does, for RealMLP), the variable alone would leave the hub retrying the network for ~45 s before failing."""
    import sys

    import huggingface_hub
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(sys.modules[huggingface_hub.is_offline_mode.__module__], "HF_HUB_OFFLINE", True)
