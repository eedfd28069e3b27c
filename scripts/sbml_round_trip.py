"""Every shipped model exported to SBML, imported back and simulated by dermatwin's engine:
the largest relative difference from the original over states and outputs.

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


def worst_difference(name: str) -> float:
    model = get_model(name)
    imported = from_sbml(to_sbml(model)).model
    want = simulate(model, TIMES, options=TIGHT)
    got = simulate(imported, TIMES, options=TIGHT)
    return max(
        float(
            np.max(
                np.abs(got[v].values - want[v].values) / np.maximum(np.abs(want[v].values), 1e-9)
            )
        )
        for v in [*model.state_names, *model.output_names]
    )


def main(names: list[str]) -> int:
    worst = 0.0
    for name in names or available_models():
        start = time.perf_counter()
        diff = worst_difference(name)
        worst = max(worst, diff)
        print(
            f"{name:12s} max relative difference {diff:.2e} ({time.perf_counter() - start:.0f} s)"
        )
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
