"""NONMEM/mrgsolve-style dosing records as regimen items.

Pharmacometricians keep doses as event records: one row per dose, with the columns of a
NONMEM data set (``ID``, ``TIME``, ``AMT``, ``CMT``, ``EVID``, optionally ``II`` and
``ADDL``; mrgsolve uses the same names). :func:`read_dosing_records` reads such a CSV and
returns the :class:`~dermatwin.therapy.items.DrugItem` of every dose record, so that the
doses can be given wherever a regimen is accepted (e.g. ``dermatwin twin predict --regimen
doses.csv``):

* ``TIME``: day of the dose (dermatwin's model time is in days; convert hours before);
* ``AMT``: the amount in the drug's catalogue unit (mg, mg/kg, applications, ...);
* ``CMT``: the drug, by its catalogue name (``dupilumab``, ``topical_steroid``, ...)
  rather than a compartment number, since each catalogue drug has one exposure state;
* ``EVID``: 1 (a dose); 0 (an observation) rows are skipped; anything else is refused;
* ``II`` and ``ADDL`` (optional): ``ADDL`` additional doses every ``II`` days;
* ``RATE`` (optional) must be 0 or empty: zero-order infusions are not records here
  (oral daily drugs already enter as a continuous input; see the catalogue);
* ``ID`` (optional): with several subjects, ``subject`` picks one.

Every problem is one line naming the row and column. Unknown columns are ignored
(data sets carry observations and covariates too).

>>> import io
>>> text = "ID,TIME,AMT,CMT,EVID,II,ADDL\\n1,0,600,dupilumab,1,0,0\\n1,14,300,dupilumab,1,14,3\\n"
>>> [(i.start, i.amount, i.every) for i in read_dosing_records(io.StringIO(text))]
[(0.0, 600.0, 0.041666666666666664), (14.0, 300.0, 14.0)]
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import IO

from dermatwin._base.errors import DermatwinError
from dermatwin.therapy.drugs import CATALOGUE
from dermatwin.therapy.items import MIN_EVERY_DAYS, DrugItem

REQUIRED = ("TIME", "AMT", "CMT", "EVID")


class DosingRecordError(DermatwinError):
    """A dosing record file that cannot be read (one line naming the row and column)."""


def _number(row: dict, column: str, where: str, default: float | None = None) -> float:
    text = (row.get(column) or "").strip()
    if not text and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise DosingRecordError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise DosingRecordError(f"{where}: {column} {text!r}; allowed: a number >= 0")
    return value


def _item(row: dict, where: str) -> DrugItem:
    time, amount = _number(row, "TIME", where), _number(row, "AMT", where)
    interval = _number(row, "II", where, 0.0)
    extra = _number(row, "ADDL", where, 0.0)
    if _number(row, "RATE", where, 0.0) != 0.0:
        raise DosingRecordError(f"{where}: RATE; allowed: 0 or empty (bolus doses)")
    if extra != int(extra) or (extra > 0 and interval <= 0):
        raise DosingRecordError(
            f"{where}: ADDL {extra:g} with II {interval:g}; allowed: a whole ADDL, and II > 0 "
            "when ADDL > 0"
        )
    drug = (row.get("CMT") or "").strip()
    if drug not in CATALOGUE:
        raise DosingRecordError(
            f"{where}: CMT {drug[:40]!r} is not a catalogue drug; allowed: "
            + ", ".join(sorted(CATALOGUE))
        )
    # one dose: a schedule of the shortest interval that stops before its second dose
    every = interval if extra > 0 else MIN_EVERY_DAYS
    stop = time + extra * interval + every / 2
    try:
        return DrugItem(drug=drug, amount=amount, start=time, every=every, stop=stop)
    except ValueError as err:
        raise DosingRecordError(f"{where}: {err}") from None


def read_dosing_records(source: str | Path | IO[str], subject: str | None = None) -> list[DrugItem]:
    """The dose records (EVID 1) of ``source`` (a CSV path or text stream) as drug items,
    in file order; ``subject`` picks one ``ID`` where the file has several."""
    name = Path(source).name if isinstance(source, str | Path) else "records"
    if isinstance(source, str | Path):
        try:
            handle: IO[str] = open(source, newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise DosingRecordError(f"{name}: cannot be read ({err.strerror})") from None
    else:
        handle = source
    with handle:
        rows = list(csv.DictReader(handle))
    columns = set(rows[0]) if rows else set()
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise DosingRecordError(
            f"{name}: columns {', '.join(missing)} missing; allowed: a CSV with "
            + ", ".join(REQUIRED)
            + " (and optionally ID, II, ADDL, RATE)"
        )
    ids = sorted({(r.get("ID") or "").strip() for r in rows})
    if subject is None and len(ids) > 1:
        raise DosingRecordError(
            f"{name}: {len(ids)} subjects (ID); allowed: one, or name the subject to use"
        )
    items = []
    for k, row in enumerate(rows, start=2):  # line 1 is the header
        if subject is not None and (row.get("ID") or "").strip() != subject:
            continue
        where = f"{name} line {k}"
        evid = _number(row, "EVID", where)
        if evid == 0:
            continue
        if evid != 1:
            raise DosingRecordError(f"{where}: EVID {evid:g}; allowed: 1 (dose) or 0 (skipped)")
        items.append(_item(row, where))
    if not items:
        raise DosingRecordError(f"{name}: no dose records (EVID 1)")
    return items
