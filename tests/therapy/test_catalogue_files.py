"""The drug catalogue as data: values pinned to the former Python catalogue, a new drug as
one extra file, one-line errors for bad files, and events chosen by exposure kind."""

from __future__ import annotations

import dataclasses
import math
import textwrap
from pathlib import Path

import pytest

from dermatwin.engine.events import EventKind
from dermatwin.model.skin.drugs import SLOTS
from dermatwin.therapy import CATALOGUE, DrugDose, TherapyError, drug_events, drug_parameters
from dermatwin.therapy.catalogue_files import (
    CATALOGUE_PATH_VARIABLE,
    SHIPPED,
    catalogue_folders,
    load_catalogue,
)
from dermatwin.therapy.exposure import EXPOSURE_KINDS

# Values of the catalogue when it was Python calls (repr-exact; compared with ==). The
# one-off comparison of every field of all 21 entries is in the commit's closing note.
PINNED = {
    ("dupilumab", "half_life_days"): 16.582468434448455,
    ("dupilumab", "exposure_per_unit"): 0.13333333333333333,
    ("dupilumab", "ec50"): 1.026373936446097,
    ("tralokinumab", "emax"): 0.435204,
    ("tralokinumab", "ec50"): 1.1043253261913142,
    ("nemolizumab", "exposure_per_unit"): 0.1303780964797914,
    ("upadacitinib", "half_life_days"): 0.4166666666666667,
    ("upadacitinib", "ec50"): 0.02404491734814939,
    ("abrocitinib", "exposure_per_unit"): 0.006,
    ("abrocitinib", "ec50"): 0.06011229337037348,
    ("ustekinumab", "ec50"): 0.015789473684210537,
    ("etanercept", "half_life_days"): 4.25,
    ("etanercept", "ec50"): 0.12343559953892767,
    ("methotrexate", "ec50"): 0.10098865286222743,
    ("emollient", "half_life_days"): math.log(2.0) / 2.0,
    ("uvb", "emax"): 0.0,
}


@pytest.mark.parametrize(("name", "field"), sorted(PINNED))
def test_values_are_those_of_the_former_python_catalogue(name, field):
    assert getattr(CATALOGUE[name], field) == PINNED[name, field]


def test_listing_order_and_sources_kept():
    assert list(CATALOGUE)[:3] == ["dupilumab", "lebrikizumab", "tralokinumab"]
    assert list(CATALOGUE)[-2:] == ["methotrexate", "uvb"]
    assert CATALOGUE["uvb"].label.dose_range == (0.2, 0.7)
    jak1 = CATALOGUE["upadacitinib"]
    assert list(jak1.targets) == ["IL-4", "IL-13", "IL-22", "IL-31", "TSLP", "IFN-g"]
    assert jak1.half_life_source == "label: Rinvoq USPI (terminal half-life 8-14 h)"
    assert CATALOGUE["prednisone"].half_life_source.startswith("assumed: biological")


def test_every_shipped_file_is_an_entry():
    files = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
    assert files == sorted(CATALOGUE)
    assert {d.exposure_kind for d in CATALOGUE.values()} == set(EXPOSURE_KINDS)


NEW_DRUG = """\
# made up: a second IL-17A antibody, in an existing slot (one file, nothing else)
template: psoriasis_antibody
drug_class: anti-IL-17A monoclonal antibody
slot: il17a
targets: {IL-17A: slot}
label:
  dose: 160
  schedule:
    - {start: 0, every: 28, count: 4}
    - {start: 112, every: 56}
  dose_range: [160, 320]
  text: 160 mg every 4 weeks to week 12, then every 8 weeks
  source: "assumed: made-up drug for a test"
half_life:
  days: 23
  source: "assumed: made-up drug for a test"
sources: ["assumed: made-up drug for a test"]
plan_for: [psoriasis]
"""


def test_a_new_drug_in_an_existing_slot_is_one_data_file(tmp_path, monkeypatch):
    (tmp_path / "examplizumab.yaml").write_text(NEW_DRUG)
    monkeypatch.setenv(CATALOGUE_PATH_VARIABLE, str(tmp_path))
    entries = load_catalogue(catalogue_folders())
    new = entries["examplizumab"]
    assert list(entries)[-1] == "examplizumab"  # unnumbered: listed after the shipped ones
    assert (new.slot, new.emax, new.occupancy) == ("il17a", SLOTS["il17a"].emax, 0.95)
    assert new.exposure_per_unit == CATALOGUE["secukinumab"].exposure_per_unit
    # the running catalogue with the entry: doses, events and parameters just work
    monkeypatch.setitem(CATALOGUE, "examplizumab", new)
    events = drug_events(DrugDose("examplizumab", 160.0, "mg"), horizon_days=120.0)
    assert [(e.time, e.target) for e in events] == [
        (t, "drug_il17a") for t in (0.0, 28.0, 56.0, 84.0, 112.0)
    ]
    assert set(drug_parameters("examplizumab")) == {
        f"il17a_{p}" for p in ("kel", "ec50", "emax", "hill")
    }


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


BASE = NEW_DRUG.replace("plan_for: [psoriasis]\n", "")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("slot: il17a", "slot: il99"), "slot: unknown slot 'il99'; allowed: il4r"),
        (("slot: il17a", "slot: il17a\ncolour: blue"), "unknown field 'colour'; allowed: templ"),
        (("template: psoriasis_antibody", "template: biologic"), "template: unknown template"),
        (("targets: {IL-17A: slot}", "targets: {IL-17A: 1.5}"), "targets.IL-17A: maximal"),
        (("targets: {IL-17A: slot}", "targets: {IL-17A: big}"), "expected a number or one of"),
        (("dose: 160", "dose: 100"), "label: needs 0 < dose_range low <= dose"),
        (('  source: "assumed: made-up drug for a test"\nsources', "sources"), "half_life.source"),
        (("slot: il17a", "slot: il17a\nexposure_kind: magic"), "unknown exposure kind 'magic'"),
        (("slot: il17a", "slot: il17a\nplan_for: [AD]"), "plan_for: allowed: psoriasis"),
        (("slot: il17a", "slot: il17a\nroute: nasal"), "route: Input should be 'SC'"),
        (("    - {start: 112, every: 56}\n", "    - {start: 112, every: 0}\n"), "every"),
    ],
)
def test_bad_drug_file_is_one_line_naming_file_and_field(tmp_path, edit, message):
    path = _write(tmp_path, "bad", BASE.replace(*edit))
    with pytest.raises(TherapyError) as err:
        load_catalogue([tmp_path])
    text = str(err.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_a_shipped_name_cannot_be_redefined_and_extra_folders_must_exist(tmp_path, monkeypatch):
    _write(tmp_path, "dupilumab", BASE)
    with pytest.raises(TherapyError, match="drug 'dupilumab' is already defined in"):
        load_catalogue([SHIPPED, tmp_path])
    monkeypatch.setenv(CATALOGUE_PATH_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(TherapyError, match=f"^{CATALOGUE_PATH_VARIABLE}: .* is not a folder"):
        catalogue_folders()


def test_events_follow_the_exposure_kind_not_the_name(monkeypatch):
    vehicle = dataclasses.replace(CATALOGUE["placebo"], name="vehicle")
    lamp = dataclasses.replace(CATALOGUE["uvb"], name="lamp")
    monkeypatch.setitem(CATALOGUE, "vehicle", vehicle)
    monkeypatch.setitem(CATALOGUE, "lamp", lamp)
    events = drug_events(DrugDose("vehicle", 1.0, "switch", stop_day=56.0))
    assert [(e.time, e.kind, e.target, e.value) for e in events] == [
        (0.0, EventKind.SET_PARAMETER, "PLAC", 1.0),
        (56.0, EventKind.SET_PARAMETER, "PLAC", 0.0),
    ]
    assert drug_events(DrugDose("lamp", 0.7, "J/cm2")) == drug_events(DrugDose("uvb", 0.7, "J/cm2"))
    with pytest.raises(TherapyError, match="^phases: lamp follows the SHMAROV2022 ladder"):
        DrugDose("lamp", 0.7, "J/cm2", phases=())
