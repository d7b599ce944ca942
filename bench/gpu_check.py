"""GPU check of the paper path: grouped ResNet-18 equivalence, throughput, cost, an end-to-end run.

One script, no network, ≤ 8 minutes on one H100 (``--budget-s`` caps the throughput grid):

1. ``equivalence``: R = 4 ResNet-18 replicas (the engine's seeds and initialisation) through the
   grouped network (:func:`fpt_core.train.grouped.grouped_grads`, channels-last as the engine calls it on
   CUDA) against 4 separate ``nn.Module``\\ s (``tests/train/test_grouped.py``'s reference), fp32 with
   TF32 off: logits, losses, gradients, BatchNorm running statistics and eval-mode logits; then
   ``train_ensemble`` against the plain ``torch.optim.SGD`` loop (:func:`fpt_core.train.reference.train_solo`)
   over one epoch of a small data set;
2. ``throughput``: synthetic CIFAR-shaped ``uint8`` data (50,000 × 3×32×32, generated on the
   device), the paper's step (batch 125, SGD momentum 0.9, no augmentation) through
   :func:`fpt_core.train.engine.train_ensemble` for R ∈ {1, 8, 32}, against a per-model loop at R = 8
   (``bench/bench_engine.py``'s, channels-last, on the device), fp32 and bf16, eager and
   ``torch.compile``\\ d; images per second (all replicas) and peak memory per replica;
3. ``paper_gpu_hours``: 1000 runs × 200 epochs × 50,000 images at the best rate;
4. ``tiny_paper_run``: the paper configuration at a tiny size (2 epochs, shrink & perturb at τ = 1)
   through :func:`fpt_core.train.runner.run_ensemble` into a temporary store (real CIFAR-10 with
   ``--data-root``, else synthetic data handed to the runner), then reused from the store;
5. writes the JSON (after every step, so a killed run leaves what it measured) and prints a table.

Every step records its error and the script goes on. ``--device cpu --smoke`` runs the same steps
at toy size in well under a minute (``tests/test_gpu_check.py``), so the script never rots.

    python bench/gpu_check.py                    # on a GPU: bench/gpu_results.json
    python bench/gpu_check.py --device cpu --smoke --out /tmp/gpu_results.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import json
import math
import platform
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any
from unittest import mock

import torch
from torch.func import stack_module_state

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpt_core.train import engine, grouped, runner  # noqa: E402
from fpt_core.train.config import TrainConfig  # noqa: E402
from fpt_core.train.data import Data, _channel_stats  # noqa: E402
from fpt_core.train.device import resolve_device  # noqa: E402
from fpt_core.train.engine import init_model, train_ensemble  # noqa: E402
from fpt_core.train.store import atomic_write_text  # noqa: E402

# the paper preset (notebooks 01–03): ResNet-18 on CIFAR-10, batch 125, SGD lr 0.01 momentum 0.9
PAPER = dict(runs=1000, epochs=200, n_train=50_000, batch=125, lr=0.01, momentum=0.9)
SIZES = {
    # equivalence batch, image side, train/test images, replicas, loop R, steps per timing period,
    # timed seconds per configuration (after one warm-up period), tiny run's images and runs
    "full": dict(eq_R=4, eq_B=32, side=32, n_train=50_000, n_test=250, batch=PAPER["batch"],
                 replicas=[1, 8, 32], loop_R=8, period=10, timed_s=3.0, max_periods=20,
                 compile_R=[8, 32], tiny_train=5_000, tiny_test=1_000, tiny_runs=4),
    "smoke": dict(eq_R=4, eq_B=4, side=16, n_train=256, n_test=16, batch=8,
                  replicas=[1, 2], loop_R=2, period=1, timed_s=0.0, max_periods=1,
                  compile_R=[2], tiny_train=32, tiny_test=16, tiny_runs=2),
}  # fmt: skip


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def synthetic_data(dev: torch.device, n_train: int, n_test: int, side: int, seed: int = 0) -> Data:
    """CIFAR-shaped uint8 images and labels drawn on ``dev``, as :func:`fpt_core.train.data.load_dataset`
    returns CIFAR-10 (per-channel mean/std of the training split, in [0, 1] units)."""
    g = torch.Generator(device=dev).manual_seed(seed)
    img = lambda n: torch.randint(0, 256, (n, 3, side, side), generator=g, device=dev,  # noqa: E731
                                  dtype=torch.uint8)  # fmt: skip
    lab = lambda n: torch.randint(0, 10, (n,), generator=g, device=dev)  # noqa: E731
    x_tr, y_tr, x_te, y_te = img(n_train), lab(n_train), img(n_test), lab(n_test)
    mean, std = _channel_stats(x_tr)
    return Data("cifar10", x_tr, y_tr, x_te, y_te, 10, mean.to(dev), std.to(dev))


def paper_config(**kw: Any) -> TrainConfig:
    base = dict(dataset="cifar10", model="resnet18", lr=PAPER["lr"], momentum=PAPER["momentum"],
                batch_size=PAPER["batch"], epochs=2)  # fmt: skip
    return TrainConfig(**{**base, **kw})


@contextlib.contextmanager
def no_tf32():
    """Strict fp32 (cuDNN convolutions default to TF32 on Ampere and later)."""
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


@contextlib.contextmanager
def grouped_path(dev: torch.device):
    """The engine's CUDA path (one grouped network) on whatever device the check runs on."""
    with mock.patch.object(engine, "GROUPED_ON", (*engine.GROUPED_ON, dev.type)):
        yield


def _diff(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    """Max |a − b| and the same over max |b| (relative to the tensor's scale)."""
    d = float((a.double() - b.double()).abs().max())
    return d, d / max(float(b.double().abs().max()), 1e-30)


# ---------------------------------------------------------------- 1. equivalence
def check_equivalence(dev: torch.device, S: dict) -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "train"))
    import test_grouped as tg  # the CPU tests' reference and tolerances, reused

    R, B, side = S["eq_R"], S["eq_B"], S["side"]
    data = synthetic_data(dev, 8, 8, side)
    cfg = paper_config()
    models = [init_model(cfg, data, s).to(dev) for s in range(R)]
    params, buffers = stack_module_state(copy.deepcopy(models))
    params = {k: v.detach().clone() for k, v in params.items()}
    buffers = {k: v.detach().clone() for k, v in buffers.items()}
    base = copy.deepcopy(models[0]).to("meta")
    gen = torch.Generator(device=dev).manual_seed(100)
    x = torch.randn(R, B, 3, side, side, generator=gen, device=dev)
    y = torch.randint(0, 10, (R, B), generator=gen, device=dev)
    cl = dev.type == "cuda"  # as engine._grads_grouped calls it
    out: dict[str, Any] = {"R": R, "batch": B, "channels_last": cl, "tf32": False}
    diffs: dict[str, tuple[float, float]] = {}
    failures: list[str] = []

    def check(name: str, fn) -> None:
        try:
            fn()
        except AssertionError as err:
            failures.append(f"{name}: {str(err).splitlines()[0]}")

    with no_tf32():
        logits = grouped.grouped_forward(
            base, params, {k: v.clone() for k, v in buffers.items()}, x, channels_last=cl
        )
        ref_out, ref_grads, ref_losses = tg._separate(models, x, y)  # one train-mode step each
        grads, losses = grouped.grouped_grads(base, params, buffers, x, y, channels_last=cl)
        ev = grouped.grouped_forward(base, params, buffers, x, training=False, channels_last=cl)
        ref_ev = torch.stack([m.eval()(x[r]) for r, m in enumerate(models)]).detach()
    diffs["logits"] = _diff(logits, ref_out)
    diffs["loss"] = _diff(losses, ref_losses)
    diffs["eval_logits"] = _diff(ev, ref_ev)
    gd = [_diff(g[r], ref_grads[r][k]) for k, g in grads.items() for r in range(R)]
    diffs["grads"] = (max(d[0] for d in gd), max(d[1] for d in gd))
    bd = [
        _diff(v.double(), torch.stack([dict(m.named_buffers())[k] for m in models]).double())
        for k, v in buffers.items()
    ]
    diffs["bn_stats"] = (max(d[0] for d in bd), max(d[1] for d in bd))
    tol = tg.TOL[torch.float32]
    check("logits", lambda: torch.testing.assert_close(logits, ref_out, **tol))
    check("loss", lambda: torch.testing.assert_close(losses, ref_losses, **tol))
    check("eval_logits", lambda: torch.testing.assert_close(ev, ref_ev, **tol))
    check("bn_stats", lambda: tg._assert_buffers(buffers, models))
    with mock.patch.object(tg, "R", R):  # _close_grads loops over the test module's R
        check("grads", lambda: tg._close_grads(grads, ref_grads, torch.float32))
    out["max_abs_diff"] = {k: v[0] for k, v in diffs.items()}
    out["max_rel_diff"] = {k: v[1] for k, v in diffs.items()}
    out["within_test_tolerance"] = not failures
    out["failures"] = failures
    return out


def check_engine_vs_solo(dev: torch.device, S: dict) -> dict:
    """One epoch of ``train_ensemble`` (grouped path) against ``torch.optim.SGD`` per seed."""
    from fpt_core.train.reference import train_solo

    n = 4 * S["batch"]
    data = synthetic_data(dev, n, S["n_test"], S["side"], seed=1)
    cfg = paper_config(batch_size=S["batch"], epochs=1)
    seeds = [0, 1]
    with no_tf32(), grouped_path(dev):
        recs = train_ensemble(cfg, seeds, data, progress=False)
        solo = [train_solo(cfg, s, data) for s in seeds]
    out: dict[str, Any] = {"replicas": len(seeds), "steps": 4, "within_test_tolerance": True}
    for field in ("test_loss", "train_loss"):
        a = torch.tensor([r["trajectory"][field] for r in recs], dtype=torch.float64)
        b = torch.tensor([t[field] for t in solo], dtype=torch.float64)
        ok = torch.isfinite(a) & torch.isfinite(b)
        out[f"{field}_max_abs_diff"] = float((a[ok] - b[ok]).abs().max())
        # tests/train/test_engine.py's tolerance for the engine against train_solo
        close = torch.isclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True).all()
        out["within_test_tolerance"] &= bool(close)
    out["max_abs_diff"] = max(out["test_loss_max_abs_diff"], out["train_loss_max_abs_diff"])
    return out


# ---------------------------------------------------------------- 2. throughput
def state_sq(step: int, params: dict, buffers: dict) -> dict[str, Any]:
    """Sums of squares of all weights and of all BatchNorm statistics (float64) at ``step``: a
    fingerprint two runs of the same seeds (e.g. eager and compiled) can be compared by."""
    sq = lambda ts: sum(float(t.double().square().sum()) for t in ts if t.is_floating_point())  # noqa: E731
    return {"step": step, "param_sq": sq(params.values()), "buffer_sq": sq(buffers.values())}


class _Stop(Exception):
    pass


@contextlib.contextmanager
def deadline(seconds: float):
    """Raise ``TimeoutError`` in the main thread after ``seconds`` (a hung compile, a slow kernel)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"configuration exceeded {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1.0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Clock:
    """Engine hook: warm-up until the first evaluation, then time whole periods of steps."""

    def __init__(self, dev: torch.device, timed_s: float, max_periods: int, eval_time: list[float]):
        self.dev, self.timed_s, self.max_periods, self.eval_time = (
            dev,
            timed_s,
            max_periods,
            eval_time,
        )
        self.marks: list[tuple[int, float, float]] = []  # (step, time, evaluation seconds so far)
        self.state_sq: dict[str, Any] = {}

    def __call__(self, state) -> list:
        sync(self.dev)
        if not self.marks:  # after the warm-up, outside the timed window: compiled vs eager
            self.state_sq = state_sq(state.step, state.params, state.buffers)
        self.marks.append((state.step, time.perf_counter(), self.eval_time[0]))
        t0 = self.marks[0][1]
        if len(self.marks) > 1 and (
            self.marks[-1][1] - t0 >= self.timed_s or len(self.marks) > self.max_periods
        ):
            raise _Stop
        return []


@contextlib.contextmanager
def timed_evaluate(dev: torch.device, acc: list[float]):
    """Time the engine's evaluations (to take them out of the step time)."""
    orig = engine.evaluate

    def wrapper(state, *a, **kw):
        sync(dev)
        t = time.perf_counter()
        res = orig(state, *a, **kw)
        sync(dev)
        acc[0] += time.perf_counter() - t
        return res

    with mock.patch.object(engine, "evaluate", wrapper):
        yield


@contextlib.contextmanager
def compiled_grouped(backend: str):
    """``torch.compile`` the grouped network's forward (the engine exposes no compile switch):
    :func:`fpt_core.train.grouped.grouped_forward` calls ``functional_call`` — replaced here by a
    compiled call per grouped module; autograd then runs the compiled backward."""
    orig = grouped.functional_call
    cache: dict[int, Any] = {}

    def call(module, state, args, *rest, **kw):
        fn = cache.get(id(module))
        if fn is None:
            fn = torch.compile(lambda p, b, x: orig(module, (p, b), (x,)), backend=backend)
            cache[id(module)] = fn
        return fn(state[0], state[1], *args)

    with mock.patch.object(grouped, "functional_call", call):
        try:
            yield
        finally:
            torch._dynamo.reset()


def _memory(dev: torch.device, base_bytes: int, R: int) -> dict:
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev)
        return {"peak_bytes": peak, "peak_bytes_per_replica": (peak - base_bytes) / R}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"peak_bytes": None, "peak_bytes_per_replica": None, "process_peak_rss_bytes": rss}


def _start_memory(dev: torch.device) -> int:
    gc.collect()
    if dev.type != "cuda":
        return 0
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(dev)
    return torch.cuda.memory_allocated(dev)


def _period(S: dict, R: int) -> int:
    """Steps per timing period: fewer for many replicas (each step is R batches)."""
    return max(1, min(S["period"], 8 * S["period"] // R))


def time_engine(dev, data, S, R, precision, compile_backend) -> dict:
    period = _period(S, R)
    cfg = paper_config(batch_size=S["batch"], precision=precision, eval_every=period,
                       epochs=math.ceil((S["max_periods"] + 2) * period * S["batch"]
                                        / data.n_train))  # fmt: skip
    eval_time = [0.0]
    clock = _Clock(dev, S["timed_s"], S["max_periods"], eval_time)
    assert cfg.epochs * math.ceil(data.n_train / cfg.batch_size) > (S["max_periods"] + 1) * period
    base_bytes = _start_memory(dev)
    ctx = compiled_grouped(compile_backend) if compile_backend else contextlib.nullcontext()
    with ctx, timed_evaluate(dev, eval_time), grouped_path(dev):
        try:
            train_ensemble(cfg, list(range(R)), data, hooks=[clock], progress=False)
        except _Stop:
            pass
    (s0, t0, e0), (s1, t1, e1) = clock.marks[0], clock.marks[-1]
    seconds = (t1 - t0) - (e1 - e0)
    out = {"steps": s1 - s0, "seconds": seconds, "eval_seconds_removed": e1 - e0,
           "channels_last": dev.type == "cuda", "fingerprint": clock.state_sq}  # fmt: skip
    out["images_per_s"] = R * S["batch"] * (s1 - s0) / seconds
    return out | _memory(dev, base_bytes, R)


def time_loop(dev, data, S, R, precision, compile_backend) -> dict:
    """R ``nn.Module``\\ s, each with its own ``torch.optim.SGD``, stepped one after another."""
    import torch.nn.functional as F

    cfg = paper_config(batch_size=S["batch"])
    base_bytes = _start_memory(dev)
    fmt = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
    models = [init_model(cfg, data, s).to(dev, memory_format=fmt) for s in range(R)]
    opts = [torch.optim.SGD(m.parameters(), lr=cfg.lr, momentum=cfg.momentum) for m in models]
    fwd = [torch.compile(m, backend=compile_backend) for m in models] if compile_backend else models
    g = torch.Generator(device=dev).manual_seed(0)
    n, b = data.n_train, cfg.batch_size
    autocast = (torch.autocast(dev.type, dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())  # fmt: skip

    def steps(k: int) -> None:
        for _ in range(k):
            for m, opt in zip(fwd, opts, strict=True):
                idx = torch.randint(0, n, (b,), generator=g, device=dev)
                x = data.prepare(data.x_train[idx]).contiguous(memory_format=fmt)
                with autocast:
                    logits = m(x)
                loss = F.cross_entropy(logits.float(), data.y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

    period = _period(S, R)
    steps(period)  # warm-up (and compilation)
    sync(dev)
    fingerprint = state_sq(
        period,
        {f"{r}.{k}": v for r, m in enumerate(models) for k, v in m.named_parameters()},
        {f"{r}.{k}": v for r, m in enumerate(models) for k, v in m.named_buffers()},
    )
    t0, done = time.perf_counter(), 0
    while done == 0 or (time.perf_counter() - t0 < S["timed_s"] and done < S["max_periods"]):
        steps(period)
        done += 1
        sync(dev)
    seconds = time.perf_counter() - t0
    out = {"steps": done * period, "seconds": seconds, "channels_last": dev.type == "cuda",
           "fingerprint": fingerprint, "memory_note": "models step one at a time"}  # fmt: skip
    out["images_per_s"] = R * b * done * period / seconds
    return out | _memory(dev, base_bytes, R)


def throughput_plan(S: dict, backend: str) -> list[dict[str, Any]]:
    """Configurations, most important first (the budget cuts the tail); ``need_s``: seconds of
    budget a configuration needs left to start (compilation takes minutes)."""
    row = lambda path, R, p, c=False, bench=False: dict(  # noqa: E731
        path=path, R=R, precision=p, compile=c, cudnn_benchmark=bench, need_s=150 if c else 20
    )
    plan = [row("engine", R, p) for p in ("fp32", "bf16") for R in S["replicas"]]
    plan += [row("loop", S["loop_R"], p) for p in ("fp32", "bf16")]
    plan += [row("engine", R, "bf16", bench=True) for R in S["compile_R"]]
    plan += [
        row("engine", S["compile_R"][0], "bf16", backend),
        row("loop", S["loop_R"], "bf16", backend),
    ]
    plan += [row("engine", R, "bf16", backend) for R in S["compile_R"][1:]]
    plan += [row("engine", R, "fp32", backend) for R in S["compile_R"]]
    return plan


# ---------------------------------------------------------------- 4. tiny paper run
def tiny_paper_run(dev: torch.device, S: dict, data_root: str | None) -> dict:
    spec = dict(kind="shrink_perturb", lam=0.4, sigma=0.1, batchnorm="shrink",
                reset_momentum=True, schedule="once", tau=1)  # fmt: skip
    cfg = paper_config(epochs=2, perturbation=spec)
    n = S["tiny_runs"]
    out: dict[str, Any] = {"runs": n, "epochs": 2, "perturbation": spec}
    with tempfile.TemporaryDirectory() as tmp:
        if data_root is not None:
            out["data"] = f"cifar10 from {data_root}"
            patch = contextlib.nullcontext()
        else:  # run_ensemble loads through runner.cached_dataset: hand it synthetic data
            data = synthetic_data(dev, S["tiny_train"], S["tiny_test"], S["side"], seed=2)
            out["data"] = f"synthetic {data.n_train}+{len(data.y_test)} images (no --data-root)"
            patch = mock.patch.object(runner, "cached_dataset", lambda *a, **k: data)
        t = time.perf_counter()
        with patch, grouped_path(dev):
            res = runner.run_ensemble(cfg, n, store=tmp, chunk_size=n, device=str(dev),
                                      data_root=data_root, progress=False)  # fmt: skip
        out["wall_s"] = time.perf_counter() - t
        again = runner.run_ensemble(cfg, n, store=tmp, device=str(dev), progress=False)
    recs = res.records
    out["n_trained"], out["n_reused_second_call"] = res.n_trained, again.n_reused
    out["statuses"] = sorted({r["status"] for r in recs})
    out["final_test_acc"] = [r["trajectory"]["test_acc"][-1] for r in recs]
    out["perturbation_events"] = sum(
        any(e["kind"] != "diverged" for e in r["events"]) for r in recs
    )
    same = lambda rs: json.dumps([r["trajectory"] for r in rs])  # noqa: E731  (NaN-safe)
    out["reload_identical"] = same(again.records) == same(recs)
    out["ok"] = (
        out["statuses"] == ["ok"]
        and out["perturbation_events"] == n
        and out["n_reused_second_call"] == n
        and out["reload_identical"]
        and all(math.isfinite(a) for a in out["final_test_acc"])
    )
    return out


# ---------------------------------------------------------------- driver
def device_info(dev: torch.device) -> dict:
    info = {"type": dev.type, "torch": torch.__version__, "python": platform.python_version()}
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        info |= {"name": p.name, "capability": f"{p.major}.{p.minor}", "memory_bytes":
                 p.total_memory, "cuda": torch.version.cuda, "cudnn":
                 torch.backends.cudnn.version(), "cudnn_tf32": torch.backends.cudnn.allow_tf32,
                 "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
                 "cudnn_benchmark": torch.backends.cudnn.benchmark}  # fmt: skip
    else:
        info |= {"name": platform.processor() or platform.machine(),
                 "threads": torch.get_num_threads()}  # fmt: skip
    return info


def run_step(result: dict, name: str, out: Path, fn) -> Any:
    t = time.perf_counter()
    try:
        value = fn()
    except Exception as err:  # record, go on
        value = {"error": f"{type(err).__name__}: {err}".splitlines()[0][:500],
                 "traceback": traceback.format_exc()[-2000:]}  # fmt: skip
        print(f"[{name}] FAILED: {value['error']}", file=sys.stderr)
    result[name] = value
    result["step_seconds"][name] = time.perf_counter() - t
    atomic_write_text(out, json.dumps(result, indent=2, default=str) + "\n")
    return value


def run_throughput(dev, S, args, result, out, t_start) -> dict:
    rows = result.setdefault("throughput", [])
    data = synthetic_data(dev, S["n_train"], S["n_test"], S["side"], seed=3)
    for row in throughput_plan(S, args.compile_backend):
        need = row.pop("need_s") if not args.smoke else 0
        left = args.budget_s - (time.perf_counter() - t_start)
        if left <= need:
            row["skipped"] = (
                f"--budget-s={args.budget_s:g}: {max(left, 0):.0f} s left, needs {need}"
            )
        else:
            fn = time_engine if row["path"] == "engine" else time_loop
            old = torch.backends.cudnn.benchmark
            torch.backends.cudnn.benchmark = row["cudnn_benchmark"]
            try:
                with deadline(min(args.config_timeout_s, left)):
                    row |= fn(dev, data, S, row["R"], row["precision"], row["compile"] or None)
            except Exception as err:
                row["error"] = f"{type(err).__name__}: {err}".splitlines()[0][:500]
                print(f"[throughput {row}] {row['error']}", file=sys.stderr)
            finally:
                torch.backends.cudnn.benchmark = old
        row.pop("need_s", None)
        rows.append(row)
        atomic_write_text(out, json.dumps(result, indent=2, default=str) + "\n")
    ok = [r for r in rows if "images_per_s" in r]
    key = lambda r: (f"{r['path']}_R{r['R']}_{r['precision']}"  # noqa: E731
                     + ("_compiled" if r["compile"] else "")
                     + ("_cudnn_benchmark" if r["cudnn_benchmark"] else ""))  # fmt: skip
    result["images_per_s"] = {key(r): r["images_per_s"] for r in ok}
    gvl = {}
    for prec in ("fp32", "bf16"):
        e = [r for r in ok if key(r) == f"engine_R{S['loop_R']}_{prec}"]
        lp = [r for r in ok if key(r) == f"loop_R{S['loop_R']}_{prec}"]
        if e and lp:
            gvl[f"R{S['loop_R']}_{prec}"] = e[0]["images_per_s"] / lp[0]["images_per_s"]
    result["grouped_vs_loop"] = gvl
    drift = {}
    for r in ok:
        twin = [e for e in ok if r["compile"] and key(e) == key(r).replace("_compiled", "")]
        if twin:
            a, b = r["fingerprint"], twin[0]["fingerprint"]
            drift[key(r)] = {"step": a["step"]} | {
                f"{n}_rel_diff": abs(a[n] - b[n]) / max(abs(b[n]), 1e-30)
                for n in ("param_sq", "buffer_sq")
            }
    result["compile_vs_eager"] = drift
    engine_rows = [r for r in ok if r["path"] == "engine"]
    if engine_rows:
        best = max(engine_rows, key=lambda r: r["images_per_s"])
        total = PAPER["runs"] * PAPER["epochs"] * PAPER["n_train"]
        result["paper_gpu_hours"] = total / best["images_per_s"] / 3600
        result["paper_gpu_hours_by_config"] = {key(r): total / r["images_per_s"] / 3600
                                               for r in engine_rows}  # fmt: skip
        result["paper_projection"] = {"total_images": total, "best_configuration": key(best),
                                      "images_per_s": best["images_per_s"],
                                      "note": "evaluations and perturbations not counted"
                                      + ("; SMOKE sizes (toy images): not a projection"
                                         if args.smoke else "")}  # fmt: skip
        fp32 = [r for r in engine_rows if r["precision"] == "fp32"]
        if fp32:
            b32 = max(fp32, key=lambda r: r["images_per_s"])
            result["paper_gpu_hours_fp32"] = total / b32["images_per_s"] / 3600
    return {"configurations": len(rows), "measured": len(ok),
            "skipped": sum("skipped" in r for r in rows), "failed": sum("error" in r for r in rows)}  # fmt: skip


def print_table(result: dict) -> None:
    dev = result.get("device", {})
    print(f"\ndevice: {dev.get('name')} ({dev.get('type')}), torch {dev.get('torch')}")
    eq = result.get("equivalence", {})
    if "max_abs_diff" in eq:
        print(f"grouped vs separate (R={eq['R']}, fp32): within test tolerance: "
              f"{eq['within_test_tolerance']}")  # fmt: skip
        for k, v in eq["max_abs_diff"].items():
            print(f"  {k:12} max|Δ| {v:.3g}   max|Δ|/max|ref| {eq['max_rel_diff'][k]:.3g}")
    print(f"{'path':7} {'R':>3} {'prec':5} {'compile':9} {'cudnn.bm':8} {'img/s':>10} "
          f"{'steps':>6} {'MiB/replica':>12}  note")  # fmt: skip
    for r in result.get("throughput", []):
        mem = r.get("peak_bytes_per_replica")
        print(f"{r['path']:7} {r['R']:3d} {r['precision']:5} {str(r['compile']):9} "
              f"{str(r['cudnn_benchmark']):8} "
              f"{r.get('images_per_s', float('nan')):10.1f} {r.get('steps', 0):6d} "
              f"{(mem / 2**20 if mem else float('nan')):12.1f}  "
              f"{r.get('error') or r.get('skipped') or ''}")  # fmt: skip
    print(f"grouped_vs_loop: {result.get('grouped_vs_loop')}")
    print(f"compile_vs_eager: {result.get('compile_vs_eager')}")
    print(f"paper preset (1000 runs × 200 epochs): {result.get('paper_gpu_hours', float('nan')):.1f}"
          f" GPU-hours at the best rate" + (" (smoke sizes: not a projection)"
                                           if result.get("smoke") else ""))  # fmt: skip
    tiny = result.get("tiny_paper_run", {})
    print(f"tiny paper run: ok={tiny.get('ok')} {tiny.get('error', '')}")
    print(f"total {result.get('total_seconds', 0):.1f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:i or cpu")
    ap.add_argument("--smoke", action="store_true", help="toy sizes (< 1 min on a CPU)")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("gpu_results.json"))
    ap.add_argument(
        "--budget-s",
        type=float,
        default=420.0,
        help="skip the remaining throughput configurations past this many seconds",
    )
    ap.add_argument(
        "--config-timeout-s",
        type=float,
        default=200.0,
        help="abandon one throughput configuration after this many seconds",
    )
    ap.add_argument("--data-root", default=None, help="CIFAR-10 folder for the tiny paper run")
    ap.add_argument(
        "--compile-backend",
        default=None,
        help="torch.compile backend (default: inductor; eager with --smoke)",
    )
    args = ap.parse_args(argv)

    def fail(msg: str) -> int:
        print(f"gpu_check.py: error: {msg}", file=sys.stderr)
        return 2

    try:
        dev = resolve_device(args.device)
    except ValueError as err:
        return fail(f"--device: {err}")
    if dev.type == "cpu" and not args.smoke:
        return fail("--device cpu needs --smoke (the full sizes are for an accelerator)")
    for name in ("budget_s", "config_timeout_s"):
        if not getattr(args, name) > 0:
            return fail(f"--{name.replace('_', '-')}={getattr(args, name)} must be > 0")
    if args.data_root is not None and not Path(args.data_root).is_dir():
        return fail(f"--data-root={args.data_root!r} is not a folder")
    args.compile_backend = args.compile_backend or ("eager" if args.smoke else "inductor")
    S = SIZES["smoke" if args.smoke else "full"]
    if dev.type == "cpu":
        torch.set_num_threads(1)  # small tensors on a shared CPU
    t_start = time.perf_counter()
    result: dict[str, Any] = {
        "device": device_info(dev), "smoke": args.smoke, "sizes": S, "paper": PAPER,
        "budget_s": args.budget_s, "compile_backend": args.compile_backend,
        "grouped_vs_loop": None, "images_per_s": None, "max_abs_diff": None,
        "paper_gpu_hours": None, "step_seconds": {},
    }  # fmt: skip
    out = args.out
    eq = run_step(result, "equivalence", out, lambda: check_equivalence(dev, S))
    result["max_abs_diff"] = eq.get("max_abs_diff")
    run_step(result, "engine_vs_solo", out, lambda: check_engine_vs_solo(dev, S))
    run_step(result, "tiny_paper_run", out, lambda: tiny_paper_run(dev, S, args.data_root))
    run_step(result, "throughput_run", out,
             lambda: run_throughput(dev, S, args, result, out, t_start))  # fmt: skip
    result["total_seconds"] = time.perf_counter() - t_start
    atomic_write_text(out, json.dumps(result, indent=2, default=str) + "\n")
    print_table(result)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
