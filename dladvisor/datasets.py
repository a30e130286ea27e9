"""Bundled real datasets for `dladvisor demo`, loaded from packages so they work offline."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dladvisor.errors import UserError


@dataclass(frozen=True)
class DemoDataset:
    name: str
    frame: pd.DataFrame
    target: str
    source: str


def load_demo(kind: str = "tabular") -> DemoDataset:
    """The demo dataset for a modality; `tabular` is the Wisconsin breast-cancer data shipped with scikit-learn."""
    if kind != "tabular":
        raise UserError(f"Unknown demo kind '{kind}'; available: tabular.")
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["diagnosis"] = pd.Categorical.from_codes(bunch.target, categories=list(bunch.target_names))
    frame = frame.drop(columns="target")
    return DemoDataset(
        name="breast-cancer",
        frame=frame,
        target="diagnosis",
        source="breast-cancer (Wisconsin diagnostic, 569 tumours; bundled with scikit-learn, BSD-3-Clause)",
    )
