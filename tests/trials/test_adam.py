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


# -- rescue flags and the streamed CSV -----------------------------------------------------
RESCUE = {
    "when": "EASI >= 0.9 x baseline",
    "earliest": "2 weeks",
    "therapy": [{"drug": "topical_steroid", "stop": "4 weeks"}],
}


@pytest.fixture(scope="module")
def rescue_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adam_rescue") / "run"
    endpoints = ["EASI-50@8w", "rescue@8w", "time_to_rescue"]
    spec = small_ad_trial(8, rescue=RESCUE, endpoints=endpoints)
    run_trial_to(TrialSpec.model_validate(spec), folder)
    return folder


def test_rescue_flags_and_days_agree_with_the_rescue_endpoints(rescue_run):
    endpoints = pd.read_parquet(rescue_run / "endpoints.parquet")
    tables = adam_tables(rescue_run)
    adsl, adqs = tables["adsl"], tables["adqs"]
    hit = endpoints["time_to_rescue_event"].to_numpy() == 1
    assert 0 < hit.sum() < len(hit)  # some subjects rescued, not all
    np.testing.assert_array_equal(adsl["RESCFL"] == "Y", hit)
    np.testing.assert_array_equal(adsl["RESCDY"][hit], endpoints["time_to_rescue"][hit])
    assert adsl["RESCDY"][~hit].isna().all()
    # a record is after rescue exactly when its day is past the subject's rescue visit
    day = adqs["USUBJID"].map(adsl.set_index("USUBJID")["RESCDY"])
    np.testing.assert_array_equal(adqs["AFTRESFL"] == "Y", adqs["ADY"] > day)
    assert (adqs["AFTRESFL"] == "Y").any()


def test_a_run_without_a_rescue_rule_has_no_rescue_variables(run):
    tables = adam_tables(run)
    assert "RESCFL" not in tables["adsl"] and "AFTRESFL" not in tables["adqs"]


def test_the_streamed_csv_equals_the_in_memory_tables(rescue_run, tmp_path):
    from dermatwin.trials.adam import write_adam

    rows = write_adam(rescue_run, tmp_path)
    tables = adam_tables(rescue_run)
    for name, table in tables.items():
        written = pd.read_csv(
            tmp_path / f"{name}.csv", keep_default_na=False, na_values=[""], dtype={"SUBJID": str}
        )
        assert rows[name] == len(table) == len(written)
        assert list(written.columns) == list(table.columns)
        pd.testing.assert_frame_equal(
            written, table.reset_index(drop=True), check_dtype=False, check_exact=False, rtol=1e-12
        )


def test_cli_export_writes_both_tables(rescue_run, tmp_path, capsys):
    from dermatwin.cli import main

    out = tmp_path / "adam"
    with pytest.raises(SystemExit) as exit_:
        main(["trial", "export", str(rescue_run), "--out", str(out)])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "adsl.csv (24 rows)" in text and "adqs.csv (" in text
    header = (out / "adqs.csv").read_text().splitlines()[0]
    assert header.endswith("ABLFL,AFTRESFL") and header.startswith("STUDYID,USUBJID,TRTP")
