"""What the engine's optional solver switches would change if they were the default.

Runs example trials (``n`` patients per arm, as ``scripts/summary_fingerprints.py`` does)
with the default ``SolverOptions`` and again with each option switched on for every
simulation (screening included), and reports per option the largest change of any
per-patient endpoint value, the number of patients whose responder status flips, the
largest change of an arm estimate in the summary, and the run time ratio (medians of
interleaved repeats).

    python benchmarks/engine_options_endpoints.py [--n 100] [--repeats 2] [--json FILE]
        [TRIAL ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import load  # noqa: E402

from dermatwin.engine import simulate as sim  # noqa: E402

OPTIONS = {
    "default": 0,
    "cost_switch": sim._COST_SWITCH,
    "warm_events": sim._WARM_EVENTS,
    "both": sim._COST_SWITCH + sim._WARM_EVENTS,
}
TRIALS = (
    "solo1_dupilumab_ad",
    "berth_jones2003_proactive_tcs_ad",
    "erasure_secukinumab_psoriasis",
    "kim2017_hucbmsc_ad",
)


def run(path: Path, n: int):
    from dermatwin.trials.run import run_trial
    from dermatwin.trials.spec import TrialSpec, load_trial

    data = load_trial(path).model_dump(mode="python")
    data.pop("n_total", None)
    for arm in data["arms"].values():
        arm["n"], arm["allocation"] = n, None
    start = time.perf_counter()
    result = run_trial(TrialSpec.model_validate(data))
    return result, time.perf_counter() - start


def numbers(obj, prefix=""):
    """Flatten the numeric leaves of a summary."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(numbers(v, f"{prefix}/{k}"))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            out.update(numbers(v, f"{prefix}[{i}]"))
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        out[prefix] = float(obj)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("trials", nargs="*", default=list(TRIALS))
    args = ap.parse_args(argv)
    before = load()
    original = sim.SolverOptions.kernel_method
    run(ROOT / "examples" / "trials" / f"{args.trials[0]}.yaml", 4)  # load models, kernels
    rows = []
    for stem in args.trials:
        path = ROOT / "examples" / "trials" / f"{stem}.yaml"
        results, seconds = {}, {name: [] for name in OPTIONS}
        for _ in range(args.repeats):
            for name, flags in OPTIONS.items():
                sim.SolverOptions.kernel_method = lambda self, f=flags: original(self) | f
                try:
                    results[name], elapsed = run(path, args.n)
                finally:
                    sim.SolverOptions.kernel_method = original
                seconds[name].append(elapsed)
        base = results["default"]
        table = base.endpoints.select_dtypes("number")
        base_summary = numbers(base.summary)
        for name in OPTIONS:
            if name == "default":
                continue
            other = results[name].endpoints.select_dtypes("number")
            if other.shape != table.shape:  # screening admitted other patients
                print(f"{stem}: {name} changed the population {table.shape} -> {other.shape}")
                continue
            diff = (other - table).abs()
            flips = {
                c: int(((other[c] != table[c]) & ~(other[c].isna() & table[c].isna())).sum())
                for c in table.columns
                if set(np.unique(table[c].dropna())) <= {0.0, 1.0}
            }
            summ = numbers(results[name].summary)
            summary_change = max(
                (abs(summ[k] - v) for k, v in base_summary.items() if k in summ), default=0.0
            )
            rows.append(
                {
                    "trial": stem,
                    "option": name,
                    "patients_per_arm": args.n,
                    "max_abs_endpoint_change": {c: float(diff[c].max()) for c in table.columns},
                    "responder_flips": flips,
                    "max_abs_summary_change": summary_change,
                    "time_ratio_default_over_option": statistics.median(seconds["default"])
                    / statistics.median(seconds[name]),
                }
            )
            r = rows[-1]
            worst = max(r["max_abs_endpoint_change"].items(), key=lambda kv: kv[1])
            print(
                f"{stem:36s} {name:12s} max endpoint change {worst[1]:.2e} ({worst[0]}), "
                f"flips {sum(flips.values())}, summary change {summary_change:.2e}, "
                f"speed-up {r['time_ratio_default_over_option']:.2f}x",
                flush=True,
            )
    out = {"load_average_before_after": [before, load()], "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
