"""`dermatwin import sbml` on malformed and unsupported files: always one line
``error: ...`` naming what is wrong, exit 2, never a traceback.

Named cases: files that are not XML, not SBML, Level 1, truncated, without ids, and each
construct the engine cannot run. Then a seeded fuzz: the test model with random edits
(attributes removed or given odd values, elements dropped, text cut), each either imported
or refused in one line.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import libsbml
import pytest

from dermatwin.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "sbml"
PULSE = DATA / "enzyme_pulse_l2v4.xml"
TEXT = PULSE.read_text()


def run_import(path: Path, capsys) -> tuple[int, str, str]:
    try:
        main(["import", "sbml", str(path)])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(path: Path, capsys, *words: str) -> str:
    code, out, err = run_import(path, capsys)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]


def l3(change) -> str:
    """The test model as Level 3 Version 2, changed by ``change(model)``."""
    doc = libsbml.readSBMLFromString(TEXT)
    assert doc.setLevelAndVersion(3, 2, False)
    change(doc.getModel())
    return libsbml.writeSBMLToString(doc)


def _math(element, formula: str) -> None:
    element.setMath(libsbml.parseL3Formula(formula))


def _no_kinetic_law(m):
    m.getReaction("conversion").unsetKineticLaw()


def _rate_of(m):
    _math(m.getRateRule("A"), "rateOf(S)")


def _unknown_function(m):
    _math(m.getRateRule("A"), "factorial(S)")


def _no_size(m):
    m.getCompartment("medium").unsetSize()


def _no_initial(m):
    m.getSpecies("S").unsetInitialConcentration()


def _time_units_mole(m):
    m.setTimeUnits("mole")


def _required_package(m):
    doc = m.getSBMLDocument()
    doc.enablePackage(libsbml.CompExtension.getXmlnsL3V1V1(), "comp", True)
    doc.setPackageRequired("comp", True)
    plugin = m.getPlugin("comp")
    sub = plugin.createSubmodel()
    sub.setId("sub")
    sub.setModelRef("enzyme_pulse")


CASES = {
    "empty file": ("", ["not a readable SBML document"]),
    "not XML": ("this is not xml { ] >", ["not a readable SBML document"]),
    "binary": ("\x00\x01\x02 sbml", ["not a readable SBML document"]),
    "XML, not SBML": ("<?xml version='1.0'?><html><body/></html>", ["not a readable SBML"]),
    "truncated": (TEXT[: len(TEXT) // 2], ["not a readable SBML document"]),
    "no model": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" '
        'level="3" version="2"/>',
        ["no model element"],
    ),
    "species without id": (TEXT.replace('<species id="P" ', "<species "), ["not a readable"]),
    "duplicate id": (
        TEXT.replace('<parameter id="Km"', '<parameter id="kcat"'),
        ["not a valid SBML document", "line 36", "duplicate"],
    ),
    "undefined species": (
        TEXT.replace('<species id="P" compartment="cell"', '<species id="P" compartment="vat"'),
        ["not a valid SBML document", "vat"],
    ),
    "fast reaction": (
        TEXT.replace('id="conversion" reversible="false"', 'id="conversion" fast="true"'),
        ["fast reaction 'conversion'"],
    ),
    "reaction without kinetic law": (l3(_no_kinetic_law), ["'conversion'", "kinetic law"]),
    "rateOf": (l3(_rate_of), ["rateOf"]),
    "unsupported maths": (l3(_unknown_function), ["factorial"]),
    "compartment without size": (l3(_no_size), ["'medium'", "size"]),
    "species without initial value": (l3(_no_initial), ["'S'", "initial value"]),
    "time units not a time": (l3(_time_units_mole), ["time units", "second"]),
    "required package": (l3(_required_package), ["package 'comp'"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_or_unsupported_file_is_one_line(name, tmp_path, capsys):
    text, words = CASES[name]
    path = tmp_path / "model.xml"
    path.write_text(text, encoding="utf-8")
    assert_refused(path, capsys, *words)


LEVEL1 = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level1" level="1" version="2">
  <model name="decay">
    <listOfCompartments><compartment name="cell" volume="1"/></listOfCompartments>
    <listOfSpecies><species name="S" compartment="cell" initialAmount="3"/></listOfSpecies>
    <listOfParameters><parameter name="k" value="0.1"/></listOfParameters>
    <listOfReactions>
      <reaction name="loss" reversible="false">
        <listOfReactants><speciesReference species="S"/></listOfReactants>
        <kineticLaw formula="k * S"/>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
"""


def test_level1_is_read_and_unreadable_bytes_are_refused(tmp_path, capsys):
    path = tmp_path / "l1.xml"
    path.write_text(LEVEL1)
    code, out, err = run_import(path, capsys)  # converted to Level 2 first
    assert code == 0 and "Traceback" not in out + err, err
    assert "decay" in out and "S" in out
    path.write_text(LEVEL1.replace('species="S"', 'specie="S"'))  # Level 1 Version 1's name
    assert_refused(path, capsys, "not a readable SBML document", "line 9", "'specie'")
    latin = tmp_path / "latin1.xml"
    latin.write_bytes(TEXT.replace("enzyme kinetics", "enzym\xe9").encode("latin-1"))
    assert_refused(latin, capsys, "cannot read the SBML file")


# -- seeded fuzz: random edits of the test model -------------------------------------------
ATTRIBUTE = re.compile(r' (\w+)="([^"]*)"')
ODD_VALUES = ["", "-1", "nan", "INF", "1e400", "x y", "0", "true", "__", "1/0"]


def mutate(text: str, rng: random.Random) -> str:
    """One random edit: remove or change an attribute, drop an element line, cut the text."""
    lines = text.splitlines(keepends=True)
    kind = rng.choice(["drop attribute", "odd value", "drop line", "cut", "swap"])
    if kind == "cut":
        return text[: rng.randrange(len(text))]
    i = rng.randrange(len(lines))
    if kind == "drop line":
        return "".join(lines[:i] + lines[i + 1 :])
    if kind == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    matches = [(n, m) for n, line in enumerate(lines) for m in ATTRIBUTE.finditer(line)]
    n, m = rng.choice(matches)
    new = "" if kind == "drop attribute" else f' {m[1]}="{rng.choice(ODD_VALUES)}"'
    lines[n] = lines[n][: m.start()] + new + lines[n][m.end() :]
    return "".join(lines)


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_import_or_fail_in_one_line(seed, tmp_path, capsys):
    rng = random.Random(seed)
    path = tmp_path / "fuzzed.xml"
    outcomes = {0: 0, 2: 0}
    for _ in range(10):
        path.write_text(mutate(TEXT, rng))
        code, out, err = run_import(path, capsys)
        assert code in outcomes and "Traceback" not in out + err, (code, err, path.read_text())
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
        outcomes[code] += 1
    assert sum(outcomes.values()) == 10
