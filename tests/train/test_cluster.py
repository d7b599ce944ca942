"""Dask scale-out: every missing run trained once on the workers, retried when a worker dies."""

import ast
import os
import select
import signal
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cloudpickle
import dask
import distributed
import numpy as np
import pytest

from fpt_core.train import cluster as fpt_cluster
from fpt_core.train.config import TrainConfig
from fpt_core.train.device import small_tensor_threads
from fpt_core.train.engine import ENGINE_VERSION
from fpt_core.train.runner import ensemble_keys, run_ensemble
from fpt_core.train.store import Store, run_key

# the workers cannot import this test module: send its hook class by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CFG = TrainConfig(model_kwargs={"hidden": [8]}, epochs=3, num_samples=500, batch_size=100)
SEEDS = list(range(8))
CHUNK = 2  # 4 tasks
FINAL_STEP = 3 * 4  # epochs × steps per epoch (400 training samples / batch 100)
KEYS = ensemble_keys(CFG, SEEDS)  # configuration, seed, engine version, data identity
RUN = dict(chunk_size=CHUNK, device="cpu", progress=False)


class Marker:
    """Hook that changes nothing: one file per call named ``pid_seeds_step_n`` (``n`` counts the
    calls with the same pid, seeds and step, e.g. a retried task on the same worker).

    With ``block_step`` and ``release``: after marking step ``block_step`` it waits until the
    file ``release`` exists (at once if it already does), so that a test can kill the worker
    while the task is there, mid-chunk.
    """

    def __init__(self, folder, block_step=None, release=None):
        self.folder = str(folder)
        self.block_step = block_step
        self.release = None if release is None else str(release)

    def __call__(self, state):
        seeds = "-".join(str(s) for s in state.seeds)
        prefix = f"{os.getpid()}_{seeds}_{state.step}_"
        n = 0
        while True:  # O_EXCL: a name is never reused, whatever runs at the same time
            try:
                os.close(os.open(Path(self.folder, f"{prefix}{n}"), os.O_CREAT | os.O_EXCL))
                break
            except FileExistsError:
                n += 1
        if state.step == self.block_step:
            while not os.path.exists(self.release):
                time.sleep(0.01)


def marks(folder):
    """``(pid, seeds, step)`` of every hook call."""
    out = []
    for p in Path(folder).iterdir():
        pid, seeds, step, _ = p.name.split("_")
        out.append((int(pid), tuple(int(s) for s in seeds.split("-")), int(step)))
    return out


def finished_per_seed(folder):
    """How many times each seed's training reached its last step."""
    counts = dict.fromkeys(SEEDS, 0)
    for _, seeds, step in marks(folder):
        if step == FINAL_STEP:
            for s in seeds:
                counts[s] += 1
    return counts


def assert_store_holds_each_run_once(root):
    files = sorted(p for p in (Path(root) / "runs").rglob("*") if p.is_file())
    assert [p.name for p in files] == sorted(f"{k}.json" for k in KEYS)  # no .tmp, no extra
    assert Store(root).keys() == sorted(KEYS)


def assert_same_records(records, reference, since):
    until = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert [r["seed"] for r in records] == SEEDS
    for rec, ref in zip(records, reference, strict=True):
        assert set(rec) == set(ref)  # same fields as the in-process path
        for f in ("seed", "key", "status", "diverged_step", "events", "config", "engine_version"):
            assert rec[f] == ref[f], f
        assert (rec["device"], rec["torch"]) == (ref["device"], ref["torch"])
        assert since <= datetime.fromisoformat(rec["created"]) <= until
        for f, v in ref["trajectory"].items():  # bit-identical: one thread on both sides
            np.testing.assert_array_equal(rec["trajectory"][f], v, err_msg=f)


@pytest.fixture(scope="module")
def cluster_client():
    # A killed worker is restarted by its nanny; LocalCluster closes that nanny for good if the
    # new worker has not registered within `lost-worker-timeout` (15 s), which a loaded machine
    # can exceed. Wait for the restart instead, so that the cluster keeps its two workers.
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1h"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        cl = distributed.Client(cluster, set_as_default=False)  # as in a notebook: no default
        yield cl
        for c in fpt_cluster._CLIENTS.values():
            c.close()
        fpt_cluster._CLIENTS.clear()
        cl.close()
        cluster.close()


@pytest.fixture
def client(cluster_client):
    return cluster_client


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same runs in-process, one thread (as each worker)."""
    with small_tensor_threads():
        res = run_ensemble(CFG, SEEDS, store=tmp_path_factory.mktemp("ref"), **RUN)
    return res.records


def worker_pids(client):
    return set(client.run(os.getpid).values())


def test_dask_is_imported_only_when_a_cluster_is_used():
    """No module of fpt_core imports dask at import time (the package works without it)."""
    top_level = []
    for path in sorted((Path(fpt_cluster.__file__).parent).glob("*.py")):
        todo = list(ast.parse(path.read_text()).body)
        while todo:  # everything but function bodies runs at import time
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            todo += list(ast.iter_child_nodes(node))
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            top_level += [
                (path.name, n) for n in names if n.split(".")[0] in {"dask", "distributed"}
            ]
    assert top_level == []


def test_client_needs_a_store_and_env_var_without_store_stays_in_process(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="store"):
        run_ensemble(CFG, [0], store=None, client="tcp://127.0.0.1:9", **RUN)
    with pytest.raises(ValueError, match="device"):  # before connecting to the scheduler
        kw = {**RUN, "device": "gpu"}
        run_ensemble(CFG, [0], store=tmp_path, client="tcp://127.0.0.1:9", **kw)
    monkeypatch.setenv("FPT_DASK_SCHEDULER", "tcp://127.0.0.1:9")  # nothing listens there
    res = run_ensemble(CFG, [0], store=None, **RUN)
    assert res.n_trained == 1 and res.device == "cpu"


def test_cluster_trains_each_run_once_like_in_process(client, reference, tmp_path):
    since = datetime.now(timezone.utc).replace(microsecond=0)
    (tmp_path / "marks").mkdir()
    res = run_ensemble(
        CFG, SEEDS, store=tmp_path / "s", hooks=[Marker(tmp_path / "marks")], client=client, **RUN
    )
    assert (res.n_trained, res.n_reused, res.device) == (8, 0, "cpu")
    assert finished_per_seed(tmp_path / "marks") == dict.fromkeys(SEEDS, 1)
    assert {pid for pid, _, _ in marks(tmp_path / "marks")} <= worker_pids(client)
    assert_store_holds_each_run_once(tmp_path / "s")
    assert_same_records(res.records, reference, since)


def test_resubmission_trains_only_what_is_missing(client, tmp_path, monkeypatch):
    store = Store(tmp_path / "s")
    assert run_ensemble(CFG, SEEDS, store=store, client=client, **RUN).n_trained == 8
    mtimes = {k: store.path(k).stat().st_mtime_ns for k in KEYS}
    again = run_ensemble(CFG, SEEDS, store=store, client=client, **RUN)
    assert (again.n_trained, again.n_reused) == (0, 8)
    assert {k: store.path(k).stat().st_mtime_ns for k in KEYS} == mtimes

    # nothing to train: no connection to the scheduler (nothing listens at this address)
    monkeypatch.setenv("FPT_DASK_SCHEDULER", "tcp://127.0.0.1:9")
    assert run_ensemble(CFG, SEEDS, store=store, **RUN).n_reused == 8

    # two runs lost; FPT_DASK_SCHEDULER alone sends the call (no client=) to the cluster
    for k in KEYS[2:4]:
        store.path(k).unlink()
    monkeypatch.setenv("FPT_DASK_SCHEDULER", client.scheduler.address)
    (tmp_path / "marks").mkdir()
    res = run_ensemble(CFG, SEEDS, store=store, hooks=[Marker(tmp_path / "marks")], **RUN)
    assert (res.n_trained, res.n_reused) == (2, 6)
    assert finished_per_seed(tmp_path / "marks") == {s: int(s in (2, 3)) for s in SEEDS}
    assert {pid for pid, _, _ in marks(tmp_path / "marks")} <= worker_pids(client)
    kept = [k for i, k in enumerate(KEYS) if i not in (2, 3)]
    assert {k: store.path(k).stat().st_mtime_ns for k in kept} == {k: mtimes[k] for k in kept}
    assert_store_holds_each_run_once(tmp_path / "s")


class KeepsFutures:
    """A client that keeps every future it submitted, as a user's own code may: Dask then still
    knows the task names of every earlier call."""

    def __init__(self, client):
        self._client, self.kept = client, []

    def submit(self, *args, **kwargs):
        fut = self._client.submit(*args, **kwargs)
        self.kept.append(fut)
        return fut

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_a_call_never_gets_an_earlier_calls_task(client, tmp_path):
    """The same runs into a second store, and into one store again after its runs were deleted,
    while the earlier calls' futures are alive: each call trains its own tasks (were the task
    name the same, Dask would hand back the earlier finished task, whose runs are elsewhere or
    gone)."""
    keeping = KeepsFutures(client)
    for i in range(2):
        store = Store(tmp_path / f"s{i}")
        for _ in range(2):
            res = run_ensemble(CFG, SEEDS[:4], store=store, client=keeping, **RUN)
            assert (res.n_trained, store.keys()) == (4, sorted(KEYS[:4]))
            for k in KEYS[:4]:
                store.path(k).unlink()
    assert len({f.key for f in keeping.kept}) == len(keeping.kept) == 4 * 2  # calls × chunks


def test_perturbation_protocol_is_built_on_the_worker(client, tmp_path):
    spec = {"kind": "shrink_perturb", "lam": 0.4, "sigma": 0.1, "tau": 1}
    cfg = TrainConfig(**{**CFG.to_dict(), "perturbation": spec})
    with small_tensor_threads():
        ref = run_ensemble(cfg, 3, store=tmp_path / "ref", **RUN)
    res = run_ensemble(cfg, 3, store=tmp_path / "s", client=client, **RUN)
    assert res.n_trained == 3
    for rec, r in zip(res.records, ref.records, strict=True):
        assert [e["epoch"] for e in rec["events"]] == [1.0, 2.0] and rec["events"] == r["events"]
        assert rec["key"] == r["key"] != run_key(CFG.to_dict(), rec["seed"], ENGINE_VERSION)
        np.testing.assert_array_equal(rec["trajectory"]["test_loss"], r["trajectory"]["test_loss"])


def wait_for(predicate, what, timeout=120.0):
    """Wait until ``predicate()`` is truthy and return it; the timeout is only a safety net
    against a hung worker (every wait here ends on an event the test itself causes)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return value


def kill_and_wait(pid, timeout=60.0):
    """SIGKILL ``pid`` and return once it has exited (a pidfd becomes readable then)."""
    fd = os.pidfd_open(pid)
    try:
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"worker {pid} still alive {timeout} s after SIGKILL"
    finally:
        os.close(fd)


def test_killed_worker_runs_are_retried(client, reference, tmp_path):
    since = datetime.now(timezone.utc).replace(microsecond=0)
    (tmp_path / "marks").mkdir()
    release = tmp_path / "release"
    out = {}

    def submit():
        try:
            # each task stops after its first epoch (step 4 of 12) until `release` exists
            hook = Marker(tmp_path / "marks", block_step=4, release=release)
            out["res"] = run_ensemble(
                CFG, SEEDS, store=tmp_path / "s", hooks=[hook], client=client, **RUN
            )
        except BaseException as exc:  # re-raised below
            out["err"] = exc

    thread = threading.Thread(target=submit)
    thread.start()
    try:
        # a task that marked step 4 is blocked there, mid-chunk, until the release file exists
        pid, victim_seeds, _ = wait_for(
            lambda: next((m for m in marks(tmp_path / "marks") if m[2] == 4), None),
            "a task to reach step 4",
        )
        assert pid in worker_pids(client) and pid != os.getpid()
        kill_and_wait(pid)  # dead before anything is released: it cannot finish its chunk
    finally:
        release.touch()  # the other tasks (and the retried one) run through
    thread.join(timeout=120)
    assert not thread.is_alive()
    if "err" in out:
        raise out["err"]
    res = out["res"]
    assert (res.n_trained, res.n_reused) == (8, 0)
    calls = marks(tmp_path / "marks")
    # the killed worker never finished its chunk; another process trained it to the end
    assert not any(p == pid and step == FINAL_STEP for p, _, step in calls)
    assert any(p != pid and s == victim_seeds and st == FINAL_STEP for p, s, st in calls)
    assert finished_per_seed(tmp_path / "marks") == dict.fromkeys(SEEDS, 1)
    assert_store_holds_each_run_once(tmp_path / "s")
    assert_same_records(res.records, reference, since)
