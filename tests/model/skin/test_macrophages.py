"""Macrophage module: MSC factors and efferocytosis of dying MSC shift M1 -> M2."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import Event, EventKind
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.skin import build, cores, macrophages
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events, msc_parameters

ADSC = MSCProduct(source="adipose", origin="allogeneic")
TIMES = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 28.0])


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def runs(model):
    """Miyano's typical AD lesion at steady state: no MSC, 1e7 intralesional adipose MSC,
    the same cells with secretion switched off (efferocytosis of the dying cells is then
    their only effect), and an injury without MSC."""
    base = {**msc_parameters(ADSC)}
    silent = {**base, "msc_secretome_rate": 0.0, "msc_gf_rate": 0.0}
    params = np.vstack([model.parameter_vector(p) for p in (base, base, silent, base)])
    y0, status = equilibrate(model, params)
    assert np.all(status == 0)
    dose = msc_dose_events(ADSC, MSCDose(amount=1e7, unit="cells", route="intralesional"))
    injury = Event(0.0, EventKind.SET_STATE, "wound", 1.0)
    return simulate(model, TIMES, params, y0=y0, events=[[], dose, dose, [injury]])


def test_no_therapy_leaves_core_equations_unchanged(model):
    for seed in (1, 2):
        assert_core_equations_unchanged(model, core_point(model, seed=seed))
    # macrophages reach the cores only through the MSC-educated cells: with M2_msc = 0
    # no core equation holds M1 or M2, and M2_msc itself reaches only keratinocyte
    # activation (psoriasis TNF, AD TSLP)
    core = build(modules=())
    m1, m2, educated = (sp.Symbol(n, real=True) for n in ("M1", "M2", "M2_msc"))
    reached = set()
    for name in core.state_names:
        rhs = model.rhs[model.state_index(name)]
        assert not {m1, m2} & rhs.xreplace({educated: 0}).free_symbols, name
        if educated in rhs.free_symbols:
            reached.add(name)
    assert reached == {"TNF", "TSLP"}


def test_healthy_dermis_is_m2_dominated(model):
    m1 = model.states[model.state_index("M1")].initial
    m2 = model.states[model.state_index("M2")].initial
    values = core_point(model, seed=0, M1=m1, M2=m2)
    # with no inflammation signals the healthy M1/M2 pool is at rest (ratio 4): the
    # macrophage module alone on the cores (sympy only, no kernel)
    b = cores.merged_cores()
    macrophages.add(b)
    bare = b.build()
    values.update({sp.Symbol(n, real=True): 0.0 for n in ("IL4", "IL13")})
    for name in ("M1", "M2"):
        assert float(bare.rhs[bare.state_index(name)].xreplace(values)) == pytest.approx(0.0)
    assert m2 / m1 == pytest.approx(4.0)


def test_msc_raise_m2_m1_ratio_in_an_inflamed_lesion(runs):
    assert np.all(runs["status"].values == 0)
    ratio = runs["M2_M1_ratio"].values
    assert ratio[0, 0] > 4.0  # IL-4/IL-13 of the AD lesion already favour M2
    np.testing.assert_allclose(ratio[0], ratio[0, 0], rtol=1e-6)  # steady without MSC
    assert ratio[1, 2] > 1.5 * ratio[0, 2]  # within 2-3 days of MSC (IMM-18)
    assert runs["IL10"].values[1, 2] > runs["IL10"].values[0, 2]
    assert ratio[1, -1] == pytest.approx(ratio[0, -1], rel=0.05)  # hit and run: back by 4 wk


def test_efferocytosis_alone_shifts_toward_m2(runs):
    # no secretion: the pool holds only the equilibration's round-off (about 1e-27 au)
    assert np.all(np.abs(runs["msc_secretome_pool"].values[2]) < 1e-20)
    assert runs["msc_efferocytosis"].values[2, 2] > 0.0
    ratio = runs["M2_M1_ratio"].values
    assert ratio[2, 2] > 1.1 * ratio[0, 2]
    assert ratio[2, 2] < ratio[1, 2]  # less than with the secretome as well


def test_injury_recruits_m1_first(runs):
    m1 = runs["M1"].values
    ratio = runs["M2_M1_ratio"].values
    assert m1[3, 1] > 2.0 * m1[0, 1]
    assert ratio[3, 1] < 0.6 * ratio[0, 1]
    assert runs["macrophages_total"].values[3, 3] > runs["macrophages_total"].values[0, 3]
