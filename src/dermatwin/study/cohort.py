"""One cohort simulation: patients, their regimens and output times in; values out.

Scenario runs (:func:`dermatwin.run.run_scenario`), trial chunks
(:func:`dermatwin.trials.run.simulate_chunk`) and twin predictions
(:class:`dermatwin.twins.likelihood.TwinSimulator`) all simulate a cohort here: a
parameter matrix (one row per patient), start states, a regimen (the events and parameter
values of :class:`dermatwin.therapy.regimen.Plan`) shared by every patient or one per
patient, output times (days) and solver options. The result keeps the engine's plain
arrays; a labelled ``xarray.Dataset`` is built only when asked (:meth:`Cohort.dataset`),
since trials and twins read a few outputs and the Dataset would cost as much as the
integration.

>>> from dermatwin.model.reference import miyano2021
>>> from dermatwin.engine.events import intervention
>>> model = miyano2021.build()
>>> cohort = simulate_cohort(model, [0.0, 112.0], steady_state=True,
...                          events=intervention(model, "dupilumab", 0.0))
>>> [round(float(v), 2) for v in cohort.values("EASI")[0]], cohort.status.tolist()
([25.22, 5.49], [0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dermatwin._base.errors import ModelError
from dermatwin.engine.events import Event
from dermatwin.engine.simulate import (
    Solution,
    SolverOptions,
    equilibrate,
    parameter_matrix,
    solve,
)
from dermatwin.engine.status import Status

if TYPE_CHECKING:
    import xarray as xr

    from dermatwin.model.spec import Model

#: the engine's default steady-state tolerance (relative rate of change per day)
SS_TOL = 1e-10
#: the engine's default solver settings
DEFAULT_OPTIONS = SolverOptions()


class RegimenPlan(Protocol):
    """What a regimen gives one patient (:class:`dermatwin.therapy.regimen.Plan`): events,
    and parameter values that hold from day 0 (drug and MSC values)."""

    events: list[Event]
    parameters: dict[str, float]


@dataclass(frozen=True)
class Cohort:
    """A simulated cohort: (patients x times) values of states and outputs, a status per
    patient (:class:`~dermatwin.engine.status.Status`; NaN after a failure)."""

    model: Model
    solution: Solution

    @property
    def times(self) -> np.ndarray:
        return self.solution.times

    @property
    def status(self) -> np.ndarray:
        return self.solution.status

    @property
    def parameters(self) -> np.ndarray:
        """The parameter matrix simulated (the regimens' values applied)."""
        return self.solution.parameters

    def values(self, name: str) -> np.ndarray:
        """The (patients x times) values of one output or state (a view: copy to edit)."""
        names = self.model.output_names
        if name in names:
            return self.solution.output_values[:, :, list(names).index(name)]
        return self.solution.state_values[:, :, self.model.state_index(name)]

    def dataset(self, patient_ids: Sequence[int] | None = None) -> xr.Dataset:
        """The labelled Dataset (as :func:`dermatwin.engine.simulate.simulate` returns)."""
        return self.solution.dataset(self.model, patient_ids)


def simulate_cohort(
    model: Model,
    times: Sequence[float] | np.ndarray,
    parameters: np.ndarray | Mapping[str, float] | None = None,
    *,
    y0: np.ndarray | None = None,
    start_status: np.ndarray | None = None,
    plans: RegimenPlan | Sequence[RegimenPlan] | None = None,
    events: Sequence[Event] = (),
    steady_state: bool = False,
    ss_tol: float = SS_TOL,
    options: SolverOptions = DEFAULT_OPTIONS,
) -> Cohort:
    """Simulate every patient of a cohort (see the module docstring).

    ``parameters``: None (the model's defaults), overrides, or a (patients x parameters)
    matrix; it is not modified. ``plans``: one regimen plan for every patient or one per
    patient; its parameter values replace the matrix's columns, its events are given
    from ``times[0]`` on. ``events``: plain events shared by every patient (a scenario's
    arm), instead of plans. ``steady_state``: first bring each patient, regimen values
    applied, to its steady state (tolerance ``ss_tol`` per day) from ``y0``.
    ``start_status``: the status of an equilibration the caller did (a failure there is
    the patient's status).
    """
    if plans is not None and len(events):
        raise ModelError("simulate_cohort: give regimen plans or events, not both")
    per_patient = plans is not None and not hasattr(plans, "events")
    n = len(plans) if per_patient else None
    p = np.array(parameter_matrix(model, parameters, n), dtype=np.float64)  # a copy
    if per_patient and p.shape[0] != n:
        raise ModelError(f"simulate_cohort: {n} regimen plans for {p.shape[0]} patients")
    schedule: Sequence[Event] | list[list[Event]] = events
    if per_patient:
        for row, plan in enumerate(plans):
            for name, value in plan.parameters.items():
                p[row, model.parameter_index(name)] = value
        schedule = [plan.events for plan in plans]
    elif plans is not None:
        for name, value in plans.parameters.items():
            p[:, model.parameter_index(name)] = value
        schedule = plans.events
    if steady_state:
        y0, eq_status = equilibrate(model, p, y0, ss_tol=ss_tol, options=options)
        if start_status is not None:  # the earlier failure is the one reported
            eq_status = np.where(start_status != Status.OK, start_status, eq_status)
        start_status = eq_status
    solution = solve(
        model, times, p, y0=y0, events=schedule, start_status=start_status, options=options
    )
    return Cohort(model, solution)
