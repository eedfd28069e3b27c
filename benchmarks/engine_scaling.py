"""Engine scaling on the full skin model: cost against patients, horizon and dosing.

One thread, the default solver options, AD virtual patients (Miyano 2021 priors, seed
2021) equilibrated first (the equilibration is timed separately: a trial screens
candidates to steady state). Dosing: ``none`` (untreated), ``weekly`` (the dupilumab
exposure bolus of the labelled maintenance dose every 7 days) and ``daily`` (that plus an
emollient application every day). Each cell is the median of ``--repeats`` interleaved
runs; the time per patient-year is the comparable number on a shared machine.

    python benchmarks/engine_scaling.py [--patients 1 10 100 1000] [--horizon-patients 100]
        [--horizons 0.25 1 5] [--repeats 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import load  # noqa: E402

from dermatwin.engine.events import bolus  # noqa: E402
from dermatwin.engine.simulate import equilibrate, solve  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.patients.sampling import sample_lognormal  # noqa: E402
from dermatwin.therapy.drugs import labelled  # noqa: E402
from dermatwin.therapy.regimen import Regimen  # noqa: E402

SEED = 2021


def dosing(kind: str, horizon: float):
    """(events, parameter values) of one dosing pattern over ``horizon`` days."""
    if kind == "none":
        return [], {}
    plan = Regimen([labelled("dupilumab")], horizon_days=horizon).plan()
    maintenance = plan.events[-1]  # the last event: a maintenance dose
    events = [bolus(t, maintenance.target, maintenance.value) for t in np.arange(0, horizon, 7.0)]
    if kind == "daily":
        events += [bolus(float(t), "emollient", 1.0) for t in np.arange(0.0, horizon, 1.0)]
    return sorted(events, key=lambda e: e.time), plan.parameters


def timed_solve(model, params, y0, events, horizon):
    times = np.arange(0.25, horizon, 7.0)
    start = time.perf_counter()
    sol = solve(model, times, params, y0=y0, events=events)
    elapsed = time.perf_counter() - start
    assert (sol.status == 0).all()
    return elapsed, float(sol.stats[:, 0].mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, nargs="+", default=[1, 10, 100, 1000])
    ap.add_argument("--horizon-patients", type=int, default=100)
    ap.add_argument("--horizons", type=float, nargs="+", default=[0.25, 1.0, 5.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    before = load()
    model = build()
    n_max = max([*args.patients, args.horizon_patients])
    params = sample_lognormal(model, n_max, SEED)
    _, dupi = dosing("weekly", 7.0)
    for name, value in dupi.items():  # drug PK parameters (no effect without doses)
        params[:, model.parameter_index(name)] = value
    start = time.perf_counter()
    y0, status = equilibrate(model, params[:2])  # compile
    y0, status = equilibrate(model, params)
    eq_seconds = time.perf_counter() - start
    assert (status == 0).all()
    timed_solve(model, params[:1], y0[:1], dosing("daily", 7.0)[0], 7.0)  # compile
    cells = []
    for kind in ("none", "weekly", "daily"):
        for n in args.patients:
            cells.append((kind, n, 1.0))
        for years in args.horizons:
            if years != 1.0 or args.horizon_patients not in args.patients:
                cells.append((kind, args.horizon_patients, years))
    seconds = {c: [] for c in cells}
    steps = {}
    for _ in range(args.repeats):
        for kind, n, years in cells:
            events, _ = dosing(kind, 365.0 * years)
            elapsed, mean_steps = timed_solve(model, params[:n], y0[:n], events, 365.0 * years)
            seconds[(kind, n, years)].append(elapsed)
            steps[(kind, n, years)] = mean_steps
    rows = []
    for kind, n, years in cells:
        s = float(np.median(seconds[(kind, n, years)]))
        rows.append(
            {
                "dosing": kind,
                "patients": n,
                "years": years,
                "events_per_patient": len(dosing(kind, 365.0 * years)[0]),
                "seconds": s,
                "ms_per_patient_year": 1e3 * s / (n * years),
                "accepted_steps_per_patient_year": steps[(kind, n, years)] / years,
            }
        )
    r = {
        "what": "skin model, one thread, default SolverOptions; medians of interleaved runs",
        "machine": platform.processor() or platform.machine(),
        "numba": numba.__version__,
        "load_average_before_after": [before, load()],
        "equilibrate_ms_per_patient": 1e3 * eq_seconds / n_max,
        "rows": rows,
    }
    print(
        f"{r['machine']}; load {before:.1f} -> {load():.1f}; equilibrate "
        f"{r['equilibrate_ms_per_patient']:.1f} ms/patient"
    )
    print(
        f"{'dosing':8s} {'patients':>8s} {'years':>6s} {'events':>7s} {'s':>8s} "
        f"{'ms/pt-yr':>9s} {'steps/pt-yr':>11s}"
    )
    for row in rows:
        print(
            f"{row['dosing']:8s} {row['patients']:8d} {row['years']:6.2f} "
            f"{row['events_per_patient']:7d} {row['seconds']:8.3f} "
            f"{row['ms_per_patient_year']:9.2f} {row['accepted_steps_per_patient_year']:11.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
