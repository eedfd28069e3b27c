"""Drug module: neutrality, dupilumab PK vs Miyano, steroid rebound, TCS, psoriasis, switch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import intervention
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
from dermatwin.model.skin import build
from dermatwin.model.skin.drugs import SLOTS, STEROID_ADAPTATION, state_name
from dermatwin.therapy import Regimen, drug_parameters, labelled, proactive_tcs

WEEK = 7.0


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def y0(model):
    """Typical AD patient at steady state and a psoriatic plaque, in one state vector
    (the two cores are independent): the plaque from a dendritic-cell pulse."""
    y_eq, status = equilibrate(model)
    assert int(status[0]) == 0
    ds = simulate(model, [1000.0], y0=y_eq[0], events=dc_stimulus(150.0, 2.0))
    return np.array([float(ds[n].values[0, -1]) for n in model.state_names])


def _run(model, y0, regimens: dict[str, list], times, horizon=364.0, overrides=None):
    """Simulate one patient per regimen (a list of doses, or an event list for "events",
    with the parameter values ``overrides[name]`` if given)."""
    events, params = [], []
    for name, items in regimens.items():
        if items and not hasattr(items[0], "drug"):
            events.append(list(items))
            params.append(model.parameter_vector((overrides or {}).get(name)))
            continue
        plan = Regimen(items, horizon_days=horizon).plan()
        events.append(plan.events)
        params.append(model.parameter_vector(plan.parameters))
    ds = simulate(model, np.asarray(times, float), np.vstack(params), y0=y0, events=events)
    assert np.all(ds["status"].values == 0)
    return {name: ds.isel(patient=i) for i, name in enumerate(regimens)}


def test_no_drug_leaves_core_equations_unchanged(model):
    for seed in range(3):
        # even with another drug's PK parameters set: no exposure, no effect
        values = core_point(model, seed, **drug_parameters("tralokinumab"))
        assert_core_equations_unchanged(model, values)
        for slot in SLOTS:
            assert float(model.rhs[model.state_index(state_name(slot))].xreplace(values)) == 0
        rhs = model.rhs[model.state_index(STEROID_ADAPTATION)]
        assert float(rhs.xreplace(values)) == 0.0


def test_dupilumab_pk_reproduces_miyano_on_off(model, y0):
    times = [0.0, 4 * WEEK, 8 * WEEK, 16 * WEEK]
    out = _run(
        model,
        y0,
        {
            "pk": [labelled("dupilumab"), labelled("placebo")],
            "on_off": intervention(model, "dupilumab", 0.0),
        },
        times,
        # Miyano's published run: the vehicle term acts at once (no placebo onset)
        overrides={"on_off": {"placebo_onset_days": 0.0}},
    )
    pk, ref = out["pk"]["EASI"].values, out["on_off"]["EASI"].values
    assert ref[-1] == pytest.approx(5.49, rel=2e-3)  # MIYANO2021 published week 16
    assert pk[-1] == pytest.approx(ref[-1], rel=0.10)
    # the labelled regimen keeps the IL-4Ra block near Miyano's 0.99 at steady trough
    assert 0.97 < float(out["pk"]["inhibition_il4r"].values[-1]) <= 0.99


def test_systemic_steroid_rebound_overshoots_untreated_level(model, y0):
    times = np.arange(0.0, 500.0, 1.0)
    out = _run(model, y0, {"pred": [labelled("prednisone", stop_day=28.0)]}, times)
    easi = out["pred"]["EASI"].values
    base = easi[0]
    assert easi[27] < base - 3  # effective on treatment
    after = easi[29:]
    assert after.max() > base + 1.0  # rebound above the untreated level
    assert np.argmax(after) < 100  # within about 14 weeks of stopping
    assert easi[-1] == pytest.approx(base, rel=0.02)  # transient


def test_proactive_tcs_keeps_easi_lower(model, y0):
    times = np.arange(0.0, 16 * WEEK + 1, 1.0)
    out = _run(model, y0, {"none": [], "tcs": [proactive_tcs()]}, times)
    none, tcs = out["none"]["EASI"].values, out["tcs"]["EASI"].values
    assert np.all(tcs[1:] <= none[1:] + 1e-9)
    assert tcs[-1] < none[-1] - 2


def test_secukinumab_clears_plaque_better_than_placebo(model, y0):
    times = [0.0, 12 * WEEK]
    out = _run(
        model,
        y0,
        {
            "secukinumab": [labelled("secukinumab"), labelled("placebo")],
            "placebo": [labelled("placebo")],
        },
        times,
    )
    sec, pbo = out["secukinumab"]["PASI_index"].values, out["placebo"]["PASI_index"].values
    assert sec[0] == pytest.approx(1.0, abs=1e-3)  # published plaque (SHMAROV2022)
    assert pbo[-1] > 0.95
    assert sec[-1] < 0.25


def test_switch_dupilumab_to_upadacitinib(model, y0):
    switch = 16 * WEEK
    times = [switch, switch + 14, switch + 28, switch + 56]
    items = [labelled("dupilumab", stop_day=switch), labelled("upadacitinib", start_day=switch)]
    out = _run(model, y0, {"switch": items}, times)["switch"]
    c = out[state_name("il4r")].values
    kel = drug_parameters("dupilumab")["il4r_kel"]
    # the last dupilumab dose is at week 14: after the switch it only decays
    assert c[2] / c[0] == pytest.approx(math.exp(-kel * 28), rel=1e-3)
    assert float(out[state_name("jak1")].values[1]) > 0
    assert np.all(out["EASI"].values < 12)  # disease stays controlled through the switch


def test_ciclosporin_blocks_th2_cytokines_besides_t_cell_drive(model, y0):
    """Knock-out of the calcineurin -> Th2 cytokine path (MATSUDA2000): ciclosporin still
    acts through the T-cell drive, but less by week 7 (the path that lets it reach
    the published 55 % SCORAD fall at weeks 6-8, AD_CSA_META_6_8W)."""
    times = [0.0, 2 * WEEK, 7 * WEEK]
    csa = [labelled("ciclosporin")]
    plan = Regimen(csa, horizon_days=7 * WEEK).plan()
    out = _run(
        model,
        y0,
        {
            "none": [],
            "csa": csa,
            "knock_out": plan.events,
        },
        times,
        overrides={"knock_out": {**plan.parameters, "calcineurin_cytokine_fraction": 0.0}},
    )
    none, full, ko = (out[k]["SCORAD"].values for k in ("none", "csa", "knock_out"))
    assert ko[-1] < none[-1] - 1  # the T-cell drive alone still acts
    assert full[-1] < ko[-1] - 1  # the cytokine block adds to it
    assert full[1] < ko[1]  # and acts sooner
