from __future__ import annotations

import numpy as np
import pandas as pd

from dladvisor import profile as profile_module
from dladvisor.load import load_dataset
from dladvisor.profile import SUSPECT_AUC, profile_dataset


def _codes(profile) -> set[str]:
    return {alert.code for alert in profile.alerts}


def test_column_kinds(mixed_frame):
    profile = profile_dataset(load_dataset(mixed_frame))
    kinds = {c.name: c.kind for c in profile.columns}
    assert kinds == {
        "customer_id": "id_like",
        "income": "numeric",
        "region": "categorical",
        "member": "boolean",
        "signup": "datetime",
        "comment": "text",
        "photo": "image_path",
        "country": "constant",
    }
    assert profile.tabular_columns == ["income", "region", "member", "signup"]
    assert {"id_column", "constant_column", "text_column", "image_path_column", "time_columns"} <= _codes(profile)


def test_entity_like_categorical_suggests_a_group_column():
    frame = pd.DataFrame({"case": [f"c{i // 2}" for i in range(300)], "x": np.arange(300.0), "y": [0, 1] * 150})
    profile = profile_dataset(load_dataset(frame, target="y"))
    assert any(a.code == "many_levels" and "--group-col case" in a.message for a in profile.alerts)


def test_missing_share_and_cardinality(mixed_frame):
    frame = mixed_frame.copy()
    frame.loc[:35, "income"] = np.nan
    profile = profile_dataset(load_dataset(frame))
    income = next(c for c in profile.columns if c.name == "income")
    assert income.missing_share == 36 / 60
    assert income.cardinality == frame["income"].nunique() > 20
    assert "high_missing" in _codes(profile)


def test_duplicates_and_conflicting_labels(cancer_frame):
    frame = pd.concat([cancer_frame, cancer_frame.iloc[:3]], ignore_index=True)
    conflict = cancer_frame.iloc[[5]].copy()
    conflict["diagnosis"] = "benign" if conflict["diagnosis"].iloc[0] == "malignant" else "malignant"
    frame = pd.concat([frame, conflict], ignore_index=True)
    profile = profile_dataset(load_dataset(frame, target="diagnosis"))
    assert profile.duplicate_rows == 3
    assert profile.conflicting_duplicate_rows == 2
    assert {"duplicate_rows", "conflicting_labels"} <= _codes(profile)


def test_class_balance_and_imbalance_alert():
    frame = pd.DataFrame({"x": np.arange(66.0), "target": ["common"] * 60 + ["rare"] * 6})
    profile = profile_dataset(load_dataset(frame))
    assert profile.class_counts == {"common": 60, "rare": 6}
    assert profile.imbalance_ratio == 10.0 and profile.min_rows_per_class == 6
    assert "class_imbalance" in _codes(profile)


def test_strong_honest_columns_are_not_leakage_suspects():
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame  # 569 rows; single measurements reach ROC-AUC 0.93
    profile = profile_dataset(load_dataset(frame, target="target"))
    assert profile.leakage_suspects == () and 0.9 < profile.strongest_single_columns[0].score < SUSPECT_AUC


def test_leaked_column_is_flagged(cancer_frame):
    frame = cancer_frame.copy()
    frame["review_outcome"] = np.where(frame["diagnosis"] == "malignant", 1.0, 0.0) + np.random.default_rng(0).normal(
        0, 0.05, len(frame)
    )
    leaky = profile_dataset(load_dataset(frame, target="diagnosis"))
    assert [s.column for s in leaky.leakage_suspects] == ["review_outcome"]
    assert leaky.alerts[0].code == "leakage_suspect" and leaky.alerts[0].severity == "critical"


def test_suspiciously_strong_column_is_a_warning(cancer_frame):
    frame = cancer_frame.copy()
    # The outcome blurred by noise: alone it reaches ROC-AUC 0.98, strong enough to question, not a certain leak.
    noise = np.random.default_rng(0).normal(0, 0.25, len(frame))
    frame["recorded_later"] = (frame["diagnosis"] == "malignant") + noise
    profile = profile_dataset(load_dataset(frame, target="diagnosis"))
    alert = next(a for a in profile.alerts if a.code == "leakage_suspect")
    assert alert.column == "recorded_later" and alert.severity == "warning"


def test_identifier_that_predicts_the_target_is_flagged(cancer_frame):
    frame = cancer_frame.sort_values("diagnosis").reset_index(drop=True)
    frame.insert(0, "record_id", np.arange(len(frame)))
    profile = profile_dataset(load_dataset(frame, target="diagnosis"))
    assert "id_with_signal" in _codes(profile)
    shuffled = profile_dataset(load_dataset(frame.sample(frac=1, random_state=1).reset_index(drop=True).assign(
        record_id=np.arange(len(frame))), target="diagnosis"))
    assert "id_with_signal" not in _codes(shuffled)


def test_regression_target_summary(diabetes_frame):
    profile = profile_dataset(load_dataset(diabetes_frame, target="progression"))
    assert profile.class_counts is None
    assert profile.target_summary["mean"] == diabetes_frame["progression"].mean()
    assert sum(profile.target_histogram[1]) == len(diabetes_frame)


def test_data_sufficiency_verdicts(cancer_frame, mixed_frame):
    assert profile_dataset(load_dataset(cancer_frame, target="diagnosis")).data_sufficiency.verdict == "limited"
    # Text columns with ~30 rows per class: embeddings yes, full fine-tuning not yet.
    assert profile_dataset(load_dataset(mixed_frame)).data_sufficiency.verdict == "limited"


def test_profile_says_which_checks_ran_on_a_sample(mixed_frame, monkeypatch):
    dataset = load_dataset(mixed_frame)  # 60 rows
    whole = profile_dataset(dataset)
    assert whole.sampled_checks == ()
    monkeypatch.setattr(profile_module, "LEAKAGE_SAMPLE_ROWS", 40)  # as 20,000 is of a large table
    monkeypatch.setattr(profile_module, "KIND_SAMPLE_VALUES", 30)
    sampled = profile_dataset(dataset)
    assert [(s.check.split()[0], s.rows, s.of_rows) for s in sampled.sampled_checks] == [
        ("single-column", 40, 60), ("kind", 30, 60)]
    assert [c.kind for c in sampled.columns] == [c.kind for c in whole.columns]
    assert sampled.strongest_single_columns != whole.strongest_single_columns  # the screens did read fewer rows
    assert profile_dataset(dataset) == sampled  # seeded: the same table gives the same profile


def test_profiling_imports_no_scikit_learn(tmp_path, cancer_frame):
    """`dladvisor profile` scores columns with its own trees: importing scikit-learn alone would cost ~90 MB."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    code = ("import sys; from typer.testing import CliRunner; from dladvisor.cli import app; "
            f"result = CliRunner().invoke(app, ['profile', {str(path)!r}, '--target', 'diagnosis']); "
            "assert result.exit_code == 0, result.output; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'torch'}))")
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "[]"


def test_screen_trees_grow_as_scikit_learn_grows_them():
    """The leakage cuts were calibrated on scikit-learn's trees: the screen's own must predict what those predict."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from dladvisor.profile import _tree_predictions

    cancer = load_breast_cancer()
    rng = np.random.default_rng(0)
    for column in range(0, 30, 3):
        x = cancer.data[:, column].copy()
        x[rng.random(len(x)) < 0.1] = np.nan  # missing values take the better side, or a leaf of their own
        train, test = np.arange(len(x)) % 3 != 0, np.arange(len(x)) % 3 == 0
        for min_leaf in (5, 20):
            tree = DecisionTreeClassifier(max_depth=8, min_samples_leaf=min_leaf, random_state=0)
            expected = tree.fit(x[train, None], cancer.target[train]).predict_proba(x[test, None])
            ours = _tree_predictions(x[train], cancer.target[train], x[test], n_classes=2, min_leaf=min_leaf)
            np.testing.assert_allclose(ours, expected, atol=1e-12)
    diabetes = load_diabetes()
    for column in range(10):
        x, y = diabetes.data[:, column], diabetes.target
        tree = DecisionTreeRegressor(max_depth=8, min_samples_leaf=5, random_state=0).fit(x[:300, None], y[:300])
        ours = _tree_predictions(x[:300], y[:300], x[300:], n_classes=0, min_leaf=5)
        np.testing.assert_allclose(ours, tree.predict(x[300:, None]), rtol=1e-9)
