"""Execute the book's notebooks with papermill at a preset.

For each ``notebooks/<stem>.py`` (jupytext percent format): convert to ``.ipynb``, execute it with
papermill (``-p preset <preset>``, kernel ``python3``, working directory = the repository root)
into ``book/executed/<stem>.ipynb``; the notebook itself writes
``book/executed/<stem>.summary.json``. Stops at the first failing notebook with its traceback.

    python tools/execute_notebooks.py --preset tiny [--only 01_qss] [-p n_runs 64]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

PRESETS = ("tiny", "default", "paper")


def execute(stem: str, root: Path, preset: str, params: dict, results_dir: str | None) -> float:
    import jupytext
    import papermill as pm

    src = root / "notebooks" / f"{stem}.py"
    out = root / "book" / "executed" / f"{stem}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    parameters = {"preset": preset, "summary_path": f"book/executed/{stem}.summary.json", **params}
    if results_dir is not None:
        parameters["results_dir"] = results_dir
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_in = Path(tmp) / f"{stem}.ipynb"
        jupytext.write(nb, tmp_in)
        with show_progress(stem, Path(tmp) / "progress.jsonl"):
            pm.execute_notebook(
                str(tmp_in),
                str(out),
                parameters=parameters,
                kernel_name="python3",
                cwd=str(root),
                progress_bar=False,
                log_output=False,
            )
    return time.perf_counter() - t0


@contextlib.contextmanager
def show_progress(stem: str, path: Path, every: float = 10.0):
    """While the block runs, the kernel's training reports to ``path``
    (:mod:`fpt_core.train.progress`); print its state every ``every`` seconds when it changed."""
    from fpt_core.train.progress import ENV, Watcher

    stop, watcher = threading.Event(), Watcher(path)

    def loop() -> None:
        while not stop.wait(every):
            if watcher.poll():
                print(f"[execute]   {stem}: {watcher.line()}", flush=True)

    old, os.environ[ENV] = os.environ.get(ENV), str(path)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old


def write_timings(executed: Path) -> None:
    """Table of every executed notebook's summary (preset, wall time, peak memory, runs) for the
    book, and ``bench/book_<preset>.json`` with the whole book's totals at that preset."""
    rows = [
        "| notebook | preset | device | wall time (s) | peak memory (MiB) | runs trained "
        "| runs reused |",
        "|---|---|---|---|---|---|---|",
    ]
    total, peak, presets = 0.0, 0.0, set()
    for path in sorted(executed.glob("*.summary.json")):
        s = json.loads(path.read_text())
        wall = s.get("wall_time_s") or 0.0
        mem = (s.get("provenance") or s).get("peak_memory_mb")  # nested or spread
        total += wall
        peak = max(peak, mem or 0.0)
        presets.add(s.get("preset"))
        rows.append(
            f"| {path.name.removesuffix('.summary.json')} | {s.get('preset')} | "
            f"{s.get('device', '')} | {wall:.1f} | {'' if mem is None else f'{mem:.0f}'} | "
            f"{s.get('n_trained', '')} | {s.get('n_reused', '')} |"
        )
    rows.append(f"| **total** | | | {total:.1f} | {peak:.0f} (max) | | |")
    (executed / "timings.md").write_text("\n".join(rows) + "\n")
    if len(presets) == 1 and rows[2:-1]:
        (preset,) = presets
        record = {
            "preset": preset,
            "notebooks": len(rows) - 3,
            "wall_time_s": total,
            "peak_memory_mb": peak,
        }
        bench_dir = executed.parents[1] / "bench"
        bench_dir.mkdir(exist_ok=True)
        (bench_dir / f"book_{preset}.json").write_text(json.dumps(record, indent=2) + "\n")
    bench = executed.parents[1] / "bench" / "results.json"
    if bench.is_file():
        b = json.loads(bench.read_text())
        lines = [
            f"Measured by `make bench` on this machine ({b.get('machine')}, "
            f"{b.get('torch_threads')} threads; fp32 matmul peak "
            f"{b.get('matmul_peak_gflops', 0):.1f} GFLOP/s):",
            "",
            "| model | replicas R | engine replica-steps/s | per-model loop | ratio | GFLOP/s | "
            "engine, of matmul peak | loop, of matmul peak | state bytes/replica | "
            "activation bytes/replica |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in b.get("rows", []):
            lines.append(
                f"| {r['model']} | {r['replicas']} | {r['engine_replica_steps_per_s']:.0f} | "
                f"{r['loop_replica_steps_per_s']:.0f} | {r['ensemble_vs_loop']:.2f} | "
                f"{r['engine_gflops']:.2f} | {100 * r['matmul_peak_fraction']:.1f}% | "
                f"{100 * r.get('loop_matmul_peak_fraction', float('nan')):.1f}% | "
                f"{r['state_bytes_per_replica']} | {r.get('activation_bytes_per_replica', '')} |"
            )
        tail = b.get("step_tail")
        if tail and "compiled_masked_ms" in tail:
            same = (
                "gives the same floats"
                if tail["bit_identical"]
                else "does not give the same floats"
            )
            lines += [
                "",
                f"The element-wise tail of a step (SGD with momentum, MLP, R = {tail['replicas']}): "
                f"PyTorch's fused kernel {tail['fused_ms']:.1f} ms; the masked update used when a "
                f"replica diverged or learning-rate scales differ (TempBalance) "
                f"{tail['masked_ms']:.1f} ms eager, {tail['compiled_masked_ms']:.1f} ms under "
                f"`torch.compile` after {tail['compile_s']:.0f} s of compilation; the compiled "
                f"update {same} as the eager one.",
            ]
    else:
        lines = ["`make bench` has not been run for this build, so there is no table here."]
    books = [
        json.loads(p.read_text())
        for p in sorted((executed.parents[1] / "bench").glob("book_*.json"))
    ]
    if books:
        lines += [
            "",
            "The whole book, as last executed on this machine at each preset (sum of the "
            "notebooks' wall times; peak memory of the largest notebook kernel):",
            "",
            "| preset | notebooks | wall time (s) | peak memory (MiB) |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {b['preset']} | {b['notebooks']} | {b['wall_time_s']:.0f} | {b['peak_memory_mb']:.0f} |"
            for b in books
        ]
    (executed / "bench.md").write_text("\n".join(lines) + "\n")


def write_claims(executed: Path) -> None:
    """The claims ledger of every executed notebook: ``claims.json`` (rows) and ``claims.md``
    (the box the book's first page includes), from the notebooks' summaries."""
    from fpt_core.book.claims import VERDICTS, claims_box, write_ledger

    rows = write_ledger(executed)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    lead = (
        f"{len(rows)} claims tested in this build: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + "."
    )
    box = claims_box(rows, title="What this build found", links=True)
    (executed / "claims.md").write_text(lead + "\n\n" + box)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--preset", default="default", choices=PRESETS)
    ap.add_argument("--root", default=Path(__file__).resolve().parents[1], type=Path)
    ap.add_argument("--only", nargs="*", help="notebook stems to execute (default: all)")
    ap.add_argument("--results-dir", default=None, help="results store (default: the notebook's)")
    ap.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="extra papermill parameter (value parsed as JSON if possible)",
    )
    args = ap.parse_args(argv)
    params = {}
    for name, value in args.p:
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    stems = sorted(p.stem for p in (args.root / "notebooks").glob("[0-9][0-9]_*.py"))
    if args.only:
        unknown = set(args.only) - set(stems)
        if unknown:
            ap.error(f"--only: unknown notebooks {sorted(unknown)}; available: {stems}")
        stems = [s for s in stems if s in args.only]
    timings = {}
    for stem in stems:
        print(f"[execute] {stem} at preset={args.preset} ...", flush=True)
        timings[stem] = execute(stem, args.root, args.preset, params, args.results_dir)
        print(f"[execute] {stem} done in {timings[stem]:.1f} s", flush=True)
    print(f"[execute] total {sum(timings.values()):.1f} s for {len(stems)} notebooks", flush=True)
    write_timings(args.root / "book" / "executed")
    write_claims(args.root / "book" / "executed")
    print((args.root / "book" / "executed" / "timings.md").read_text(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
