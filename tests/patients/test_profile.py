"""Patient profiles: validation and covariate effects."""

from __future__ import annotations

import pytest

from dermatwin.patients.profile import (
    HLA_C0602_SEVERITY,
    Patient,
    PatientError,
    covariate_parameters,
    load_patients,
)


def test_covariates_map_to_parameters():
    ad = Patient(disease="AD", age=50, flg_loss=True, baseline={"EASI": 30})
    assert covariate_parameters(ad) == {"age_years": 50.0, "flg_loss": 1.0}
    pso = Patient(disease="psoriasis", hla_c0602=True)
    assert covariate_parameters(pso, pasi_plaque=20.0)["pasi_plaque"] == 20 * HLA_C0602_SEVERITY


def test_csv_rows_are_named_by_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("disease,age,baseline_EASI\nAD,30,20\nAD,31,80\n")
    with pytest.raises(PatientError, match=r"line 3: .*EASI = 80.0 is outside 0-72"):
        load_patients(path)


def test_yaml_rejects_covariate_of_the_other_disease(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("disease: AD\nhla_c0602: true\n")
    with pytest.raises(PatientError, match="hla_c0602 is a psoriasis covariate"):
        load_patients(path)
