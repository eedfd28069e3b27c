"""Visit files: the examples load; bad rows fail with the file, line and field named."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.trials.spec import DrugItem, MSCItem
from dermatwin.twins.visits import TwinDataError, load_visits

HEADER = "# disease: AD\n# age: 30\nday,EASI,SCORAD,IGA,treatment,amount,unit\n"


def _csv(tmp_path, rows: str, header: str = HEADER):
    path = tmp_path / "visits.csv"
    path.write_text(header + rows)
    return path


def test_examples_load(examples_dir):
    ad = load_visits(examples_dir / "twins" / "ad_patient.csv")
    assert ad.patient.disease == "AD" and ad.patient.flg_loss is True
    assert [v.day for v in ad.visits] == [0.0, 28.0, 56.0, 84.0]
    assert ad.visits[1].values["EASI"] == 21.5 and "TARC" not in ad.visits[2].values
    assert ad.treatments == (DrugItem(drug="dupilumab", amount=300.0, unit="mg", start=0.0),)
    pso = load_visits(examples_dir / "twins" / "psoriasis_patient.yaml")
    assert pso.patient.hla_c0602 is True
    assert any(isinstance(t, MSCItem) for t in pso.treatments)


def test_dates_become_days_and_msc_rows_merge(tmp_path):
    header = "# disease: AD\ndate,EASI,treatment,amount,unit,route,source,origin,state\n"
    rows = (
        "2025-01-06,30,msc,2e6,cells/kg,IV,umbilical_cord,allogeneic,thawed\n"
        "2025-01-20,,msc,2e6,cells/kg,IV,umbilical_cord,allogeneic,thawed\n"
        "2025-02-03,24,,,,,,,\n"
    )
    rec = load_visits(_csv(tmp_path, rows, header))
    assert [v.day for v in rec.visits] == [0.0, 28.0]  # the dose-only row is no visit
    (msc,) = rec.treatments
    assert msc.msc["times"] == [0.0, 14.0]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("0,30,60,4,,,\n28,80,50,3,,,\n", "visits.csv line 5: EASI: 80 is outside 0-72"),
        ("0,30,60,4,,,\n28,-2,50,3,,,\n", "visits.csv line 5: EASI: -2 is outside 0-72"),
        ("0,30,60,4,,,\n28,20,50,9,,,\n", "visits.csv line 5: IGA: 9 is outside 0-4"),
        ("0,30,60,4,,,\n56,20,,,,,\n28,20,,,,,\n", "visits.csv line 6: day/date: visits out of"),
        ("0,30,60,4,wonderdrug,1,mg\n", "visits.csv line 4: treatment: unknown drug 'wonderdrug'"),
        ("0,30,60,4,dupilumab,9000,mg\n", "visits.csv line 4: amount: dupilumab dose 9000"),
        ("0,thirty,60,4,,,\n", "visits.csv line 4: EASI: expected a number"),
    ],
)
def test_bad_rows_name_line_and_field(tmp_path, rows, expected):
    with pytest.raises(TwinDataError) as err:
        load_visits(_csv(tmp_path, rows))
    assert str(err.value).startswith(expected), str(err.value)
    assert "\n" not in str(err.value)


def test_dates_out_of_order(tmp_path):
    text = "# disease: AD\ndate,EASI\n2025-03-01,30\n2025-02-01,20\n"
    path = tmp_path / "v.csv"
    path.write_text(text)
    with pytest.raises(TwinDataError, match=r"v.csv line 4: day/date: visits out of order"):
        load_visits(path)


def test_bad_profile_and_psoriasis_score(tmp_path):
    with pytest.raises(TwinDataError, match="patient: disease"):
        load_visits(_csv(tmp_path, "0,30,60,4,,,\n", "# disease: eczema\nday,EASI\n"))
    with pytest.raises(TwinDataError, match="line 3: PASI: not a AD score"):
        load_visits(_csv(tmp_path, "0,12\n", "# disease: AD\nday,PASI\n"))


def test_yaml_unknown_drug(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "patient: {disease: AD}\nvisits:\n  - {day: 0, EASI: 20}\ntreatments:\n  - {drug: nodrug}\n"
    )
    with pytest.raises(TwinDataError, match=r"p.yaml: treatments\[0\]: drug: unknown drug"):
        load_visits(path)


def test_cli_bad_file_one_line_exit_2(tmp_path):
    path = _csv(tmp_path, "0,30,60,4,,,\n28,80,50,3,,,\n")
    out = tmp_path / "twin"
    result = CliRunner().invoke(app, ["twin", "fit", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip() == "error: visits.csv line 5: EASI: 80 is outside 0-72"
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [path]
