"""Sparse vs dense LU in Rodas4 on the full skin model, against libRoadRunner piecewise.

Issue 20: with sparse dosing most of the skin model's cost was the dense LU of Rodas4's
iteration matrix. ``SolverOptions(linear_solver="sparse")`` (the default) factorises it
with the LU generated from the Jacobian's pattern (``dermatwin.engine.codegen``); this
script measures it against ``linear_solver="dense"`` (the LU used before), both with the
default stiffness switch, on two one-year regimens of AD virtual patients of ``skin.py``
(Miyano 2021 priors, seed 2021, each equilibrated first, not timed):

* ``rich``: dupilumab q2w + an emollient twice a day + proactive TCS;
* ``dupilumab``: dupilumab q2w alone (27 events).

Each runs at rtol 1e-8 ... 1e-3 (atol = rtol x state scale; the tolerance sweep) and
libRoadRunner, driven piecewise (from dose to dose; CVODE BDF and Adams), at rtol 1e-4,
1e-6 and 1e-8 on the first ``--rr-patients`` patients. Accuracy: the maximum relative
EASI error over those patients against dermatwin Rodas4 at rtol 1e-10; per accuracy
target the cheapest setting of each engine that meets it is compared
(``engine.matched_accuracy``). Timings: one thread, medians of ``--repeats`` interleaved
rounds (the machine is shared).

    python benchmarks/skin_sparse_lu.py [--patients N] [--rr-patients M] [--repeats R]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import load, matched_accuracy, run_dermatwin  # noqa: E402
from skin import OUTPUT_TIMES, PATIENT_YEARS_PER_PATIENT, cohort, rich_regimen  # noqa: E402

from dermatwin.engine.simulate import equilibrate  # noqa: E402
from dermatwin.model.skin import build  # noqa: E402
from dermatwin.therapy.drugs import labelled  # noqa: E402
from dermatwin.therapy.regimen import Regimen  # noqa: E402

RTOLS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3)
RR_RTOLS = (1e-4, 1e-6, 1e-8)
SETTINGS = {"dermatwin": {}, "dermatwin_dense_lu": {"linear_solver": "dense"}}


def regimens() -> dict[str, Regimen]:
    return {
        "rich": rich_regimen(),
        "dupilumab": Regimen([labelled("dupilumab")], horizon_days=365.0),
    }


def monotone(sweep: list[dict], engine: str) -> bool:
    """True when the cost per patient-year does not rise as rtol loosens."""
    rows = sorted((r for r in sweep if r["engine"] == engine), key=lambda r: r["rtol"])
    cost = [r["seconds_per_patient_year"] for r in rows]
    return all(b <= a for a, b in zip(cost, cost[1:], strict=False))


def run(name: str, regimen: Regimen, n: int, n_rr: int, repeats: int) -> dict:
    model = build()
    plan = regimen.plan()
    params = cohort(model, n, plan)
    y0, status = equilibrate(model, params)
    assert (status == 0).all()
    for opts in SETTINGS.values():  # compile / load outside the timing
        run_dermatwin(model, params[:1], y0[:1], plan.events, 1, times=OUTPUT_TIMES, **opts)
    r = matched_accuracy(
        model,
        params,
        y0,
        plan.events,
        OUTPUT_TIMES,
        n_rr,
        dw_rtols=RTOLS,
        rr_rtols=RR_RTOLS,
        repeats=repeats,
        py_per_patient=PATIENT_YEARS_PER_PATIENT,
        dw_settings=SETTINGS,
        rr_drivers=("roadrunner_piecewise",),
    )
    by = {(row["engine"], row["rtol"]): row for row in r["sweep"]}
    speedup = {
        f"{rtol:.0e}": by[("dermatwin_dense_lu", rtol)]["seconds_per_patient_year"]
        / by[("dermatwin", rtol)]["seconds_per_patient_year"]
        for rtol in RTOLS
    }
    return {
        "regimen": name,
        "events_per_patient": len(plan.events),
        **r,
        "ratio_vs_roadrunner_piecewise_dense_lu": {
            target: (
                None
                if best["dermatwin_dense_lu"] is None or best["roadrunner_piecewise"] is None
                else best["roadrunner_piecewise"]["seconds_per_patient_year"]
                / best["dermatwin_dense_lu"]["seconds_per_patient_year"]
            )
            for target, best in r["matched"].items()
        },
        "sparse_over_dense_speedup": speedup,
        "monotone_cost_sparse": monotone(r["sweep"], "dermatwin"),
        "monotone_cost_dense": monotone(r["sweep"], "dermatwin_dense_lu"),
    }


def report(r: dict) -> None:
    print(f"regimen {r['regimen']} ({r['events_per_patient']} events per patient)")
    print(f"{'engine':30s} {'rtol':>7s} {'patient-years/s':>16s} {'max rel EASI err':>17s}")
    for row in r["sweep"]:
        pyps = 1.0 / row["seconds_per_patient_year"]
        print(
            f"{row['engine']:30s} {row['rtol']:7.0e} {pyps:16.1f} {row['max_rel_err_easi']:17.1e}"
        )
    print(
        "sparse / dense speed-up per rtol:",
        {k: round(v, 2) for k, v in r["sparse_over_dense_speedup"].items()},
    )
    for target in r["matched"]:
        sparse = r["ratio_vs_roadrunner_piecewise"][target]
        dense = r["ratio_vs_roadrunner_piecewise_dense_lu"][target]
        print(
            f"error <= {target}: x libRoadRunner piecewise: sparse "
            f"{'n/a' if sparse is None else f'{sparse:.1f}'}, dense "
            f"{'n/a' if dense is None else f'{dense:.1f}'}"
        )
    print(
        f"cost falls monotonically as rtol loosens: sparse {r['monotone_cost_sparse']}, "
        f"dense {r['monotone_cost_dense']}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20)
    ap.add_argument("--rr-patients", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--regimens", nargs="*", default=["dupilumab", "rich"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    out = {
        "machine": platform.processor() or platform.machine(),
        "numba": numba.__version__,
        "load_average_before": load(),
        "regimens": {},
    }
    for name in args.regimens:
        r = run(
            name,
            regimens()[name],
            args.patients,
            min(args.rr_patients, args.patients),
            args.repeats,
        )
        report(r)
        out["regimens"][name] = r
    out["load_average_after"] = load()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
