"""The bundled demo datasets: real data, and a playbook that fits what each is for."""

from __future__ import annotations

from dladvisor.datasets import load_demo
from dladvisor.playbooks import is_bundled, load_playbook


def test_the_tabular_demo_is_judged_as_clinical_decision_support():
    demo = load_demo("tabular")
    assert demo.frame.shape == (569, 31) and demo.target == "diagnosis"
    assert set(demo.frame["diagnosis"]) == {"malignant", "benign"}
    playbook = load_playbook(demo.playbook)
    assert playbook.name == "high-stakes-health" and playbook.stakes == "high" and is_bundled(playbook.source)
