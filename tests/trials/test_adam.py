"""ADaM-like export of a finished run: ADSL (subjects) and ADQS (subject x score x visit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import small_ad_trial

from dermatwin.trials.adam import ExportError, adam_tables
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.streaming import run_trial_to


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adam") / "run"
    run_trial_to(TrialSpec.model_validate(small_ad_trial(4)), folder)
    return folder


def test_one_subject_record_per_arm_patient(run):
    adsl = adam_tables(run)["adsl"]
    assert len(adsl) == 24 and adsl["USUBJID"].is_unique
    assert set(adsl["ARM"]) == {"dupilumab", "placebo"}
    assert (adsl["TRT01P"] == adsl["ARM"]).all()
    assert set(adsl["SEX"]) <= {"F", "M"} and set(adsl["FLGLOSS"]) <= {"Y", "N"}
    assert (adsl["SIMFL"] == "Y").all()
    assert adsl["STUDYID"].str.fullmatch(r"[A-Z0-9-]+").all()


def test_visits_carry_baseline_change_and_percent_change(run):
    tables = adam_tables(run)
    adqs = tables["adqs"]
    trajectories = pd.read_parquet(run / "trajectories.parquet")
    assert len(adqs) == len(trajectories)
    assert set(adqs["USUBJID"]) == set(tables["adsl"]["USUBJID"])
    base = adqs[adqs["ABLFL"] == "Y"]
    assert (base["AVISIT"] == "Baseline").all() and (base["ADY"] == 0).all()
    np.testing.assert_array_equal(base["AVAL"], base["BASE"])
    easi = adqs[(adqs["PARAMCD"] == "EASI") & (adqs["ADY"] == 28)]
    assert (easi["AVISIT"] == "Week 4").all()
    np.testing.assert_allclose(easi["CHG"], easi["AVAL"] - easi["BASE"])
    np.testing.assert_allclose(easi["PCHG"], 100 * (easi["AVAL"] - easi["BASE"]) / easi["BASE"])
    assert adqs["PARAMCD"].str.len().max() <= 8


def test_a_folder_that_is_no_run_is_one_line(tmp_path):
    with pytest.raises(ExportError) as err:
        adam_tables(tmp_path)
    assert "manifest.json" in str(err.value) and "\n" not in str(err.value)
