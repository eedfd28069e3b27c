"""The one cohort simulation (dermatwin.study.cohort): regimens shared or per patient,
values without a Dataset, the same numbers as the engine given the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin._base.errors import ModelError
from dermatwin.engine.events import bolus, intervention
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.reference import miyano2021
from dermatwin.study.cohort import simulate_cohort
from dermatwin.therapy.regimen import Plan

TIMES = np.array([0.0, 14.0, 56.0, 112.0])


@pytest.fixture(scope="module")
def model():
    return miyano2021.build()


@pytest.fixture(scope="module")
def start(model):
    """Three patients at their steady states (k1 varied)."""
    p = np.tile(model.default_parameters(), (3, 1))
    p[:, model.parameter_index("k1")] *= [0.8, 1.0, 1.3]
    y0, status = equilibrate(model, p)
    return p, y0, status


def plan(model, k2: float, day: float) -> Plan:
    return Plan(intervention(model, "dupilumab", day), {"k2": k2})


def test_per_patient_plans_equal_the_engine_given_the_same_inputs(model, start):
    p, y0, status = start
    plans = [plan(model, 0.5 + 0.1 * i, 7.0 * i) for i in range(3)]
    before = p.copy()
    cohort = simulate_cohort(model, TIMES, p, y0=y0, start_status=status, plans=plans)
    np.testing.assert_array_equal(p, before)  # the caller's matrix is not modified
    by_hand = p.copy()
    by_hand[:, model.parameter_index("k2")] = [0.5, 0.6, 0.7]
    ds = simulate(
        model, TIMES, by_hand, y0=y0, start_status=status, events=[q.events for q in plans]
    )
    np.testing.assert_array_equal(cohort.values("EASI"), ds["EASI"].values)
    np.testing.assert_array_equal(cohort.values("Th2"), ds["Th2"].values)
    np.testing.assert_array_equal(cohort.status, ds["status"].values)
    np.testing.assert_array_equal(cohort.parameters, by_hand)
    built = cohort.dataset(patient_ids=[7, 8, 9])
    assert built["patient"].values.tolist() == [7, 8, 9]
    np.testing.assert_array_equal(built["EASI"].values, ds["EASI"].values)


def test_a_shared_plan_equals_the_same_plan_per_patient(model, start):
    p, y0, status = start
    shared = simulate_cohort(model, TIMES, p, y0=y0, plans=plan(model, 0.7, 0.0))
    each = simulate_cohort(model, TIMES, p, y0=y0, plans=[plan(model, 0.7, 0.0)] * 3)
    np.testing.assert_array_equal(shared.values("EASI"), each.values("EASI"))
    untreated = simulate_cohort(model, TIMES, p, y0=y0)
    assert (shared.values("EASI")[:, -1] < untreated.values("EASI")[:, -1]).all()


def test_steady_state_starts_from_the_regimen_values(model, start):
    """Equilibration sees the plan's parameter values (as a twin's draws need)."""
    p, _, _ = start
    shared = plan(model, 0.6, 28.0)
    cohort = simulate_cohort(model, TIMES, p, plans=shared, steady_state=True, ss_tol=1e-8)
    by_hand = p.copy()
    by_hand[:, model.parameter_index("k2")] = 0.6
    y0, status = equilibrate(model, by_hand, ss_tol=1e-8)
    ds = simulate(model, TIMES, by_hand, y0=y0, start_status=status, events=shared.events)
    np.testing.assert_array_equal(cohort.values("EASI"), ds["EASI"].values)


def test_shared_events_as_a_scenario_arm_gives_them(model, start):
    p, y0, status = start
    events = [bolus(10.0, "Th2", 1.0)]
    cohort = simulate_cohort(model, TIMES, p, y0=y0, start_status=status, events=events)
    ds = simulate(model, TIMES, p, y0=y0, start_status=status, events=events)
    np.testing.assert_array_equal(cohort.values("Th2"), ds["Th2"].values)


def test_bad_combinations_are_one_line_errors(model, start):
    p, y0, _ = start
    with pytest.raises(ModelError, match="plans or events, not both"):
        simulate_cohort(model, TIMES, p, plans=plan(model, 0.5, 0.0), events=[bolus(1, "s", 1)])
    with pytest.raises(ModelError, match="2 regimen plans for 3 patients"):
        simulate_cohort(model, TIMES, p, y0=y0, plans=[plan(model, 0.5, 0.0)] * 2)
