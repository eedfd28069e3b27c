"""Run a scenario: sample patients, equilibrate once, simulate every arm, summarise.

A scenario runs on its model with the shipped calibrated parameter set
(:data:`~dermatwin.params.parameter_set.DEFAULT_SET`, as trials and twins do, and
as ``dermatwin simulate`` does) unless ``parameter_set="none"`` asks for the
uncalibrated priors: the set's ``model.<parameter>`` values become the model's defaults
(only those the model has: the reference models keep their published values) and its
MSC potency scale multiplies ``msc_potency``. Values given in the scenario win.

>>> from dermatwin.scenario import Scenario
>>> s = Scenario.model_validate({"model": "shmarov2022", "horizon": 10})
>>> result = run_scenario(s)
>>> round(float(result.arms["main"]["totC"][0, -1]))
79828
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from dermatwin._base.display import html_table, names, one_line
from dermatwin.engine.simulate import SolverOptions, equilibrate
from dermatwin.engine.status import Status
from dermatwin.model.spec import Model
from dermatwin.outcomes import evaluate, parse_endpoint
from dermatwin.params.parameter_set import ParameterSet, load_parameter_set
from dermatwin.patients.sampling import sample_lognormal
from dermatwin.scenario import Scenario
from dermatwin.study.cohort import simulate_cohort


@dataclass
class ScenarioResult:
    scenario: Scenario
    model: Model
    arms: dict[str, xr.Dataset]
    excluded: int
    parameter_set: str = "none"

    # -- display (the dataclass repr printed every trajectory: kilobytes) --------------
    def _patients(self) -> int:
        first = next(iter(self.arms.values()))
        return int(first.sizes.get("patient", 0))

    def __repr__(self) -> str:
        return one_line(
            "ScenarioResult",
            self.model.name,
            [
                ("arms", names(list(self.arms), 4)),
                ("patients", self._patients()),
                ("parameter_set", self.parameter_set),
                ("excluded", self.excluded),
            ],
        )

    def _repr_html_(self) -> str:
        endpoints = list(self.scenario.endpoints)[:4]
        rows = []
        if endpoints:
            arms = self.summary()["arms"]
            for arm, a in arms.items():
                cells = [a["endpoints"][e].get("estimate") for e in endpoints]
                rows.append((arm, a["patients"], *(f"{c:.4g}" for c in cells)))
        else:
            rows = [(arm, self._patients()) for arm in self.arms]
        return html_table(
            f"ScenarioResult {self.model.name}",
            [
                ("description", self.scenario.description or "-"),
                ("horizon (days)", f"{self.scenario.horizon:g}"),
                ("parameter set", self.parameter_set),
                ("excluded at baseline", self.excluded),
            ],
            ("arm", "patients", *endpoints),
            rows,
        )

    def combined(self) -> xr.Dataset:
        """All arms in one Dataset with an ``arm`` dimension (same patients in every arm)."""
        ds = xr.concat(list(self.arms.values()), dim="arm", coords="minimal", compat="override")
        return ds.assign_coords(arm=list(self.arms))

    def summary(self) -> dict:
        endpoints = [parse_endpoint(e) for e in self.scenario.endpoints]
        arms = {}
        for name, ds in self.arms.items():
            status = ds["status"].values
            arms[name] = {
                "endpoints": {e.text: evaluate(ds, e) for e in endpoints},
                "patients": int(status.size),
                "status": {
                    s.name: int((status == s.value).sum())
                    for s in Status
                    if (status == s.value).any()
                },
            }
        return {
            "model": self.model.name,
            "model_hash": self.model.content_hash,
            "parameter_set": self.parameter_set,
            "excluded_at_baseline": self.excluded,
            "arms": arms,
        }


#: what a ``parameter_set`` argument may be: a name (``"default"``, ``"none"``, a
#: shipped set), a path to a set's YAML file, or a loaded set
ParameterSetLike = str | Path | ParameterSet


def resolve_parameter_set(parameter_set: ParameterSetLike | None) -> ParameterSet:
    """The set ``parameter_set`` names (one-line CalibrationError if unknown).

    >>> resolve_parameter_set("default").name, resolve_parameter_set("none").name
    ('CAL-5', 'none')
    """
    if isinstance(parameter_set, ParameterSet):
        return parameter_set
    return load_parameter_set(parameter_set)


def calibrated_model(model: Model, pset: ParameterSet) -> Model:
    """``model`` with the set's values as its defaults: ``model.<parameter>`` values the
    model has, and ``msc_potency`` times the set's MSC potency scale (equations
    unchanged; a model none of them apply to is returned as it is)."""
    names = set(model.parameter_names)
    values = {k: v for k, v in pset.model_overrides().items() if k in names}
    scale = pset.msc_potency_scale()
    if scale != 1.0 and "msc_potency" in names and "msc_potency" not in values:
        values["msc_potency"] = model.parameter("msc_potency").value * scale
    return model.with_defaults(**values) if values else model


def scenario_model(
    scenario: Scenario, parameter_set: ParameterSetLike = "default"
) -> tuple[Model, ParameterSet]:
    """The scenario's model, checked against the scenario, with ``parameter_set`` applied."""
    model = scenario.check_against_model()
    pset = resolve_parameter_set(parameter_set)
    return calibrated_model(model, pset), pset


def patient_parameters(scenario: Scenario, model: Model) -> np.ndarray:
    n = scenario.patients.n
    if scenario.patients.variability == "lognormal":
        params = sample_lognormal(model, n, scenario.patients.seed)
    else:
        params = np.tile(model.default_parameters(), (n, 1))
    for name, value in scenario.parameters.items():
        params[:, model.parameter_index(name)] = value
    return params


def run_scenario(
    scenario: Scenario, *, parameter_set: ParameterSetLike = "default"
) -> ScenarioResult:
    """Simulate every arm of ``scenario`` for the same patients.

    ``parameter_set``: ``"default"`` (the shipped calibrated set, as the CLI uses),
    ``"none"`` (the uncalibrated priors), a shipped set's name, a path to a set's YAML
    file or a :class:`~dermatwin.params.parameter_set.ParameterSet` (see the module
    docstring for what it changes). For the model alone, uncalibrated, call
    :func:`dermatwin.simulate` with the model.
    """
    model, pset = scenario_model(scenario, parameter_set)
    times = scenario.output_times()
    options = SolverOptions(
        rtol=scenario.solver.rtol,
        method=scenario.solver.method,
        max_steps=scenario.solver.max_steps,
    )
    params = patient_parameters(scenario, model)
    y0 = np.tile(model.default_initial_state(), (params.shape[0], 1))
    eq_status = np.zeros(params.shape[0], dtype=np.int64)
    if scenario.steady_state:
        y0, eq_status = equilibrate(model, params, y0, options=options)
    arms = {}
    for name, arm in scenario.arms.items():
        events = scenario.arm_events(model, arm)
        cohort = simulate_cohort(
            model, times, params, y0=y0, start_status=eq_status, events=events, options=options
        )
        arms[name] = cohort.dataset()
    keep = np.ones(params.shape[0], dtype=bool)
    first = next(iter(arms.values()))
    for variable, bound in scenario.patients.max_output.items():
        keep &= ~(first[variable].isel(time=0).values > bound)
    if not keep.all():
        arms = {k: ds.isel(patient=np.flatnonzero(keep)) for k, ds in arms.items()}
    return ScenarioResult(scenario, model, arms, int((~keep).sum()), pset.name)
