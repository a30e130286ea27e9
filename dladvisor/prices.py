"""The dated price table behind every dollar figure, validated with errors that name the key and the fix."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dladvisor.errors import UserError


class Instance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["cpu", "gpu"]
    hourly_usd: float = Field(gt=0)
    vcpus: int = Field(gt=0)
    memory_gb: float = Field(gt=0)
    gpu: str | None = None
    gpu_peak_tflops: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _gpu_needs_throughput(self) -> Instance:
        if self.kind == "gpu" and self.gpu_peak_tflops is None:
            raise ValueError("a gpu instance needs gpu_peak_tflops (its dense bf16 peak, from the vendor sheet)")
        return self


class PriceTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    read_on: str
    source: str
    currency: Literal["USD"] = "USD"
    default_cpu: str
    default_gpu: str
    # Tables before version 2 carried one GPU utilisation for every model; per-family figures now live in
    # gpu_calibration.yaml. A table that still sets it overrides them all (and the report says so).
    assumed_gpu_utilization: float | None = Field(default=None, gt=0, le=1)
    instances: dict[str, Instance]

    @model_validator(mode="after")
    def _defaults_exist(self) -> PriceTable:
        for key, kind in (("default_cpu", "cpu"), ("default_gpu", "gpu")):
            name = getattr(self, key)
            if name not in self.instances:
                raise ValueError(f"{key} '{name}' is not one of the instances ({', '.join(self.instances)})")
            if self.instances[name].kind != kind:
                raise ValueError(f"{key} '{name}' is a {self.instances[name].kind} instance, not {kind}")
        return self

    @property
    def cpu(self) -> Instance:
        return self.instances[self.default_cpu]

    @property
    def gpu(self) -> Instance:
        return self.instances[self.default_gpu]

    def instance_for_gpu(self, name: str) -> str | None:
        """The cheapest GPU instance whose GPU model is a word of `name` (as torch reports it), or None.

        An instance's GPU model is the first word of its `gpu` entry that holds a digit: L4, A10G, H100. So
        "NVIDIA H100 80GB HBM3" matches H100 but "NVIDIA A100-SXM4-40GB" matches neither A10G nor H100.
        """
        words = set(re.findall(r"[a-z0-9]+", name.lower()))
        matches = [
            key for key, instance in self.instances.items()
            if instance.kind == "gpu" and instance.gpu and _gpu_model(instance.gpu) in words
        ]
        return min(matches, key=lambda key: self.instances[key].hourly_usd, default=None)

    def with_overrides(self, *, cpu_hourly: float | None = None, gpu_hourly: float | None = None) -> PriceTable:
        instances = dict(self.instances)
        for name, price, option in ((self.default_cpu, cpu_hourly, "--cpu-hourly"),
                                    (self.default_gpu, gpu_hourly, "--gpu-hourly")):
            if price is not None:
                if not price > 0:
                    raise UserError(f"{option} must be a positive price in USD (got {price}); e.g. {option} 1.2.")
                instances[name] = instances[name].model_copy(update={"hourly_usd": price})
        return self.model_copy(update={"instances": instances})


def _gpu_model(gpu: str) -> str | None:
    return next((word for word in re.findall(r"[a-z0-9]+", gpu.lower()) if any(ch.isdigit() for ch in word)), None)


def load_prices(path: Path | str | None = None) -> PriceTable:
    """The packaged table, or `path` in the same layout."""
    return read_table(PriceTable, path, packaged="prices.yaml", what="Price table", keys="version, read_on, instances")


def read_table(model: type[BaseModel], path: Path | str | None, *, packaged: str, what: str, keys: str):
    """A packaged YAML table (`packaged`, in the dladvisor package) or `path`, validated into `model`.

    Errors are one line naming the file, the key and the fix; YAML tags are never executed (safe_load).
    """
    layout = f"dladvisor/{packaged}"
    if path is None:
        text = resources.files("dladvisor").joinpath(packaged).read_text(encoding="utf-8")
        name = f"the packaged {what.lower()}"
    else:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{what} {path} not found; pass a YAML file laid out like {layout}.")
        text, name = path.read_text(encoding="utf-8"), str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{name} is not valid YAML ({str(exc).splitlines()[0]}); fix the syntax.") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{name} must be a YAML mapping with {keys}…; see {layout}.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise UserError(f"{name}: '{where}': {error['msg']}; fix that key (see {layout}).") from exc
