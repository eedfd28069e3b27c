"""Trial benchmark: a 2-arm, 500-patient-per-arm, 16-week virtual trial end to end.

The SOLO-1 example (dupilumab every 2 weeks vs placebo, weekly visits) with 500 patients
per arm: drawing and equilibrating the populations (with inclusion criteria), the
regimens, simulation, endpoints with bootstrap intervals and the summary, timed from a
warm kernel cache (the compile is a one-off, timed separately). Target (issue 4): under
60 s on 2 cores. Not a test: a recorded measurement.

    python benchmarks/trial.py [--n 500] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numba

from dermatwin import __version__
from dermatwin.engine.codegen import compile_model
from dermatwin.trials.run import run_trial, trial_model
from dermatwin.trials.spec import load_trial

TRIAL = Path(__file__).resolve().parents[1] / "examples" / "trials" / "solo1_dupilumab_ad.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=500, help="patients per arm")
    ap.add_argument("--json", type=Path, default=Path(__file__).with_name("trial_results.json"))
    args = ap.parse_args()
    spec = load_trial(TRIAL)
    arms = {k: v.model_copy(update={"n": args.n}) for k, v in spec.arms.items()}
    arms = {k: arms[k] for k in ("dupilumab", "placebo")}
    spec = spec.model_copy(update={"arms": arms})
    t0 = time.perf_counter()
    model = trial_model(spec)
    _ = compile_model(model)  # compile or load the cached kernel
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run_trial(spec, model=model)
    wall = time.perf_counter() - t0
    record = {
        "trial": "SOLO-1 design, 2 arms (dupilumab q2w, placebo), 16 weeks, weekly visits",
        "patients_per_arm": args.n,
        "wall_s": round(wall, 2),
        "model_load_s": round(load, 2),
        "target_s": 60,
        "estimates": {
            arm: round(v["EASI-75@16w"]["estimate"], 1) for arm, v in result.summary["arms"].items()
        },
        "cores": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "machine": platform.machine(),
        "dermatwin_version": __version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(record, indent=2))
    args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
