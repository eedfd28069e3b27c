"""MSC module: label vs viable biodistribution, depot, apoptosis, allo-immunity, licensing,
thaw, compartments, no-dose identity."""

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


def test_iv_label_and_viable_cells_as_in_human_111in_imaging(model):
    """Label (viable + dead cells) vs viable cells after an IV dose, at the median
    recipient: lung label 27-33.5 % at infusion (1 h) and 2-5.4 % at day 10, spleen
    30.1-42.2 % and liver 13-17.4 % at day 10 (BIO_111IN_GHOLAM2011_*); viable cells
    < 1 % of the dose by day 3 (MECH_PREDA2021_LIFESPAN, BIO_MOUSE_EGGENHOFER2012_VIABLE)."""
    times = np.array([0.0, HOUR, 3.0, 10.0])
    ds = _run(model, times, _dose("IV"))

    def pct(name):
        return 100.0 * ds[name].values[0]

    lung, spleen, liver = (pct(f"msc_label_{o}_fraction") for o in ("lung", "spleen", "liver"))
    assert 27.0 <= lung[1] <= 33.5
    assert 2.0 <= lung[3] <= 5.4
    assert 30.1 <= spleen[3] <= 42.2
    assert 13.0 <= liver[3] <= 17.4
    assert pct("msc_viable_fraction")[2] < 1.0
    assert ds["msc_tissue"].values[0].max() / DOSE < 5e-4  # BIO-02d


def test_lung_cells_are_licensed_by_systemic_not_lesional_signals(model):
    """IV cells in the lung read the systemic spill-over of the lesional cytokines: with
    no spill-over they are not licensed, whatever the skin; depot cells still are."""
    times = np.linspace(0.0, 2.0, 49)
    off = {"msc_systemic_spill": 0.0}
    iv = _run(model, times, _dose("IV"), off)
    sc = _run(model, times, _dose("SC"), off)
    assert iv["msc_licensing_drive_systemic"].values[0].max() == 0.0
    assert iv["msc_lung_lic"].values[0].max() == 0.0
    assert sc["msc_licensed_fraction"].values[0][-1] > 0.5
    on = _run(model, times, _dose("IV"))
    assert on["msc_lung_lic"].values[0].max() > 0.0


def test_fresh_vs_thawed_persistence_as_braid_2018(model):
    """PK_BRAID_CRYO_THAW (athymic mice: no recipient cytotoxicity): cells injected straight
    after thawing are predominantly cleared by 3 days; PK_BRAID_SC: fresh cells at a local
    site are seen for 3-4 weeks. Time to fall below 10 % of the dose, within 2x."""
    times = np.linspace(0.0, 60.0, 1201)[1:]
    dose = MSCDose(amount=DOSE, unit="cells", route="SC")
    cleared = {}
    for state in ("fresh", "thawed"):
        product = _product(state=state)
        params = {**msc_parameters(product), "msc_cytotoxicity": 0.0}
        ds = _run(model, times, msc_dose_events(product, dose), params)
        viable = ds["msc_viable_fraction"].values[0]
        cleared[state] = times[np.argmax(viable < 0.1)]
    assert 1.5 <= cleared["thawed"] <= 6.0
    assert 10.5 <= cleared["fresh"] <= 56.0


def test_apoptotic_share_follows_recipient_cytotoxicity(model):
    """MECH_GALLEU2017_APOMSC: recipient cytotoxicity makes MSC deaths apoptotic; the
    apoptosis knock-out (MECH_PANG2021_APOPTOSIS) removes the efferocytosis signal but
    keeps the cells' clearance and label."""
    times = np.array([0.0, 1.0, 3.0])
    share = [
        _run(model, times, _dose("IV"), {"msc_cytotoxicity": c})["msc_apoptotic_share"].values[0, 0]
        for c in (0.1, 1.0, 10.0)
    ]
    assert share[0] < share[1] < share[2] < 1.0
    normal = _run(model, times, _dose("IV"))
    blocked = _run(model, times, _dose("IV"), {"msc_apoptosis_block": 1.0})
    assert blocked["msc_apoptotic_share"].values[0, 0] == 0.0
    np.testing.assert_allclose(blocked["msc_sink"].values, normal["msc_sink"].values)


def test_efferocytosis_in_lung_does_not_reach_dermal_macrophages():
    """Compartment hygiene: dermal macrophages read only skin-local efferocytosis (depot
    and tissue cells); MSC dying in lung, spleen and liver feed the tolerance module."""
    full = build()
    systemic = {sp.Symbol(n, real=True) for n in ("msc_apoptotic", "msc_lung", "msc_blood")}
    for name in ("M1", "M2"):
        symbols = full.rhs[full.state_index(name)].free_symbols
        assert not systemic & symbols, name
        assert sp.Symbol("msc_apoptotic_skin", real=True) in symbols
    assert (
        sp.Symbol("msc_apoptotic", real=True)
        in full.rhs[full.state_index("tol_phagocytes")].free_symbols
    )


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


@pytest.mark.parametrize("modules", [("msc",), ("immune", "barrier", "msc", "tolerance")])
def test_no_cells_leaves_core_equations_unchanged(modules):
    """With every MSC state at 0 the MSC states stay at 0 and each core equation is the
    core's own (also with the modules that read the MSC signals)."""
    model = build(modules=modules)
    for seed in range(3):
        # a DSA-positive patient given an allogeneic product: still nothing without cells
        values = core_point(model, seed, msc_dsa=1.0, msc_allogeneic=1.0)
        assert_core_equations_unchanged(model, values)
        for name in model.state_names:
            if name.startswith(("msc_", "tol_", "itreg")):
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
