"""Throughput of streamed virtual trials on the serial, processes and dask executors.

Workload: an AD trial (EASI >= 16 at inclusion), dupilumab vs placebo (1:1) over one
simulated year, visits every 4 weeks, three endpoints; the whole ``trial run`` pipeline
(population screening, simulation, streaming to Parquet, summary, report) is timed.
Peak memory is the largest resident set of the process tree (driver and workers),
sampled every 0.2 s with psutil.

    python benchmarks/scale.py --sizes 1000 10000 --executors serial processes dask

Sizes not run are projected from the measured per-chunk cost (see ``project``).
Results go to ``benchmarks/scale_results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

from dermatwin.execution import get_executor
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.streaming import run_trial_to

HERE = Path(__file__).resolve().parent
CHUNK = 500


def workload(n: int) -> TrialSpec:
    return TrialSpec.model_validate(
        {
            "name": f"scale-{n}",
            "disease": "AD",
            "seed": 1,
            "duration": "52 weeks",
            "visit_every": "4 weeks",
            "population": {"inclusion": {"EASI": {"min": 16}}},
            "background": [{"drug": "placebo"}],
            "n_total": n,
            "arms": {
                "dupilumab": {"allocation": 1, "regimen": [{"drug": "dupilumab"}]},
                "placebo": {"allocation": 1},
            },
            "endpoints": ["EASI-75@16w", "mean_pct_change:EASI@52w", "IGA01@16w"],
            "noise": {"EASI": 0.1},
            "chunk_size": CHUNK,
        }
    )


class PeakRSS:
    """Largest summed RSS (bytes) of this process and its children while running."""

    def __init__(self) -> None:
        self.peak, self._stop = 0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def measure(n: int, executor: str, workers: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="dw-scale-"))
    load_before = os.getloadavg()[0]
    try:
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            with get_executor(executor, workers=None if executor == "serial" else workers) as ex:
                t_start = time.perf_counter() - t0
                result = run_trial_to(workload(n), out / "run", executor=ex)
            wall = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (out / "run").rglob("*") if f.is_file())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    chunks = result.manifest["chunks"]["done"]
    return {
        "patients": n,
        "executor": executor,
        "workers": 1 if executor == "serial" else workers,
        "wall_s": round(wall, 2),
        "executor_start_s": round(t_start, 2),
        "patient_years_per_s": round(n / wall, 1),
        "chunks": chunks,
        "s_per_chunk_of_500": round((wall - t_start) / chunks, 3),
        "peak_rss_mb": round(mem.peak / 2**20),
        "output_mb": round(size / 2**20, 1),
        "failed_patients": result.manifest["failed_patients"],
        # other jobs on the machine: 1-minute load average before and after the run
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "measured": True,
    }


def project(rows: list[dict]) -> dict:
    """10^5 and 10^6 patients from the largest measured run of each executor.

    On 2 cores: executor start + chunks x (measured wall per chunk). On a cluster of C
    single-threaded workers: the measured Dask cost of a chunk on one worker (wall per
    chunk x workers, each worker one core), divided by C, which carries the per-task
    Dask overhead measured here; that overhead is also reported against the process pool
    (same work, no scheduler). The serial executor's numba threads use both cores, so its
    wall per chunk is not a one-core cost.
    """
    best = {}
    for r in rows:
        if r["executor"] not in best or r["patients"] > best[r["executor"]]["patients"]:
            best[r["executor"]] = r
    out = {}
    for name, r in best.items():
        per_chunk = r["s_per_chunk_of_500"]
        for n in (100_000, 1_000_000):
            chunks = -(-n // CHUNK)
            out[f"{name}_{n}_on_2_cores_s"] = round(r["executor_start_s"] + chunks * per_chunk)
    if "dask" in best:
        dask = best["dask"]
        per_worker = dask["s_per_chunk_of_500"] * dask["workers"]
        chunks = 1_000_000 // CHUNK
        out["dask_s_per_chunk_per_worker"] = round(per_worker, 3)
        out["dask_1000000_on_64_cores_s"] = round(
            dask["executor_start_s"] + chunks * per_worker / 64
        )
        if "processes" in best:
            pool = best["processes"]
            overhead = per_worker - pool["s_per_chunk_of_500"] * pool["workers"]
            out["dask_overhead_vs_processes_s_per_chunk"] = round(overhead, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--executors", nargs="+", default=["serial", "processes", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "scale_results.json")
    ap.add_argument(
        "--reproject", action="store_true", help="recompute projections of --out, run nothing"
    )
    args = ap.parse_args()
    if args.reproject:
        report = json.loads(args.out.read_text())
        report["projected"] = project(report["measured"])
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report["projected"], indent=2))
        return
    rows = []
    for n in args.sizes:
        for executor in args.executors:
            row = measure(n, executor, args.workers)
            print(json.dumps(row), flush=True)
            rows.append(row)
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "workload": "AD, dupilumab vs placebo 1:1, 52 weeks, visits every 4 weeks, "
        f"chunks of {CHUNK}",
        "measured": rows,
        "projected": project(rows),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["projected"], indent=2))


if __name__ == "__main__":
    main()
