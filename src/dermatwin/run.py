"""Run a scenario: sample patients, equilibrate once, simulate every arm, summarise.

>>> from dermatwin.scenario import Scenario
>>> s = Scenario.model_validate({"model": "shmarov2022", "horizon": 10})
>>> result = run_scenario(s)
>>> round(float(result.arms["main"]["totC"][0, -1]))
79828
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate
from dermatwin.engine.status import Status
from dermatwin.model.spec import Model
from dermatwin.outcomes import evaluate, parse_endpoint
from dermatwin.patients.sampling import sample_lognormal
from dermatwin.scenario import Scenario


@dataclass
class ScenarioResult:
    scenario: Scenario
    model: Model
    arms: dict[str, xr.Dataset]
    excluded: int

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
            "excluded_at_baseline": self.excluded,
            "arms": arms,
        }


def patient_parameters(scenario: Scenario, model: Model) -> np.ndarray:
    n = scenario.patients.n
    if scenario.patients.variability == "lognormal":
        params = sample_lognormal(model, n, scenario.patients.seed)
    else:
        params = np.tile(model.default_parameters(), (n, 1))
    for name, value in scenario.parameters.items():
        params[:, model.parameter_index(name)] = value
    return params


def run_scenario(scenario: Scenario) -> ScenarioResult:
    model = scenario.check_against_model()
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
        arms[name] = simulate(
            model, times, params, y0=y0, events=events, options=options, start_status=eq_status
        )
    keep = np.ones(params.shape[0], dtype=bool)
    first = next(iter(arms.values()))
    for variable, bound in scenario.patients.max_output.items():
        keep &= ~(first[variable].isel(time=0).values > bound)
    if not keep.all():
        arms = {k: ds.isel(patient=np.flatnonzero(keep)) for k, ds in arms.items()}
    return ScenarioResult(scenario, model, arms, int((~keep).sum()))
