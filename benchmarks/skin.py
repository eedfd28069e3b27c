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

from engine import load, matched_accuracy, print_matched, run_dermatwin  # noqa: E402

from dermatwin.engine.simulate import equilibrate  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.patients.sampling import sample_lognormal  # noqa: E402
from dermatwin.therapy.drugs import emollient_bid, labelled, proactive_tcs  # noqa: E402
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--rr-patients", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rr-repeats", type=int, help="rounds that run libRoadRunner (all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
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
