"""Reference rows that example trials can express: packaged copies of the shared tables."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from dermatwin.calibration.targets import ROW_TABLES, clinical_rows, observed

SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference"


@pytest.mark.parametrize("name", ROW_TABLES)
def test_packaged_row_tables_match_the_shared_reference(name):
    if not (SHARED / name).exists():
        pytest.skip("no shared/ folder beside this checkout")
    packaged = resources.files("dermatwin.calibration").joinpath(name)
    assert packaged.read_bytes() == (SHARED / name).read_bytes()


def test_controlled_msc_rows_resolve():
    rows = clinical_rows()
    assert observed("AD_ATMSC_ADSTEM2025_P2_EASI75_W16_T") == 23.7
    assert observed("AD_UCBMSC_FURESTEM_P3A_EASI50_W12_P") == 27.16
    assert observed("AD_UCBMSC_FURESTEM_P3A_EASIchg_W12_T") == -10.54  # "(SD ...)" dropped
    assert rows["AD_MSC_KIM2017_HD_EASI50"]["endpoint"] == "EASI-50 responders"
