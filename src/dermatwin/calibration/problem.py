"""The calibration problem as data: open values, fitted rows and their likelihoods.

Each :class:`~dermatwin.calibration.fit.Step` becomes a :class:`StepProblem`:

* **open values** (:class:`OpenValue`): target, unit, bounds, parameter scale (``lin`` or
  ``log10``) and prior (default uniform on that scale over the bounds);
* **row terms** (:class:`RowTerm`): the reference row, the trial arm and endpoint that
  express it, and its likelihood at the published arm size ``n`` (from the trial YAML's
  ``reference_rows``):

  - responder rates: **binomial** on ``round(observed % x n)`` responders of ``n``;
  - means: **normal** with SD :data:`ASSUMED_MEAN_SD` / sqrt(n) (``assumed``: the
    reference tables give no SD for one arm's mean), or with the row's published ``se``
    where the row is a pooled estimate (a meta-analysis' 95 % CI);
  - a paired step's treatment-minus-placebo difference: **normal** with the binomial
    SE of the difference of the two published rates at their arm sizes.

  Each term also carries the simulation's own error (``virtual_n``, the step's virtual
  patients per arm; :mod:`~dermatwin.calibration.likelihood`): a rate's binomial becomes
  the beta-binomial predictive of the virtual arm's rate, a mean's SD gains
  :data:`ASSUMED_MEAN_SD` / sqrt(virtual_n), and a paired difference's SD gains the
  discordant-pair SD of the published difference d, 100 sqrt(d (1 - d) / virtual_n)
  (both arms hold the same patients, so only the patients whose response differs between
  them vary).

Every evaluation runs the step's arms on the SAME virtual patients (``paired: true``:
common random numbers), so the simulated rows are smooth in the open values: the paired
MSC steps :data:`~dermatwin.calibration.fit.PAIRED_N` per arm, the others
:data:`CALIBRATION_N` or :data:`VIRTUAL_PER_PUBLISHED` per published patient of their
largest arm, whichever is more (or the step's own ``patients``): the simulated rate's
Monte Carlo error must be small against the published arm's sampling error, or the
posterior moves with the trial seed.

:func:`write_petab` writes the problem as PEtab v1 tables (measurement, condition,
observable, parameter) and a problem YAML so other tools can read it; dermatwin does
not solve it with PEtab tooling (the model is a virtual trial, not an SBML file).

>>> p = step_problem(STEPS[0])
>>> p.values[0].target, p.values[0].scale, p.terms[0].likelihood, p.terms[0].n
('model.placebo_response', 'log10', 'binomial', 224)
>>> from_petab_id(p.values[0].petab_id)
'model.placebo_response'
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import yaml

from dermatwin.calibration.fit import PAIRED_N, STEPS, Step
from dermatwin.calibration.likelihood import binomial_loglik, normal_loglik, simulation_sd
from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed
from dermatwin.params.parameter_set import CalibrationError
from dermatwin.trials.spec import TrialSpec, load_trial

#: SD of one patient's mean endpoint (e.g. % change of EASI, percentage points) where
#: the reference table gives none: assumed, of the order of published SDs of % change
ASSUMED_MEAN_SD = 35.0
PRIORS = ("uniform", "normal")
#: virtual patients per arm of an unpaired step: a rate's Monte Carlo SD is then ~1.1
#: points (at 15 %), half the binomial SD of a published arm of ~220 (at 200 patients
#: a refit with another seed moved the placebo value's posterior mean by 2.2 SD; at
#: 1,000 by 0.4 SD)
CALIBRATION_N = 1000
#: at least this many virtual patients per published patient of a step's largest arm
VIRTUAL_PER_PUBLISHED = 4
_ID = re.compile(r"[^0-9A-Za-z_]")


@dataclass(frozen=True)
class OpenValue:
    """One value the step fits: within ``bounds``, on ``scale``; the prior is uniform on
    the scale over the bounds, or ``normal`` with ``prior_parameters`` (mean, SD on the
    scale)."""

    target: str
    unit: str
    low: float
    high: float
    scale: Literal["lin", "log10"] = "lin"
    prior: str = "uniform"
    prior_parameters: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.prior not in PRIORS:
            raise CalibrationError(
                f"{self.target}: prior {self.prior!r}; allowed: {', '.join(PRIORS)}"
            )
        if not self.low < self.high or (self.scale == "log10" and self.low <= 0):
            raise CalibrationError(
                f"{self.target}: bounds [{self.low:g}, {self.high:g}]; allowed: low < high"
                + (", low > 0 on a log10 scale" if self.scale == "log10" else "")
            )

    @property
    def petab_id(self) -> str:
        return petab_id(self.target)

    def on_scale(self, x):
        """``x`` on the parameter scale (log10 for a log value)."""
        return np.log10(x) if self.scale == "log10" else np.asarray(x, dtype=float)

    def from_unit(self, u):
        """The value at ``u`` in [0, 1] (uniform on the scale over the bounds)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.scale == "log10":
            x = self.low * (self.high / self.low) ** u
        else:
            x = self.low + (self.high - self.low) * u
        return np.clip(x, self.low, self.high)  # rounding must not leave the bounds

    def prior_quantile(self, q):
        """The prior's ``q`` quantile (``q`` in (0, 1)), in natural units.

        >>> round(float(OpenValue("x", "1/day", 0.01, 1.0, "log10").prior_quantile(0.5)), 4)
        0.1
        """
        if self.prior != "uniform":
            raise CalibrationError(
                f"{self.target}: prior {self.prior!r} has no quantiles here; allowed: uniform"
            )
        return self.from_unit(np.asarray(q, dtype=float))

    def log_prior_unit(self, u):
        """Log prior density at ``u`` (unit coordinates: uniform on the scale is flat)."""
        u = np.asarray(u, dtype=float)
        if self.prior == "uniform":
            return np.zeros_like(u)
        mean, sd = self.prior_parameters
        z = (self.on_scale(self.from_unit(u)) - mean) / sd
        return -0.5 * z**2


@dataclass(frozen=True)
class RowTerm:
    """One fitted row (or, for a paired step, one treatment-minus-placebo difference) and
    its likelihood at the published arm size."""

    row: str
    arm: str
    endpoint: str
    #: days after the first dose (None for whole-course endpoints)
    time: float | None
    observed: float
    #: published arm size (None: a pooled row with a published ``sd``)
    n: int | None
    likelihood: Literal["binomial", "normal"]
    #: the normal likelihood's SD (in the row's unit) and where it comes from
    sd: float | None = None
    sd_source: str = ""
    #: paired difference: the placebo row and its published arm size
    placebo: str | None = None
    placebo_n: int | None = None
    #: virtual patients per arm of the simulation compared with the row (None: the
    #: simulated value is taken as exact)
    virtual_n: int | None = None

    @property
    def key(self) -> str:
        """How the step's simulation names this term (see ``fit.difference_key``)."""
        return f"{self.row} - {self.placebo}" if self.placebo else self.row

    @property
    def responders(self) -> int:
        return round(self.observed / 100.0 * self.n)

    @property
    def simulation_sd(self) -> float:
        """SD of the simulated value from the virtual arm's own sampling (normal terms;
        a rate's is inside its beta-binomial)."""
        if self.placebo is not None:
            d = min(abs(self.observed) / 100.0, 1.0)
            return 100.0 * simulation_sd(math.sqrt(d * (1.0 - d)), self.virtual_n)
        return simulation_sd(ASSUMED_MEAN_SD, self.virtual_n)

    def loglik(self, predicted):
        """Log-likelihood of the published row given the simulated value(s) ``predicted``
        (percent for rates and differences), the simulation's own error included."""
        if self.likelihood == "binomial":
            return binomial_loglik(self.responders, self.n, predicted, self.virtual_n)
        return normal_loglik(self.observed, predicted, self.sd, self.simulation_sd)


@dataclass(frozen=True)
class StepProblem:
    """One calibration step as data: its open values, row terms and how they are run."""

    index: int
    values: tuple[OpenValue, ...]
    terms: tuple[RowTerm, ...]
    trial: str
    #: the arms the step simulates, all on the same virtual patients
    arms: tuple[str, ...]
    #: virtual patients per arm
    n_per_arm: int
    why: str

    @property
    def name(self) -> str:
        return ",".join(v.target for v in self.values)

    @property
    def dataset_id(self) -> str:
        return f"step{self.index + 1:02d}"

    def log_prior_unit(self, u: np.ndarray) -> np.ndarray:
        """Log prior at points ``u`` (shape (..., dims), unit coordinates)."""
        return sum(v.log_prior_unit(u[..., i]) for i, v in enumerate(self.values))


def petab_id(name: str) -> str:
    """A PEtab identifier for a target or row (``.`` becomes ``__``)."""
    out = _ID.sub("_", name.replace(".", "__"))
    return out if out[0].isalpha() or out[0] == "_" else "_" + out


def from_petab_id(pid: str) -> str:
    """The target of a parameter id written by :func:`petab_id`."""
    return pid.replace("__", ".")


@cache
def _trial(name: str) -> TrialSpec:
    return load_trial(EXAMPLE_TRIALS / name)  # an absolute path stays itself


def _term(
    spec: TrialSpec, step: Step, virtual_n: int, row: str, placebo: str | None = None
) -> RowTerm:
    refs = spec.reference_rows
    for r in (row, placebo):
        if r is not None and r not in refs:
            raise CalibrationError(f"{step.trial}: row {r} is not among its reference_rows")
        if r is not None and refs[r].n is None and (refs[r].se is None or placebo is not None):
            raise CalibrationError(
                f"{step.trial}: reference_rows.{r}.n is missing; allowed: the published arm "
                "size (or se: the published standard error of a pooled row)"
            )
    ref = refs[row]
    (endpoint,) = (e for e in spec.parsed_endpoints() if e.text == ref.endpoint)
    common = dict(
        row=row,
        arm=ref.arm,
        endpoint=ref.endpoint,
        time=endpoint.time,
        n=ref.n,
        virtual_n=virtual_n,
    )
    if placebo is not None:
        p1, p0, n0 = observed(row) / 100, observed(placebo) / 100, refs[placebo].n
        se = 100 * math.sqrt(p1 * (1 - p1) / ref.n + p0 * (1 - p0) / n0)
        return RowTerm(
            **common,
            observed=observed(row) - observed(placebo),
            likelihood="normal",
            sd=se,
            sd_source="binomial SE of the published difference",
            placebo=placebo,
            placebo_n=n0,
        )
    if ref.se is not None:
        return RowTerm(
            **common,
            observed=observed(row),
            likelihood="normal",
            sd=float(ref.se),
            sd_source="published (pooled estimate's 95 % CI)",
        )
    if endpoint.summary_kind == "rate" and ref.scale == 1:
        return RowTerm(**common, observed=observed(row), likelihood="binomial")
    return RowTerm(
        **common,
        observed=observed(row),
        likelihood="normal",
        sd=ASSUMED_MEAN_SD / math.sqrt(ref.n),
        sd_source="assumed",
    )


def _virtual_n(spec: TrialSpec, step: Step) -> int:
    """Virtual patients per arm of an unpaired step: :data:`CALIBRATION_N`, or
    :data:`VIRTUAL_PER_PUBLISHED` times its largest published arm (nearest thousand), so
    that the virtual arm's Monte Carlo variance stays about a quarter of the published
    arm's sampling variance (else the fit moves with the trial seed: REVEAL's 814
    adalimumab patients at 1,000 virtual ones moved its value 2 posterior SDs)."""
    largest = max(spec.reference_rows[r].n or 0 for r in step.rows)
    return max(CALIBRATION_N, 1000 * round(VIRTUAL_PER_PUBLISHED * largest / 1000))


def step_problem(step: Step, index: int = 0, patients: int | None = None) -> StepProblem:
    """``step`` (the ``index``-th) as data (reads its trial's ``reference_rows`` for the
    published arm sizes); an unpaired step runs ``patients`` per arm (default: the
    step's own ``patients``, else :data:`CALIBRATION_N`)."""
    spec = _trial(step.trial)
    values = tuple(
        OpenValue(t, unit, lo, hi, "log10" if log else "lin")
        for t, unit, (lo, hi), log in zip(
            step.targets, step.units, step.bounds, step.log, strict=True
        )
    )
    n_per_arm = PAIRED_N if step.paired else (patients or step.patients or _virtual_n(spec, step))
    if step.paired:
        terms = tuple(_term(spec, step, n_per_arm, t, p) for t, p in step.pairs)
        arms = {a for t in terms for a in (t.arm, spec.reference_rows[t.placebo].arm)}
    else:
        terms = tuple(_term(spec, step, n_per_arm, r) for r in step.rows)
        arms = {t.arm for t in terms}
    return StepProblem(
        index,
        values,
        terms,
        step.trial,
        tuple(a for a in spec.arms if a in arms),
        n_per_arm,
        step.why,
    )


def calibration_problem(
    steps: tuple[Step, ...] = STEPS, patients: int | None = None
) -> tuple[StepProblem, ...]:
    """Every step of the calibration as data, in order."""
    return tuple(step_problem(s, i, patients) for i, s in enumerate(steps))


# --- PEtab v1 export --------------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    "observableId",
    "simulationConditionId",
    "measurement",
    "time",
    "noiseParameters",
    "datasetId",
)
CONDITION_COLUMNS = ("conditionId", "conditionName")
OBSERVABLE_COLUMNS = (
    "observableId",
    "observableName",
    "observableFormula",
    "observableTransformation",
    "noiseFormula",
    "noiseDistribution",
)
PARAMETER_COLUMNS = (
    "parameterId",
    "parameterName",
    "parameterScale",
    "lowerBound",
    "upperBound",
    "nominalValue",
    "estimate",
    "initializationPriorType",
    "initializationPriorParameters",
    "objectivePriorType",
    "objectivePriorParameters",
)
PETAB_FILES = {
    "measurement": "measurements.tsv",
    "condition": "conditions.tsv",
    "observable": "observables.tsv",
    "parameter": "parameters.tsv",
    "problem": "problem.yaml",
}
_PRIOR_TYPES = {"uniform": "parameterScaleUniform", "normal": "parameterScaleNormal"}


def condition_id(trial: str, arm: str) -> str:
    return petab_id(f"{Path(trial).stem}__{arm}")


def observable_id(term: RowTerm) -> str:
    return petab_id(("diff_" if term.placebo else "obs_") + term.row)


def _tsv(columns: tuple[str, ...], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _noise_sd(term: RowTerm) -> float:
    """The SD of a PEtab normal noise model: the binomial SD at the published n for rate
    rows (PEtab v1 has no binomial; dermatwin's own likelihood is the beta-binomial),
    the simulation's own error included."""
    if term.likelihood == "binomial":
        p = term.observed / 100
        var = max(p * (1 - p), 0.25 / term.n**2)
        mc = var / term.virtual_n if term.virtual_n else 0.0
        return 100 * math.sqrt(var / term.n + mc)
    return float(math.hypot(term.sd, term.simulation_sd))


def petab_tables(problems: tuple[StepProblem, ...]) -> dict[str, str]:
    """The PEtab v1 files of ``problems`` (file name -> text)."""
    measurements, conditions, observables, parameters = [], {}, {}, {}
    for p in problems:
        for v in p.values:
            lo, hi = (float(x) for x in v.on_scale([v.low, v.high]))
            prior = (
                f"{lo:.12g};{hi:.12g}"
                if v.prior == "uniform"
                else ";".join(f"{x:.12g}" for x in v.prior_parameters)
            )
            parameters[v.petab_id] = {
                "parameterId": v.petab_id,
                "parameterName": v.target,
                "parameterScale": v.scale,
                "lowerBound": f"{v.low:.12g}",
                "upperBound": f"{v.high:.12g}",
                "nominalValue": f"{float(v.from_unit(0.5)):.12g}",
                "estimate": 1,
                "initializationPriorType": _PRIOR_TYPES[v.prior],
                "initializationPriorParameters": prior,
                "objectivePriorType": _PRIOR_TYPES[v.prior],
                "objectivePriorParameters": prior,
            }
        for t in p.terms:
            cid = condition_id(p.trial, t.arm)
            conditions[cid] = {"conditionId": cid, "conditionName": f"{p.trial}:{t.arm}"}
            oid = observable_id(t)
            what = f"{t.endpoint} of arm {t.arm}" + (
                f" minus placebo ({t.placebo}) on the same patients" if t.placebo else ""
            )
            observables[oid] = {
                "observableId": oid,
                "observableName": f"{t.key}: {what} (percent)",
                "observableFormula": oid,
                "observableTransformation": "lin",
                "noiseFormula": f"noiseParameter1_{oid}",
                "noiseDistribution": "normal",
            }
            measurements.append(
                {
                    "observableId": oid,
                    "simulationConditionId": cid,
                    "measurement": f"{t.observed:.12g}",
                    "time": f"{t.time:g}" if t.time is not None else "inf",
                    "noiseParameters": f"{_noise_sd(t):.6g}",
                    "datasetId": p.dataset_id,
                }
            )
    problem = {
        "format_version": 1,
        "parameter_file": PETAB_FILES["parameter"],
        "problems": [
            {
                "condition_files": [PETAB_FILES["condition"]],
                "measurement_files": [PETAB_FILES["measurement"]],
                "observable_files": [PETAB_FILES["observable"]],
                # the model is a virtual trial simulated by dermatwin, not an SBML file
                "sbml_files": [],
            }
        ],
    }
    return {
        PETAB_FILES["measurement"]: _tsv(MEASUREMENT_COLUMNS, measurements),
        PETAB_FILES["condition"]: _tsv(CONDITION_COLUMNS, list(conditions.values())),
        PETAB_FILES["observable"]: _tsv(OBSERVABLE_COLUMNS, list(observables.values())),
        PETAB_FILES["parameter"]: _tsv(PARAMETER_COLUMNS, list(parameters.values())),
        PETAB_FILES["problem"]: yaml.safe_dump(problem, sort_keys=False),
        "README.md": PETAB_README,
    }


PETAB_README = """\
# dermatwin calibration problem (PEtab v1 tables)

Written by `dermatwin calibrate --petab`. Each `datasetId` is one calibration step; steps
are fitted in order, each conditioned on the values of the earlier ones.

- Conditions are arms of dermatwin's example trials (`conditionName` = trial file:arm);
  every arm of a step is simulated on the same virtual patients (common random numbers;
  1,000 per arm, 300 for the paired MSC steps).
- Observables are responder rates in percent (`obs_<row>`) or, for paired steps, the
  treatment-minus-placebo difference on the same patients (`diff_<row>`). Their
  formulas name dermatwin trial outputs, not SBML entities: there is no SBML model.
- Noise: PEtab v1 has no binomial; the tables give the normal approximation (SD of a
  binomial rate at the published arm size). dermatwin's own likelihood for rate rows is
  the binomial on responders at the published n.
- Parameter ids are targets with `.` written as `__`; priors are uniform on the
  parameter scale over the bounds.
"""


def write_petab(problems: tuple[StepProblem, ...], folder: Path) -> list[Path]:
    """Write the PEtab files of ``problems`` into ``folder`` (which exists)."""
    paths = []
    for name, text in petab_tables(problems).items():
        path = Path(folder) / name
        path.write_text(text)
        paths.append(path)
    return paths
