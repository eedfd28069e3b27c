"""Every shipped model exported to SBML, imported back and simulated by dermatwin's engine:
the largest relative difference from the original over states and outputs.

The difference of a variable is relative to its largest value over the run (normwise);
the largest pointwise one is printed too. They differ where a value is nearly zero: the
skin model's ``erythema`` is 2.3e-9 at day 0.5 (a score of 0-4), where the two copies
differ by 1.2e-14, rounding in a cancellation (5e-6 of that value, 1e-9 of the
variable's largest value); the script fails on a normwise difference of 1e-6 or more.

The tests simulate the round trip of miyano2021 and shmarov2022 with dosing events
(tests/io/test_sbml_import.py) and check the equations of every model; the skin model's
imported copy needs its own solver compiled (minutes), so its simulation is checked here.

Usage: ``PYTHONPATH=src python scripts/sbml_round_trip.py [MODEL ...]``
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dermatwin.engine.simulate import SolverOptions, simulate
from dermatwin.io.sbml import from_sbml, to_sbml
from dermatwin.model.registry import available_models, get_model

TIGHT = SolverOptions(rtol=1e-9, atol_factor=1e-11, method="rodas4")
TIMES = np.array([0.5, 10.3, 55.1, 112.7])


def worst_difference(name: str) -> tuple[float, float, str]:
    """The largest normwise relative difference over states and outputs (max over time of
    |imported - original| over the largest |original|, floor 1e-9, per variable), the largest
    pointwise one (each value against itself, floor 1e-9) and its variable."""
    model = get_model(name)
    imported = from_sbml(to_sbml(model)).model
    want = simulate(model, TIMES, options=TIGHT)
    got = simulate(imported, TIMES, options=TIGHT)
    normwise, pointwise, where = 0.0, 0.0, ""
    for v in [*model.state_names, *model.output_names]:
        diff = np.abs(got[v].values - want[v].values)
        size = np.abs(want[v].values)
        normwise = max(normwise, float(diff.max() / max(size.max(), 1e-9)))
        point = float(np.max(diff / np.maximum(size, 1e-9)))
        if point > pointwise:
            pointwise, where = point, v
    return normwise, pointwise, where


def main(names: list[str]) -> int:
    worst = 0.0
    for name in names or available_models():
        start = time.perf_counter()
        normwise, pointwise, where = worst_difference(name)
        worst = max(worst, normwise)
        print(
            f"{name:12s} max relative difference {normwise:.2e} (pointwise {pointwise:.2e}, "
            f"{where}) ({time.perf_counter() - start:.0f} s)"
        )
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
