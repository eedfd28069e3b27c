"""Clinical rows and the virtual trials that express them.

A trial example names the reference rows it expresses (``reference_rows`` in its YAML:
row id -> arm, endpoint, scale, published arm size). :func:`row_predictions` runs a trial
and returns, per row, the observed value, the model's prediction and a 95 % simulated
interval: the 2.5-97.5 percentiles of the endpoint over bootstrap trials of the
published arm size drawn from the virtual arm (model heterogeneity plus the sampling
noise of a real trial of that size).

The rows are those of ``shared/reference/clinical_outcomes.csv`` and
``shared/reference/msc_evidence.csv`` (the controlled MSC trials), shipped as package data
(copies beside this module).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from dermatwin.params.parameter_set import CalibrationError
from dermatwin.trials.run import TrialResult
from dermatwin.trials.spec import TrialSpec

#: bootstrap trials drawn per row for the simulated interval
INTERVAL_DRAWS = 2000
#: the trial examples that calibration and validation simulate, shipped as package data
#: (``calibration/trials/``) so that they work from an installed wheel; ``examples/trials/``
#: holds the same files for users (a test keeps the two copies identical)
EXAMPLE_TRIALS = Path(str(resources.files(__package__).joinpath("trials")))
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")


#: the packaged reference tables whose rows trials can express (same columns for id,
#: endpoint and value; ids are unique across them)
ROW_TABLES = ("clinical_outcomes.csv", "msc_evidence.csv")


@cache
def clinical_rows() -> dict[str, dict[str, str]]:
    """Every row of the reference clinical tables (:data:`ROW_TABLES`), by id."""
    rows: dict[str, dict[str, str]] = {}
    for name in ROW_TABLES:
        with resources.files(__package__).joinpath(name).open(newline="") as f:
            rows.update((row["id"], row) for row in csv.DictReader(f))
    return rows


def observed(row_id: str) -> float:
    """The numeric value of a row (its ``value`` column)."""
    rows = clinical_rows()
    if row_id not in rows:
        raise CalibrationError(f"reference_rows: unknown row id {row_id!r}")
    m = _NUMBER.match(rows[row_id]["value"])
    if not m:
        raise CalibrationError(
            f"reference_rows.{row_id}: value {rows[row_id]['value']!r} is not a number"
        )
    return float(m.group(1))


@dataclass(frozen=True)
class RowPrediction:
    row: str
    trial: str
    arm: str
    endpoint: str
    observed: float
    predicted: float
    low: float
    high: float
    n_published: int | None
    #: the arm minus the placebo arm on the same virtual patients (MSC rows of trials with
    #: a placebo arm; see :func:`dermatwin.calibration.validate.paired_effects`)
    paired_effect: dict | None = None

    @property
    def inside(self) -> bool:
        return self.low <= self.observed <= self.high

    def to_dict(self) -> dict:
        return {
            "row": self.row,
            "trial": self.trial,
            "arm": self.arm,
            "endpoint": self.endpoint,
            "observed": self.observed,
            "predicted": self.predicted,
            "interval": [self.low, self.high],
            "inside": self.inside,
            "n_published": self.n_published,
            "paired_effect": self.paired_effect,
        }


def row_predictions(spec: TrialSpec, result: TrialResult, trial: str) -> list[RowPrediction]:
    """Observed vs predicted for every reference row of ``spec`` (from ``result``)."""
    kinds = result.kinds()
    out = []
    for row, ref in spec.reference_rows.items():
        table = result.endpoints
        values = table.loc[table["arm"] == ref.arm, ref.endpoint].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        unit = 100.0 if kinds[ref.endpoint] == "rate" else 1.0
        predicted = ref.scale * unit * float(values.mean())
        size = ref.n or len(values)
        rng = np.random.default_rng([spec.seed, len(out)])
        draws = values[rng.integers(0, len(values), size=(INTERVAL_DRAWS, size))].mean(axis=1)
        low, high = sorted(ref.scale * unit * np.percentile(draws, [2.5, 97.5]))
        out.append(
            RowPrediction(
                row,
                trial,
                ref.arm,
                ref.endpoint,
                observed(row),
                predicted,
                float(low),
                float(high),
                ref.n,
            )
        )
    return out
