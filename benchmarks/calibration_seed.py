"""A fitted value must survive a refit with another seed: refit CAL-2's paired MSC steps
on other virtual patients (every example trial's seed replaced) and record how far each
value moves (benchmarks/calibration_seed_results.json).

    PYTHONPATH=src python benchmarks/calibration_seed.py [SEED]

Takes about 2-4 minutes on 2 shared cores (two steps of about 19 paired trials of 2 x 300
patients each), after the skin model's kernel is compiled.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dermatwin.calibration.fit import STEPS, calibrate
from dermatwin.calibration.parameter_set import load_parameter_set

MSC_STEPS = [s.targets[0] for s in STEPS if s.paired]


def main(seed: int = 7) -> dict:
    shipped = load_parameter_set("default")
    start = time.perf_counter()
    refit = calibrate(MSC_STEPS, base=shipped, log=lambda line: print(line, flush=True), seed=seed)
    seconds = time.perf_counter() - start
    values = {}
    for target in MSC_STEPS:
        (a,) = (v for v in shipped.values if v.target == target)
        (b,) = (v for v in refit.values if v.target == target)
        values[target] = {
            "shipped": a.value,
            "refit": b.value,
            "ratio": b.value / a.value,
            "bounds": list(a.bounds),
            "simulated_shipped": a.simulated,
            "simulated_refit": b.simulated,
        }
    result = {"set": shipped.name, "refit_seed": seed, "seconds": round(seconds), "values": values}
    out = Path(__file__).with_name("calibration_seed_results.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:])), indent=2))
