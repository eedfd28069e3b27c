"""Clinical rows and the virtual trials that express them.

A trial example names the reference rows it expresses (``reference_rows`` in its YAML:
row id -> arm, endpoint, scale, published arm size). :func:`row_predictions` runs a trial
and returns, per row, the observed value, the model's prediction and a 95 % interval:
the 2.5-97.5 percentiles of the endpoint over bootstrap trials of the published arm size
drawn from the virtual arm (model heterogeneity plus the sampling noise of a real trial of
that size). Given reruns of the trial on the same virtual patients with other values of
what a new trial does not know (``spread``: e.g. the trial-level placebo nodes of
:mod:`dermatwin.calibration.placebo`, with weights), the interval is the weighted mixture
of their bootstrap distributions, and ``interval_includes`` says what it covers
(``sampling``, ``sampling+placebo``).

The rows are those of ``shared/reference/clinical_outcomes.csv`` and
``shared/reference/msc_evidence.csv`` (the controlled MSC trials), shipped as package data
(copies beside this module).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from dermatwin.params.parameter_set import CalibrationError
from dermatwin.trials.run import TrialResult
from dermatwin.trials.spec import TrialSpec

#: bootstrap trials drawn per row (and per rerun) for the interval
INTERVAL_DRAWS = 2000
#: patients per arm at which every rate row's interval width is also reported (a trial of
#: that size would see this spread; issue 18 asks for a median under 25 points)
WIDTH_N = 200
#: the trial examples that calibration and validation simulate, shipped as package data
#: (``calibration/trials/``) so that they work from an installed wheel; ``examples/trials/``
#: holds the same files for users (a test keeps the two copies identical)
EXAMPLE_TRIALS = Path(str(resources.files(__package__).joinpath("trials")))
_NUMBER = re.compile(r"^\s*~?\s*(-?\d+(?:\.\d+)?)")


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
    #: what the interval covers: "sampling" or e.g. "sampling+placebo"
    interval_includes: str = "sampling"
    #: the sampling-only interval of the point run (equal to low-high for "sampling")
    sampling_interval: tuple[float, float] | None = None
    #: width of the interval at WIDTH_N patients (rate rows only, percentage points)
    width_n: float | None = None
    #: whether the row's arm is a placebo arm
    placebo: bool = False
    #: the predictive median at the published n (a skewed predictive distribution's
    #: point prediction: a placebo rate rises steeply with its parameter); None: the
    #: prediction itself
    median: float | None = None

    @classmethod
    def of(
        cls, row: str, trial: str, ref, predicted: float, low: float, high: float, **fields
    ) -> RowPrediction:
        """Row ``row`` of ``trial`` as its reference ``ref`` (a trial's ``reference_rows``
        entry: arm, endpoint, published n) expresses it, with the observed value of the
        reference tables; ``fields``: the optional ones."""
        arm, endpoint = ref.arm, ref.endpoint
        return cls(row, trial, arm, endpoint, observed(row), predicted, low, high, ref.n, **fields)

    @property
    def inside(self) -> bool:
        return self.low <= self.observed <= self.high

    @property
    def inside_sampling(self) -> bool:
        lo, hi = self.sampling_interval or (self.low, self.high)
        return lo <= self.observed <= hi

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
            "interval_includes": self.interval_includes,
            "sampling_interval": list(self.sampling_interval or (self.low, self.high)),
            "inside_sampling": self.inside_sampling,
            "width_n": self.width_n,
            "placebo": self.placebo,
            "median": self.predicted if self.median is None else self.median,
        }


def row_predictions(
    spec: TrialSpec,
    result: TrialResult,
    trial: str,
    spread: Sequence[tuple[TrialResult, float]] | None = None,
    includes: str = "sampling",
    center: str = "point",
) -> list[RowPrediction]:
    """Observed vs predicted for every reference row of ``spec``; the interval from
    ``result`` alone, or the weighted mixture over the ``spread`` reruns (labelled
    ``includes``). The prediction is ``result``'s arm mean (``center="point"``) or the
    mixture's weighted mean (``"mixture"``)."""
    from dermatwin.calibration.placebo import placebo_arm

    kinds = result.kinds()
    runs = list(spread) if spread else [(result, 1.0)]
    out = []
    for index, (row, ref) in enumerate(spec.reference_rows.items()):
        unit = ref.scale * (100.0 if kinds[ref.endpoint] == "rate" else 1.0)
        values = _arm_values(result, ref)
        size = ref.n or len(values)
        # a pooled row's published SE replaces sampling at n (in the endpoint's unit)
        se = None if ref.se is None else float(ref.se) / abs(unit)
        sampling = _quantiles([(values, 1.0)], size, (spec.seed, index), unit, se)
        arms = [(_arm_values(r, ref), w) for r, w in runs]
        low, median, high = (
            _quantiles(arms, size, (spec.seed, index), unit, se) if spread else sampling
        )
        width = None
        if kinds[ref.endpoint] == "rate":
            lo200, _, hi200 = _quantiles(arms, WIDTH_N, (spec.seed, index), unit)
            width = hi200 - lo200
        out.append(
            RowPrediction.of(
                row,
                trial,
                ref,
                unit * (float(values.mean()) if center == "point" else _mean(arms)),
                low,
                high,
                interval_includes=includes if spread else "sampling",
                sampling_interval=(sampling[0], sampling[2]),
                width_n=width,
                placebo=placebo_arm(spec, ref.arm),
                median=median if spread else None,
            )
        )
    return out


def _mean(arms: Sequence[tuple[np.ndarray, float]]) -> float:
    weights = np.array([w for _, w in arms])
    return float(np.dot([v.mean() for v, _ in arms], weights) / weights.sum())


def _arm_values(result: TrialResult, ref) -> np.ndarray:
    table = result.endpoints
    values = table.loc[table["arm"] == ref.arm, ref.endpoint].to_numpy(dtype=np.float64)
    return values[np.isfinite(values)]


def predictive_size(size: int, simulated: int) -> int:
    """Bootstrap size whose variance is a new trial's of ``size`` patients plus the Monte
    Carlo error of the virtual arm's own mean (``simulated`` patients): s^2 (1/size +
    1/simulated) = s^2 / (size x simulated / (size + simulated)). The virtual mean is an
    estimate, not the truth; at simulated = size the interval widens by sqrt(2).

    >>> predictive_size(200, 200), predictive_size(200, 100_000)
    (100, 200)
    """
    return max(1, round(size * simulated / (size + simulated)))


def bootstrap_picks(size: int, simulated: int, seed: Sequence[int]) -> np.ndarray:
    """Patient indices (0 to ``simulated`` - 1) of :data:`INTERVAL_DRAWS` bootstrap trials
    of :func:`predictive_size` (``size``, ``simulated``) patients, one trial a row, drawn
    with a generator seeded by ``seed`` (the same picks for every rerun of an arm).

    >>> bootstrap_picks(30, 300, (1, 0)).shape
    (2000, 27)
    """
    rng = np.random.default_rng(list(seed))
    return rng.integers(0, simulated, size=(INTERVAL_DRAWS, predictive_size(size, simulated)))


def _quantiles(
    arms: Sequence[tuple[np.ndarray, float]],
    size: int,
    seed: tuple[int, int],
    unit: float,
    se: float | None = None,
) -> tuple[float, float, float]:
    """2.5, 50 and 97.5 percentiles of the arm mean over bootstrap trials of ``size`` patients
    (at :func:`predictive_size`), mixed over ``arms`` (per-patient values, weight); the
    same resampling indices for every arm (the reruns hold the same virtual patients).
    With a published ``se`` (a pooled row): the virtual mean's own bootstrap plus a normal
    error of that SD instead of a trial of ``size``."""
    draws, weights = [], []
    for values, weight in arms:
        if se is None:
            draws.append(values[bootstrap_picks(size, len(values), seed)].mean(axis=1))
        else:  # the virtual mean's own bootstrap, plus the pooled row's published error
            rng = np.random.default_rng(list(seed))
            picks = rng.integers(0, len(values), size=(INTERVAL_DRAWS, len(values)))
            draws.append(values[picks].mean(axis=1) + rng.normal(0.0, se, INTERVAL_DRAWS))
        weights.append(np.full(INTERVAL_DRAWS, weight / INTERVAL_DRAWS))
    q = (2.5, 50.0, 97.5)
    if len(arms) == 1:  # the plain percentiles (as before mixtures existed)
        bounds = np.percentile(draws[0], q)
    else:
        bounds = weighted_percentiles(np.concatenate(draws), np.concatenate(weights), q)
    low, median, high = sorted(unit * bounds)
    return float(low), float(median), float(high)


def weighted_percentiles(
    samples: np.ndarray, weights: np.ndarray, q: Sequence[float] = (2.5, 97.5)
) -> np.ndarray:
    """Percentiles of weighted samples (midpoint rule on the cumulative weight).

    >>> weighted_percentiles(np.array([0.0, 1.0, 2.0, 3.0]), np.ones(4), [50]).tolist()
    [1.5]
    """
    order = np.argsort(samples, kind="stable")
    s, w = samples[order], weights[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q) / 100.0, cum, s)
