"""The integrated skin model with its mechanism modules off is Miyano 2021 + Shmarov 2022."""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_published

from dermatwin.engine.events import intervention
from dermatwin.engine.simulate import REFERENCE_OPTIONS, simulate
from dermatwin.model.reference import miyano2021, shmarov2022
from dermatwin.model.skin import build
from dermatwin.model.skin.cores import psoriasis_renames


@pytest.fixture(scope="module")
def skin():
    return build(modules=())


def test_cores_keep_every_name_and_value(skin):
    ad, pso = miyano2021.build(), shmarov2022.build()
    renames = psoriasis_renames()
    assert renames == {"IL17": "IL17_pso"}
    for ref in (ad, pso):
        for p in ref.parameters:
            name = renames.get(p.name, p.name) if ref is pso else p.name
            assert skin.parameter(name).value == p.value
    assert len(skin.states) == len(ad.states) + len(pso.states)


def test_ad_part_reproduces_miyano_typical_patient(skin):
    times = [0.0, 28.0, 56.0, 112.0]
    ds = simulate(
        skin,
        times,
        steady_state=True,
        events=intervention(skin, "dupilumab", 0.0),
        options=REFERENCE_OPTIONS,
    )
    for k, text in enumerate(["25.23", "6.43", "5.67", "5.49"]):
        assert_published(float(ds["EASI"][0, k]), text)
    # and matches the reference implementation itself to solver precision
    ref = simulate(
        miyano2021.build(),
        times,
        steady_state=True,
        events=intervention(miyano2021.build(), "dupilumab", 0.0),
        options=REFERENCE_OPTIONS,
    )
    np.testing.assert_allclose(ds["EASI"].values, ref["EASI"].values, rtol=1e-7)


def test_psoriasis_part_reproduces_shmarov_plaque(skin):
    events = shmarov2022.dc_stimulus(150.0, 2.0)
    ds = simulate(skin, [0.0, 2000.0], events=events, options=REFERENCE_OPTIONS)
    rename = psoriasis_renames()
    published = {rename.get(k, k): v for k, v in shmarov2022.PUBLISHED_PLAQUE.items()}
    for name, text in published.items():
        assert_published(float(ds[name][0, -1]), text)
    assert_published(float(ds["totC"][0, 0]), "79828")
