"""Full grid-posterior calibration, twice: on the example trials' own seeds and with every
trial seed replaced by SEED (other virtual patients). Records the runtime of each run and,
per value, how far the posterior mean moves in units of the posterior SD
(benchmarks/calibration_posterior_results.json; the must-show: no value moves by more
than one SD).

    PYTHONPATH=src python benchmarks/calibration_posterior.py [SEED] [--only TARGET ...]
    PYTHONPATH=src python benchmarks/calibration_posterior.py --from A B SEED WALL_A WALL_B

Runs the same computation as ``dermatwin calibrate`` (all 13 steps) two times.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from dermatwin.calibration.posterior import DRAWS, calibrate_posterior
from dermatwin.params.parameter_set import read_parameter_set, write_parameter_set

HERE = Path(__file__).parent


def _run(seed: int | None, only: list[str] | None):
    lines: list[str] = []
    start, cpu = time.perf_counter(), time.process_time()

    def log(line: str) -> None:
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        lines.append(f"[{wall:7.1f} s wall, {used:7.1f} s CPU] {line}")
        print(lines[-1], flush=True)

    pset = calibrate_posterior(only or None, log=log, seed=seed)
    return pset, (time.perf_counter() - start, time.process_time() - cpu), lines


def compare(first, second) -> dict:
    """Per value of both sets: points, posterior means, SDs, CrIs and the mean's shift in
    posterior SDs of the first set."""
    other = {v.target: v for v in second.values}
    values = {}
    for v in first.values:
        w = other.get(v.target)
        if v.posterior is None or w is None or w.posterior is None:
            continue
        sd = max(v.posterior.sd, 1e-12)
        values[v.target] = {
            "point": [v.value, w.value],
            "mean": [v.posterior.mean, w.posterior.mean],
            "sd": [v.posterior.sd, w.posterior.sd],
            "cri95": [[v.posterior.low, v.posterior.high], [w.posterior.low, w.posterior.high]],
            "effective_grid_points": [
                v.posterior.effective_grid_points,
                w.posterior.effective_grid_points,
            ],
            "interpolation_error_points": [
                v.posterior.interpolation_error,
                w.posterior.interpolation_error,
            ],
            "rhat": [v.posterior.rhat, w.posterior.rhat],
            "ess": [v.posterior.ess, w.posterior.ess],
            "mean_shift_in_sd": round(abs(w.posterior.mean - v.posterior.mean) / sd, 3),
        }
    return values


def main(seed: int = 7, only: list[str] | None = None) -> dict:
    first, t1, log1 = _run(None, only)
    write_parameter_set(first, HERE / "calibration_posterior_set.yaml")
    second, t2, log2 = _run(seed, only)
    values = compare(first, second)
    result = {
        "what": "grid-posterior calibration on the trials' own seeds, then with every trial "
        f"seed replaced by {seed}; {DRAWS} draws per value",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs)",
        "seconds_wall": [round(t1[0]), round(t2[0])],
        "seconds_cpu": [round(t1[1]), round(t2[1])],
        "values": values,
        "largest_mean_shift_in_sd": max(
            (v["mean_shift_in_sd"] for v in values.values()), default=0
        ),
        "log": [log1, log2],
    }
    (HERE / "calibration_posterior_results.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def from_files(first: str, second: str, seed: int, seconds: list[float]) -> dict:
    """Record two sets written by ``dermatwin calibrate`` (own seeds, then ``--seed``),
    run as separate processes side by side; ``seconds``: their wall times."""
    a, b = read_parameter_set(first), read_parameter_set(second)
    values = compare(a, b)
    result = {
        "what": f"`dermatwin calibrate` on the trials' own seeds and `--seed {seed}`, run side "
        f"by side as two processes (one core each); {a.n_draws} draws per value",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "seconds_wall": [round(t) for t in seconds],
        "values": values,
        "largest_mean_shift_in_sd": max(
            (v["mean_shift_in_sd"] for v in values.values()), default=0
        ),
    }
    (HERE / "calibration_posterior_results.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--from"]:  # --from A.yaml B.yaml SEED WALL_A WALL_B
        out = from_files(args[1], args[2], int(args[3]), [float(a) for a in args[4:6]])
        print(json.dumps({k: out[k] for k in ("seconds_wall", "largest_mean_shift_in_sd")}))
        sys.exit(0)
    only = args[args.index("--only") + 1 :] if "--only" in args else None
    head = args[: args.index("--only")] if "--only" in args else args
    out = main(*(int(a) for a in head), only=only)
    keys = ("seconds_wall", "seconds_cpu", "largest_mean_shift_in_sd")
    print(json.dumps({k: out[k] for k in keys}, indent=2))
