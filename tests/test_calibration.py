from __future__ import annotations

from importlib import resources

import pytest
import yaml

from dladvisor.calibration import WORKLOADS, load_calibration
from dladvisor.errors import UserError


def test_packaged_table_is_dated_sourced_and_honest():
    table = load_calibration()
    assert table.date and table.source and set(table.workloads) == set(WORKLOADS)
    for name, entry in table.workloads.items():
        assert 0 < entry.utilization <= 1 and entry.date and entry.source, name
        # No GPU run has been recorded yet: every entry must say it is an assumption, and why.
        assert not entry.measured and entry.source.startswith("Assumption"), name
        assert entry.label == "uncalibrated assumption"
    assert not table.measured_any


@pytest.mark.parametrize(("modality", "step", "forward_only", "workload"), [
    ("text", "fine-tune", False, "text-train"),
    ("text", "fine-tune", True, "text-forward"),
    ("text", "frozen", False, "text-forward"),
    ("image", "fine-tune", False, "image-train"),
    ("image", "frozen", False, "image-forward"),
    ("tabular", "from scratch", False, "other"),
])
def test_each_model_family_finds_its_workload(modality, step, forward_only, workload):
    assert load_calibration().for_model(modality, step, forward_only=forward_only)[0] == workload


def _packaged() -> dict:
    return yaml.safe_load(resources.files("dladvisor").joinpath("gpu_calibration.yaml").read_text())


def _with(change) -> dict:
    table = _packaged()
    change(table)
    return table


@pytest.mark.parametrize(("table", "message"), [
    (_with(lambda t: t["workloads"].pop("image-train")), "'workloads': .*missing image-train"),
    (_with(lambda t: t["workloads"].update(audio=t["workloads"]["other"])), "unknown audio"),
    (_with(lambda t: t["workloads"]["text-train"].update(utilization=1.5)), "workloads.text-train.utilization"),
    (_with(lambda t: t["workloads"]["text-train"].update(measured=True)), "measured_on"),
    (_with(lambda t: t["workloads"]["text-train"].pop("source")), "workloads.text-train.source"),
    (_with(lambda t: t.pop("date")), "'date'"),
])
def test_bad_tables_name_the_key(tmp_path, table, message):
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(UserError, match=message) as info:
        load_calibration(path)
    assert "\n" not in str(info.value) and "gpu_calibration.yaml" in str(info.value)


def test_a_measured_entry_is_labelled_with_its_run(tmp_path):
    table = _packaged()
    table["workloads"]["text-train"].update(
        measured=True, measured_on="NVIDIA H100 80GB HBM3", model="all-MiniLM-L6-v2", utilization=0.31,
        date="2026-12-01", source="tests/perf/gpu_check.py at commit abc1234",
    )
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(table))
    calibration = load_calibration(path)
    assert calibration.measured_any
    assert calibration.workloads["text-train"].label == "calibrated on NVIDIA H100 80GB HBM3, 2026-12-01"
