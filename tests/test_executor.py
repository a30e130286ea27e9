"""The executor seam: local (default), serial and Ray run the same (candidate, fold) fits and give the same scores."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dladvisor.benchmark import run_benchmark
from dladvisor.benchmark._executor import KILL_FIRST_ENV, LocalExecutor, SerialExecutor, check_executor
from dladvisor.config import assess_config
from dladvisor.errors import UserError
from dladvisor.load import load_dataset
from dladvisor.profile import profile_dataset

ROOT = Path(__file__).resolve().parents[1]
CLASSICAL = ["dummy", "linear", "knn", "random_forest", "xgboost"]


def _scores(bench) -> dict:
    return {c.name: (c.status, c.metrics["roc_auc"].per_fold if c.status == "ok" else c.reason)
            for c in bench.candidates}


def test_local_executor_gives_the_scores_of_serial_fits(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    profile = profile_dataset(dataset)
    options = dict(n_folds=3, learning_curves=False, candidates=["linear", "knn", "random_forest"])
    local = run_benchmark(dataset, profile, executor=LocalExecutor(), **options)
    serial = run_benchmark(dataset, profile, executor=SerialExecutor(), **options)
    assert all(c.status == "ok" for c in local.candidates)
    assert _scores(local) == _scores(serial)
    assert local.executor == "local" and local.cluster_nodes == 1 and local.cluster_cpus >= 1


class _Counting(SerialExecutor):
    """Serial fits that count the tasks they are given."""

    tasks = 0

    def map_folds(self, fn, tasks, **options):
        self.tasks += len(tasks)
        return super().map_folds(fn, tasks, **options)


def test_learning_curves_run_through_the_executor(cancer_frame):
    dataset = load_dataset(cancer_frame, target="diagnosis")
    profile = profile_dataset(dataset)
    runs = {}
    for curves in (False, True):
        runs[curves] = _Counting()
        bench = run_benchmark(dataset, profile, n_folds=3, candidates=["linear", "mlp"], learning_curves=curves,
                              executor=runs[curves])
    # Every refitted point of both curves was a task (the last point of each is the fold the benchmark fitted).
    refitted = sum(len(curve.points) - 1 for curve in bench.learning_curves.curves)
    assert refitted >= 4 and runs[True].tasks - runs[False].tasks == refitted


@pytest.mark.parametrize("value", ["local", "ray", "ray://127.0.0.1:20001", "ray://head.example.com:10001"])
def test_executor_option_accepts(value):
    check_executor(value)


@pytest.mark.parametrize("value", ["dask", "ray://", "ray://host", "http://127.0.0.1:8265", "ray://a b:1"])
def test_executor_option_rejects_before_reading_data(value, tmp_path):
    with pytest.raises(UserError, match="--executor"):
        assess_config(tmp_path / "missing.csv", target="y", executor=value)


# ---- real Ray: a head on 127.0.0.1 with 2 CPUs, reached as a client (slow) ----

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert not 10002 <= port <= 19999, port  # the Linux ephemeral range starts at 32768
    return port


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    if shutil.which("ray") is None:
        pytest.skip("Ray is not installed (pip install 'dladvisor[ray]')")
    markers = tmp_path_factory.mktemp("ray-markers")
    # Token authentication on head and client alike: Ray 2.59+ turns it on for local clusters, and a client without
    # the token times out; earlier Ray (from 2.52) honours the setting, older Ray ignores it.
    env = {**os.environ, KILL_FIRST_ENV: str(markers), "RAY_AUTH_MODE": "token",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    port, client = _free_port(), _free_port()
    temp = tmp_path_factory.mktemp("ray")
    subprocess.run(["ray", "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
                    f"--ray-client-server-port={client}", "--num-cpus=2", "--include-dashboard=false",
                    f"--temp-dir={temp}", "--disable-usage-stats"], check=True, env=env, capture_output=True)
    try:
        yield f"ray://127.0.0.1:{client}", markers, env
    finally:
        subprocess.run(["ray", "stop", "--force"], env=env, capture_output=True)


def _assess(data: Path, out: Path, env: dict, *extra: str) -> dict:
    command = [sys.executable, "-m", "dladvisor", "assess", str(data), "--target", "diagnosis", "--folds", "3",
               "--no-learning-curves", "--out", str(out), *[a for c in CLASSICAL for a in ("--candidate", c)], *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(next(out.glob("*.json")).read_text())


def _json_scores(report: dict) -> dict:
    return {c["name"]: (c["status"], c["metrics"]["roc_auc"]["per_fold"] if c["status"] == "ok" else c["reason"])
            for c in report["benchmark"]["candidates"]}


@pytest.fixture(scope="module")
def cancer_csv(cancer_frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    cancer_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def local_report(cancer_csv, tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return _assess(cancer_csv, tmp_path_factory.mktemp("local"), env)


@pytest.mark.slow
def test_ray_cluster_gives_the_scores_of_local(ray_head, cancer_csv, local_report, tmp_path):
    address, _, env = ray_head
    report = _assess(cancer_csv, tmp_path, env, "--executor", address)
    assert _json_scores(report) == _json_scores(local_report)
    assert all(status == "ok" for status, _ in _json_scores(report).values())
    bench = report["benchmark"]
    assert bench["executor"] == f"ray ({address})" and bench["cluster_nodes"] == 1 and bench["cluster_cpus"] == 2
    assert local_report["benchmark"]["executor"] == "local"
    assert f"folds ran on ray ({address})" in next(tmp_path.glob("*.md")).read_text()


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_retried_and_the_report_is_complete(ray_head, cancer_csv, local_report, tmp_path):
    address, markers, env = ray_head
    (markers / "armed").touch()
    try:
        report = _assess(cancer_csv, tmp_path, env, "--executor", address)
    finally:
        (markers / "armed").unlink()
    assert (markers / "killed").exists()  # a worker did die (os._exit) during the run
    assert _json_scores(report) == _json_scores(local_report)  # its task's retry gave the same fold


def test_unreachable_ray_cluster_is_one_line(tmp_path, cancer_csv):
    pytest.importorskip("ray")
    port = _free_port()  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "dladvisor", "assess", str(cancer_csv), "--target", "diagnosis",
                           "--candidate", "linear", "--out", str(tmp_path), "--executor", f"ray://127.0.0.1:{port}"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "Cannot reach the Ray cluster" in done.stderr
