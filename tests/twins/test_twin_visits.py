"""Visit files: the examples load; bad rows fail with the file, line and field named."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.therapy.items import DrugItem, MSCItem
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


YAML_HEAD = "patient: {disease: AD}\nvisits: [{day: 0, EASI: 20}]\n"
MSC = "source: umbilical_cord, origin: allogeneic, amount: 2.0e6, unit: cells/kg, route: IV"

#: (file name, content, part of the one-line error): every class of bad visit file
BAD_FILES = {
    "non-UTF-8 CSV": ("v.csv", b"# disease: AD\nday,EASI\n0,3\xff\n", "v.csv line 3: not UTF-8"),
    "non-UTF-8 YAML": ("v.yaml", b"patient: {disease: AD\xe9}\n", "v.yaml line 1: not UTF-8"),
    "empty CSV": ("v.csv", "", "v.csv line 1: no header row"),
    "huge file": ("v.csv", HEADER + "0,30,,,,,\n#" + "x" * (1 << 20), "v.csv: 1048"),
    "date typed as day": ("v.csv", HEADER + "0,30,,,,,\n20250106,20,,,,,\n", "v.csv line 5: day:"),
    "dates over 104 weeks": (
        "v.csv",
        "# disease: AD\ndate,EASI\n2024-01-01,30\n2026-06-01,20\n",
        "v.csv line 4: date: 2026-06-01 is 882 days",
    ),
    "NaN day": ("v.csv", HEADER + "0,30,,,,,\nnan,20,,,,,\n", "v.csv line 5: day: 'nan'"),
    "score true": ("v.yaml", YAML_HEAD.replace("EASI: 20", "EASI: true"), "v.yaml visits[0]: EASI"),
    "duplicate column": ("v.csv", "# disease: AD\nday,EASI,EASI\n0,3,4\n", "v.csv line 2: EASI:"),
    "duplicate alias": ("v.csv", "# disease: AD\nday,EASI,NRS,pruritus\n0,3,4,5\n", "line 2: pru"),
    "blank unknown column": (
        "v.csv",
        "# disease: AD\nday,EASI,FOO\n0,3,\n",
        "line 2: FOO: unknown",
    ),
    "long unknown column": ("v.csv", "# disease: AD\nday," + "X" * 500 + "\n0,3\n", "line 2: XXX"),
    "non-text key": ("v.yaml", YAML_HEAD.replace("EASI: 20", "EASI: 20, 5: 1"), "key '5'"),
    "profile twice": (
        "v.csv",
        "# disease: AD\n# age: 3\n# age: 30\nday,EASI\n0,3\n",
        "line 3: age",
    ),
    "patient a list": (
        "v.yaml",
        "patient: [AD]\nvisits: [{day: 0, EASI: 2}]\n",
        "v.yaml: patient:",
    ),
    "treatments a number": (
        "v.yaml",
        YAML_HEAD + "treatments: 5\n",
        "v.yaml: treatments: expected",
    ),
    "treatment a string": (
        "v.yaml",
        YAML_HEAD + "treatments: [x]\n",
        "v.yaml: treatments: expected",
    ),
    "start beyond 104 weeks": (
        "v.yaml",
        YAML_HEAD + "treatments: [{drug: dupilumab, start: 1.0e6}]\n",
        "v.yaml: treatments[0]: start: 1e+06 is outside 0-728",
    ),
    "stop before start": (
        "v.yaml",
        YAML_HEAD + "treatments: [{drug: dupilumab, start: 20, stop: 10}]\n",
        "v.yaml: treatments[0]: stop: a day after start (20), got 10",
    ),
    "MSC times a string": (
        "v.yaml",
        YAML_HEAD + f"treatments: [{{msc: {{{MSC}, times: '14'}}}}]\n",
        "v.yaml: treatments[0]: msc: times: expected a list",
    ),
    "until beyond 104 weeks": (
        "v.csv",
        "# disease: AD\nday,EASI,treatment,until\n0,30,dupilumab,1e12\n",
        "v.csv line 3: until: '1e12' is outside 0-728",
    ),
    "until before the row": (
        "v.csv",
        "# disease: AD\nday,EASI,treatment,until\n0,30,,\n14,20,dupilumab,7\n",
        "v.csv line 4: until: day 7 is before the start",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_visit_files_are_one_line(tmp_path, case):
    name, content, expected = BAD_FILES[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(TwinDataError) as err:
        load_visits(path)
    message = str(err.value)
    # the file is named first (as given, or by its full path when the YAML reader refuses)
    assert message.split(" ")[0].rstrip(":").endswith(name) and expected in message, message
    assert "\n" not in message and len(message) < 300, message
    assert "instance of" not in message and "function-after" not in message, message


def test_folder_is_one_line(tmp_path):
    with pytest.raises(TwinDataError, match="is a folder; expected a visit file"):
        load_visits(tmp_path)


def test_row_and_day_limits_and_their_edges(tmp_path):
    """1,000 rows up to day 728 (104 weeks) are a record; one row more is refused."""
    rows = "".join(f"{0.728 * i:.3f},20,,,,,\n" for i in range(999)) + "728,20,,,,,\n"
    record = load_visits(_csv(tmp_path, rows))
    assert len(record.visits) == 1000 and record.last_day == 728.0
    with pytest.raises(TwinDataError, match=r"^visits.csv: visits: more than 1000 rows$"):
        load_visits(_csv(tmp_path, rows + "728,20,,,,,\n"))
