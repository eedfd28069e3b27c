"""Integrated skin-model benchmark: dermatwin vs libRoadRunner on the exported SBML, at
matched accuracy.

Workload (issue 20's rich regimen): AD virtual patients (Miyano 2021 priors, seed 2021) of
the full skin model (every module), each equilibrated first (not timed), then one year of
dupilumab 300 mg every 2 weeks after a 600 mg load, an emollient twice a day and proactive
topical corticosteroid twice weekly (a :class:`~dermatwin.therapy.regimen.Regimen`; 967
events per patient). Outputs weekly, a quarter day after the half-daily events.

Every engine runs at rtol 1e-8 ... 1e-3 (atol = rtol x state scale): dermatwin with the
default stiffness switch and with the cost-aware one (``SolverOptions``), libRoadRunner
with one SBML event per dose and piecewise (simulate from dose to dose, set the state in
between), each with CVODE BDF and Adams. Accuracy is the maximum relative EASI error over
the first ``--rr-patients`` patients against dermatwin Rodas4 at rtol 1e-10; for each
accuracy target the cheapest setting of each engine that meets it is compared
(``benchmarks/engine.py``: ``matched_accuracy``). Also the tolerance sweep (cost per
tolerance) and the speed-up of each option on the default tolerance.

    python benchmarks/skin.py [--patients N] [--rr-patients M] [--repeats R]
        [--rr-repeats R2] [--json FILE]

Plaque-level psoriasis row (``--plaques K``, instead of the comparison above): psoriasis
virtual patients (PASI >= 12) on one year of secukinumab 300 mg at label, today's patient
(one psoriasis core) against a patient of ``K`` plaques
(:mod:`dermatwin.model.skin.plaques`), each equilibrated first (not timed); patient-years
per second of CPU time on one thread (the CPU time, not the wall time, since the machine
is shared) and their ratio.

    python benchmarks/skin.py --plaques 8 [--patients N] [--json FILE]
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

from engine import load, matched_accuracy, print_matched, run_dermatwin  # noqa: E402

from dermatwin.engine.simulate import equilibrate  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.model.skin.plaques import skin_plaques  # noqa: E402
from dermatwin.patients.population import PopulationSpec, generate  # noqa: E402
from dermatwin.patients.sampling import sample_lognormal  # noqa: E402
from dermatwin.study.cohort import simulate_cohort  # noqa: E402
from dermatwin.therapy.drugs import (  # noqa: E402
    DrugDose,
    emollient_bid,
    get_drug,
    labelled,
    proactive_tcs,
)
from dermatwin.therapy.regimen import Regimen  # noqa: E402

SEED = 2021
HORIZON = 365.0
OUTPUT_TIMES = np.arange(0.25, HORIZON, 7.0)
PATIENT_YEARS_PER_PATIENT = HORIZON / 365.25
RTOLS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3)
RR_RTOLS = (1e-4, 1e-6, 1e-8)


def rich_regimen(horizon: float = HORIZON) -> Regimen:
    """Dupilumab q2w + emollient twice daily + proactive TCS twice weekly."""
    return Regimen([labelled("dupilumab"), emollient_bid(), proactive_tcs()], horizon_days=horizon)


def cohort(model, n: int, plan) -> np.ndarray:
    params = sample_lognormal(model, n, SEED)
    for name, value in plan.parameters.items():
        params[:, model.parameter_index(name)] = value
    return params


def psoriasis_pyps(model, spec: PopulationSpec, n: int, repeats: int = 2) -> tuple[float, float]:
    """Patient-years per CPU second (best of ``repeats``) and mean accepted steps of ``n``
    psoriasis patients on a year of secukinumab."""
    entry = get_drug("secukinumab")
    regimen = Regimen(
        [DrugDose("secukinumab", entry.label.dose, entry.unit)],
        horizon_days=HORIZON,
        weight_kg=70.0,
    )
    pop = generate(model, spec, n, SEED)
    plan = regimen.plan()
    numba.set_num_threads(1)
    simulate_cohort(model, OUTPUT_TIMES, pop.parameters[:2], y0=pop.y0[:2], plans=plan)
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        cohort = simulate_cohort(model, OUTPUT_TIMES, pop.parameters, y0=pop.y0, plans=plan)
        best = min(best, time.process_time() - start)
    assert (cohort.status == 0).all()
    return n * PATIENT_YEARS_PER_PATIENT / best, float(cohort.solution.stats[:, 0].mean())


def plaque_row(n: int, plaques: int) -> dict:
    """Today's psoriasis patient against a patient of ``plaques`` plaques (same regimen)."""
    inclusion = {"PASI": {"min": 12}}
    today, steps = psoriasis_pyps(
        build(), PopulationSpec(disease="psoriasis", inclusion=inclusion), n
    )
    model = skin_plaques(plaques)
    spec = PopulationSpec(disease="psoriasis", inclusion=inclusion, plaques=plaques)
    plaque, plaque_steps = psoriasis_pyps(model, spec, n)
    return {
        "workload": "psoriasis_secukinumab_1y",
        "patients": n,
        "plaques": plaques,
        "states_today": len(build().states),
        "states_plaques": len(model.states),
        "today_pyps_cpu": today,
        "plaques_pyps_cpu": plaque,
        "slowdown": today / plaque,
        "today_mean_steps": steps,
        "plaques_mean_steps": plaque_steps,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--rr-patients", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rr-repeats", type=int, help="rounds that run libRoadRunner (all)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--plaques", type=int, help="run the plaque-level psoriasis row only")
    args = ap.parse_args(argv)
    if args.plaques:
        r = plaque_row(min(args.patients, 200), args.plaques)
        print(
            f"psoriasis, secukinumab 1 y: today {r['today_pyps_cpu']:.1f} patient-years/CPU-s "
            f"({r['states_today']} states), {r['plaques']} plaques {r['plaques_pyps_cpu']:.1f} "
            f"({r['states_plaques']} states): {r['slowdown']:.2f}x slower"
        )
        if args.json:
            args.json.write_text(json.dumps(r, indent=2))
        return 0
    load_before = load()
    model = build()
    plan = rich_regimen().plan()
    events = plan.events
    n, n_rr = args.patients, min(args.rr_patients, args.patients)
    params = cohort(model, n, plan)
    y0, status = equilibrate(model, params)
    assert (status == 0).all()
    run_dermatwin(model, params[:2], y0[:2], events, 1, times=OUTPUT_TIMES)  # compile
    r = matched_accuracy(
        model,
        params,
        y0,
        events,
        OUTPUT_TIMES,
        n_rr,
        dw_rtols=RTOLS,
        rr_rtols=RR_RTOLS,
        repeats=args.repeats,
        rr_repeats=args.rr_repeats,
        py_per_patient=PATIENT_YEARS_PER_PATIENT,
    )
    r = {
        "workload": "skin_dupilumab_emollient_bid_proactive_tcs_1y",
        "states": len(model.states),
        "events_per_patient": len(events),
        "machine": platform.processor() or platform.machine(),
        "numba": numba.__version__,
        "load_average_before_after": [load_before, load()],
        **r,
    }
    print(f"{r['machine']}, numba {r['numba']}; skin model, {r['states']} states, {n} patients")
    print_matched(r)
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
