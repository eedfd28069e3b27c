"""The bibliography: every source id cited in code, data and docs, with its citation.

Source ids are the row ids of the project's reference data (``IMM-06``, ``PER-21``,
``BIO-01d``: biology and physiology numbers; ``AD_MSC_KIM2017_HD_EASI50``: clinical
outcomes and MSC evidence) and author-year ids of models and papers (``MIYANO2021``,
``SHMAROV2022``, ``CHOPRA2017``). ``sources.csv`` ships with the package (rebuilt by
``python -m dermatwin.references.build REFERENCE_DIR``); ``docs/references.md`` is
generated from it by ``python -m dermatwin.docs``.

>>> from dermatwin.references import source
>>> source("MIYANO2021").url_or_doi
'10.1111/all.14870'
"""

from __future__ import annotations

import csv
import re
from dataclasses import astuple, dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from dermatwin._base.errors import DermatwinError

SOURCES_CSV = Path(__file__).with_name("sources.csv")
COLUMNS = ["id", "kind", "fact", "citation", "url_or_doi", "verification", "notes"]

#: kinds in the order the docs page lists them, with a heading and what they are
KINDS = {
    "model": ("Reproduced models", "the published models dermatwin re-implements"),
    "paper": (
        "Papers cited by name",
        "papers named in code and docs (author and year); clinical numbers from a trial "
        "paper are its rows under Clinical outcomes",
    ),
    "parameter": (
        "Biology and physiology parameters",
        "one number per row: MSC biodistribution (BIO), immunomodulation (IMM), "
        "pharmacokinetics (PK), angiogenesis and secretion (ANG), barrier and TEWL (BAR), "
        "personalisation (PER), scarring and ageing (SCA), clinical context (CLN) and "
        "modelling conventions (MOD)",
    ),
    "clinical": (
        "Clinical outcomes",
        "published trial, case-series and natural-history numbers: the calibration set "
        "(also shipped as dermatwin/calibration/clinical_outcomes.csv)",
    ),
    "msc-evidence": (
        "MSC evidence",
        "controlled and uncontrolled results of MSC products in skin and immune disease; "
        "'news/press' rows are company disclosures, not peer-reviewed",
    ),
}


class UnknownSourceError(DermatwinError, KeyError):
    """A source id that is not in the bibliography."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Source:
    """One bibliography entry. ``fact``: what the source gives (value and unit for a
    parameter or outcome row); ``verification``: how the fact was checked."""

    id: str
    kind: str
    fact: str
    citation: str
    url_or_doi: str
    verification: str
    notes: str


@cache
def sources() -> dict[str, Source]:
    """Every entry of the packaged bibliography, by id (file order)."""
    ref = resources.files(__package__).joinpath("sources.csv")
    with ref.open(newline="", encoding="utf-8") as fh:
        return {row["id"]: Source(**row) for row in csv.DictReader(fh)}


def source(source_id: str) -> Source:
    """The entry for ``source_id``; :class:`UnknownSourceError` if there is none."""
    try:
        return sources()[source_id]
    except KeyError:
        shown = source_id if len(source_id) <= 40 else source_id[:37] + "..."
        raise UnknownSourceError(
            f"unknown source id {shown!r}: not in the bibliography (docs/references.md)"
        ) from None


def table():
    """The bibliography as a pandas DataFrame (one row per source id)."""
    import pandas as pd

    return pd.DataFrame([astuple(s) for s in sources().values()], columns=COLUMNS)


# -- finding source ids in text ------------------------------------------------------------
#: id-shaped tokens: ``IMM-06``/``BIO-01d``; ``MIYANO2021``; ``AD_MSC_KIM2017_HD_EASI50``
#: (a row id starts with a prefix used by the reference data and is not part of a path)
_DASH = re.compile(r"\b[A-Z][A-Z0-9]{1,7}-\d{1,3}[a-z]?\b")
_AUTHOR_YEAR = re.compile(r"\b[A-Z]{3,}(?:19|20)\d\d[a-z]?\b")

#: tokens shaped like a dash id that name something else, with what they are
NOT_SOURCES = {
    r"IL-\d+": "interleukins (cytokines)",
    r"(?:EASI|PASI|SCORAD)-\d+": "endpoints (EASI-75: 75 % improvement)",
    r"(?:SOLO|MONO|PHOENIX)-\d": "trial names (SOLO-1, JADE MONO-1, PHOENIX-1)",
    r"TSG-6|MMP-\d+": "proteins",
    r"SHA-256|UTF-8": "standards (hash, text encoding)",
    r"(?:AD|PSO)-\d{3}": "example patient ids (examples/twins)",
    r"CAL-\d+": "calibrated parameter sets (dermatwin/params/sets)",
}
_NOT_SOURCE = re.compile("|".join(f"(?:{p})" for p in NOT_SOURCES))


@cache
def _row_id_pattern() -> re.Pattern[str]:
    prefixes = sorted({i.split("_")[0] for i in sources() if "_" in i}, key=len, reverse=True)
    return re.compile(rf"(?<![/.\w])(?:{'|'.join(prefixes)})_[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*\b")


def id_like_tokens(text: str) -> set[str]:
    """Tokens of ``text`` shaped like source ids, less the :data:`NOT_SOURCES` look-alikes.

    Each should resolve in :func:`sources`; code identifiers such as ``AD_SILENT_STATES``
    match the row-id shape too and are for the caller to set aside.
    """
    found = {m.group() for m in _DASH.finditer(text) if not _NOT_SOURCE.fullmatch(m.group())}
    found |= {m.group() for m in _AUTHOR_YEAR.finditer(text)}
    found |= {m.group() for m in _row_id_pattern().finditer(text)}
    return found


#: ``Simpson et al. 2016``, ``Shmarov 2022``, ``(Newcombe 1998, ...)``: name and year
_CITED = re.compile(
    r"(?<!\w)([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?:\s+et\s+al\.?)?,?\s+\(?((?:19|20)\d\d)\b(?!-\d)"
)
_CO_AUTHOR = re.compile(r"(?:&|\band)\s+$")
#: capitalised words followed by a year that are not authors
NOT_AUTHORS = frozenset({"Seed", "Allergy", "Biol", "Pharmacol", "Dermatol", "Immunol", "Lancet"})


def cited_papers(text: str) -> set[str]:
    """Author-year ids of papers cited by name in ``text`` (``Simpson et al. 2016`` ->
    ``SIMPSON2016``); co-authors after ``&`` or ``and`` are not first authors."""
    ids = set()
    for m in _CITED.finditer(text):
        name, year = m.groups()
        if name in NOT_AUTHORS or _CO_AUTHOR.search(text[max(0, m.start() - 8) : m.start()]):
            continue
        ids.add(name.replace("-", "").upper() + year)
    return ids


# -- docs page ----------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def page() -> str:
    """docs/references.md: the bibliography by kind."""
    entries = list(sources().values())
    lines = [
        "# References",
        "",
        "<!-- generated by `python -m dermatwin.docs`; do not edit by hand -->",
        "",
        "Every source id cited in dermatwin's code, data and docs, with what it gives, "
        "its citation and how the number was checked (the `verification` notes of the "
        "reference data: `verified-abstract`, `derived`, `model-assumption`, `UNVERIFIED`, "
        "...). Check a number against the primary source before relying on it. In Python: "
        '`dermatwin.references.source("IMM-06")`; the table is '
        "`dermatwin/references/sources.csv` (`dermatwin.references.table()`).",
        "",
        f"{len(entries)} sources: "
        + ", ".join(
            f"[{heading}](#{heading.lower().replace(' ', '-')}) "
            f"({sum(e.kind == kind for e in entries)})"
            for kind, (heading, _) in KINDS.items()
        )
        + ".",
    ]
    for kind, (heading, what) in KINDS.items():
        lines += ["", f"## {heading}", "", what[0].upper() + what[1:] + ".", ""]
        lines += ["| id | what | citation | DOI / URL | checked | notes |", "|---" * 6 + "|"]
        for e in entries:
            if e.kind == kind:
                cells = (f"`{e.id}`", e.fact, e.citation, e.url_or_doi, e.verification, e.notes)
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


__all__ = [
    "KINDS",
    "NOT_SOURCES",
    "Source",
    "UnknownSourceError",
    "cited_papers",
    "id_like_tokens",
    "page",
    "source",
    "sources",
    "table",
]
