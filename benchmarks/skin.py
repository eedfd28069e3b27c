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
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import rel_err, run_dermatwin, run_roadrunner  # noqa: E402

from dermatwin.engine.simulate import equilibrate  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.patients.sampling import sample_lognormal  # noqa: E402
from dermatwin.therapy.drugs import emollient_bid, proactive_tcs  # noqa: E402
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--rr-patients", type=int, default=100)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
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
