"""`dermatwin calibrate --workers`: wall time of one calibration step with 1 and with 2
worker processes, interleaved (1, 2, 2, 1, 1, 2, ...: a loaded machine's drift falls on
both), each a whole `dermatwin calibrate --only TARGET` process (imports, worker start-up
and model build included). Checks that both write the same parameter set, and records
every wall and CPU time and the ratio 1-worker / 2-worker of each pair
(benchmarks/calibration_workers_results.json: one record per patient count).

    PYTHONPATH=src python benchmarks/calibration_workers.py [--only TARGET]
        [--patients N] [--pairs K]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def run(target: str, patients: int, workers: int, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, its worker processes included) of one
    ``dermatwin calibrate`` process."""
    cmd = [sys.executable, "-m", "dermatwin.cli", "-q", "calibrate", "--only", target]
    cmd += ["--patients", str(patients), "--draws", "8", "--workers", str(workers)]
    cmd += ["--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"calibrate failed: {proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def warm(target: str, patients: int, pairs: int) -> dict:
    """In one process: ``step_posterior`` with 1 worker (this process, numba's own threads)
    and with a pool of 2 workers opened and warmed once (as ``calibrate_posterior`` keeps
    it for all 13 steps), interleaved, after one untimed run here; wall seconds of each."""
    import numpy as np

    from dermatwin.calibration.fit import STEPS
    from dermatwin.calibration.posterior import problem_values, simulator, step_posterior
    from dermatwin.calibration.problem import step_problem
    from dermatwin.execution.processes import ProcessExecutor
    from dermatwin.params.parameter_set import load_parameter_set

    index = next(i for i, s in enumerate(STEPS) if target in s.targets)
    problem = step_problem(STEPS[index], index, patients)
    base = load_parameter_set("default")
    walls: dict[int, list[float]] = {1: [], 2: []}
    # this process's own start-up (model build, kernel load) is not timed either
    simulator(problem, base)(problem_values(problem, np.full(len(problem.values), 0.5)))
    with ProcessExecutor(2) as pool:
        start = time.perf_counter()
        first = step_posterior(problem, base, draws=8, workers=pool)  # starts the workers
        startup = time.perf_counter() - start
        for k in range(pairs):
            for w in (1, 2) if k % 2 == 0 else (2, 1):
                start = time.perf_counter()
                post = step_posterior(problem, base, draws=8, workers=pool if w == 2 else 1)
                walls[w].append(time.perf_counter() - start)
                same = all(
                    np.array_equal(post.simulated[t], first.simulated[t]) for t in post.simulated
                )
                print(f"warm pair {k + 1}: {w} worker(s) {walls[w][-1]:.1f} s", flush=True)
                if not same:
                    sys.exit("the grids differ between 1 and 2 workers")
    ratios = [a / b for a, b in zip(walls[1], walls[2], strict=True)]
    return {
        "mode": "warm pool",
        "first_step_with_pool_starting_s": round(startup, 1),
        "wall_s": {str(w): [round(x, 1) for x in v] for w, v in walls.items()},
        "ratio_per_pair": [round(r, 2) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 2),
        "same_grid": True,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="severity.iga1_easi", help="the step's target")
    parser.add_argument("--patients", type=int, default=100, help="virtual patients per arm")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs")
    parser.add_argument(
        "--warm", action="store_true", help="in one process, the pool started once (see warm)"
    )
    args = parser.parse_args()
    if args.warm:
        result = {"target": args.only, "patients_per_arm": args.patients, "draws": 8}
        result |= warm(args.only, args.patients, args.pairs)
        _record(result)
        return
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {w: Path(tmp) / f"workers{w}.yaml" for w in walls}
        for k in range(args.pairs):
            order = (1, 2) if k % 2 == 0 else (2, 1)
            for w in order:
                wall, cpu = run(args.only, args.patients, w, outs[w])
                walls[w].append(wall)
                cpus[w].append(cpu)
                print(f"pair {k + 1}: {w} worker(s) {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        same = outs[1].read_text() == outs[2].read_text()
    ratios = [a / b for a, b in zip(walls[1], walls[2], strict=True)]
    result = {
        "mode": "whole process",
        "what": "one calibration step (dermatwin calibrate --only), whole process, 1 vs 2 "
        "worker processes, interleaved; ratio = wall(1 worker) / wall(2 workers) per pair",
        "target": args.only,
        "patients_per_arm": args.patients,
        "draws": 8,
        "wall_s": {str(w): [round(x, 1) for x in v] for w, v in walls.items()},
        "cpu_s": {str(w): [round(x, 1) for x in v] for w, v in cpus.items()},
        "ratio_per_pair": [round(r, 2) for r in ratios],
        "ratio_median": round(statistics.median(ratios), 2),
        "same_parameter_set": same,
    }
    _record(result)
    if not same:
        sys.exit("the parameter sets differ between 1 and 2 workers")


def _record(result: dict) -> None:
    """Add ``result`` to the results file (one record per mode and patient count)."""
    result |= {
        "cpus": os.cpu_count(),
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
    }
    path = HERE / "calibration_workers_results.json"
    records = json.loads(path.read_text()) if path.exists() else []
    key = (result["mode"], result["patients_per_arm"])
    records = [r for r in records if (r.get("mode"), r.get("patients_per_arm")) != key]
    path.write_text(json.dumps([*records, result], indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
