"""Plaque-level psoriasis checks (issue 19 item 2): the must-shows, plaques off against on.

Paired: each design runs twice with the same seed and patients' streams, once as today
(one psoriasis core per patient) and once with ``population.plaques`` (default 8), on the
shipped parameter set (not refitted for plaques). Prints, per check, the predictions and
the published rows of /work/shared/reference/clinical_outcomes.csv (row ids below), with
the 95 % binomial range a trial of the published size would give at the predicted rate:

* CHAMPION PASI-75/100 at week 16 (PSO_CHAMPION_*), examples/trials/champion_*.yaml;
* ERASURE PGA 0/1 at week 12 (PSO_SECU_ERASURE_*_IGA) and the secukinumab 300 mg
  PASI-100/PASI-75 ratio at week 12 (target 0.25-0.45), examples/trials/erasure_*.yaml;
* placebo PASI-100 at weeks 12-52 (<= 2 %, not rising after week 16);
* etanercept 50 mg twice weekly for 24 weeks, then stopped: PASI-50 responders' median
  time to relapse (loss of half the week-24 improvement; PSO_ETN_GORDON2006_RELAPSE,
  about 3 months).

Research use only; not for clinical decisions.

    PYTHONPATH=src python scripts/plaque_checks.py [--n 200] [--plaques 8] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.stats import binom

ROOT = Path(__file__).resolve().parents[1]
TRIALS = ROOT / "examples" / "trials"
#: published rows (clinical_outcomes.csv): (design, arm, endpoint, value %, n)
ROWS = {
    "PSO_CHAMPION_ADA_PASI75": ("champion", "adalimumab", "PASI-75@16w", 79.6, 108),
    "PSO_CHAMPION_ADA_PASI100": ("champion", "adalimumab", "PASI-100@16w", 16.7, 108),
    "PSO_CHAMPION_MET_PASI75": ("champion", "methotrexate", "PASI-75@16w", 35.5, 110),
    "PSO_CHAMPION_MET_PASI100": ("champion", "methotrexate", "PASI-100@16w", 7.3, 110),
    "PSO_CHAMPION_PLA_PASI75": ("champion", "placebo", "PASI-75@16w", 18.9, 53),
    "PSO_CHAMPION_PLA_PASI100": ("champion", "placebo", "PASI-100@16w", 1.9, 53),
    "PSO_SECU_ERASURE_300_PASI75": ("erasure", "secukinumab_300", "PASI-75@12w", 81.6, 245),
    "PSO_SECU_ERASURE_300_IGA": ("erasure", "secukinumab_300", "PGA01@12w", 65.3, 245),
    "PSO_SECU_ERASURE_150_PASI75": ("erasure", "secukinumab_150", "PASI-75@12w", 71.6, 245),
    "PSO_SECU_ERASURE_150_IGA": ("erasure", "secukinumab_150", "PGA01@12w", 51.2, 245),
    "PSO_SECU_ERASURE_PBO_PASI75": ("erasure", "placebo", "PASI-75@12w", 4.5, 248),
    "PSO_SECU_ERASURE_PBO_IGA": ("erasure", "placebo", "PGA01@12w", 2.4, 248),
}
#: Gordon 2006: average time to relapse after etanercept stops (months; about 3)
GORDON_RELAPSE_MONTHS = 3.0
DAYS_PER_MONTH = 30.4375
PLACEBO_WEEKS = (12, 16, 24, 36, 52)


def _spec(name: str, n: int, plaques: int | None, arms=None, sigma=None, **changes):
    from dermatwin.trials.spec import TrialSpec, load_trial

    data = load_trial(TRIALS / name).model_dump(mode="python")
    data.pop("n_total", None)
    if arms is not None:
        data["arms"] = {a: data["arms"][a] for a in arms}
    for arm in data["arms"].values():
        arm["n"], arm["allocation"] = n, None
    data.pop("reference_rows", None)
    if plaques:
        data["population"] = {**data["population"], "plaques": plaques}
        if sigma is not None:
            data["population"]["plaque_sigma"] = sigma
    data.update(changes)
    return TrialSpec.model_validate(data)


def _rate(table, arm: str, endpoint: str) -> float:
    values = table.loc[table["arm"] == arm, endpoint].to_numpy(dtype=float)
    return float(np.nanmean(values)) * 100


def binomial_range(percent: float, n: int) -> tuple[float, float]:
    """The central 95 % range of the observed % in a trial of ``n`` at rate ``percent``."""
    p = min(max(percent / 100, 0.0), 1.0)
    return 100 * binom.ppf(0.025, n, p) / n, 100 * binom.ppf(0.975, n, p) / n


def rows_check(results: dict) -> list[dict]:
    out = []
    for row, (design, arm, endpoint, published, n) in ROWS.items():
        for label, table in results[design].items():
            pred = _rate(table, arm, endpoint)
            lo, hi = binomial_range(pred, n)
            out.append(
                {
                    "row": row,
                    "model": label,
                    "predicted": pred,
                    "range_at_published_n": [lo, hi],
                    "published": published,
                    "inside": bool(lo <= published <= hi),
                }
            )
    return out


def relapse_months(table) -> dict:
    """Kaplan-Meier median months to relapse of the PASI-50 responders at week 24."""
    from dermatwin.trials.statistics import kaplan_meier

    resp = table[table["PASI-50@24w"] == 1]
    t = resp["time_to_relapse"].to_numpy(dtype=float)
    e = resp["time_to_relapse_event"].to_numpy(dtype=float)
    ok = np.isfinite(t) & np.isfinite(e)
    _, median = kaplan_meier(t[ok], e[ok])
    return {
        "responders": int(ok.sum()),
        "relapsed": int(e[ok].sum()),
        "median_months": median["estimate"] / DAYS_PER_MONTH,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="patients per arm")
    ap.add_argument("--plaques", type=int, default=8)
    ap.add_argument("--sigma", type=float, help="plaque_sigma (default: the model's)")
    ap.add_argument("--plaques-only", action="store_true", help="skip today's runs")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from dermatwin.trials.run import run_trial

    settings = {"today": None, f"plaques={args.plaques}": args.plaques}
    if args.plaques_only:
        settings.pop("today")
    results: dict = {"champion": {}, "erasure": {}, "placebo": {}, "relapse": {}}
    erasure_eps = ["PASI-75@12w", "PASI-90@12w", "PASI-100@12w", "PGA01@12w"]
    placebo_eps = [f"PASI-100@{w}w" for w in PLACEBO_WEEKS] + ["PASI-75@16w"]
    for label, k in settings.items():
        n = args.n
        results["champion"][label] = run_trial(
            _spec("champion_adalimumab_psoriasis.yaml", n, k, sigma=args.sigma)
        ).endpoints
        results["erasure"][label] = run_trial(
            _spec(
                "erasure_secukinumab_psoriasis.yaml", n, k, sigma=args.sigma, endpoints=erasure_eps
            )
        ).endpoints
        spec = _spec(
            "champion_adalimumab_psoriasis.yaml",
            n,
            k,
            arms=["placebo"],
            sigma=args.sigma,
            duration="52 weeks",
            endpoints=placebo_eps,
        )
        results["placebo"][label] = run_trial(spec).endpoints
        relapse = _spec(
            "etanercept2003_psoriasis.yaml",
            n,
            k,
            arms=["etn_50_biw"],
            sigma=args.sigma,
            duration="64 weeks",
            withdrawal={"at": "24 weeks"},
            endpoints=["PASI-50@24w", "PASI-75@24w", "time_to_relapse"],
            reference_arm=None,
        )
        results["relapse"][label] = run_trial(relapse).endpoints

    report: dict = {"n_per_arm": args.n, "plaques": args.plaques, "rows": rows_check(results)}
    for r in report["rows"]:
        lo, hi = r["range_at_published_n"]
        mark = "inside" if r["inside"] else "OUTSIDE"
        print(
            f"{r['row']:30s} {r['model']:10s} predicted {r['predicted']:5.1f} % "
            f"(95 % at published n {lo:5.1f}-{hi:5.1f}) published {r['published']:5.1f} {mark}"
        )
    report["erasure_secukinumab_300"] = {}
    for label, table in results["erasure"].items():
        rates = {ep: _rate(table, "secukinumab_300", ep) for ep in erasure_eps}
        p75, p100 = rates["PASI-75@12w"], rates["PASI-100@12w"]
        rates["ratio_PASI100_PASI75"] = p100 / p75 if p75 > 0 else math.nan
        report["erasure_secukinumab_300"][label] = rates
        print(
            f"secukinumab 300 wk12 {label:10s} PASI-75/90/100 "
            f"{rates['PASI-75@12w']:.1f}/{rates['PASI-90@12w']:.1f}/{p100:.1f} %, "
            f"PGA 0/1 {rates['PGA01@12w']:.1f} %, PASI-100/PASI-75 "
            f"{rates['ratio_PASI100_PASI75']:.2f} (target 0.25-0.45)"
        )
    report["placebo_pasi100"] = {}
    for label, table in results["placebo"].items():
        series = {w: _rate(table, "placebo", f"PASI-100@{w}w") for w in PLACEBO_WEEKS}
        report["placebo_pasi100"][label] = series
        text = ", ".join(f"wk{w} {v:.1f}" for w, v in series.items())
        print(f"placebo PASI-100 {label:10s} {text} % (target <= 2 %, not rising after wk16)")
    report["relapse"] = {}
    for label, table in results["relapse"].items():
        r = relapse_months(table)
        report["relapse"][label] = r
        print(
            f"etanercept stopped at wk24 {label:10s} {r['responders']} PASI-50 responders, "
            f"{r['relapsed']} relapsed by wk64, median {r['median_months']:.1f} months "
            f"(PSO_ETN_GORDON2006_RELAPSE: about {GORDON_RELAPSE_MONTHS:g})"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
