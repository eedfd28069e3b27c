"""The chronic-wound model: closure in finite time, covariates, the two MSC paths."""

import math

import numpy as np
import pytest

from dermatwin._base.errors import ModelError
from dermatwin.model.wound_healing import (
    STEP_DAYS,
    WOUND_PARAMETERS,
    MSCApplication,
    WoundPatients,
    heal,
    parameters,
)

SHEET = MSCApplication("topical_sheet", 2.5e5, tuple(range(0, 84, 7)), clearance=1.5)


def patients(n=1, **change):
    base = dict(area0=3.0, hba1c=7.0, abi=1.0, infected=0.0, capacity_z=0.0)
    base.update(change)
    return WoundPatients(**{k: np.full(n, float(v)) for k, v in base.items()})


def test_every_parameter_has_a_unit_and_a_source():
    for name, p in WOUND_PARAMETERS.items():
        assert p.unit and p.description, name
        assert p.source.startswith(("assumed", "DFU_")), name


def test_closure_day_matches_the_exact_solution_without_inflammation():
    """With no inflammatory stall the capacity is constant and dr/dt = -h (v + k r) has the
    closed form r = (r0 + v/k) exp(-k h t) - v/k: closure at ln(1 + k r0 / v) / (k h)."""
    p = parameters()
    course = heal(patients(), horizon=200.0, overrides={"wound_inflammation0": 0.0})
    r0 = math.sqrt(3.0 / math.pi)
    k, v, h = p["wound_contraction_rate"], p["wound_edge_speed"], p["wound_capacity"]
    exact = math.log(1 + k * r0 / v) / (k * h)
    # explicit steps of STEP_DAYS: first-order error, well under a step here
    assert course.closure_day[0] == pytest.approx(exact, abs=STEP_DAYS)
    assert course.area_pct[0, 0] == 100.0 and np.all(np.diff(course.area_pct[0]) <= 0)


@pytest.mark.parametrize(
    "worse",
    [{"hba1c": 10.0}, {"abi": 0.7}, {"infected": 1.0}, {"area0": 12.0}, {"capacity_z": -1.0}],
)
def test_each_chronicity_covariate_delays_closure(worse):
    good = heal(patients(), horizon=400.0).closure_day[0]
    bad = heal(patients(**worse), horizon=400.0).closure_day[0]
    assert math.isfinite(good) and bad > good * 1.05


def test_critical_ischaemia_never_heals():
    assert heal(patients(abi=0.35), horizon=400.0).closure_day[0] == math.inf


def test_msc_act_through_the_growth_factor_and_immunomodulatory_paths():
    """Knock-outs: wound_gf_emax = 0 removes the growth-factor path (skin keratinocyte
    module), mac_msc_gain = 0 the immunomodulatory one (macrophage module); each alone
    heals faster than standard care, both together faster than either, neither exactly
    as standard care."""
    pop = patients(5, capacity_z=0.0, hba1c=8.0)
    none = heal(pop, horizon=200.0).closure_day
    both = heal(pop, SHEET, horizon=200.0).closure_day
    gf_only = heal(pop, SHEET, horizon=200.0, overrides={"mac_msc_gain": 0.0}).closure_day
    imm_only = heal(pop, SHEET, horizon=200.0, overrides={"wound_gf_emax": 0.0}).closure_day
    off = heal(pop, SHEET, horizon=200.0, overrides={"mac_msc_gain": 0.0, "wound_gf_emax": 0.0})
    np.testing.assert_array_equal(off.closure_day, none)
    assert np.all(gf_only < none * 0.95) and np.all(imm_only < none * 0.95)
    assert np.all(both < np.minimum(gf_only, imm_only))


def test_cells_given_after_closure_change_nothing():
    pop = patients()
    closed = heal(pop, horizon=200.0).closure_day[0]
    late = MSCApplication("injection", 1e6, (closed + 1.0,))
    assert heal(pop, late, horizon=200.0).closure_day[0] == closed


def test_bad_values_are_one_line_errors_naming_them():
    with pytest.raises(ModelError, match="wound parameter 'wound_speed' unknown; allowed"):
        parameters({"wound_speed": 1.0})
    with pytest.raises(ModelError, match="wound parameter wound_capacity: -1"):
        parameters({"wound_capacity": -1.0})
    with pytest.raises(ModelError, match="route: 'IV'; allowed: topical_sheet, injection"):
        MSCApplication("IV", 1e6, (0.0,))
    with pytest.raises(ModelError, match="horizon"):
        heal(patients(), horizon=0.0)


def test_ipsc_msc_are_their_own_product_with_more_growth_factors():
    """iPSC-derived MSC: growth factors 1.5x per unit potency (assumed; LIAN2010 gives the
    direction), secretome and clearance as the reference; every other source 1. On the
    same ulcers the iPSC sheet closes wounds sooner than the same cells with the
    reference's growth factors, and only through the growth-factor path."""
    from dermatwin.therapy.products import (
        SOURCE_FACTORS,
        MSCProduct,
        growth_factor_potency,
        msc_parameters,
    )

    ipsc = MSCProduct(source="ipsc", origin="allogeneic")
    f = msc_parameters(ipsc)
    # potency 1 (the reference product's, no donor-age effect) x growth factors 1.5
    assert f["msc_potency"] == 1.0 and growth_factor_potency(ipsc) == 1.5
    # the factor is per unit potency: 2 passages past the reference lose 5 % each
    aged = MSCProduct(source="ipsc", origin="allogeneic", passage=6)
    assert growth_factor_potency(aged) == pytest.approx(1.5 * 0.95**2, rel=1e-12)
    assert "assumed" in SOURCE_FACTORS["ipsc"].growth_factors_source
    assert all(x.growth_factors == 1.0 for s, x in SOURCE_FACTORS.items() if s != "ipsc")
    pop = patients(3, hba1c=8.0)
    days = tuple(range(0, 84, 7))
    own, reference = (
        MSCApplication("topical_sheet", 2e4, days, f["msc_potency"], f["msc_clearance_factor"], gf)
        for gf in (growth_factor_potency(ipsc), None)
    )
    assert np.all(heal(pop, own, 200.0).closure_day < heal(pop, reference, 200.0).closure_day)
    off = {"wound_gf_emax": 0.0}
    np.testing.assert_array_equal(
        heal(pop, own, 200.0, overrides=off).closure_day,
        heal(pop, reference, 200.0, overrides=off).closure_day,
    )
