"""Train an experiment's missing runs on a Dask cluster.

Runs are independent, so an experiment splits into tasks: one task per chunk of ``chunk_size``
seeds. :func:`fpt_core.train.runner.run_ensemble` sends the chunks the store lacks to a
``dask.distributed`` cluster when it is given ``client=`` (a ``distributed.Client`` or a scheduler
address) or when the environment variable ``FPT_DASK_SCHEDULER`` holds a scheduler address, e.g.
``tcp://10.0.0.5:8786``; the variable lets any notebook run on a cluster through papermill
without changing its parameters. Any cluster that gives a ``distributed.Client`` works:
``LocalCluster``, ``dask-jobqueue`` (Slurm, PBS, …), Kubernetes.

Each task (:func:`train_task`, on a worker) loads the data set on the worker's device, skips the
runs already in the store (another worker may have finished them), trains the rest of its chunk
as one batched ensemble and saves every record atomically to the shared store (temporary file,
``fsync``, rename), then returns only the run keys; the client reads the records back from the
store. A task that raises is retried (:data:`RETRIES` times); a task whose worker dies (killed,
node lost) is rescheduled by the scheduler on another worker, up to the scheduler's
``distributed.scheduler.allowed-failures`` (default 3) before ``KilledWorker`` is raised. The
task key is a hash of the chunk's run keys, so submitting the same experiment again while it
runs does not duplicate work, and submitting it after it finished trains nothing.

Requirements: ``pip install 'fpt-core[cluster]'`` (``dask[distributed]``); ``fpt_core`` importable
on every worker (same version, so that run keys agree); the results store (and ``data_root``) on a
filesystem that every worker and the client see under the same absolute path. Dask is imported
only when a cluster is used, so ``fpt_core`` works without it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from typing import Any

from fpt_core.train.config import TrainConfig
from fpt_core.train.engine import Hook
from fpt_core.train.store import Store

__all__ = [
    "ENV_SCHEDULER",
    "RETRIES",
    "check_device",
    "resolve_client",
    "train_task",
    "train_on_cluster",
]

ENV_SCHEDULER = "FPT_DASK_SCHEDULER"
"""Environment variable with a scheduler address; when set, ``run_ensemble`` uses that cluster."""

RETRIES = 3
"""How many times a task that raised an exception is resubmitted before the error is raised."""

_CLIENTS: dict[str, Any] = {}


def resolve_client(client: Any = None) -> Any:
    """The ``distributed.Client`` to train on, or ``None`` for in-process training.

    Parameters
    ----------
    client : distributed.Client, str or None
        A client is returned as is; a scheduler address (``"tcp://host:8786"``) is connected to
        once per process and the client is reused by later calls; ``None`` reads the address
        from the environment variable ``FPT_DASK_SCHEDULER`` (unset or empty: ``None``).

    Returns
    -------
    distributed.Client or None
    """
    if client is None:
        client = os.environ.get(ENV_SCHEDULER) or None
        if client is None:
            return None
    if not isinstance(client, str):
        if not hasattr(client, "submit"):
            raise TypeError(
                f"client={client!r} must be a distributed.Client, a scheduler address or None"
            )
        return client
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "a Dask scheduler was requested but dask.distributed is not installed: "
            "pip install 'fpt-core[cluster]'"
        ) from exc
    cached = _CLIENTS.get(client)
    if cached is None or cached.status in ("closing", "closed"):
        cached = _CLIENTS[client] = Client(client, set_as_default=False)
    return cached


def check_device(device: Any) -> str | None:
    """Check a device name here, before the workers resolve it; ``None`` stays ``None``.

    Raises ``ValueError`` unless ``device`` is ``None`` or names a ``cpu``, ``cuda[:i]`` or
    ``mps`` device. Whether that device exists is checked on each worker.
    """
    if device is None:
        return None
    from fpt_core.train.device import parse_device

    parse_device(device)
    return str(device)


def train_task(
    config: TrainConfig,
    chunk: Sequence[tuple[int, str]],
    store_root: str,
    device: str | None = None,
    data_root: str | None = None,
    download: bool = False,
    hooks: Sequence[Hook] = (),
    checkpoint_every: int | None = None,
) -> dict[str, Any]:
    """One cluster task: train the runs of ``chunk`` the store lacks and save them there.

    Runs on a worker. The device is resolved on the worker (``device=None``: ``FPT_DEVICE`` or
    the first of ``cuda``, ``mps``, ``cpu``); the data set is loaded once per worker process
    (:func:`fpt_core.train.chunk.cached_dataset`); the perturbation protocol is built here from
    ``config.perturbation``; training and saving are :func:`fpt_core.train.chunk.train_chunk`, as
    in-process.

    Parameters
    ----------
    config : TrainConfig
        The configuration of every run of the chunk.
    chunk : list of (int, str)
        ``(seed, key)`` pairs.
    store_root : str
        Absolute path of the results store, shared by all workers.
    device : str, optional
        Training device; ``None`` resolves it on the worker.
    data_root : str, optional
        Folder of on-disk data sets, seen by the worker under this path.
    download : bool
        Let torchvision download a missing data set.
    hooks : list of callables
        Extra hooks (picklable; this task works on its own copy).

    Returns
    -------
    dict
        ``trained`` (keys trained and saved by this task), ``skipped`` (keys already in the
        store) and ``device`` (where it trained). No trajectories: the client reads the store.
    """
    from fpt_core.train.chunk import cached_dataset, ensemble_hooks, train_chunk
    from fpt_core.train.device import resolve_device

    store = Store(store_root)
    todo = [(int(s), k) for s, k in chunk if not store.has(k)]
    dev = resolve_device(device)
    if todo:
        data = cached_dataset(
            config.dataset,
            data_root,
            bool(download),
            str(dev),
            config.num_samples,
            config.data_seed,
        )
        train_chunk(
            config,
            todo,
            data,
            device=str(dev),
            hooks=ensemble_hooks(config, hooks),
            store=store,
            progress=False,
            checkpoint_every=checkpoint_every,
        )
    done = {k for _, k in todo}
    return {
        "trained": [k for _, k in todo],
        "skipped": [k for _, k in chunk if k not in done],
        "device": str(dev),
    }


def _task_key(chunk: Sequence[tuple[int, str]], root: str, submission: str) -> str:
    """A task name unique to this chunk, store and call of :func:`train_on_cluster`.

    Dask treats a key it still knows as the same task: a finished future of an earlier call (a
    client forgets it only after its event loop has run) or a task of another client would be
    returned instead of training, and its runs may be in another store or since deleted.
    """
    text = "\n".join([root, submission, *(k for _, k in chunk)])
    return f"fpt-train-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def train_on_cluster(
    client: Any,
    config: TrainConfig,
    chunks: Sequence[Sequence[tuple[int, str]]],
    *,
    store: Store,
    device: Any = None,
    data_root: str | os.PathLike | None = None,
    download: bool = False,
    hooks: Sequence[Hook] = (),
    progress: bool = True,
    retries: int = RETRIES,
    checkpoint_every: int | None = None,
) -> list[dict[str, Any]]:
    """Submit one :func:`train_task` per chunk and wait for all of them.

    Called by :func:`fpt_core.train.runner.run_ensemble`; the records are then read from ``store``.

    Parameters
    ----------
    client : distributed.Client
        The cluster.
    config : TrainConfig
        The configuration of every run.
    chunks : list of list of (int, str)
        ``(seed, key)`` pairs, one list per task.
    store : Store
        The results store; its absolute path must be valid on every worker.
    device : str, optional
        Training device on the workers (``None``: resolved on each worker).
    data_root : path, optional
        Folder of on-disk data sets; a relative path is made absolute here.
    download : bool
        Let torchvision download a missing data set on the workers.
    hooks : list of callables
        Extra hooks, sent to every task (must be picklable).
    progress : bool
        A progress bar over finished tasks.
    retries : int
        Resubmissions of a task that raised.

    Returns
    -------
    list of dict
        The tasks' results (see :func:`train_task`), in completion order.

    Raises
    ------
    Exception
        The first task error after its retries (the other tasks are cancelled); a task whose
        workers died too often raises ``distributed.KilledWorker``.
    """
    from distributed import as_completed
    from tqdm import tqdm

    if not chunks:
        return []
    root = os.path.abspath(os.fspath(store.root))
    droot = None if data_root is None else os.path.abspath(os.fspath(data_root))
    dev = None if device is None else str(device)
    submission = uuid.uuid4().hex  # a name, not a random input: the runs do not depend on it
    futures = [
        client.submit(
            train_task,
            config,
            [(int(s), k) for s, k in chunk],
            root,
            dev,
            droot,
            bool(download),
            list(hooks),
            checkpoint_every,
            key=_task_key(chunk, root, submission),
            retries=retries,
        )
        for chunk in chunks
    ]
    results = []
    try:
        with tqdm(
            total=len(futures), desc="chunks (dask)", unit="chunk", disable=not progress
        ) as bar:
            for fut in as_completed(futures, loop=client.loop):  # not the default client's
                results.append(fut.result())
                bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    return results
