"""Simulate a batch of patients: parameter matrix + events in, labelled trajectories out.

Each patient (one row of the parameter matrix) is integrated on its own with adaptive
steps by the model's compiled kernel; a patient whose integration fails gets a status
code (see :class:`~dermatwin.engine.status.Status`) and NaN after the failure, and every
other patient is unaffected. Results depend only on each patient's own inputs, so any
split of a batch gives bit-identical numbers.

>>> from dermatwin.engine.events import intervention
>>> from dermatwin.engine.simulate import simulate
>>> from dermatwin.model.reference import miyano2021
>>> model = miyano2021.build()
>>> ds = simulate(model, [0.0, 112.0], steady_state=True,
...               events=intervention(model, "dupilumab", 0.0))
>>> [round(float(v), 2) for v in ds["EASI"][0]]
[25.22, 5.49]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import xarray as xr

from dermatwin._base.errors import ModelError
from dermatwin._version import __version__
from dermatwin.engine.codegen import compile_model
from dermatwin.engine.events import Event, compile_events
from dermatwin.engine.status import Status

if TYPE_CHECKING:
    from dermatwin.model.spec import Model

METHODS = {"auto": 0, "dp5": 1, "rodas4": 2}
# option flags added to the kernel's method id (_OPT_* in _kernel_template)
_COST_SWITCH = 4
_WARM_EVENTS = 8
_SPARSE_LU = 16


@dataclass(frozen=True)
class SolverOptions:
    """Integration settings.

    ``atol`` per state is ``atol_factor * state scale`` (the scale is a typical magnitude
    declared with each state), so states of very different sizes are controlled alike.
    ``method``: ``auto`` (explicit Dormand-Prince, switching to Rodas4 on stiffness),
    ``dp5`` or ``rodas4``.

    Two switches change results within the tolerance; off by default (the shipped results
    and the calibration were made without them; ``benchmarks/README.md`` measures them):

    * ``stiffness_switch``: ``step`` (the automatic mode leaves Rodas4 when its steps stay
      below 5 times the explicit step it replaced) or ``cost`` (when its days advanced per
      step attempt, rejections included, buy less than the model's estimated cost ratio
      of a Rodas4 attempt to a DP5 attempt; no looser tolerance is then slower).
    * ``warm_events``: keep the step-size controllers' memory across events, and after a
      step cut short to land on an event restart with the step that was in force.

    ``linear_solver``: how Rodas4 factorises its iteration matrix I/(h*gamma) - J.
    ``sparse`` (default): the LU generated from the model's Jacobian pattern (a
    fill-reducing elimination order fixed at code generation, no row exchanges; a matrix
    whose pivot test fails is factorised densely instead); ``dense``: the dense LU with
    partial pivoting used before. They differ by round-off (the same steps; the example
    trials' summaries within 6e-6, but responder endpoints at an exact boundary, such as
    PASI-100 of patients who clear, can flip), and the sparse one is 4-6x faster where
    Rodas4 runs (``benchmarks/README.md``). A hand-written kernel without a pattern uses
    the dense LU.
    """

    rtol: float = 1e-6
    atol_factor: float = 1e-6
    method: Literal["auto", "dp5", "rodas4"] = "auto"
    max_steps: int = 200_000
    h_max: float = 0.0
    stiffness_switch: Literal["step", "cost"] = "step"
    warm_events: bool = False
    linear_solver: Literal["dense", "sparse"] = "sparse"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ModelError(f"method: must be one of {sorted(METHODS)}, got {self.method!r}")
        if self.stiffness_switch not in ("step", "cost"):
            raise ModelError(
                f"stiffness_switch: must be 'step' or 'cost', got {self.stiffness_switch!r}"
            )
        if self.linear_solver not in ("dense", "sparse"):
            raise ModelError(
                f"linear_solver: must be 'dense' or 'sparse', got {self.linear_solver!r}"
            )

    def atol(self, model: Model) -> np.ndarray:
        return self.atol_factor * model.state_scales()

    def kernel_method(self) -> int:
        """The kernel's ``method`` argument: the method id plus the option flags."""
        flags = (
            (_COST_SWITCH if self.stiffness_switch == "cost" else 0)
            + (_WARM_EVENTS if self.warm_events else 0)
            + (_SPARSE_LU if self.linear_solver == "sparse" else 0)
        )
        return METHODS[self.method] + flags


REFERENCE_OPTIONS = SolverOptions(rtol=1e-9, atol_factor=1e-11, method="rodas4")


def parameter_matrix(
    model: Model, parameters: np.ndarray | Mapping[str, float] | None, n_patients: int | None = None
) -> np.ndarray:
    """A (n_patients, n_parameters) float64 matrix from defaults, overrides or a matrix."""
    if parameters is None or isinstance(parameters, Mapping):
        row = model.parameter_vector(parameters)
        return np.tile(row, (n_patients or 1, 1))
    mat = np.atleast_2d(np.asarray(parameters, dtype=np.float64))
    if mat.shape[1] != len(model.parameters):
        raise ModelError(
            f"parameter matrix has {mat.shape[1]} columns; model {model.name} has "
            f"{len(model.parameters)} parameters"
        )
    return np.ascontiguousarray(mat)


def equilibrate(
    model: Model,
    parameters: np.ndarray | Mapping[str, float] | None = None,
    y0: np.ndarray | None = None,
    *,
    t_max: float | None = None,
    ss_tol: float = 1e-10,
    options: SolverOptions = SolverOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate each patient to its steady state.

    Stops when every state's relative rate of change |dy/dt| / max(|y|, atol) falls below
    ``ss_tol`` per day, or at ``t_max`` days (default: the model's equilibration horizon),
    in which case the status is ``NOT_CONVERGED``. Returns (y_ss, status).
    """
    p = parameter_matrix(model, parameters)
    n = p.shape[0]
    start = model.default_initial_state() if y0 is None else np.asarray(y0, dtype=np.float64)
    y_start = np.ascontiguousarray(np.broadcast_to(start, (n, len(model.states))), dtype=np.float64)
    y_ss, _, status = compile_model(model).equilibrate_batch(
        y_start,
        p,
        float(t_max if t_max is not None else model.equilibration_days),
        options.rtol,
        options.atol(model),
        ss_tol,
        options.kernel_method(),
        options.max_steps,
    )
    return y_ss, status


def simulate(
    model: Model,
    times: Sequence[float] | np.ndarray,
    parameters: np.ndarray | Mapping[str, float] | None = None,
    *,
    y0: np.ndarray | None = None,
    events: Sequence[Event] | Sequence[Sequence[Event]] = (),
    steady_state: bool = False,
    start_status: np.ndarray | None = None,
    t0: float = 0.0,
    options: SolverOptions = SolverOptions(),
    patient_ids: Sequence[int] | None = None,
) -> xr.Dataset:
    """Simulate patients and return an xarray Dataset (patient x time) of states and outputs.

    The low-level solver: ``model`` runs exactly as given, with no calibrated parameter
    set (scenarios, sensitivity, trials and twins apply the shipped set, CAL-5, by
    default; :func:`dermatwin.run.calibrated_model` applies a set to a model).

    Parameters
    ----------
    times : output times in days (ascending, >= ``t0``).
    parameters : None (model defaults), a mapping of overrides, or an
        (n_patients, n_parameters) matrix in ``model.parameter_names`` order.
    y0 : initial states (n_states or n_patients x n_states); default the model's.
    events : one event list for every patient, or one list per patient.
    steady_state : first equilibrate each patient (without events) and start from there.
    start_status : status of an equilibration done by the caller (``equilibrate``); a
        failure there is reported even if the integration from ``y0`` then succeeds.
    """
    solution = solve(
        model,
        times,
        parameters,
        y0=y0,
        events=events,
        steady_state=steady_state,
        start_status=start_status,
        t0=t0,
        options=options,
    )
    return solution.dataset(model, patient_ids)


@dataclass(frozen=True)
class Solution:
    """The arrays of one batch integration (patients x times x states or outputs), before
    any labelling: callers that read a few outputs skip the cost of a Dataset."""

    times: np.ndarray
    parameters: np.ndarray
    state_values: np.ndarray
    output_values: np.ndarray
    status: np.ndarray
    stats: np.ndarray

    def outputs(self, model: Model) -> dict[str, np.ndarray]:
        """Each output of ``model`` as a (patients x times) array (views, not copies)."""
        return {o.name: self.output_values[:, :, k] for k, o in enumerate(model.outputs)}

    def states(self, model: Model) -> dict[str, np.ndarray]:
        """Each state of ``model`` as a (patients x times) array (views, not copies)."""
        return {s.name: self.state_values[:, :, i] for i, s in enumerate(model.states)}

    def dataset(self, model: Model, patient_ids: Sequence[int] | None = None) -> xr.Dataset:
        """The labelled Dataset that :func:`simulate` returns."""
        return _to_dataset(
            model,
            self.times,
            self.parameters,
            self.state_values,
            self.output_values,
            self.status,
            self.stats,
            patient_ids,
        )


def solve(
    model: Model,
    times: Sequence[float] | np.ndarray,
    parameters: np.ndarray | Mapping[str, float] | None = None,
    *,
    y0: np.ndarray | None = None,
    events: Sequence[Event] | Sequence[Sequence[Event]] = (),
    steady_state: bool = False,
    start_status: np.ndarray | None = None,
    t0: float = 0.0,
    options: SolverOptions = SolverOptions(),
) -> Solution:
    """As :func:`simulate`, returning the unlabelled :class:`Solution`."""
    t_out = np.ascontiguousarray(times, dtype=np.float64)
    if t_out.ndim != 1 or t_out.size == 0 or np.any(np.diff(t_out) < 0) or t_out[0] < t0:
        raise ModelError(f"times must be a non-empty ascending list of days >= {t0}")
    # one event list per patient also fixes the number of patients
    per_patient = len(events) > 0 and not isinstance(events[0], Event)
    p = parameter_matrix(model, parameters, len(events) if per_patient else None)
    n = p.shape[0]
    if y0 is None:
        y_start = np.tile(model.default_initial_state(), (n, 1))
    else:
        y_start = np.ascontiguousarray(
            np.broadcast_to(np.asarray(y0, np.float64), (n, len(model.states)))
        )
    eq_status = np.zeros(n, dtype=np.int64) if start_status is None else start_status
    if steady_state:
        y_start, eq_status = equilibrate(model, p, y_start, options=options)
    ev = compile_events(model, events, n, t0)
    Y, outs, status, stats = compile_model(model).solve_batch(
        float(t0),
        np.ascontiguousarray(y_start),
        p,
        t_out,
        ev.ptr,
        ev.time,
        ev.kind,
        ev.index,
        ev.value,
        options.rtol,
        options.atol(model),
        len(model.outputs),
        options.kernel_method(),
        options.max_steps,
        options.h_max,
    )
    # A failed equilibration is the first failure, so it is the one reported: it leaves
    # NaN states, which the integration from them would otherwise report as NON_FINITE
    # (hiding e.g. MAX_STEPS); and it is reported even if the later integration went fine.
    status = np.where(eq_status != Status.OK, eq_status, status)
    return Solution(t_out, p, Y, outs, status, stats)


def _to_dataset(model, t_out, p, Y, outs, status, stats, patient_ids) -> xr.Dataset:
    n = p.shape[0]
    ids = np.arange(n) if patient_ids is None else np.asarray(patient_ids)
    coords = {"patient": ids, "time": t_out}
    data = {}
    for i, s in enumerate(model.states):
        data[s.name] = xr.DataArray(
            Y[:, :, i],
            dims=("patient", "time"),
            attrs={"unit": s.unit, "kind": "state", "description": s.description},
        )
    for k, o in enumerate(model.outputs):
        data[o.name] = xr.DataArray(
            outs[:, :, k],
            dims=("patient", "time"),
            attrs={"unit": o.unit, "kind": "output", "description": o.description},
        )
    data["status"] = xr.DataArray(status.astype(np.int64), dims=("patient",))
    data["parameters"] = xr.DataArray(p, dims=("patient", "parameter"))
    data["solver_stats"] = xr.DataArray(stats, dims=("patient", "stat"))
    ds = xr.Dataset(
        data,
        coords={
            **coords,
            "parameter": list(model.parameter_names),
            "stat": ["accepted", "rejected", "rhs_evals", "jacobian_evals", "switches"],
        },
    )
    ds["time"].attrs["unit"] = "day"
    ds.attrs.update(
        model=model.name,
        model_hash=model.content_hash,
        dermatwin_version=__version__,
        display_time_unit=model.display_time_unit,
        status_codes=", ".join(f"{s.value}={s.name}" for s in Status),
    )
    return ds
