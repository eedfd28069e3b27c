"""Mature scars: a pool that remodels over years, the fat graft's path and its knock-out."""

import math

import numpy as np
import pytest
from scipy import integrate

from dermatwin._base.errors import ModelError
from dermatwin.model.mature_scars import (
    FatGraft,
    ScarPatients,
    antifibrotic_integral,
    dermis_parameters,
    parameters,
    remodel,
)
from dermatwin.model.scar_scales import STIFFEST, observer_items, patient_items
from dermatwin.model.wound_healing import MSCApplication, msc_rates

YEAR = 365.25
TIMES = np.array([0.0, 91.0, 182.0, YEAR, 5 * YEAR])


def scars(n=5):
    rng = np.random.default_rng(1)
    return ScarPatients(
        excess=rng.uniform(0.1, 1.5, n),
        adhesion=rng.uniform(0.2, 1.0, n),
        vascularity=rng.uniform(0.0, 0.3, n),
    )


def test_a_mature_scar_persists_for_years_where_the_skin_models_scar_flattens():
    """The cross-linked pool turns over as normal collagen (SCA-20: half-life 15 years):
    after a year almost all of it is left; the skin model's labile scar excess
    (scar_remodelling) would be nearly gone."""
    course = remodel(scars(), TIMES)
    left = course.excess[:, 3] / course.excess[:, 0]
    assert np.all((left > 0.94) & (left < 1.0))
    assert np.allclose(course.excess[:, -1] / course.excess[:, 0], 2 ** (-5 / 15), rtol=1e-9)
    from dermatwin.model.skin import build

    labile = {p.name: float(p.value) for p in build().parameters}["scar_remodelling"]
    assert math.exp(-labile * YEAR) < 0.05


def test_the_antifibrotic_integral_is_the_quadrature_of_the_skin_models_action():
    p = parameters()
    graft = FatGraft(1.0)
    t = np.array([0.0, 10.0, 60.0, 365.0])
    exact = antifibrotic_integral(p, graft, t)
    cells = p["graft_asc_per_ml"]
    # the action itself, from the wound model's per-cell rates
    gf, sec, death = msc_rates(p, MSCApplication("injection", cells, (0.0,)))
    z0 = (gf + sec) * p["wound_msc_exposure"] * cells

    def action(s):
        z = z0 * math.exp(-death * s)
        return p["msc_antifibrotic_max"] * z / (z + p["msc_antifibrotic_ec50"])

    for ti, value in zip(t, exact, strict=True):
        assert value == pytest.approx(integrate.quad(action, 0, ti, limit=200)[0], rel=1e-6)


def test_knock_out_the_graft_path_and_the_scar_is_as_with_saline():
    """The ASC act only through the skin model's anti-fibrotic action: without it (or
    without cells) the grafted scar is the procedure-only scar, exactly."""
    saline = remodel(scars(), TIMES, None, procedure=True)
    for graft, values in (
        (FatGraft(1.0), {"msc_antifibrotic_max": 0.0}),
        (FatGraft(0.0), None),
        (FatGraft(1.0), {"graft_asc_per_ml": 0.0}),
    ):
        knocked = remodel(scars(), TIMES, graft, procedure=True, overrides=values)
        for field in ("excess", "adhesion", "vascularity", "pliability"):
            np.testing.assert_array_equal(getattr(knocked, field), getattr(saline, field))
    grafted = remodel(scars(), TIMES, FatGraft(1.0), procedure=True)
    # with the path on the graft removes a little excess collagen, and only that
    assert np.all(grafted.excess[:, 1:] < saline.excess[:, 1:])
    extra = 1 - grafted.excess[:, -1] / saline.excess[:, -1]
    assert np.all((extra > 0.002) & (extra < 0.1))  # weeks of action on a pool of years
    np.testing.assert_array_equal(grafted.adhesion, saline.adhesion)


def test_the_procedure_frees_adhesion_and_the_scar_becomes_more_pliable():
    p = parameters()
    before = remodel(scars(), TIMES)
    after = remodel(scars(), TIMES, procedure=True)
    np.testing.assert_allclose(
        after.adhesion[:, 1:], before.adhesion[:, 1:] * (1 - p["scar_procedure_release"])
    )
    assert np.all(after.pliability[:, 1:] > before.pliability[:, 1:])
    np.testing.assert_array_equal(after.pliability[:, 0], before.pliability[:, 0])


def test_the_scales_read_normal_skin_as_1_and_worsen_with_the_scar():
    zero, one = np.zeros(3), np.ones(3)
    assert np.all(observer_items(zero, zero, one, zero, zero, zero) == 1.0)
    assert np.all(patient_items(zero, zero, one, zero, zero, zero, zero) == 1.0)
    worst = observer_items(2 * one, one, STIFFEST * one, one, one, one)
    assert np.all(worst == 10.0)
    adh = np.linspace(0, 1, 3)
    obs = observer_items(zero, adh, one - 0.3 * adh, zero, zero, zero).mean(axis=0)
    pat = patient_items(zero, adh, one - 0.3 * adh, zero, zero, one, one).mean(axis=0)
    assert np.all(np.diff(obs) > 0) and np.all(np.diff(pat) > 0)


def test_bad_values_are_one_line_errors():
    with pytest.raises(ModelError, match="scar parameter 'scar_relase' unknown; allowed:"):
        parameters({"scar_relase": 0.3})
    with pytest.raises(ModelError, match="scar_procedure_release: 1.5; allowed: 0..1"):
        parameters({"scar_procedure_release": 1.5})
    with pytest.raises(ModelError, match="scar parameter graft_asc_per_ml: -1"):
        parameters({"graft_asc_per_ml": -1})
    with pytest.raises(ModelError, match="wound parameter wound_msc_exposure"):
        parameters({"wound_msc_exposure": -1.0})
    with pytest.raises(ModelError, match="ml_per_cm2: -1.0; allowed: a number >= 0"):
        FatGraft(-1.0)
    with pytest.raises(ModelError, match="times: allowed: finite days >= 0"):
        remodel(scars(), np.array([-1.0, 2.0]))
    assert set(dermis_parameters()) <= set(parameters())
