"""simulate(): per-patient failures stay per patient; batching never changes a number."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.engine.events import Event, EventKind, bolus, compile_events, intervention
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate, solve
from dermatwin.engine.status import Status
from dermatwin.errors import ModelError
from dermatwin.model.reference import miyano2021
from dermatwin.patients.sampling import sample_lognormal

TIMES = np.arange(0.0, 113.0, 7.0)


@pytest.fixture(scope="module")
def model():
    return miyano2021.build()


@pytest.fixture(scope="module")
def cohort(model):
    params = sample_lognormal(model, 12, seed=3)
    y0, status = equilibrate(model, params)
    assert (status == Status.OK).all()
    return params, y0


def test_failing_patient_is_reported_and_others_are_complete(model, cohort):
    params, y0 = cohort
    poisoned = params.copy()
    # a negative IL-4 loss rate makes IL-4 grow without bound: the solver must give up on
    # this patient only
    poisoned[5, model.parameter_index("d10")] = -5e4
    events = intervention(model, "dupilumab", 0.0)
    ds = simulate(
        model, TIMES, poisoned, y0=y0, events=events, options=SolverOptions(max_steps=5000)
    )
    status = ds["status"].values
    assert status[5] != Status.OK
    assert np.isnan(ds["EASI"].values[5, -1])
    good = np.delete(np.arange(12), 5)
    assert (status[good] == Status.OK).all()
    alone = simulate(model, TIMES, params[good], y0=y0[good], events=events)
    assert np.array_equal(ds["EASI"].values[good], alone["EASI"].values)


def test_batch_split_is_bit_identical(model, cohort):
    params, y0 = cohort
    events = intervention(model, "tralokinumab", 3.0, stop=60.0) + [bolus(10.0, "p", 0.05)]
    whole = simulate(model, TIMES, params, y0=y0, events=events)
    parts = [
        simulate(model, TIMES, params[s], y0=y0[s], events=events)
        for s in (slice(0, 5), slice(5, 12))
    ]
    for name in ("EASI", "IL13", "s"):
        joined = np.vstack([p[name].values for p in parts])
        assert np.array_equal(whole[name].values, joined)


def test_per_patient_event_lists(model, cohort):
    params, y0 = cohort
    treated = intervention(model, "dupilumab", 0.0)
    events = [treated if i % 2 == 0 else [] for i in range(4)]
    ds = simulate(model, TIMES, params[:4], y0=y0[:4], events=events)
    easi = ds["EASI"].values
    assert (easi[0::2, -1] < 0.6 * easi[0::2, 0]).all()
    # untreated patients stay at their steady state
    np.testing.assert_allclose(easi[1::2, -1], easi[1::2, 0], rtol=1e-6)


def test_bad_inputs_are_model_errors(model):
    with pytest.raises(ModelError, match="unknown state 'IL99'"):
        simulate(model, TIMES, events=[bolus(1.0, "IL99", 1.0)])
    with pytest.raises(ModelError, match="times must be"):
        simulate(model, [5.0, 1.0])
    with pytest.raises(ModelError, match=">= 0.0"):
        compile_events(model, [Event(-1.0, EventKind.BOLUS, "s", 1.0)], 1, 0.0)
    with pytest.raises(ModelError, match="columns"):
        simulate(model, TIMES, np.ones((2, 3)))


def test_solver_switches_are_options_with_the_old_behaviour_by_default(model, cohort):
    # auto, step-size switch, cold events (and the sparse LU, flag 16: see the next test)
    assert SolverOptions().kernel_method() == 16
    dense = {"linear_solver": "dense"}
    assert SolverOptions(method="dp5", stiffness_switch="cost", **dense).kernel_method() == 1 + 4
    assert SolverOptions(warm_events=True, **dense).kernel_method() == 8
    with pytest.raises(ModelError, match="stiffness_switch: must be 'step' or 'cost'"):
        SolverOptions(stiffness_switch="fast")
    with pytest.raises(ModelError, match="method: must be one of"):
        SolverOptions(method="bdf")
    # switched on, the results agree within the tolerance and stay bit-identical however
    # the batch is split
    params, y0 = cohort
    events = intervention(model, "tralokinumab", 3.0, stop=60.0) + [bolus(10.0, "p", 0.05)]
    opts = SolverOptions(stiffness_switch="cost", warm_events=True)
    base = simulate(model, TIMES, params, y0=y0, events=events)["EASI"].values
    whole = simulate(model, TIMES, params, y0=y0, events=events, options=opts)["EASI"].values
    np.testing.assert_allclose(whole, base, rtol=1e-4)
    parts = [
        simulate(model, TIMES, params[s], y0=y0[s], events=events, options=opts)["EASI"].values
        for s in (slice(0, 5), slice(5, 12))
    ]
    assert np.array_equal(whole, np.vstack(parts))


def test_sparse_lu_agrees_with_the_dense_lu_and_splits_bit_identically(model, cohort):
    """The default sparse LU (a fixed elimination order, no row exchanges) changes only
    round-off in Rodas4's linear solves: the same steps, EASI within 1e-9 of the dense
    LU's here, and batches split anyhow still give identical numbers."""
    params, y0 = cohort
    events = intervention(model, "tralokinumab", 3.0, stop=60.0) + [bolus(10.0, "p", 0.05)]
    dense = SolverOptions(linear_solver="dense")
    base = solve(model, TIMES, params, y0=y0, events=events, options=dense)
    whole = solve(model, TIMES, params, y0=y0, events=events)
    assert whole.stats[:, 3].sum() > 100  # Rodas4 ran (Jacobians)
    assert np.array_equal(whole.stats, base.stats)
    np.testing.assert_allclose(whole.output_values, base.output_values, rtol=1e-9)
    parts = [
        solve(model, TIMES, params[s], y0=y0[s], events=events).output_values
        for s in (slice(0, 5), slice(5, 12))
    ]
    assert np.array_equal(whole.output_values, np.vstack(parts))


def test_steady_state_not_converged_is_reported(model):
    y, status = equilibrate(model, t_max=1.0)
    assert status[0] == Status.NOT_CONVERGED and np.isfinite(y).all()


def test_step_limit_is_reported_as_max_steps(model, cohort):
    """Too few steps is MAX_STEPS, whether the limit is hit while integrating or while
    equilibrating first (which leaves NaN states, not a NON_FINITE integration)."""
    params, y0 = cohort
    few = SolverOptions(max_steps=20)
    plain = simulate(model, TIMES, params[:2], y0=y0[:2], options=few)
    steady = simulate(model, TIMES, params[:2], steady_state=True, options=few)
    assert plain["status"].values.tolist() == [Status.MAX_STEPS] * 2
    assert steady["status"].values.tolist() == [Status.MAX_STEPS] * 2


def _simulate_rows(rows):
    """Worker for the process test: simulate some cohort rows in a fresh interpreter."""
    model = miyano2021.build()
    params = sample_lognormal(model, 12, seed=3)[rows]
    y0, _ = equilibrate(model, params)
    return simulate(model, TIMES, params, y0=y0, events=intervention(model, "dupilumab", 0.0))[
        "EASI"
    ].values


def test_other_processes_give_bit_identical_results(cohort):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    here = _simulate_rows(list(range(12)))
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        parts = list(pool.map(_simulate_rows, [list(range(7)), list(range(7, 12))]))
    assert np.array_equal(here, np.vstack(parts))
