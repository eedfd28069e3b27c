"""The trial designer: form fields to a trial mapping and its YAML, and a validation
error to the form field it concerns.

Validation is the trial file's own (:class:`dermatwin.trials.spec.TrialSpec`), so a form
and a YAML file get the same one-line messages as ``dermatwin trial run``. Numbers typed
into the form are read as numbers when they look like one; anything else is handed on as
text, and the spec's message names it.

>>> form = {"name": "demo", "disease": "AD", "duration": "4 weeks", "endpoints": "EASI-50@4w",
...         "arm0_name": "placebo", "arm0_n": "4", "arm0_kind": "none"}
>>> print(to_yaml(trial_mapping(form)), end="")
name: demo
disease: AD
duration: 4 weeks
seed: 0
arms:
  placebo:
    n: 4
endpoints:
- EASI-50@4w
>>> check(trial_mapping({**form, "arm0_n": "many"}), arms=[(0, "placebo")])
('arm0_n', "arms.placebo.n: expected a whole number, got 'many'")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from dermatwin._base.yaml_files import check_arm_names, one_line, parse_yaml, validation_message

#: arm rows the form shows at first and at most
DEFAULT_ARMS = 3
MAX_FORM_ARMS = 10
MSC_FIELDS = ("source", "origin", "amount", "unit", "route", "times", "state")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _value(text: Any) -> Any:
    """A form value: a whole number or a number when it reads as one, else the text."""
    text = str(text).strip()
    if not _NUMBER.fullmatch(text):
        return text
    number = float(text)
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number


def _arm_count(form: Mapping[str, Any]) -> int:
    found = [int(m.group(1)) for k in form if (m := re.fullmatch(r"arm(\d+)_name", k))]
    return min(max(found, default=-1) + 1, MAX_FORM_ARMS)


def _regimen(form: Mapping[str, Any], i: int) -> list[dict]:
    kind = form.get(f"arm{i}_kind", "none")
    if kind == "drug" and form.get(f"arm{i}_drug"):
        return [{"drug": str(form[f"arm{i}_drug"])}]
    if kind == "msc":
        msc: dict[str, Any] = {}
        for name in MSC_FIELDS:
            raw = str(form.get(f"arm{i}_msc_{name}", "")).strip()
            if not raw:
                continue
            if name == "times":
                msc[name] = [_value(t) for t in raw.split(",") if t.strip()]
            else:
                msc[name] = _value(raw) if name == "amount" else raw
        return [{"msc": msc}]
    return []


def trial_mapping(form: Mapping[str, Any]) -> dict:
    """The trial (as its YAML would read) that the designer form's fields describe."""
    trial: dict[str, Any] = {"name": str(form.get("name", "")).strip()}
    trial["disease"] = str(form.get("disease", "AD"))
    trial["duration"] = str(form.get("duration", "")).strip()
    trial["seed"] = _value(form.get("seed", "") or 0)
    score, low = str(form.get("inclusion_score", "")), str(form.get("inclusion_min", "")).strip()
    if score and low:
        trial["population"] = {"inclusion": {score: {"min": _value(low)}}}
    if form.get("placebo_background"):
        trial["background"] = [{"drug": "placebo"}]
    arms: dict[str, Any] = {}
    for i in range(_arm_count(form)):
        name = str(form.get(f"arm{i}_name", "")).strip()
        n = str(form.get(f"arm{i}_n", "")).strip()
        if not name and not n:
            continue  # an empty row
        arm: dict[str, Any] = {"n": _value(n)} if n else {}
        regimen = _regimen(form, i)
        if regimen:
            arm["regimen"] = regimen
        arms.setdefault(name, arm)  # a repeated name: check() names the second row
    trial["arms"] = arms
    if form.get("paired"):
        trial["paired"] = True
    lines = str(form.get("endpoints", "")).splitlines()
    trial["endpoints"] = [e.strip() for e in lines if e.strip()]
    return trial


def to_yaml(trial: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(trial), sort_keys=False, allow_unicode=True)


def field_of(message: str, arms: Sequence[tuple[int, str]]) -> str:
    """The form field a spec message (``field.path: text``) concerns, given the form's
    arm rows ``(row, name)``; '' for the form as a whole."""
    head = message.split(": ", 1)[0]
    first = re.split(r"[.\[ ]", head)[0]
    row = {name: i for i, name in reversed(arms)}  # the first row of a name
    if first == "arms" and head.count(".") >= 1:
        arm = re.split(r"[.\[]", head)[1]
        if arm not in row:
            return ""
        return f"arm{row[arm]}_regimen" if "regimen" in head else f"arm{row[arm]}_n"
    if first == "arm" and (m := re.match(r"arm name '(.*)'", message)):
        return f"arm{row[m.group(1)]}_name" if m.group(1) in row else ""
    return {
        "name": "name",
        "disease": "disease",
        "duration": "duration",
        "visit_every": "duration",
        "seed": "seed",
        "population": "inclusion",
        "background": "placebo_background",
        "endpoint": "endpoints",
        "endpoints": "endpoints",
        "paired": "paired",
    }.get(first, "")


def check(trial: Mapping[str, Any], arms: Sequence[tuple[int, str]]):
    """``(field, message)`` of the first problem of ``trial`` (form field names as in
    :func:`field_of`; ``arms``: the form's rows, :func:`arm_rows`), or the validated
    :class:`~dermatwin.trials.spec.TrialSpec`."""
    from dermatwin.trials.spec import TrialSpec

    seen = set()
    for i, name in arms:
        if name in seen:
            return f"arm{i}_name", f"arms: {name!r} is given twice; give each arm once"
        seen.add(name)
        try:
            check_arm_names([name])
        except ValueError as err:
            return f"arm{i}_name", str(err)
    try:
        return TrialSpec.model_validate(trial)
    except ValidationError as err:
        message = validation_message(err)
        return field_of(message, arms), message


def arm_rows(form: Mapping[str, Any]) -> list[tuple[int, str]]:
    """``(row, name)`` of the form's non-empty arm rows, in row order (repeats kept)."""
    rows = []
    for i in range(_arm_count(form)):
        name = str(form.get(f"arm{i}_name", "")).strip()
        if name or str(form.get(f"arm{i}_n", "")).strip():
            rows.append((i, name))
    return rows


def spec_from_upload(data: bytes, filename: str):
    """The trial spec of an uploaded YAML file, or a one-line
    :class:`~dermatwin.trials.spec.TrialError` as ``dermatwin trial run FILE`` gives."""
    from dermatwin.trials.spec import TrialError, TrialSpec

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TrialError(
            f"{filename} line {line}: not UTF-8 text (byte {data[err.start]:#04x})"
        ) from None
    mapping = parse_yaml(text, TrialError, filename)
    if not isinstance(mapping, dict):
        raise TrialError(
            f"{filename}: expected a trial (name, disease, arms, ...) (a mapping of fields)"
        )
    try:
        return TrialSpec.model_validate(mapping), text
    except ValidationError as err:
        raise TrialError(one_line(err, filename)) from None
