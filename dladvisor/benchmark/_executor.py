"""Where the benchmark's unit of work runs: one (candidate, fold) fit-and-score, `fn(**shared, **task)`.

`LocalExecutor` is today's behaviour (in process, or joblib's process pool for candidates whose folds run side by
side); `RayExecutor` sends each fold to a Ray cluster as a task that declares its resources, with the shared data
(the model frame and the target) put in the object store once. Both return the same `_Fold` objects in task order,
so one seed gives the same scores whichever runs them. Ray is optional (`pip install 'dladvisor[ray]'`) and imported
only when asked for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from dladvisor.errors import UserError

# Test-only: a folder; once a file `armed` is in it, the first Ray task to find no `killed` marker there writes one
# and dies (its worker killed mid-run), so that Ray's one retry must carry the run.
KILL_FIRST_ENV = "DLADVISOR_TEST_KILL_FIRST_TASK"
_RAY_ADDRESS = re.compile(r"^ray://[^\s:/]+:\d{1,5}$")


class Executor(Protocol):
    name: str

    def map_folds(self, fn: Callable, tasks: list[dict], *, shared: dict, workers: int = 1,
                  resources: dict | None = None, timeout: float | None = None) -> list: ...

    def cluster(self) -> dict: ...

    def close(self) -> None: ...


class LocalExecutor:
    """In this process, or side by side in joblib's (loky) worker processes when `workers` > 1."""

    name = "local"

    def map_folds(self, fn, tasks, *, shared, workers=1, resources=None, timeout=None) -> list:
        if workers > 1:
            from joblib import Parallel, delayed

            return Parallel(n_jobs=workers)(delayed(fn)(**shared, **task) for task in tasks)
        return [fn(**shared, **task) for task in tasks]

    def cluster(self) -> dict:
        from dladvisor.benchmark._runner import usable_cores

        return {"executor": "local", "nodes": 1, "cpus": usable_cores(), "gpus": None}

    def close(self) -> None:
        pass


class SerialExecutor(LocalExecutor):
    """Every fold in this process, one after the other (a reference for tests)."""

    name = "serial"

    def map_folds(self, fn, tasks, *, shared, workers=1, resources=None, timeout=None) -> list:
        return [fn(**shared, **task) for task in tasks]


def _unreached_hint() -> str:
    """What to try when a Ray cluster does not answer. Ray 2.59+ starts clusters with token authentication, and a
    client that does not send the token is not refused but left to time out."""
    if os.environ.get("RAY_AUTH_MODE", "") != "token":
        return ("if the cluster uses token authentication (Ray 2.59+ starts local clusters with it), set "
                "RAY_AUTH_MODE=token here too (the token from ~/.ray/auth_token or RAY_AUTH_TOKEN); else start it with "
                "`ray start --head`, or use --executor local.")
    return "start it with `ray start --head` (and check its token), or use --executor local."


def check_executor(value: str) -> None:
    """A UserError unless `value` is 'local', 'ray' or 'ray://HOST:PORT' (nothing is contacted)."""
    if value in ("local", "ray") or _RAY_ADDRESS.match(value):
        return
    raise UserError(f"Unknown --executor '{value}'; use local, ray (a local Ray or RAY_ADDRESS) or "
                    "ray://HOST:PORT for a Ray cluster's client server.")


def make_executor(value: str = "local") -> Executor:
    check_executor(value)
    if value == "local":
        return LocalExecutor()
    return RayExecutor(None if value == "ray" else value)


class RayExecutor:
    """Each fold a Ray task: `num_cpus` (and `num_gpus=1` for deep candidates on a GPU cluster) declared, retried
    once if its worker dies, cancelled on Ctrl-C, given up on after `timeout` seconds."""

    name = "ray"

    def __init__(self, address: str | None = None):
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'dladvisor[ray]' (or use --executor local)."
                            ) from None
        self._ray = ray
        self.address = address or os.environ.get("RAY_ADDRESS") or "local"
        if not ray.is_initialized():
            try:
                if address is None and not os.environ.get("RAY_ADDRESS"):
                    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
                else:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
            except Exception as exc:  # noqa: BLE001  unreachable, refused, version mismatch: one line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(f"Cannot reach the Ray cluster at {self.address} ({first[:200]}); "
                                f"{_unreached_hint()}") from None
        self._refs: dict[int, tuple[object, object]] = {}  # id(object) -> (object kept alive, its ref)
        self._remote = ray.remote(_ray_task)

    def _put(self, value):
        held = self._refs.get(id(value))
        if held is None or held[0] is not value:
            held = (value, self._ray.put(value))
            self._refs[id(value)] = held
        return held[1]

    def map_folds(self, fn, tasks, *, shared, workers=1, resources=None, timeout=None) -> list:
        ray = self._ray
        refs = {name: self._put(value) for name, value in shared.items()}  # the data travels once
        options = {"max_retries": 1, "num_cpus": 1, **(resources or {})}
        pending = [self._remote.options(**options).remote(fn, refs, task) for task in tasks]
        try:
            done, waiting = ray.wait(pending, num_returns=len(pending), timeout=timeout)
            if waiting:
                for ref in waiting:
                    ray.cancel(ref, force=True)
                raise TimeoutError(f"{len(waiting)} of {len(pending)} Ray tasks still running after {timeout:.0f} s "
                                   "(the time budget); raise --time-budget")
            return ray.get(pending)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise

    def cluster(self) -> dict:
        resources = self._ray.cluster_resources()
        nodes = [n for n in self._ray.nodes() if n.get("Alive")]
        return {"executor": f"ray ({self.address})", "nodes": len(nodes), "cpus": int(resources.get("CPU", 0)),
                "gpus": int(resources.get("GPU", 0))}

    def close(self) -> None:
        self._refs.clear()
        self._ray.shutdown()


def _ray_task(fn, refs: dict, task: dict):
    import ray

    marker_dir = os.environ.get(KILL_FIRST_ENV)
    if marker_dir and (Path(marker_dir) / "armed").exists():
        marker = Path(marker_dir) / "killed"
        try:
            with open(marker, "x"):
                pass
        except FileExistsError:
            pass
        else:
            os._exit(1)  # the worker dies mid-run; Ray retries the task once
    shared = dict(zip(refs, ray.get(list(refs.values())), strict=True))
    return fn(**shared, **task)
