"""Engine benchmark: dermatwin vs libRoadRunner (exported SBML) vs SciPy LSODA.

Two workloads on the Miyano 2021 cohort (see workloads.py), from the same equilibrated
initial states, compared at matched accuracy (``matched_accuracy``): every engine runs a
range of tolerances (atol = rtol x state scale), its maximum relative EASI error is taken
against a tight reference (dermatwin Rodas4 at rtol 1e-10), and for each accuracy target
the cheapest setting of each engine that meets it is compared. libRoadRunner is driven
two ways: one SBML event per dose, and piecewise (simulate from dose to dose, set the
state in between), each with CVODE BDF and Adams. SciPy LSODA runs once at rtol 1e-6.

    python benchmarks/engine.py [--patients N] [--rr-patients M] [--repeats R] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numba
import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as wl  # noqa: E402

from dermatwin.engine.codegen import compile_model
from dermatwin.engine.events import compile_events  # noqa: E402
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate  # noqa: E402
from dermatwin.io.sbml import to_sbml  # noqa: E402
from dermatwin.model.reference import miyano2021  # noqa: E402

RTOL = 1e-6
RTOLS = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3)
RR_RTOLS = (1e-4, 1e-6, 1e-8)


def easi_index(model):
    return model.output_names.index("EASI")


def run_dermatwin(
    model,
    params,
    y0,
    events,
    threads,
    method="auto",
    rtol=RTOL,
    atol_factor=1e-6,
    times=wl.OUTPUT_TIMES,
    max_steps=SolverOptions.max_steps,
    **options,
):
    numba.set_num_threads(threads)
    opts = SolverOptions(
        rtol=rtol, atol_factor=atol_factor, method=method, max_steps=max_steps, **options
    )
    start = time.perf_counter()
    ds = simulate(model, times, params, y0=y0, events=events, options=opts)
    elapsed = time.perf_counter() - start
    assert (ds["status"].values == 0).all(), "dermatwin: a patient failed"
    steps = ds["solver_stats"].sel(stat="accepted").values
    return ds["EASI"].values, elapsed, float(steps.mean())


def _roadrunner(model, events, rtol, atol_factor, stiff=True):
    """libRoadRunner on the exported SBML (doses as SBML events when ``events``), with
    dermatwin's tolerances: rtol and atol_factor x state scale per state."""
    import roadrunner

    rr = roadrunner.RoadRunner(to_sbml(model, events=events))
    rr.integrator.relative_tolerance = rtol
    rr.integrator.setValue("stiff", stiff)  # CVODE BDF (True) or Adams (False)
    for name, scale in zip(model.state_names, model.state_scales(), strict=True):
        rr.integrator.setIndividualTolerance(name, atol_factor * float(scale))
    rr.timeCourseSelections = ["time", "EASI"]
    ids = list(rr.model.getGlobalParameterIds())
    pidx = [ids.index(p) for p in model.parameter_names]
    sids = list(rr.model.getFloatingSpeciesIds())
    order = [sids.index(s) for s in model.state_names]
    return rr, pidx, order, len(sids)


def _reset_patient(rr, pidx, order, n_species, params, y0):
    rr.resetAll()
    rr.model.setGlobalParameterValues(pidx, params)
    init = np.empty(n_species)
    init[order] = y0
    rr.model.setFloatingSpeciesInitAmounts(init)
    rr.reset()


def run_roadrunner(
    model, params, y0, events, n, rtol=RTOL, times=wl.OUTPUT_TIMES, atol_factor=1e-6, stiff=True
):
    """libRoadRunner with one SBML event per dose, one ``simulate`` per patient."""
    rr, pidx, order, n_sp = _roadrunner(model, events, rtol, atol_factor, stiff)
    out = np.empty((n, times.size))
    times = np.concatenate([[0.0], times])
    start = time.perf_counter()
    for i in range(n):
        _reset_patient(rr, pidx, order, n_sp, params[i], y0[i])
        res = rr.simulate(times=times)
        out[i] = res[1:, 1]
    return out, time.perf_counter() - start


def run_roadrunner_piecewise(
    model, params, y0, events, n, rtol=RTOL, times=wl.OUTPUT_TIMES, atol_factor=1e-6, stiff=True
):
    """libRoadRunner driven from dose to dose: the SBML has no events; the driver applies
    each dose to the state (or parameter) and simulates to the next one (CVODE restarts
    there, as it does at an SBML event, but without event handling). Outputs at a dose
    time report the state before the dose, as dermatwin does."""
    rr, pidx, order, n_sp = _roadrunner(model, (), rtol, atol_factor, stiff)
    ev = compile_events(model, events, 1, 0.0)
    if np.any(ev.kind == 3):
        raise ValueError("piecewise driver: input-rate events are not supported")
    edges = np.unique(np.concatenate([[0.0], ev.time[ev.time < times[-1]], [times[-1]]]))
    segments = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        cols = np.flatnonzero((times > a) & (times <= b))
        doses = np.flatnonzero(ev.time == a)
        seg_times = np.unique(np.concatenate([[a], times[cols], [b]]))
        rows = np.searchsorted(seg_times, times[cols])
        segments.append((cols, rows, doses, seg_times))
    out = np.empty((n, times.size))
    start = time.perf_counter()
    for i in range(n):
        _reset_patient(rr, pidx, order, n_sp, params[i], y0[i])
        m = rr.model
        for cols, rows, doses, seg_times in segments:
            if doses.size:
                amounts = m.getFloatingSpeciesAmounts()
                for j in doses:
                    kind, idx, value = ev.kind[j], ev.index[j], ev.value[j]
                    if kind == 0:
                        amounts[order[idx]] += value
                    elif kind == 1:
                        amounts[order[idx]] = value
                    else:
                        m.setGlobalParameterValues([pidx[idx]], [value])
                m.setFloatingSpeciesAmounts(amounts)
            res = rr.simulate(times=seg_times)
            out[i, cols] = res[rows, 1]
    return out, time.perf_counter() - start


def run_lsoda(model, params, y0, events, n):
    """SciPy LSODA restarted at every event, calling dermatwin's compiled right-hand side."""
    kernel = compile_model(model)
    ev = compile_events(model, events, 1, 0.0)
    n_s, k_out = len(model.states), easi_index(model)
    edges = np.unique(np.concatenate([[0.0], ev.time, [wl.HORIZON]]))
    atol = 1e-6 * model.state_scales()
    out = np.empty((n, wl.OUTPUT_TIMES.size))
    row = np.empty(len(model.outputs))
    start = time.perf_counter()
    for i in range(n):
        p, y, u, dy = params[i].copy(), y0[i].copy(), np.zeros(n_s), np.empty(n_s)

        def f(t, x, p=p, u=u, dy=dy):
            kernel.rhs(t, x, p, dy)
            return dy + u

        for a, b in zip(edges[:-1], edges[1:], strict=True):
            for j in np.flatnonzero(ev.time == a):
                idx, val = ev.index[j], ev.value[j]
                if ev.kind[j] == 0:
                    y[idx] += val
                elif ev.kind[j] == 1:
                    y[idx] = val
                elif ev.kind[j] == 2:
                    p[idx] = val
                else:
                    u[idx] = val
            cols = np.flatnonzero((wl.OUTPUT_TIMES > a) & (wl.OUTPUT_TIMES <= b))
            t_eval = (
                np.append(wl.OUTPUT_TIMES[cols], b)
                if b not in wl.OUTPUT_TIMES[cols]
                else wl.OUTPUT_TIMES[cols]
            )
            sol = solve_ivp(f, (a, b), y, method="LSODA", rtol=RTOL, atol=atol, t_eval=t_eval)
            for k, col in enumerate(cols):
                kernel.outputs(sol.t[k], sol.y[:, k], p, row)
                out[i, col] = row[k_out]
            y = sol.y[:, -1].copy()
    return out, time.perf_counter() - start


def rel_err(a, ref):
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), 1e-3)))


#: dermatwin settings of the matched-accuracy comparison: name -> SolverOptions fields
DW_SETTINGS = {
    "dermatwin": {},
    "dermatwin_cost_switch": {"stiffness_switch": "cost"},
    "dermatwin_cost_switch_warm_events": {"stiffness_switch": "cost", "warm_events": True},
}
ACCURACY_TARGETS = (1e-4, 1e-6)


def load() -> float:
    return os.getloadavg()[0]


def matched_accuracy(
    model,
    params,
    y0,
    events,
    times,
    n_rr,
    *,
    dw_rtols,
    rr_rtols,
    repeats,
    py_per_patient,
    rr_repeats=None,
    dw_settings=None,
    rr_drivers=("roadrunner", "roadrunner_piecewise"),
):
    """Cost (seconds per patient-year, one core) and max relative EASI error of every
    engine setting, and, per accuracy target, each engine's cheapest setting that meets
    it; the ratios compare those.

    dermatwin runs all ``params`` rows (timed), libRoadRunner the first ``n_rr``
    (driven with SBML events and piecewise, each with CVODE BDF and Adams); errors are
    over the first ``n_rr`` patients against dermatwin Rodas4 at rtol 1e-10 (atol 1e-12
    x scale). atol = rtol x state scale throughout. Timings are medians of ``repeats``
    interleaved rounds (every setting once per round), for a machine shared with other
    jobs; libRoadRunner only in the first ``rr_repeats`` rounds (default: all).
    ``dw_settings``: dermatwin's settings by name (default ``DW_SETTINGS``; the one named
    ``dermatwin`` is the one the ratios compare); ``rr_drivers``: which of libRoadRunner's
    drivers run.
    """
    dw_settings = DW_SETTINGS if dw_settings is None else dw_settings
    n = params.shape[0]
    ref, _, _ = run_dermatwin(
        model,
        params[:n_rr],
        y0[:n_rr],
        events,
        1,
        method="rodas4",
        rtol=1e-10,
        atol_factor=1e-12,
        max_steps=5_000_000,
        times=times,
    )
    runs = {}
    for name, opts in dw_settings.items():
        for rtol in dw_rtols if name != "dermatwin_cost_switch_warm_events" else (1e-6, 1e-4):
            runs[(name, rtol)] = (
                run_dermatwin,
                (model, params, y0, events, 1),
                {"rtol": rtol, "atol_factor": rtol, "times": times, **opts},
                n,
            )
    drivers = {"roadrunner": run_roadrunner, "roadrunner_piecewise": run_roadrunner_piecewise}
    for name, fn in ((d, drivers[d]) for d in rr_drivers):
        for stiff, solver in ((True, "BDF"), (False, "Adams")):
            for rtol in rr_rtols:
                kw = {"rtol": rtol, "atol_factor": rtol, "times": times, "stiff": stiff}
                runs[(f"{name}_{solver}", rtol)] = (fn, (model, params, y0, events, n_rr), kw, n_rr)
    seconds = {key: [] for key in runs}
    errors = {}
    rr_repeats = repeats if rr_repeats is None else rr_repeats
    for round_ in range(repeats):
        for key, (fn, args, kw, count) in runs.items():
            if round_ >= rr_repeats and key[0].startswith("roadrunner"):
                continue
            res = fn(*args, **kw)
            values, elapsed = res[0], res[1]
            seconds[key].append(elapsed / (count * py_per_patient))
            errors[key] = rel_err(values[:n_rr], ref)
            print(f"  {key[0]} rtol {key[1]:.0e}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    sweep = [
        {
            "engine": name,
            "rtol": rtol,
            "seconds_per_patient_year": float(np.median(seconds[(name, rtol)])),
            "max_rel_err_easi": errors[(name, rtol)],
        }
        for name, rtol in runs
    ]
    families = {
        **{name: (name,) for name in dw_settings},
        **{d: (f"{d}_BDF", f"{d}_Adams") for d in rr_drivers},
    }
    matched = {}
    for target in ACCURACY_TARGETS:
        best = {}
        for family, members in families.items():
            ok = [r for r in sweep if r["engine"] in members and r["max_rel_err_easi"] <= target]
            best[family] = min(ok, key=lambda r: r["seconds_per_patient_year"], default=None)
        matched[f"{target:.0e}"] = best

    def ratio(peer, ours="dermatwin"):
        if peer not in families or ours not in families:
            return None
        out = {}
        for target, best in matched.items():
            a, b = best[ours], best[peer]
            out[target] = (
                None
                if a is None or b is None
                else b["seconds_per_patient_year"] / a["seconds_per_patient_year"]
            )
        return out

    return {
        "patients": n,
        "roadrunner_patients": n_rr,
        "repeats": repeats,
        "roadrunner_repeats": rr_repeats,
        "sweep": sweep,
        "matched": matched,
        "ratio_vs_roadrunner": ratio("roadrunner"),
        "ratio_vs_roadrunner_piecewise": ratio("roadrunner_piecewise"),
        "ratio_vs_roadrunner_cost_switch": ratio("roadrunner", "dermatwin_cost_switch"),
        "ratio_vs_roadrunner_piecewise_cost_switch": ratio(
            "roadrunner_piecewise", "dermatwin_cost_switch"
        ),
    }


def print_matched(r) -> None:
    print(f"{'engine':36s} {'rtol':>7s} {'ms/patient-year':>16s} {'max rel EASI err':>17s}")
    for row in r["sweep"]:
        print(
            f"{row['engine']:36s} {row['rtol']:7.0e} "
            f"{1e3 * row['seconds_per_patient_year']:16.2f} {row['max_rel_err_easi']:17.1e}"
        )
    for target in r["matched"]:
        print(
            f"error <= {target}: x libRoadRunner events {_fmt(r['ratio_vs_roadrunner'][target])}, "
            f"piecewise {_fmt(r['ratio_vs_roadrunner_piecewise'][target])}; cost switch "
            f"{_fmt(r['ratio_vs_roadrunner_cost_switch'][target])} / "
            f"{_fmt(r['ratio_vs_roadrunner_piecewise_cost_switch'][target])}"
        )


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.1f}x"


def benchmark(name, model, events, n, n_rr, n_lsoda, repeats):
    params = wl.cohort_parameters(model, n)
    y0, status = equilibrate(model, params)
    assert (status == 0).all()
    run_dermatwin(model, params[:2], y0[:2], events, 1)  # compile before timing
    r = matched_accuracy(
        model,
        params,
        y0,
        events,
        wl.OUTPUT_TIMES,
        n_rr,
        dw_rtols=RTOLS,
        rr_rtols=RR_RTOLS,
        repeats=repeats,
        py_per_patient=wl.PATIENT_YEARS_PER_PATIENT,
    )
    # SciPy LSODA (Python callbacks) once, at rtol 1e-6, for scale
    ref = run_dermatwin(
        model,
        params[:n_lsoda],
        y0[:n_lsoda],
        events,
        1,
        method="rodas4",
        rtol=1e-10,
        atol_factor=1e-12,
    )[0]
    ls, t_ls = run_lsoda(model, params, y0, events, n_lsoda)
    return {
        "workload": name,
        "events_per_patient": len(events),
        **r,
        "lsoda_rtol1e-6": {
            "patients": n_lsoda,
            "seconds_per_patient_year": t_ls / (n_lsoda * wl.PATIENT_YEARS_PER_PATIENT),
            "max_rel_err_easi": rel_err(ls, ref),
        },
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=wl.N_PATIENTS)
    ap.add_argument("--rr-patients", type=int, default=100)
    ap.add_argument("--lsoda-patients", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    before = load()
    base = miyano2021.build()
    pk = wl.miyano_with_pk()
    n, n_rr = args.patients, min(args.rr_patients, args.patients)
    n_ls = min(args.lsoda_patients, n)
    results = [
        benchmark("a_smooth", base, wl.smooth_events(base), n, n_rr, n_ls, args.repeats),
        benchmark("b_event_rich", pk, wl.event_rich_events(), n, n_rr, n_ls, args.repeats),
    ]
    machine = platform.processor() or platform.machine()
    print(f"{machine}, numba {numba.__version__}; load average {before:.1f} -> {load():.1f}")
    for r in results:
        print(f"--- {r['workload']} ({r['patients']} patients, {r['events_per_patient']} events)")
        print_matched(r)
        ls = r["lsoda_rtol1e-6"]
        print(
            f"SciPy LSODA rtol 1e-6: {1e3 * ls['seconds_per_patient_year']:.1f} ms/patient-year, "
            f"max rel EASI err {ls['max_rel_err_easi']:.1e}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
