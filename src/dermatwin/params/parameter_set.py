"""Versioned calibrated parameter sets: fitted values and the clinical rows behind them.

The literature leaves some quantities open (how strong a placebo is, how potent and how
lasting a given MSC product is, how large a drug's effect is at its labelled dose, where
IGA 0/1 lies on the EASI scale). ``dermatwin calibrate`` fits them to rows of
``shared/reference/clinical_outcomes.csv`` and writes a parameter set: one YAML file with,
for each value, its target, unit, bounds, the row ids it was fitted to and the simulated
value at the fit. The shipped set (:data:`DEFAULT_SET`) is what trials use unless a
trial names another set (``parameter_set: none`` gives the uncalibrated priors).

Targets name where a value goes:

* ``model.<parameter>``: a default of the skin model (e.g. ``model.placebo_response``);
* ``drug.<drug>.<field>``: a field of a drug-catalogue entry (``emax``: maximal
  inhibition; ``occupancy``: fraction of it reached at the labelled steady-state
  exposure, which sets the EC50; ``hill``: Hill coefficient of the exposure response);
* ``msc.potency_scale``: a multiplier on every MSC product's potency (the relative
  potencies of sources stay those of :mod:`dermatwin.therapy.products`);
* ``severity.iga1_easi`` / ``severity.pga1_pasi``: the EASI (PASI) at or below which
  IGA (PGA) is 0/1.

A set fitted with a posterior (``dermatwin calibrate``, :mod:`dermatwin.calibration.posterior`)
also carries, per value, ``draws`` (S posterior draws; draw k of every value together is
:meth:`ParameterSet.draw`) and a ``posterior`` summary (mean, SD, 95 % credible interval),
and for the set a ``provenance`` block (seeds, grid, S, per-row log-likelihoods at the grid
nodes; no dates, so a refit with the same seeds writes the same file). ``value`` stays the
point used by quick runs (the shipped CAL-5 carries 64 draws). Sets without draws (CAL-1,
CAL-2) read and write as before.

>>> s = load_parameter_set("default")
>>> s.name
'CAL-5'
>>> sorted(s.fitted_rows())[:1]
['AD_ABRO_MONO1_100_EASI75']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from dermatwin._base.atomic import write_text_atomic
from dermatwin._base.errors import DermatwinError
from dermatwin._base.yaml_files import Number, StrictModel, Whole, one_line, read_mapping

SETS_DIR = Path(__file__).parent / "sets"
DEFAULT_SET = "CAL-5"
SEVERITY_TARGETS = ("iga1_easi", "pga1_pasi")
DRUG_FIELDS = ("emax", "occupancy", "hill")
#: open lower and closed upper limit of each drug field (the EC50 divides by occupancy)
DRUG_FIELD_RANGES = {
    "emax": (0.0, 1.0, "0 < emax <= 1"),
    "occupancy": (0.0, 1.0 - 1e-12, "0 < occupancy < 1"),
    "hill": (1.0 - 1e-12, 6.0, "1 <= hill <= 6 (the model's bounds)"),
}


#: the drug names a ``drug.<drug>.<field>`` target may name, in catalogue order. The drug
#: catalogue (:mod:`dermatwin.therapy.drugs`) registers them when it loads: it imports this
#: module, so parameter sets stay below therapy (no import back up). Every path that
#: applies a set to a drug has loaded the catalogue; before it loads, names go unchecked.
_DRUG_NAMES: tuple[str, ...] = ()


def register_drugs(names: Iterable[str]) -> None:
    """Check ``drug.<drug>.<field>`` targets against ``names`` (the drug catalogue's)."""
    global _DRUG_NAMES
    _DRUG_NAMES = tuple(names)


class CalibrationError(DermatwinError):
    """A parameter set or a calibration request is invalid."""


def _drop_absent(data: dict, keys: tuple[str, ...]) -> dict:
    """``data`` without the optional posterior keys left unset: a set without draws
    serialises (and hashes, inside a trial spec) exactly as before they existed."""
    for key in keys:
        if data.get(key) is None:
            data.pop(key, None)
    return data


class Posterior(StrictModel):
    """Summary of one value's posterior (in the value's unit): mean, SD and the 95 %
    credible interval; for a grid posterior, the effective number of grid nodes and the
    largest error of the interpolated simulation against direct runs (percentage
    points); for MCMC, R-hat and ESS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: Number
    sd: Number = Field(ge=0)
    low: Number
    high: Number
    scale: str = Field("lin", pattern="^(lin|log10)$")
    prior: str = "uniform"
    method: str = Field("grid", pattern="^(grid|mcmc)$")
    effective_grid_points: Number | None = None
    interpolation_error: Number | None = None
    rhat: Number | None = None
    ess: Number | None = None

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _drop_absent(
            handler(self), ("effective_grid_points", "interpolation_error", "rhat", "ess")
        )


class StepGrid(StrictModel):
    """The grid of one calibration step: node values per open value (in order of
    ``targets``) and each fitted row's log-likelihood at every node (nested lists, one
    level per target), so that a row can be left out by reweighting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: tuple[str, ...] = Field(min_length=1)
    trial: str
    axes: tuple[tuple[Number, ...], ...]
    loglik: dict[str, list]
    #: posterior mass the first (coarse) grid put outside the refined box
    outside_mass: Number = 0.0


class Provenance(StrictModel):
    """How a set's draws were made (no dates: the same seeds give the same file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = "grid"
    #: seed replacing every trial's seed (None: each example trial's own seed)
    trial_seed: Whole | None = None
    draw_seed: Whole = 0
    draws: Whole = Field(ge=1)
    grid: dict[str, Whole] = Field(default_factory=dict)
    conditioning: str = ""
    steps: tuple[StepGrid, ...] = ()

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _drop_absent(handler(self), ("trial_seed",))


class FittedValue(StrictModel):
    """One calibrated value and its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str
    value: Number
    unit: str
    bounds: tuple[Number, Number]
    fitted_to: tuple[str, ...] = Field(min_length=1)
    trial: str
    simulated: dict[str, float] = Field(default_factory=dict)
    note: str = ""
    #: posterior draws (every value of a set has the same number)
    draws: tuple[Number, ...] | None = None
    posterior: Posterior | None = None

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _drop_absent(handler(self), ("draws", "posterior"))

    @field_validator("target")
    @classmethod
    def _known_kind(cls, target: str) -> str:
        kind, _, rest = target.partition(".")
        ok = (
            (kind == "model" and rest)
            or (kind == "drug" and rest.count(".") == 1 and rest.split(".")[1] in DRUG_FIELDS)
            or target == "msc.potency_scale"
            or (kind == "severity" and rest in SEVERITY_TARGETS)
        )
        if not ok:
            raise ValueError(
                f"unknown target {target!r}; allowed: model.<parameter>, "
                f"drug.<drug>.{{{','.join(DRUG_FIELDS)}}}, msc.potency_scale, "
                f"severity.{{{','.join(SEVERITY_TARGETS)}}}"
            )
        return target

    @model_validator(mode="after")
    def _value_in_range(self) -> FittedValue:
        low, high = self.bounds
        if not low <= self.value <= high:
            raise ValueError(
                f"{self.target}: value {self.value:g} outside its bounds [{low:g}, {high:g}]"
            )
        kind, _, rest = self.target.partition(".")
        if kind == "drug":
            drug, field = rest.split(".")
            if _DRUG_NAMES and drug not in _DRUG_NAMES:
                raise ValueError(
                    f"{self.target}: unknown drug {drug!r}; allowed: {', '.join(_DRUG_NAMES)}"
                )
            lo, hi, text = DRUG_FIELD_RANGES[field]
            if not lo < self.value <= hi:
                raise ValueError(f"{self.target}: value {self.value:g}; allowed {text}")
        for d in self.draws or ():
            if not low <= d <= high:
                raise ValueError(
                    f"{self.target}: draw {d:g} outside its bounds [{low:g}, {high:g}]"
                )
        return self


class ParameterSet(StrictModel):
    """A named, versioned collection of fitted values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    version: Whole = Field(ge=1)
    description: str = ""
    seed: Whole = Field(0, ge=0, le=2**32 - 1)
    values: tuple[FittedValue, ...] = ()
    provenance: Provenance | None = None

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> dict:
        return _drop_absent(handler(self), ("provenance",))

    @model_validator(mode="after")
    def _same_number_of_draws(self) -> ParameterSet:
        counts = {len(v.draws) for v in self.values if v.draws is not None}
        if self.provenance is not None:
            counts.add(self.provenance.draws)
        if len(counts) > 1:
            raise ValueError(
                f"draws: every value needs the same number of draws; found {sorted(counts)}"
            )
        return self

    @property
    def n_draws(self) -> int:
        """How many posterior draws the set carries (0: a point set)."""
        return max((len(v.draws) for v in self.values if v.draws is not None), default=0)

    def draw(self, k: int) -> ParameterSet:
        """Draw ``k`` (0 <= k < :attr:`n_draws`) as a point set: every value with draws
        takes its k-th draw (values without draws keep their point).

        >>> s = ParameterSet(name="s", version=1, values=[FittedValue(target="model.x",
        ...     value=0.5, unit="1", bounds=(0, 1), fitted_to=["R"], trial="t.yaml",
        ...     draws=(0.4, 0.6))])
        >>> s.draw(1).values[0].value, s.draw(1).n_draws
        (0.6, 0)
        """
        n = self.n_draws
        if n == 0:
            raise CalibrationError(f"draw: set {self.name} carries no draws; allowed: none")
        if not isinstance(k, int) or not 0 <= k < n:
            raise CalibrationError(f"draw: {k!r}; allowed: 0 to {n - 1}")
        values = tuple(
            v
            if v.draws is None
            else v.model_copy(update={"value": v.draws[k], "draws": None, "posterior": None})
            for v in self.values
        )
        return self.model_copy(
            update={"name": f"{self.name}#{k}", "values": values, "provenance": None}
        )

    def __repr__(self) -> str:
        from dermatwin._base.display import parameter_set_repr

        return parameter_set_repr(self)

    def _repr_html_(self) -> str:
        from dermatwin._base.display import parameter_set_html

        return parameter_set_html(self)

    def fitted_rows(self) -> set[str]:
        return {row for v in self.values for row in v.fitted_to}

    def targets(self) -> set[str]:
        return {v.target for v in self.values}

    def _section(self, kind: str) -> dict[str, float]:
        prefix = kind + "."
        return {
            v.target[len(prefix) :]: v.value for v in self.values if v.target.startswith(prefix)
        }

    def model_overrides(self) -> dict[str, float]:
        return self._section("model")

    def drug_overrides(self, drug: str) -> dict[str, float]:
        return self._section(f"drug.{drug}")

    def msc_potency_scale(self) -> float:
        return self._section("msc").get("potency_scale", 1.0)

    def severity(self) -> dict[str, float]:
        return self._section("severity")

    def with_value(self, value: FittedValue) -> ParameterSet:
        """A copy with ``value`` added or replacing the value of the same target."""
        kept = tuple(v for v in self.values if v.target != value.target)
        return self.model_copy(update={"values": (*kept, value)})


#: the uncalibrated priors (every value at its literature or assumed default)
UNCALIBRATED = ParameterSet(name="none", version=1, description="uncalibrated priors")


def read_parameter_set(path: str | Path) -> ParameterSet:
    """Read a parameter-set YAML file (one-line :class:`CalibrationError` if invalid)."""
    data = read_mapping(path, CalibrationError, "a parameter set (name, version, values)")
    try:
        return ParameterSet.model_validate(data)
    except ValidationError as err:
        raise CalibrationError(one_line(err, str(path))) from None


@cache
def _shipped(name: str) -> ParameterSet:
    return read_parameter_set(SETS_DIR / f"{name}.yaml")


@cache
def shipped_sets() -> tuple[str, ...]:
    # cached: trials resolve their set once per patient regimen
    return tuple(sorted(p.stem for p in SETS_DIR.glob("*.yaml")))


def load_parameter_set(name: str | Path | None) -> ParameterSet:
    """``"default"`` (the shipped :data:`DEFAULT_SET`), ``"none"``, a shipped set's name,
    or a path to a parameter-set YAML file."""
    if name is None or name == "none":
        return UNCALIBRATED
    if name == "default":
        name = DEFAULT_SET
    if str(name) in shipped_sets():
        return _shipped(str(name))
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return read_parameter_set(path)
    raise CalibrationError(
        f"parameter_set: unknown set {str(name)!r}; allowed: default, none, "
        f"{', '.join(shipped_sets())} or a path to a .yaml file"
    )


def write_parameter_set(pset: ParameterSet, path: str | Path) -> Path:
    """Write ``pset`` as YAML (atomically: a temporary file renamed into place)."""
    data = pset.model_dump(mode="json")
    try:
        return write_text_atomic(Path(path), yaml.safe_dump(data, sort_keys=False, width=100))
    except OSError as err:
        raise CalibrationError(
            f"path: cannot write {path} ({err.strerror})", parameter="path"
        ) from None


def calibrated_drug(entry, pset: ParameterSet):
    """The drug-catalogue entry with the set's fitted fields (if any) replacing its own."""
    overrides = pset.drug_overrides(entry.name)
    return dataclasses.replace(entry, **overrides) if overrides else entry
