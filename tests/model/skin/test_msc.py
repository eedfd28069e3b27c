"""MSC module: biodistribution, depot, allo-immunity, licensing, thaw lag, no-dose identity."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from core_checks import assert_core_equations_unchanged, core_point

import dermatwin.model.skin.msc  # noqa: F401  (registers the "msc" module)
from dermatwin.engine.events import bolus
from dermatwin.engine.simulate import REFERENCE_OPTIONS, simulate
from dermatwin.model.skin import build
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events, msc_parameters

DOSE = 1e8
HOUR = 1.0 / 24.0


@pytest.fixture(scope="module")
def model():
    return build(modules=("msc",))


def _dose(route: str, times=(0.0,), amount: float = DOSE) -> list:
    target = "msc_blood" if route == "IV" else "msc_depot"
    events = []
    for t in times:
        events += [bolus(t, target, amount), bolus(t, "msc_given", amount)]
    return events


def _product(**kw) -> MSCProduct:
    # viability 1 so that the product's dose is exactly DOSE viable cells
    return MSCProduct(**{"source": "bone_marrow", "origin": "autologous", "viability": 1.0, **kw})


def _run(model, times, events, params=None):
    return simulate(model, np.asarray(times, dtype=float), params, events=events)


def test_iv_dose_is_trapped_in_lung_and_gone_by_72h(model):
    times = np.concatenate([[0.0, HOUR], np.linspace(0.1, 10.0, 100)])
    ds = _run(model, times, _dose("IV"))
    lung = ds["msc_lung"].values[0]
    viable = ds["msc_viable"].values[0]
    assert lung[1] / DOSE > 0.5  # BIO-04/05: majority in the lung within an hour
    at72 = np.searchsorted(times, 3.0)
    assert viable[at72] / DOSE < 0.01  # BIO-03: none viable at 72 h
    assert ds["msc_tissue"].values[0].max() / DOSE < 5e-4  # BIO-02d
    # the label (debris) ends in liver/spleen: by day 10 more there than in the lung
    assert ds["msc_sink"].values[0][-1] > 10 * lung[-1]
    assert ds["msc_sink"].values[0][-1] / DOSE > 0.3


def test_sc_depot_persists_for_days(model):
    t = [0.0, 3.0]
    sc = _run(model, t, _dose("SC"))["msc_viable"].values[0][-1]
    iv = _run(model, t, _dose("IV"))["msc_viable"].values[0][-1]
    assert sc / DOSE > 0.3
    assert sc > 50 * iv


def _viable_after(model, product: MSCProduct, dsa: float, times=(0.0, 28.0)):
    """Depot cells 3 days after each of the SC doses (fraction of one dose)."""
    dose = MSCDose(amount=DOSE, unit="cells", route="SC", times=list(times))
    params = {**msc_parameters(product), "msc_dsa": dsa}
    probe = [t + 3.0 for t in times]
    ds = _run(model, probe, msc_dose_events(product, dose), params)
    return ds["msc_viable"].values[0] / DOSE


def test_allogeneic_cleared_faster_than_autologous(model):
    auto = _viable_after(model, _product(), 0.0, times=(0.0,))[0]
    allo = _viable_after(model, _product(origin="allogeneic"), 0.0, times=(0.0,))[0]
    assert allo < 0.9 * auto


def test_dsa_lowers_persistence_of_second_dose(model):
    allo = _product(origin="allogeneic")
    first, second = _viable_after(model, allo, 1.0)
    assert second < 0.5 * first
    neg_first, neg_second = _viable_after(model, allo, 0.0)
    assert neg_second == pytest.approx(neg_first, rel=1e-2)
    # DSA positive patient but an autologous product: no anti-donor response
    auto_first, auto_second = _viable_after(model, _product(), 1.0)
    assert auto_second == pytest.approx(auto_first, rel=1e-2)


def test_licensing_needs_ifng_and_tnf(model):
    times = np.linspace(0.0, 5.0, 121)
    both = _run(model, times, _dose("SC"))["msc_secretome_pool"].values[0].max()
    no_ifng = _run(model, times, _dose("SC"), {"msc_ifng_ref": 1e12})
    no_tnf = _run(model, times, _dose("SC"), {"msc_tnf_ref": 1e12, "msc_th_ref": 1e12})
    for ds in (no_ifng, no_tnf):
        assert ds["msc_licensing_drive"].values[0].max() < 1e-6
        assert ds["msc_secretome_pool"].values[0].max() < 0.25 * both
    # growth factors depend less on licensing than the secretome
    gf_both = _run(model, times, _dose("SC"))["msc_gf_pool"].values[0].max()
    gf_none = no_ifng["msc_gf_pool"].values[0].max()
    sec_none = no_ifng["msc_secretome_pool"].values[0].max()
    assert gf_none / gf_both > 2 * sec_none / both


def test_thawed_product_reaches_full_potency_about_a_day_later(model):
    times = np.linspace(0.0, 5.0, 241)
    dose = MSCDose(amount=DOSE, unit="cells", route="SC")

    def t90(state):
        product = _product(state=state)
        ds = _run(model, times, msc_dose_events(product, dose), msc_parameters(product))
        x = ds["msc_potency_index"].values[0]
        return times[np.argmax(x >= 0.9 * x[-1])]

    lag = t90("thawed") - t90("fresh")
    assert 0.5 < lag < 1.5


@pytest.mark.parametrize("modules", [("msc",), ("immune", "barrier", "msc")])
def test_no_cells_leaves_core_equations_unchanged(modules):
    """With every MSC state at 0 the MSC states stay at 0 and each core equation is the
    core's own (also with the modules that read the MSC signals)."""
    model = build(modules=modules)
    for seed in range(3):
        # a DSA-positive patient given an allogeneic product: still nothing without cells
        values = core_point(model, seed, msc_dsa=1.0, msc_allogeneic=1.0)
        assert_core_equations_unchanged(model, values)
        for name in model.state_names:
            if name.startswith("msc_"):
                assert float(model.rhs[model.state_index(name)].xreplace(values)) == 0.0, name
    # and the coupling is live: a secretome pool moves the immune module's Treg
    if "immune" in modules:
        values[sp.Symbol("msc_secretome_pool", real=True)] = 1.0
        assert float(model.rhs[model.state_index("Treg")].xreplace(values)) > 0.0


def test_no_cells_reproduces_core_trajectories(model):
    core = build(modules=())
    times = np.linspace(0.0, 60.0, 31)
    ref = simulate(core, times, options=REFERENCE_OPTIONS)
    events = _dose("IV", amount=0.0) + _dose("SC", amount=0.0)
    params = {"msc_dsa": 1.0, "msc_allogeneic": 1.0}
    ds = simulate(model, times, params, events=events, options=REFERENCE_OPTIONS)
    for name in core.state_names:
        # identical equations; only the adaptive step sequence differs (more states)
        np.testing.assert_allclose(ds[name].values, ref[name].values, rtol=1e-7, atol=1e-9)
    for name in model.state_names:
        if name.startswith("msc_"):
            assert np.all(ds[name].values == 0.0), name
