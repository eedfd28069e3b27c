"""Calibration of twin uncertainty on synthetic AD patients with known parameters.

Each synthetic patient (``dermatwin.twins.synthetic``): twin parameters drawn from the
population prior (redrawn until the untreated EASI is >= 16, moderate-to-severe AD), all
other parameters at the typical-patient values, labelled dupilumab from day 0, 4 visits
(weeks 0, 4, 8, 12) recording EASI, SCORAD, IGA, itch NRS and TEWL with log-normal
measurement error of the twin's CVs (``lognormal_noise``). The twin is fitted to those
visits and predicts week 24 (dupilumab continued). Reported:

* coverage: share of patients whose true (noise-free) week-24 EASI lies inside the twin's
  90 % interval (parameter uncertainty), and whose noisy week-24 EASI lies inside the 90 %
  predictive interval (with measurement error);
* error: mean absolute error of the twin's posterior-median week-24 EASI vs that of the
  population-mean prediction (mean week-24 EASI over 400 prior draws that meet the same
  inclusion criterion, under the same regimen).

Results stream to ``--out`` (one JSON line per patient), so a partial run keeps what it
did; ``--summary`` writes the aggregate JSON.

    python benchmarks/twin_calibration.py --patients 100 [--walkers 16 --burn 100 --steps 150]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dermatwin.calibration.parameter_set import load_parameter_set
from dermatwin.patients.profile import Patient
from dermatwin.therapy.items import DrugItem
from dermatwin.twins.fit import FitSettings, fit_twin
from dermatwin.twins.likelihood import twin_model
from dermatwin.twins.predict import FutureRegimen, add_noise, simulate_draws
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.synthetic import lognormal_noise, synthetic_patient
from dermatwin.twins.visits import Visit, VisitRecord

VISIT_DAYS = [0.0, 28.0, 56.0, 84.0]
TARGET_DAY = 168.0
MIN_EASI = 16.0
TREATMENTS = [DrugItem(drug="dupilumab")]
FUTURE = FutureRegimen(
    name="continue dupilumab", horizon=84.0, regimen=[DrugItem(drug="dupilumab")]
)
PATIENT = Patient(id="synthetic", disease="AD", age=35.0, weight_kg=70.0, flg_loss=False)


def _week24(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    return values[:, int(np.argmin(np.abs(times - TARGET_DAY)))]


def population_mean(model, settings: FitSettings, n: int = 400, seed: int = 99) -> float:
    """Mean week-24 EASI over eligible prior draws under the same regimen."""
    prior = Prior(twin_parameters(model, PATIENT))
    theta = prior.sample(n, np.random.default_rng(seed))
    stub = VisitRecord(PATIENT, tuple(Visit(day=d) for d in VISIT_DAYS), tuple(TREATMENTS))
    from dermatwin.twins.fit import Twin

    twin = Twin(stub, prior.parameters, theta[None], np.zeros((1, n)), settings)
    samples, times, status, _ = simulate_draws(twin, FUTURE, theta, model=model, follow_up=0.0)
    ok = (status == 0) & (samples["EASI"][:, 0] >= MIN_EASI)
    return float(np.mean(_week24(samples["EASI"], times)[ok]))


def one_patient(model, index: int, settings: FitSettings, seed: int) -> dict:
    syn = synthetic_patient(
        model,
        PATIENT,
        TREATMENTS,
        VISIT_DAYS,
        seed=seed,
        index=index,
        min_score=MIN_EASI,
        parameter_set=load_parameter_set(settings.parameter_set),
    )
    start = time.perf_counter()
    twin = fit_twin(syn.record, settings, model=model)
    fit_s = time.perf_counter() - start
    theta = twin.draws(200)
    samples, times, status, _ = simulate_draws(twin, FUTURE, theta, model=model, follow_up=0.0)
    pred = _week24(samples["EASI"], times)
    noisy = _week24(add_noise(samples, seed=index)["EASI"], times)
    truth_samples, _, _, _ = simulate_draws(
        twin, FUTURE, syn.theta[None, :], model=model, follow_up=0.0
    )
    truth = float(_week24(truth_samples["EASI"], times)[0])
    # a noisy week-24 visit: the truth with the synthetic patients' measurement error
    noise_rng = np.random.default_rng(np.random.SeedSequence([seed, index, 303]))
    observed = float(_week24(lognormal_noise(truth_samples, noise_rng)["EASI"], times)[0])
    lo, hi = np.nanquantile(pred, [0.05, 0.95])
    plo, phi = np.nanquantile(noisy, [0.05, 0.95])
    return {
        "patient": index,
        "truth_theta": dict(zip(syn.names, map(float, syn.theta), strict=True)),
        "posterior_median_theta": dict(
            zip(twin.names, map(float, np.median(twin.flat_theta(), axis=0)), strict=True)
        ),
        "visits_EASI": [v.values.get("EASI") for v in syn.record.visits],
        "truth_week24": truth,
        "observed_week24": observed,
        "twin_median": float(np.nanmedian(pred)),
        "q05": float(lo),
        "q95": float(hi),
        "pred_q05": float(plo),
        "pred_q95": float(phi),
        "covered": bool(lo <= truth <= hi),
        "covered_predictive": bool(plo <= observed <= phi),
        "fit_seconds": round(fit_s, 2),
        "max_rhat": twin.diagnostics["max_rhat"],
        "min_ess_bulk": twin.diagnostics["min_ess_bulk"],
        "failed_draws": int(np.sum(status != 0)),
    }


def summarise(rows: list[dict], pop_mean: float, settings: FitSettings) -> dict:
    truth = np.array([r["truth_week24"] for r in rows])
    twin = np.array([r["twin_median"] for r in rows])
    return {
        "patients": len(rows),
        "coverage_90_latent": float(np.mean([r["covered"] for r in rows])),
        "coverage_90_predictive": float(np.mean([r["covered_predictive"] for r in rows])),
        "mae_twin": float(np.mean(np.abs(twin - truth))),
        "mae_population_mean": float(np.mean(np.abs(pop_mean - truth))),
        "rmse_twin": float(np.sqrt(np.mean((twin - truth) ** 2))),
        "rmse_population_mean": float(np.sqrt(np.mean((pop_mean - truth) ** 2))),
        "population_mean_week24": pop_mean,
        "median_interval_width": float(np.median([r["q95"] - r["q05"] for r in rows])),
        "median_fit_seconds": float(np.median([r["fit_seconds"] for r in rows])),
        "share_rhat_below_1.1": float(np.mean([r["max_rhat"] < 1.1 for r in rows])),
        "settings": settings.__dict__,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=100)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--walkers", type=int, default=16)
    ap.add_argument("--burn", type=int, default=100)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--moves", default="de")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--parameter-set", default="default")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/twin_calibration.jsonl"))
    ap.add_argument("--summary", type=Path, default=Path("benchmarks/twin_calibration.json"))
    ap.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="only summarise these per-patient files (runs split over processes) into --summary",
    )
    args = ap.parse_args()
    model = twin_model(args.parameter_set)[0]
    settings = FitSettings(
        walkers=args.walkers,
        burn=args.burn,
        steps=args.steps,
        seed=args.seed,
        moves=args.moves,
        parameter_set=args.parameter_set,
    )
    if args.combine:
        rows = [
            json.loads(line)
            for path in args.combine
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        rows.sort(key=lambda r: r["patient"])
        summary = summarise(rows, population_mean(model, settings), settings)
        args.summary.write_text(json.dumps(summary, indent=2))
        print(json.dumps(summary, indent=2))
        return
    pop_mean = population_mean(model, settings)
    done = []
    if args.out.exists() and args.start > 0:
        done = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
        done = [r for r in done if r["patient"] < args.start]
    with args.out.open("w") as fh:
        for r in done:
            fh.write(json.dumps(r) + "\n")
        for i in range(args.start, args.patients):
            row = one_patient(model, i, settings, args.seed)
            done.append(row)
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            s = summarise(done, pop_mean, settings)
            print(
                f"{i}: truth {row['truth_week24']:.1f} twin {row['twin_median']:.1f} "
                f"[{row['q05']:.1f}, {row['q95']:.1f}] fit {row['fit_seconds']:.0f}s | "
                f"coverage {s['coverage_90_latent']:.2f} MAE twin {s['mae_twin']:.2f} "
                f"pop {s['mae_population_mean']:.2f}",
                flush=True,
            )
            args.summary.write_text(json.dumps(s, indent=2))


if __name__ == "__main__":
    main()
