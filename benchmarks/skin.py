"""Integrated skin-model benchmark: dermatwin vs libRoadRunner on the exported SBML.

Workload: 1,000 AD virtual patients (Miyano 2021 priors, seed 2021) of the full skin model
(every module), each equilibrated first (not timed), then one year of a realistic MSC
regimen (a :class:`~dermatwin.therapy.regimen.Regimen`): allogeneic umbilical-cord MSC
1e6 cells/kg IV every 2 weeks x 3 (CLN-08) with a second cycle at 6 months, an emollient
twice a day and proactive topical corticosteroid twice weekly. Outputs
weekly, half a day after the daily events. All engines at rtol 1e-6 (libRoadRunner also
at 1e-8 to bracket equal accuracy); accuracy is the maximum relative EASI error, over the
libRoadRunner subset, against dermatwin at rtol 1e-10. libRoadRunner runs on a subset of patients
(``--rr-patients``) and is scaled, since it loops over patients in Python.

    python benchmarks/skin.py [--patients N] [--rr-patients M] [--json FILE]

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

from engine import rel_err, run_dermatwin, run_roadrunner  # noqa: E402

from dermatwin.engine.simulate import equilibrate  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.model.skin.plaques import skin_plaques  # noqa: E402
from dermatwin.patients.population import PopulationSpec, generate  # noqa: E402
from dermatwin.patients.sampling import sample_lognormal  # noqa: E402
from dermatwin.study.cohort import simulate_cohort  # noqa: E402
from dermatwin.therapy.drugs import DrugDose, emollient_bid, get_drug, proactive_tcs  # noqa: E402
from dermatwin.therapy.regimen import Regimen, msc_course  # noqa: E402

SEED = 2021
HORIZON = 365.0
OUTPUT_TIMES = np.arange(0.5, HORIZON, 7.0)
PATIENT_YEARS_PER_PATIENT = HORIZON / 365.25
REGIMEN = Regimen(
    [
        msc_course(
            source="umbilical_cord",
            origin="allogeneic",
            amount=1e6,
            unit="cells/kg",
            route="IV",
            times=[0, 14, 28, 182, 196, 210],
        ),
        emollient_bid(),
        proactive_tcs(),
    ],
    horizon_days=HORIZON,
    weight_kg=70.0,
)


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
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--rr-patients", type=int, default=100)
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
    model = build()
    plan = REGIMEN.plan()
    events = plan.events
    n, n_rr = args.patients, min(args.rr_patients, args.patients)
    params = cohort(model, n, plan)
    y0, status = equilibrate(model, params)
    assert (status == 0).all()
    kw = {"times": OUTPUT_TIMES}
    run_dermatwin(model, params[:2], y0[:2], events, 1, **kw)  # compile before timing
    # the tight reference only for the patients every engine runs (Rodas4 at 1e-10 over a
    # year of twice-daily events is far slower than the runs it checks)
    ref, _, _ = run_dermatwin(
        model,
        params[:n_rr],
        y0[:n_rr],
        events,
        2,
        rtol=1e-10,
        atol_factor=1e-12,
        max_steps=5_000_000,
        **kw,
    )
    dw, t_dw, steps = run_dermatwin(model, params, y0, events, 1, **kw)
    _, t_dw2, _ = run_dermatwin(model, params, y0, events, 2, **kw)
    rr, t_rr = run_roadrunner(model, params, y0, events, n_rr, **kw)
    rr8, t_rr8 = run_roadrunner(model, params, y0, events, n_rr, rtol=1e-8, **kw)
    py = PATIENT_YEARS_PER_PATIENT
    r = {
        "workload": "skin_msc_topical_1y",
        "states": len(model.states),
        "patients": n,
        "roadrunner_patients": n_rr,
        "events_per_patient": len(events),
        "dermatwin_pyps_per_core": n * py / t_dw,
        "dermatwin_pyps_2_threads": n * py / t_dw2,
        "dermatwin_seconds_2_threads": t_dw2,
        "roadrunner_pyps_per_core": n_rr * py / t_rr,
        "roadrunner_rtol1e-8_pyps_per_core": n_rr * py / t_rr8,
        "dermatwin_mean_steps": steps,
        "max_rel_err_easi": {
            "dermatwin": rel_err(dw[:n_rr], ref),
            "roadrunner": rel_err(rr, ref),
            "roadrunner_rtol1e-8": rel_err(rr8, ref),
        },
    }
    r["ratio_vs_roadrunner"] = r["dermatwin_pyps_per_core"] / r["roadrunner_pyps_per_core"]
    r["ratio_vs_roadrunner_rtol1e-8"] = (
        r["dermatwin_pyps_per_core"] / r["roadrunner_rtol1e-8_pyps_per_core"]
    )
    e = r["max_rel_err_easi"]
    machine = platform.processor() or platform.machine()
    print(f"{machine}, numba {numba.__version__}; skin model, {r['states']} states, rtol 1e-6")
    print(
        f"dermatwin {r['dermatwin_pyps_per_core']:.1f} patient-years/s per core, "
        f"{r['dermatwin_pyps_2_threads']:.1f} on 2 threads ({t_dw2:.1f} s for {n} patients); "
        f"libRoadRunner {r['roadrunner_pyps_per_core']:.2f} (rtol 1e-6), "
        f"{r['roadrunner_rtol1e-8_pyps_per_core']:.2f} (rtol 1e-8)"
    )
    print(
        f"ratio {r['ratio_vs_roadrunner']:.1f}x (1e-6) / {r['ratio_vs_roadrunner_rtol1e-8']:.1f}x "
        f"(1e-8); max rel EASI err dermatwin {e['dermatwin']:.1e}, libRoadRunner "
        f"{e['roadrunner']:.1e} / {e['roadrunner_rtol1e-8']:.1e}"
    )
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
