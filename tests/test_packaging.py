"""Installable anywhere: every file the package reads at run time is package data, and a built wheel runs `assess`
from a folder outside the repository (the slow test builds one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dladvisor"
# What the wheel build must not see: build leftovers (a stale build/lib would be packed), caches, reports, tests.
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache",
                                    "reports", "tests", ".venv*")


def _package_data_globs() -> list[str]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["setuptools"]["package-data"]["dladvisor"]


def _data_files() -> set[str]:
    """Every non-Python file in the package folder, relative to it: what the code reads at run time."""
    return {
        p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }


def test_every_data_file_in_the_package_is_package_data():
    matched = {p.relative_to(PACKAGE).as_posix() for pattern in _package_data_globs() for p in PACKAGE.glob(pattern)}
    data = _data_files()
    assert {"prices.yaml", "gpu_calibration.yaml", "playbooks/default.yaml", "report/templates/report.md.j2"} <= data
    assert data - matched == set(), "add these to [tool.setuptools.package-data] in pyproject.toml"


def test_no_module_reads_files_from_outside_the_package():
    """Data is found beside the code (package data), never through the repository layout (`parent.parent`)."""
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                 if "__file__).resolve().parent.parent" in p.read_text(encoding="utf-8")
                 or "__file__).parent.parent" in p.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.slow
def test_a_built_wheel_assesses_a_table_from_a_folder_outside_the_repository(tmp_path, cancer_frame):
    source, dist, venv, work = tmp_path / "source", tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)  # a clean tree: nothing stale from an earlier build
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", str(source), "-w", str(dist), "--no-deps", "--no-build-isolation", "-q"],
                   check=True, cwd=tmp_path, env=env)
    (wheel,) = dist.glob("dladvisor-*.whl")
    packed = {n.removeprefix("dladvisor/") for n in zipfile.ZipFile(wheel).namelist() if n.startswith("dladvisor/")}
    assert _data_files() <= packed

    # The dependencies come from this interpreter's site-packages, so nothing is downloaded; pip too (no ensurepip).
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python, script = venv / "bin" / "python", venv / "bin" / "dladvisor"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, env=env)
    work.mkdir()
    imported = subprocess.run([str(python), "-c", "import dladvisor; print(dladvisor.__file__)"], cwd=work, env=env,
                              capture_output=True, text=True, check=True).stdout.strip()
    assert Path(imported).is_relative_to(venv), imported  # the wheel's copy, not an editable install of a checkout

    folders = subprocess.run([str(script), "playbooks", "path"], cwd=work, env=env, capture_output=True, text=True)
    assert folders.returncode == 0 and folders.stdout.startswith(str(Path(imported).parent / "playbooks"))

    cancer_frame.to_csv(work / "cancer.csv", index=False)
    run = subprocess.run(
        [str(script), "assess", str(work / "cancer.csv"), "-t", "diagnosis", "-c", "linear", "--folds", "3",
         "--time-budget", "60s", "--no-learning-curves", "--stakes", "high"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    text = (work / "reports" / "cancer" / "report.json").read_text()
    assert str(work) not in text and str(venv) not in text  # no absolute path in a report, though DATA was one
    report = json.loads(text)
    assert report["config"]["data"] == report["dataset"]["source"] == "cancer.csv"
    assert report["playbook"]["name"] == "high-stakes" and report["dataset"]["rows"] == 80
    assert report["playbook"]["source"] == "bundled: high-stakes.yaml"
    where = subprocess.run([str(script), "playbooks", "path"], cwd=work, env=env, capture_output=True, text=True)
    bundled = Path(where.stdout.splitlines()[0].split("\t")[0])
    assert bundled.is_relative_to(venv) and (bundled / "high-stakes.yaml").is_file()  # read from the wheel
    assert report["recommendation"]["candidate"] == "linear"
    assert "## Recommendation" in (work / "reports" / "cancer" / "report.md").read_text()
    assert (work / "reports" / "cancer" / "plots" / "leaderboard.png").is_file()
