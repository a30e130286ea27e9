from __future__ import annotations

import pytest
import yaml

from dladvisor.errors import UserError
from dladvisor.prices import load_prices


def test_packaged_table_is_dated_and_complete():
    prices = load_prices()
    assert prices.read_on and prices.source.startswith("https://")
    assert prices.cpu.kind == "cpu" and prices.gpu.kind == "gpu" and prices.gpu.gpu_peak_tflops > 0
    assert prices.assumed_gpu_utilization is None  # per-family figures live in gpu_calibration.yaml


@pytest.mark.parametrize(("name", "instance"), [
    ("NVIDIA H100 80GB HBM3", "p5.48xlarge-per-gpu"),
    ("NVIDIA H100 PCIe", "p5.48xlarge-per-gpu"),
    ("NVIDIA L4", "g6.xlarge"),
    ("NVIDIA A10G", "g5.xlarge"),
    ("NVIDIA A100-SXM4-40GB", None),  # not an A10G, not an H100
    ("NVIDIA A10", None),
    ("NVIDIA H200", None),
    ("no GPU", None),
])
def test_instance_for_a_gpu_name(name, instance):
    assert load_prices().instance_for_gpu(name) == instance


def test_the_cheapest_instance_with_that_gpu_wins():
    prices = load_prices()
    bigger = prices.instances["g6.xlarge"].model_copy(update={"hourly_usd": 1.32, "vcpus": 8})
    table = prices.model_copy(update={"instances": {**prices.instances, "g6.2xlarge": bigger}})
    assert table.instance_for_gpu("NVIDIA L4") == "g6.xlarge"


def test_overrides_replace_only_the_default_instances():
    prices = load_prices().with_overrides(gpu_hourly=2.5)
    assert prices.gpu.hourly_usd == 2.5 and prices.cpu.hourly_usd == load_prices().cpu.hourly_usd
    with pytest.raises(UserError, match="positive"):
        load_prices().with_overrides(cpu_hourly=-1)


def _packaged() -> dict:
    from importlib import resources

    return yaml.safe_load(resources.files("dladvisor").joinpath("prices.yaml").read_text())


def _broken(**changes) -> dict:
    table = _packaged()
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = table
        for key in path:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_broken(default_gpu="h200-imaginary"), "default_gpu"),
        (_broken(default_cpu="g6.xlarge"), "is a gpu instance"),
        (_broken(assumed_gpu_utilization=1.5), "assumed_gpu_utilization"),
        (_broken(read_on=None), "read_on"),
        (_broken(surprise="key"), "surprise"),
    ],
)
def test_bad_tables_name_the_key(tmp_path, table, message):
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(UserError, match=message) as info:
        load_prices(path)
    assert "\n" not in str(info.value)


def test_gpu_without_throughput_and_negative_prices(tmp_path):
    table = _packaged()
    del table["instances"]["g6.xlarge"]["gpu_peak_tflops"]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(UserError, match="gpu_peak_tflops"):
        load_prices(path)
    table = _packaged()
    table["instances"]["c7i.xlarge"]["hourly_usd"] = -0.1
    path.write_text(yaml.safe_dump(table))
    with pytest.raises(UserError, match="instances.c7i.xlarge.hourly_usd"):
        load_prices(path)


@pytest.mark.parametrize(("content", "message"), [("a: [", "not valid YAML"), ("- 1\n- 2\n", "must be a YAML mapping")])
def test_unreadable_tables(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_prices(path)
    with pytest.raises(UserError, match="not found"):
        load_prices(tmp_path / "missing.yaml")


def test_yaml_tags_are_never_executed(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("!!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_prices(path)
