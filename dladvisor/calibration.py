"""The dated GPU calibration table: the share of a GPU's peak each kind of deep work reaches, per model family.

Projections of GPU time from counted FLOPs divide by `gpu_peak_tflops x utilization`; one utilisation for every
model was wrong by several times between a transformer and a depthwise-convolution CNN, so each family has its
own entry, with the run it was measured on, or the reason for the assumption when it was not measured.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dladvisor.prices import read_table

# train: forward + backward + optimizer step; forward: frozen embeddings and every prediction served.
# `other` covers deep models of no listed family (the tabular MLP, custom candidates).
WORKLOADS = ("text-train", "text-forward", "image-train", "image-forward", "other")


class Utilization(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    utilization: float = Field(gt=0, le=1)
    measured: bool
    measured_on: str | None = None
    model: str | None = None
    date: str
    source: str

    @model_validator(mode="after")
    def _measured_says_where(self) -> Utilization:
        if self.measured and not (self.measured_on and self.model):
            raise ValueError("a measured entry needs measured_on (the GPU's name) and model (what ran on it)")
        return self

    @property
    def label(self) -> str:
        """How far to trust it, in the words the report uses."""
        return f"calibrated on {self.measured_on}, {self.date}" if self.measured else "uncalibrated assumption"


class GpuCalibration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    date: str
    source: str
    workloads: dict[str, Utilization]

    @field_validator("workloads")
    @classmethod
    def _every_workload_once(cls, workloads: dict[str, Utilization]) -> dict[str, Utilization]:
        missing = [name for name in WORKLOADS if name not in workloads]
        unknown = [name for name in workloads if name not in WORKLOADS]
        if missing:
            raise ValueError(f"missing {', '.join(missing)} (every one of {', '.join(WORKLOADS)} is needed)")
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)} (use {', '.join(WORKLOADS)})")
        return workloads

    def for_model(self, modality: str, ladder_step: str, *, forward_only: bool = False) -> tuple[str, Utilization]:
        """The workload name and entry for a model's training (or, with `forward_only`, its forward passes)."""
        if modality not in ("text", "image"):
            return "other", self.workloads["other"]
        name = f"{modality}-{'forward' if forward_only or ladder_step == 'frozen' else 'train'}"
        return name, self.workloads[name]

    def overridden(self, utilization: float, source: str) -> GpuCalibration:
        """Every workload at one utilisation (a price table that still sets `assumed_gpu_utilization`)."""
        entry = Utilization(utilization=utilization, measured=False, date=self.date, source=source)
        return self.model_copy(update={"workloads": dict.fromkeys(WORKLOADS, entry)})

    @property
    def measured_any(self) -> bool:
        return any(entry.measured for entry in self.workloads.values())


def load_calibration(path: Path | str | None = None) -> GpuCalibration:
    """The packaged table (dladvisor/gpu_calibration.yaml), or `path` in the same layout."""
    return read_table(
        GpuCalibration, path, packaged="gpu_calibration.yaml", what="GPU calibration table",
        keys="version, date, source, workloads",
    )
