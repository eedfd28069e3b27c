"""NONMEM/mrgsolve-style dosing records (ID, TIME, AMT, CMT, EVID, II, ADDL) as regimens."""

from __future__ import annotations

import io

import pytest

from dermatwin.therapy.dosing_records import DosingRecordError, read_dosing_records
from dermatwin.trials.run import items_regimen
from dermatwin.twins.predict import load_regimen

HEADER = "ID,TIME,AMT,CMT,EVID,II,ADDL\n"
DUPILUMAB = HEADER + "1,0,600,dupilumab,1,0,0\n1,14,300,dupilumab,1,14,3\n1,21,0,dupilumab,0,,\n"


def _doses(text: str, **kw):
    items = read_dosing_records(io.StringIO(text), **kw)
    plan = items_regimen(
        [(f"r{i}", it) for i, it in enumerate(items)], horizon_days=120.0, weight_kg=70.0
    ).plan()
    return [(e.time, e.target) for e in plan.events if e.kind.name == "BOLUS"]


def test_records_become_the_same_doses_as_the_label():
    """A 600 mg load then 300 mg every 2 weeks (ADDL 3): boluses on days 0, 14, 28, 42, 56;
    the observation row (EVID 0) is skipped."""
    assert _doses(DUPILUMAB) == [(float(d), "drug_il4r") for d in (0, 14, 28, 42, 56)]


def test_one_subject_of_several():
    text = DUPILUMAB + "2,7,300,dupilumab,1,0,0\n"
    assert _doses(text, subject="2") == [(7.0, "drug_il4r")]
    with pytest.raises(DosingRecordError, match="2 subjects"):
        read_dosing_records(io.StringIO(text))


@pytest.mark.parametrize(
    "text, message",
    [
        ("TIME,AMT,CMT\n0,300,dupilumab\n", "columns EVID missing"),
        (HEADER + "1,0,300,dupilumab,2,0,0\n", "line 2: EVID 2"),
        (HEADER + "1,x,300,dupilumab,1,0,0\n", "line 2: TIME 'x' is not a number"),
        (HEADER + "1,-1,300,dupilumab,1,0,0\n", "TIME '-1'"),
        (HEADER + "1,0,300,dupilumab,1,0,2\n", "II > 0 when ADDL > 0"),
        (HEADER + "1,0,300,nodrug,1,0,0\n", "line 2: CMT 'nodrug' is not a catalogue drug"),
        (HEADER + "1,0,0,dupilumab,0,,\n", "no dose records"),
        ("ID,TIME,AMT,CMT,EVID,RATE\n1,0,300,dupilumab,1,5\n", "RATE"),
    ],
)
def test_bad_records_are_one_line_naming_row_and_column(text, message):
    with pytest.raises(DosingRecordError) as err:
        read_dosing_records(io.StringIO(text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_twin_regimen_can_be_a_dosing_record_file(tmp_path):
    path = tmp_path / "doses.csv"
    path.write_text(HEADER + "1,0,300,dupilumab,1,14,12\n")
    regimen = load_regimen(path)
    assert regimen.name == "doses" and len(regimen.regimen) == 1
    assert regimen.horizon >= 12 * 14 + 28  # covers the last dose by 4 weeks
