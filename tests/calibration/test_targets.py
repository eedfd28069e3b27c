"""Reference rows that example trials can express: packaged copies of the shared tables."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
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


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"


def test_packaged_trials_are_the_examples():
    """The trials calibration ships are byte for byte the user-facing examples."""
    packaged = resources.files("dermatwin.calibration").joinpath("trials")
    names = sorted(p.name for p in packaged.iterdir() if p.name.endswith(".yaml"))
    assert names == sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    for name in names:
        assert packaged.joinpath(name).read_bytes() == (EXAMPLES / name).read_bytes(), name


def test_validation_reads_its_trials_from_the_package(monkeypatch):
    """An installed wheel has no examples/ folder: validate's trials come from package data."""
    from dermatwin.calibration import validate

    read = []

    def load_trial(path):
        read.append(Path(path).resolve())
        return real(path)

    real = validate.load_trial
    monkeypatch.setattr(validate, "load_trial", load_trial)
    assert validate.reference_trials()
    package = Path(str(resources.files("dermatwin.calibration"))).resolve()
    assert read and all(p.is_relative_to(package) for p in read)
    assert not any(p.is_relative_to(EXAMPLES.resolve()) for p in read)


def test_a_pooled_rows_interval_is_its_published_se():
    """A pooled row (a meta-analysis' mean with its CI) is not a trial of n patients: its
    interval is the virtual mean's own bootstrap plus the published SE."""
    from dermatwin.calibration.targets import _quantiles

    flat = np.full(500, 30.0)  # no spread between virtual patients: only the SE remains
    low, median, high = _quantiles([(flat, 1.0)], 100, (1, 0), -1.0, se=5.0)
    assert median == pytest.approx(-30.0, abs=0.3)
    assert high - low == pytest.approx(2 * 1.96 * 5.0, rel=0.08)
    # without the SE: a trial of 100 patients with no spread has none either
    assert _quantiles([(flat, 1.0)], 100, (1, 0), -1.0) == (-30.0, -30.0, -30.0)
