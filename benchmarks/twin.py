"""Twin fit speed, convergence and the sampler choice.

1. Default fits of the shipped examples (``examples/twins/ad_patient.csv``,
   ``psoriasis_patient.yaml``) with the CLI defaults (the ``de-t`` schedule): max R-hat,
   min bulk ESS (issue 15: < 1.05 and > 400 for every parameter), simulations, wall
   seconds (which depend on the machine's load, recorded) and process CPU seconds (both
   cores together), against the target of 60 s on 2 cores. ``--old-default`` also runs
   the previous default (DE moves, 16 walkers, 150 + 300 steps) on the AD example.
2. Sampler comparison on the same patient and budget: emcee's stretch move (the default)
   vs emcee's differential-evolution moves (DEMove 0.8 + DESnookerMove 0.2): wall time,
   max R-hat, min bulk ESS and ESS per second; plus the cost of not vectorising (one
   simulate call per walker instead of one per step), measured on a few steps.

    python benchmarks/twin.py [--json benchmarks/twin_results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from dermatwin.twins.fit import FitSettings, fit_twin
from dermatwin.twins.likelihood import LogPosterior, TwinSimulator, twin_model
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import load_visits

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "twins"
EXAMPLE = EXAMPLES / "ad_patient.csv"
SHIPPED = ("ad_patient.csv", "psoriasis_patient.yaml")


def _row(twin) -> dict:
    d = twin.diagnostics
    return {
        "seconds": d["seconds"],
        "simulations": d["simulations"],
        "max_rhat": d["max_rhat"],
        "min_ess_bulk": d["min_ess_bulk"],
        "ess_per_second": d["min_ess_bulk"] / d["seconds"],
        "acceptance_fraction": d["acceptance_fraction"],
        "converged": d["converged"],
        "kept_steps": int(twin.theta.shape[0]),
    }


def vectorisation(model, record, walkers: int = 24, calls: int = 5) -> dict:
    prior = Prior(twin_parameters(model, record.patient)[:-1])
    log_post = LogPosterior(TwinSimulator(model, record, prior))
    theta = prior.mu + 0.3 * prior.sigma * np.random.default_rng(0).standard_normal(
        (walkers, prior.ndim)
    )
    log_post(theta)  # warm
    t = time.perf_counter()
    for _ in range(calls):
        batched = log_post(theta)
    t_batched = (time.perf_counter() - t) / calls
    t = time.perf_counter()
    for _ in range(calls):
        single = np.array([log_post(row[None, :])[0] for row in theta])
    t_single = (time.perf_counter() - t) / calls
    return {
        "walkers": walkers,
        "seconds_per_step_batched": t_batched,
        "seconds_per_step_one_call_per_walker": t_single,
        "speed_up": t_single / t_batched,
        "identical": bool(np.array_equal(batched, single)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, default=Path("benchmarks/twin_results.json"))
    ap.add_argument("--skip-compare", action="store_true")
    ap.add_argument("--merge", action="store_true", help="keep other entries of --json")
    ap.add_argument("--old-default", action="store_true", help="also the pre-issue-15 default")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # unconverged comparison runs are recorded, not warned
    model = twin_model()[0]
    record = load_visits(EXAMPLE)
    default = FitSettings()
    results: dict = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "patient": EXAMPLE.name,
        "visits": len(record.visits),
    }
    for name in SHIPPED:
        example = load_visits(EXAMPLES / name)
        cpu = time.process_time()
        twin = fit_twin(example, default, model=model)
        cpu = time.process_time() - cpu
        # CPU seconds are what the fit costs on free cores (both together); wall seconds
        # depend on the load
        key = "fit_default" if name == EXAMPLE.name else f"fit_default_{Path(name).stem}"
        results[key] = {
            "settings": asdict(default),
            "cpu_seconds": cpu,
            "load_average": os.getloadavg(),
            **_row(twin),
        }
        print(name, results[key], flush=True)
    if args.old_default:
        old = FitSettings(walkers=16, burn=150, steps=300, moves="de", extend=False)
        cpu = time.process_time()
        twin = fit_twin(record, old, model=model)
        results["fit_old_default"] = {
            "settings": asdict(old),
            "cpu_seconds": time.process_time() - cpu,
            **_row(twin),
        }
        print("old default", results["fit_old_default"], flush=True)
    if not args.skip_compare:
        for moves in ("stretch", "de"):
            settings = FitSettings(
                walkers=16, burn=100, steps=200, seed=1, moves=moves, extend=False
            )
            twin = fit_twin(record, settings, model=model)
            results[f"compare_{moves}"] = {"settings": asdict(settings), **_row(twin)}
            print(moves, results[f"compare_{moves}"], flush=True)
        results["vectorisation"] = vectorisation(model, record)
        print(results["vectorisation"])
    results["load_average_at_end"] = os.getloadavg()
    if args.merge and args.json.exists():
        results = {**json.loads(args.json.read_text()), **results}
    args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
