"""One patient's record: the profile and the visits (scores, biomarkers, treatments given).

Two equivalent file formats (documented in ``docs/twins.md``; examples in
``examples/twins/``):

**CSV** — profile lines ``# key: value`` before the header (the :class:`Patient` fields;
``baseline`` and ``prior_therapies`` are YAML-only), then one row per visit or treatment::

    # id: P001
    # disease: AD
    # age: 34
    # flg_loss: true
    day,EASI,SCORAD,IGA,pruritus_NRS,TEWL,serum_IL17,TARC,IgE,treatment,amount,unit,until
    0,31.2,62,4,7,,,,,dupilumab,600,mg,
    28,19.0,,3,5,,,,,,,,

A row has ``day`` (days since the first visit) or ``date`` (ISO, ``YYYY-MM-DD``; day 0 is
the first row's date), any scores (blank = not measured), and optionally a treatment
started that day: a catalogue drug (``treatment``, ``amount``, ``unit``, ``route``,
``until`` = the day it stopped, blank = still given; labelled schedule from that day) or
``treatment = msc`` (one administration: ``amount``, ``unit``, ``route`` and the product
``source``, ``origin``, ``state``). Rows must be in time order.

**YAML** — ``patient:`` (the profile), ``visits:`` (a list of mappings with the same
columns) and ``treatments:`` (regimen items exactly as in trial YAML files, with ``start``
/ ``stop`` / ``times`` in days since the first visit).

Every problem is one :class:`TwinDataError` line naming the file, the line (CSV) or item
(YAML) and the field, e.g. ``visits.csv line 5: EASI: 80 is outside 0-72``.

Limits (checked before anything is fitted): a file of at most :data:`MAX_FILE_BYTES`
(1 MiB) of UTF-8 text, at most :data:`MAX_VISITS` (1,000) rows or visits, and every day
(visit, treatment start/stop, MSC dose) within 0-:data:`MAX_VISIT_DAY` (728 days = 104
weeks, the twin horizon): a date typed in the ``day`` column is refused, not fitted.

Scores and their ranges: :data:`OBSERVABLES`. TARC/CCL17 and IgE are accepted and shown
but not fitted: the skin model has no TARC or IgE output.

>>> rec = load_visits("examples/twins/ad_patient.csv")
>>> rec.patient.disease, len(rec.visits) >= 3
('AD', True)
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.times import Days
from dermatwin._base.yaml_files import read_mapping
from dermatwin.patients.profile import DISEASE_SCORES, SCORE_RANGES, Patient
from dermatwin.therapy.drugs import CATALOGUE
from dermatwin.therapy.items import DrugItem, MSCItem, RegimenItem, parse_item


class TwinDataError(DermatwinError):
    """A visit file (or a twin folder) is invalid."""


#: largest visit file read (bytes): far above any real record, small enough to parse at once
MAX_FILE_BYTES = 1 << 20
#: most rows (CSV) or visits (YAML) in one record
MAX_VISITS = 1000
#: last day a visit, treatment start/stop or MSC dose may fall on (104 weeks)
MAX_VISIT_DAY = 728.0


#: every observable a visit may record: (lower, upper, unit); None = unbounded above
OBSERVABLES: dict[str, tuple[float, float | None, str]] = {
    **{k: (lo, hi, "score") for k, (lo, hi) in SCORE_RANGES.items()},
    "TEWL": (0.0, 200.0, "g/m2/h"),
    "serum_IL17": (0.0, None, "pg/mL"),
    "TARC": (0.0, None, "pg/mL"),
    "IgE": (0.0, None, "kU/L"),
}
#: observables without a model output: recorded, reported, not fitted
NOT_MODELLED = ("TARC", "IgE")
#: column aliases accepted in files
ALIASES = {"CCL17": "TARC", "NRS": "pruritus_NRS", "pruritus": "pruritus_NRS", "IL17": "serum_IL17"}
TREATMENT_COLUMNS = ("treatment", "amount", "unit", "route", "until", "source", "origin", "state")
MSC_PRODUCT_FIELDS = ("source", "origin", "state")


class Visit(BaseModel):
    """One visit: the day and the observed values (None: not measured)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: float = Field(ge=0, le=MAX_VISIT_DAY, allow_inf_nan=False)
    values: dict[str, float] = Field(default_factory=dict)

    @field_validator("values")
    @classmethod
    def _in_range(cls, values: dict[str, float]) -> dict[str, float]:
        for name, value in values.items():
            if name not in OBSERVABLES:
                raise ValueError(f"unknown score; allowed: {', '.join(OBSERVABLES)}")
            lo, hi, _ = OBSERVABLES[name]
            if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
                top = f"{hi:g}" if hi is not None else "inf"
                raise ValueError(f"{name}: {value:g} is outside {lo:g}-{top}")
        return values


@dataclass(frozen=True)
class VisitRecord:
    """A patient, the visits in time order and the treatments given (trial regimen items,
    days since the first visit)."""

    patient: Patient
    visits: tuple[Visit, ...]
    treatments: tuple[RegimenItem, ...]
    source: str = ""

    @property
    def last_day(self) -> float:
        return self.visits[-1].day

    def observed(self, name: str) -> list[tuple[float, float]]:
        return [(v.day, v.values[name]) for v in self.visits if name in v.values]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient.model_dump(mode="json", exclude_none=True),
            "visits": [{"day": v.day, **v.values} for v in self.visits],
            "treatments": [t.model_dump(mode="json", exclude_none=True) for t in self.treatments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "record") -> VisitRecord:
        return _build(data, where, [f"{where}: visits[{i}]" for i in range(len(data["visits"]))])


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for echoing user input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: Any, limit: int = 40) -> str:
    """``str(value)`` cut to ``limit`` characters (a name echoed in a message)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):  # YAML true/false are no numbers
        raise ValueError(f"{name}: expected a number, got {short(value)}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}: expected a number, got {short(value)}") from None


def _day(value: Any, name: str, last: float = MAX_VISIT_DAY) -> float:
    """A day since the first visit, 0-``last``; anything else (a date typed as a number,
    NaN, negative) is refused before it reaches the simulator."""
    day = _number(value, name)
    if not (math.isfinite(day) and 0.0 <= day <= last):
        hint = "; a date belongs in the date column (YYYY-MM-DD)" if name == "day" else ""
        shown = f"{value:g}" if isinstance(value, int | float) else short(value)
        raise ValueError(f"{name}: {shown} is outside 0-{last:g} days{hint}")
    return day


def _column(key: Any) -> str:
    """The canonical column name of a header cell or YAML key (aliases resolved)."""
    name = key.strip() if isinstance(key, str) else str(key)
    return ALIASES.get(name, name)


def _allowed_columns() -> str:
    return ", ".join(("day", "date", *OBSERVABLES, *TREATMENT_COLUMNS, "note"))


def _visit(row: dict[str, Any], disease: str) -> tuple[dict, dict]:
    """(visit fields, treatment fields) of one row."""
    values, treatment, day, date = {}, {}, None, None
    for key, value in row.items():
        if key is None:
            raise ValueError("more values than columns")
        key = _column(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == "day":
            day = _day(value, "day")
        elif key == "date":
            try:
                date = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError(f"date: {short(value)} is not an ISO date (YYYY-MM-DD)") from None
        elif key in TREATMENT_COLUMNS:
            treatment[key] = value.strip() if isinstance(value, str) else value
        elif key in OBSERVABLES:
            allowed = (*DISEASE_SCORES[disease], "TEWL", "serum_IL17", "TARC", "IgE")
            if key not in allowed:
                raise ValueError(f"{key}: not a {disease} score; allowed: {', '.join(allowed)}")
            values[key] = _number(value, key)
        elif key not in ("note", "notes"):
            raise ValueError(
                f"{short(key)[1:-1] or '(no name)'}: unknown column; allowed: " + _allowed_columns()
            )
    if (day is None) == (date is None):
        raise ValueError("day/date: give exactly one of day or date")
    return {"day": day, "date": date, "values": values}, treatment


def _treatment_item(fields: dict, day: float) -> RegimenItem:
    name = str(fields.get("treatment", "")).strip()[:100]
    if not name:
        raise ValueError("treatment: give the drug (or msc) for amount/unit/route/until")
    if name.lower() == "msc":
        msc: dict[str, Any] = {"times": [day]}
        for key in ("amount", "unit", "route", *MSC_PRODUCT_FIELDS):
            if key in fields:
                msc[key] = _number(fields[key], key) if key == "amount" else fields[key]
        for key in ("source", "origin", "amount", "unit", "route"):
            if key not in msc:
                raise ValueError(f"{key}: an msc treatment needs {key}")
        return MSCItem(msc=msc)
    if name not in CATALOGUE:
        raise ValueError(
            f"treatment: unknown drug {short(name)}; allowed: msc, {', '.join(CATALOGUE)}"
        )
    extra = set(fields) & set(MSC_PRODUCT_FIELDS)
    if extra:
        raise ValueError(f"{sorted(extra)[0]}: only for msc treatments")
    item: dict[str, Any] = {"drug": name, "start": day}
    if "amount" in fields:
        item["amount"] = _number(fields["amount"], "amount")
    for key in ("unit", "route"):
        if key in fields:
            item[key] = fields[key]
    if "until" in fields:
        item["stop"] = _day(fields["until"], "until")
        if item["stop"] < day:
            raise ValueError(f"until: day {item['stop']:g} is before the start (day {day:g})")
    return DrugItem.model_validate(item)


def _message(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"] if x != "values")
        msg = first["msg"].removeprefix("Value error, ")
        if msg.split(":")[0] == loc.split(".")[-1]:
            return msg
        return f"{loc}: {msg}" if loc else msg
    return str(err)


def check_item_days(item: RegimenItem, last: float) -> None:
    """Every day of a regimen item (drug start/stop, MSC dose times) lies in 0-``last``."""
    if isinstance(item, DrugItem):
        _day(item.start, "start", last)
        if item.stop is not None:
            _day(item.stop, "stop", last)
            if item.stop < item.start:
                raise ValueError(f"stop: day {item.stop:g} is before start (day {item.start:g})")
        return
    times = item.msc.get("times", [0.0])
    if not isinstance(times, list | tuple) or not times:
        raise ValueError(f"msc.times: expected a list of days, e.g. [0, 14], got {short(times)}")
    for t in times:
        _day(t, "msc.times", last)


def check_treatment(item: RegimenItem, weight_kg: float, last: float = MAX_VISIT_DAY) -> None:
    """Check the item's days, then build it as a regimen now, so that a bad dose (amount
    outside the catalogue's range, unknown unit or product) fails on its own line."""
    from dermatwin.trials.run import items_regimen

    try:
        check_item_days(item, last)
        items_regimen([("item", item)], horizon_days=last, weight_kg=weight_kg).plan()
    except (DermatwinError, ValueError) as err:
        raise TwinDataError(str(err).removeprefix("item: ")) from None


def _build(data: dict, where: str, row_where: list[str]) -> VisitRecord:
    if len(data["visits"]) > MAX_VISITS:
        raise TwinDataError(
            f"{where}: visits: {len(data['visits'])} rows; allowed: at most {MAX_VISITS}"
        )
    profile = data.get("patient") or {}
    if not isinstance(profile, dict):
        raise TwinDataError(f"{where}: patient: expected a mapping (disease, age, ...)")
    items = data.get("treatments") or []
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise TwinDataError(
            f"{where}: treatments: expected a list of regimen items "
            "({drug: ...} or {msc: {...}}), got " + short(items)
        )
    try:
        patient = Patient.model_validate(profile)
    except ValidationError as err:
        raise TwinDataError(f"{where}: patient: {_message(err)}") from None
    visits: list[Visit] = []
    treatments: list[RegimenItem] = []
    msc_rows: dict[str, MSCItem] = {}
    first_date = None
    for loc, row in zip(row_where, data["visits"], strict=True):
        if not isinstance(row, dict):
            raise TwinDataError(f"{loc}: expected a mapping of columns")
        try:
            fields, treat = _visit(row, patient.disease)
            if fields["date"] is not None:
                first_date = first_date or fields["date"]
                fields["day"] = float((fields["date"] - first_date).days)
                if fields["day"] > MAX_VISIT_DAY:
                    raise ValueError(
                        f"date: {fields['date']} is {fields['day']:g} days after the first "
                        f"visit; allowed: at most {MAX_VISIT_DAY:g} days (104 weeks)"
                    )
            day = fields["day"]
            if visits and day < visits[-1].day:
                raise ValueError(
                    f"day/date: visits out of order (day {day:g} after day {visits[-1].day:g})"
                )
            if not visits and day != 0 and fields["date"] is None:
                raise ValueError(f"day: the first visit is day 0, got {day:g}")
            visit = Visit(day=day, values=fields["values"])
            if treat:
                item = _treatment_item(treat, day)
                check_treatment(item, patient.weight_kg)
        except (ValueError, ValidationError, DermatwinError) as err:
            raise TwinDataError(f"{loc}: {_message(err)}") from None
        if treat and isinstance(item, MSCItem):
            # one course per product: later administrations add dose times
            key = repr(sorted((k, v) for k, v in item.msc.items() if k != "times"))
            if key in msc_rows:
                old = msc_rows[key].msc
                item = MSCItem(msc={**old, "times": [*old["times"], day]})
            msc_rows[key] = item
        elif treat:
            treatments.append(item)
        if visit.values or not treat:  # a row that only records a dose is not a visit
            visits.append(visit)
    for i, item in enumerate(items):
        try:
            parsed = parse_item(item)
            check_treatment(parsed, patient.weight_kg)
        except (ValueError, ValidationError, DermatwinError, TypeError) as err:
            raise TwinDataError(f"{where}: treatments[{i}]: {_message(err)}") from None
        treatments.append(parsed)
    treatments += list(msc_rows.values())
    scored = [v for v in visits if set(v.values) - set(NOT_MODELLED)]
    if not scored:
        raise TwinDataError(f"{where}: visits: no visit with a fitted score")
    return VisitRecord(patient, tuple(visits), tuple(treatments), where)


def _header(names: list[str] | None, where: str) -> None:
    """Every header cell is a known column, once (after aliases): a misspelt or repeated
    column would otherwise be dropped or overwrite another silently."""
    if not names:
        raise TwinDataError(f"{where}: no header row (day or date, scores, treatment)")
    seen: dict[str, int] = {}
    for i, raw in enumerate(names, 1):
        name = _column(raw)
        if not name:
            continue  # an unnamed column (trailing comma): its cells must stay blank
        known = name in ("day", "date", "note", "notes", *OBSERVABLES, *TREATMENT_COLUMNS)
        if not known:
            raise TwinDataError(
                f"{where}: {_text(name)}: unknown column; allowed: {_allowed_columns()}"
            )
        if name in seen:
            raise TwinDataError(
                f"{where}: {name}: column given twice (columns {seen[name]} and {i})"
            )
        seen[name] = i


def _profile(lines: list[str], path: Path) -> tuple[dict[str, Any], int]:
    """The ``# key: value`` profile lines before the header, and the header's index."""
    profile: dict[str, Any] = {}
    k = 0
    while k < len(lines) and (lines[k].startswith("#") or not lines[k].strip()):
        body = lines[k].lstrip("#").strip()
        if body:
            try:
                entry = yaml.safe_load(body)
            except yaml.YAMLError:
                entry = None
            if not isinstance(entry, dict) or not all(isinstance(key, str) for key in entry):
                raise TwinDataError(f"{path.name} line {k + 1}: expected '# key: value'")
            twice = sorted(set(entry) & set(profile))
            if twice:
                raise TwinDataError(f"{path.name} line {k + 1}: {_text(twice[0])}: given twice")
            profile.update(entry)
        k += 1
    return profile, k


def _read_csv(path: Path, text: str) -> VisitRecord:
    lines = text.splitlines()
    profile, k = _profile(lines, path)
    reader = csv.DictReader(lines[k:])
    _header(reader.fieldnames, f"{path.name} line {k + 1}")
    rows = []
    for row in reader:
        if len(rows) == MAX_VISITS:
            raise TwinDataError(f"{path.name}: visits: more than {MAX_VISITS} rows")
        rows.append(row)
    where = [f"{path.name} line {k + 2 + i}" for i in range(len(rows))]
    return _build({"patient": profile, "visits": rows}, path.name, where)


def _not_utf8(path: Path, err: UnicodeDecodeError) -> TwinDataError:
    line = err.object[: err.start].count(b"\n") + 1
    return TwinDataError(
        f"{path.name} line {line}: not UTF-8 text (byte 0x{err.object[err.start]:02x}); "
        "save the file as UTF-8"
    )


def _read_text(path: Path) -> str:
    """The UTF-8 text of a visit file of at most :data:`MAX_FILE_BYTES`."""
    try:
        if path.is_dir():
            raise TwinDataError(f"{path}: is a folder; expected a visit file (CSV or YAML)")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TwinDataError(
                f"{path.name}: {size} bytes; allowed: at most {MAX_FILE_BYTES} (1 MiB)"
            )
        return path.read_bytes().decode("utf-8")
    except OSError as err:
        raise TwinDataError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise _not_utf8(path, err) from None


def load_visits(path: str | Path) -> VisitRecord:
    """A :class:`VisitRecord` from a CSV or YAML file (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path, _read_text(path))
    _read_text(path)  # size and encoding first: the YAML reader then parses at most 1 MiB
    what = "patient:, visits: (a list), treatments:"
    data = read_mapping(path, TwinDataError, what)
    if not isinstance(data.get("visits"), list):
        raise TwinDataError(f"{path.name}: expected {what}")
    extra = set(data) - {"patient", "visits", "treatments"}
    if extra:
        raise TwinDataError(f"{path.name}: {_text(sorted(map(str, extra))[0])}: unknown key")
    where = [f"{path.name} visits[{i}]" for i in range(len(data["visits"]))]
    return _build(data, path.name, where)


__all__ = ["Days", "OBSERVABLES", "TwinDataError", "Visit", "VisitRecord", "load_visits"]
