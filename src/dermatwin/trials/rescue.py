"""Rescue therapy in a trial: the protocol rule, when it fires, and the rescued regimen.

A trial's ``rescue:`` (docs/trials.md) gives one rule: at each visit from ``earliest`` on
(before the last), a patient whose *observed* score (measurement noise included, as an
investigator sees it) meets ``when`` is rescued: ``therapy`` (drug items whose ``start`` and
``stop`` count from the rescue visit) is added from that visit to the end of the trial,
and with ``discontinue: true`` the arm's own therapy stops there. A patient is rescued at
most once. ``handling`` is the trial's convention for the endpoints read after rescue
(:data:`dermatwin.outcomes.endpoints.EndpointKind.after_rescue`): ``non_responder``
counts a rescued patient as a non-responder in responder endpoints from the rescue visit
on and carries the last value before rescue forward in mean endpoints; ``observed``
reads the scores as they are.

Rescue depends only on the patient's own trajectory and noise draws, so results stay
bit-identical however the work is split into chunks, and deterministic per seed.

>>> rule = Rescue.model_validate({"when": "EASI >= 1.0 x baseline", "earliest": "4 weeks",
...     "therapy": [{"drug": "topical_steroid", "stop": "2 weeks"}]})
>>> rule.condition()
Condition(score='EASI', strict=False, value=1.0, relative=True)
>>> times = np.array([0.0, 14.0, 28.0, 42.0, 56.0])
>>> easi = np.array([[20.0, 25.0, 19.0, 21.0, 30.0], [20.0, 10.0, 8.0, 9.0, 9.0]])
>>> rescue_days(rule, {"EASI": easi}, times).tolist()
[42.0, inf]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator

from dermatwin._base.times import Days
from dermatwin._base.yaml_files import StrictModel, short
from dermatwin.therapy.items import DrugItem

#: ``SCORE >= VALUE`` or ``SCORE >= VALUE x baseline`` (also ``>``)
_CONDITION = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|>)\s*(\d+(?:\.\d+)?)\s*(x\s*baseline)?\s*$"
)
CONDITION_FORMS = "'SCORE >= VALUE' or 'SCORE >= FACTOR x baseline' (also >)"
#: the most rescue drug items a rule may give
MAX_RESCUE_ITEMS = 20


@dataclass(frozen=True)
class Condition:
    """A parsed ``when``: the score at a visit is >= (or > when ``strict``) ``value``, or
    ``value`` x the patient's baseline score when ``relative``."""

    score: str
    strict: bool
    value: float
    relative: bool

    def met(self, values: np.ndarray) -> np.ndarray:
        """(patients x times) whether the condition holds at each visit (False where the
        score is NaN)."""
        limit = self.value * values[:, :1] if self.relative else self.value
        with np.errstate(invalid="ignore"):
            return values > limit if self.strict else values >= limit


def parse_condition(text: str) -> Condition:
    """The :class:`Condition` of ``text``; a one-line ValueError otherwise."""
    m = _CONDITION.match(text)
    if m is None:
        raise ValueError(f"{short(text)} not understood; allowed: {CONDITION_FORMS}")
    return Condition(m.group(1), m.group(2) == ">", float(m.group(3)), m.group(4) is not None)


class Rescue(StrictModel):
    """The trial's rescue rule (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str = Field(max_length=200)
    #: the first day at which a visit may rescue (e.g. 4 weeks)
    earliest: Days = 0.0
    therapy: list[DrugItem] = Field(min_length=1, max_length=MAX_RESCUE_ITEMS)
    handling: Literal["non_responder", "observed"] = "non_responder"
    discontinue: bool = False

    @field_validator("when")
    @classmethod
    def _parse(cls, text: str) -> str:
        parse_condition(text)
        return text

    def condition(self) -> Condition:
        return parse_condition(self.when)


def rescue_days(rule: Rescue, scores: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    """Per patient, the first visit (day) after baseline and from ``rule.earliest`` on,
    before the last visit,
    at which ``rule.when`` holds on the observed ``scores`` (patients x ``times``); inf
    for patients never rescued."""
    cond = rule.condition()
    met = cond.met(scores[cond.score])
    # never at the baseline visit: a rule relative to baseline (or a threshold at the
    # inclusion cut-off) would rescue everyone on day 0
    eligible = (times > 0.0) & (times >= rule.earliest - 1e-9) & (times < times[-1])
    met &= eligible[None, :]
    first = met.argmax(axis=1)
    return np.where(met.any(axis=1), times[first], np.inf)


def shifted(item: DrugItem, day: float, horizon: float) -> DrugItem | None:
    """A rescue item given from the rescue ``day`` (its start and stop count from it),
    stopped at ``horizon``; None if it would start at or after the horizon."""
    start = day + item.start
    stop = horizon if item.stop is None else min(day + item.stop, horizon)
    if start >= stop:
        return None
    return item.model_copy(update={"start": start, "stop": stop})
