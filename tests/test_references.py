"""Every source id cited in code, data and docs resolves in the packaged bibliography."""

from __future__ import annotations

import ast
import csv
import re
from functools import cache
from importlib import resources
from pathlib import Path

import pytest

from dermatwin.references import (
    COLUMNS,
    KINDS,
    Source,
    UnknownSourceError,
    cited_papers,
    id_like_tokens,
    source,
    sources,
)

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "dermatwin"
#: where source ids are cited; the bibliography package itself (its patterns and table) is not
SCANNED = ("src", "docs", "examples", "benchmarks")
TEXT = {".py", ".md", ".yaml", ".yml", ".csv", ".txt", ".toml"}
PROSE = {".py", ".md", ".yaml", ".yml"}  # data tables carry their citations in columns


def scanned_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in SCANNED:
        files += sorted(p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in TEXT)
    own = SRC / "references"
    return [p for p in files if own not in p.parents and p.name != "references.md"]


@cache
def code_identifiers() -> frozenset[str]:
    """Names defined or used in the package's code (``AD_SILENT_STATES``): not source ids."""
    names = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for attr in ("id", "attr", "name", "asname", "arg"):
                value = getattr(node, attr, None)
                if isinstance(value, str):
                    names.add(value)
    return frozenset(names)


def unresolved(paths, root: Path = ROOT) -> dict[str, list[str]]:
    """Id-shaped tokens and author-year citations that are not in the bibliography."""
    known = sources()
    missing: dict[str, list[str]] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        tokens = id_like_tokens(text) - code_identifiers()
        if path.suffix in PROSE:
            tokens |= cited_papers(text)
        for token in sorted(tokens - known.keys()):
            missing.setdefault(token, []).append(str(path.relative_to(root)))
    return missing


def test_every_source_id_in_code_and_docs_resolves():
    missing = unresolved(scanned_files())
    assert not missing, "not in src/dermatwin/references/sources.csv: " + "; ".join(
        f"{token} ({', '.join(files)})" for token, files in missing.items()
    )


def test_the_check_finds_an_unknown_id(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "IL-17, EASI-75 and CAL-1 are not sources; IMM-06, MIYANO2021 and "
        "AD_MSC_KIM2017_HD_EASI50 resolve; IMM-99, FOO2020, AD_MSC_NOBODY_EASI50, "
        "Nobody et al. 2019 do not. Irvine & Tanaka 2021 is a co-author."
    )
    missing = set(unresolved([doc], tmp_path))
    assert missing == {"IMM-99", "FOO2020", "AD_MSC_NOBODY_EASI50", "NOBODY2019"}


def test_calibration_set_ids_name_shipped_sets():
    shipped = {p.stem for p in (SRC / "params" / "sets").glob("*.yaml")}
    cited = set()
    for path in scanned_files():
        cited |= set(re.findall(r"\bCAL-\d+\b", path.read_text(encoding="utf-8")))
    assert cited and cited <= shipped


def test_bibliography_rows_are_complete_and_unique():
    ref = resources.files("dermatwin.references").joinpath("sources.csv")
    with ref.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == COLUMNS == list(Source.__dataclass_fields__)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert {r["kind"] for r in rows} <= set(KINDS)
    for row in rows:
        assert row["citation"] and row["fact"], row["id"]
    assert {"MIYANO2021", "SHMAROV2022"} <= set(ids)


def test_shipped_calibration_outcomes_match_the_bibliography():
    ref = resources.files("dermatwin.calibration").joinpath("clinical_outcomes.csv")
    with ref.open(newline="", encoding="utf-8") as fh:
        outcomes = list(csv.DictReader(fh))
    for row in outcomes:
        entry = source(row["id"])
        assert entry.kind == "clinical"
        assert entry.citation == " ".join(row["citation"].split()), row["id"]


def test_reproduced_models_cite_their_papers():
    assert source("MIYANO2021").url_or_doi == "10.1111/all.14870"
    assert source("SHMAROV2022").url_or_doi == "10.1371/journal.pcbi.1010267"


def test_unknown_source_is_a_one_line_user_error():
    with pytest.raises(UnknownSourceError) as info:
        source("IMM-99")
    message = str(info.value)
    assert "'IMM-99'" in message and "\n" not in message
    with pytest.raises(UnknownSourceError) as info:
        source("X" * 500)
    assert len(str(info.value)) < 120


def test_citation_file_matches_the_package_and_the_bibliography():
    import yaml

    from dermatwin import __version__

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert str(cff["version"]) == __version__
    dois = {ref["doi"] for ref in cff["references"]}
    assert dois == {source(i).url_or_doi for i in ("MIYANO2021", "SHMAROV2022")}
    assert "MIT License" in (ROOT / "LICENSE").read_text()
