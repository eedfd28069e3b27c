"""Regimen planning for one twin: search a candidate grid, rank by goal and durability.

Candidates (:func:`candidates`, all starting at the last visit):

* MSC monotherapy: products (source x autologous/allogeneic x fresh/thawed, see
  :data:`PRODUCTS`) x schedules (:data:`SCHEDULES`: route, dose, number and spacing).
  A drug the patient is on stops now (a switch to MSC).
* standard drugs of the disease from the catalogue (those whose data file lists the
  disease under ``plan_for``, :func:`plan_drugs`), at their labelled regimen (a drug the
  patient is on continues without a new loading dose);
* combinations: each drug plus each schedule of the reference allogeneic product;
* no further treatment (the reference).

Constraints (YAML, :class:`Constraints`) remove candidates: ``max_infusions`` (MSC
administrations), ``no_systemic_steroids``, ``no_liposuction`` (no autologous adipose
cells), ``max_clinic_visits`` (MSC administrations, IV drugs and phototherapy sessions
are given in clinic; each drug start is one more visit), ``exclude_drugs`` (catalogue
names), ``allowed_sources`` (MSC sources, at least one), ``horizon`` (1-104 weeks; when
given, at least the goal's week). Unknown names are one-line errors listing the allowed
values.

Every candidate is simulated on the same ``n_draws`` posterior draws (one batched call
per candidate), and ranked by the
probability of reaching the goal (e.g. ``EASI-75@16w``: EASI at most 25 % of the
first-visit score, 16 weeks from now), then by durability (median weeks from the last
dose to relapse, censored at the follow-up), then by fewer clinic visits. Each row's
``why`` spells out these numbers and their comparison with the next-ranked regimen.

Monte-Carlo uncertainty: ``p_goal`` is a fraction of ``n_draws`` draws, so each row
carries its binomial standard error ``p_goal_se`` and ``p_best``, the probability of
having the highest ``p_goal`` (bootstrap over the draws, resampled jointly for all
candidates; ties share the credit). Probabilities whose paired difference lies within
:data:`TIE_SE` standard errors (paired over the same draws) count as equal: such
regimens are ordered by durability and clinic visits instead, and share their ``rank``
when those are equal too; ``why`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.rng import rng_stream
from dermatwin._base.times import Days
from dermatwin._base.yaml_files import one_line, read_mapping
from dermatwin.disease.scores import primary_score
from dermatwin.execution.progress import progress_bar
from dermatwin.model.spec import Model
from dermatwin.outcomes.endpoints import EndpointError, parse_endpoint, relapse_times
from dermatwin.therapy.drugs import CATALOGUE
from dermatwin.therapy.items import DrugItem, MSCItem, RegimenItem
from dermatwin.therapy.products import Source
from dermatwin.twins.fit import Twin
from dermatwin.twins.predict import (
    MAX_HORIZON_DAYS,
    RELAPSE_FRACTION,
    FutureRegimen,
    simulate_draws,
)
from dermatwin.twins.visits import TwinDataError, short

#: MSC products searched: (label, fields of MSCProduct)
PRODUCTS: dict[str, dict] = {
    "UC allogeneic thawed": {"source": "umbilical_cord", "origin": "allogeneic", "state": "thawed"},
    "UC allogeneic fresh": {"source": "umbilical_cord", "origin": "allogeneic", "state": "fresh"},
    "UCB allogeneic thawed": {
        "source": "umbilical_cord_blood",
        "origin": "allogeneic",
        "state": "thawed",
    },
    "BM allogeneic thawed": {"source": "bone_marrow", "origin": "allogeneic", "state": "thawed"},
    "BM autologous fresh": {"source": "bone_marrow", "origin": "autologous", "state": "fresh"},
    "adipose autologous fresh": {"source": "adipose", "origin": "autologous", "state": "fresh"},
    "iPSC allogeneic thawed": {"source": "ipsc", "origin": "allogeneic", "state": "thawed"},
}
REFERENCE_PRODUCT = "UC allogeneic thawed"
#: schedules: (label, route, amount, unit, dose days from now); doses as in CLN-24 and
#: Kim 2017 (examples/trials)
SCHEDULES: dict[str, tuple[str, float, str, tuple[float, ...]]] = {
    "IV 2e6/kg x1": ("IV", 2e6, "cells/kg", (0.0,)),
    "IV 2e6/kg x3 q2w": ("IV", 2e6, "cells/kg", (0.0, 14.0, 28.0)),
    "SC 5e7 x1": ("SC", 5e7, "cells", (0.0,)),
    "SC 1e8 x4 q2w": ("SC", 1e8, "cells", (0.0, 14.0, 28.0, 42.0)),
}


def plan_drugs(disease: str) -> tuple[str, ...]:
    """Catalogue drugs the planner proposes for ``disease``: those whose data file lists
    it under ``plan_for`` (placebo and emollient are not treatments to plan), in
    catalogue order."""
    return tuple(name for name, entry in CATALOGUE.items() if disease in entry.plan_for)


CLINIC_ROUTES = ("IV", "phototherapy")
#: two goal probabilities are distinguishable when their paired difference exceeds this
#: many standard errors (about a 95 % interval)
TIE_SE = 2.0
#: bootstrap resamples of the draws for ``p_best``
BOOTSTRAP = 1000


class Constraints(BaseModel):
    """What the plan may use (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_infusions: int | None = Field(None, ge=0, strict=True)
    no_systemic_steroids: bool = False
    no_liposuction: bool = False
    max_clinic_visits: int | None = Field(None, ge=0, strict=True)
    exclude_drugs: list[str] = Field(default_factory=list)
    allowed_sources: list[str] | None = None
    horizon: Days = Field(168.0, ge=7.0, le=MAX_HORIZON_DAYS)

    @field_validator("exclude_drugs")
    @classmethod
    def _known_drugs(cls, drugs: list[str]) -> list[str]:
        for d in drugs:
            if d not in CATALOGUE:
                raise ValueError(f"unknown drug {short(d)}; allowed: {', '.join(CATALOGUE)}")
        return drugs

    @field_validator("allowed_sources")
    @classmethod
    def _known_sources(cls, sources: list[str] | None) -> list[str] | None:
        if sources is None:
            return None
        if not sources:  # [] would otherwise silently mean "every source"
            raise ValueError("give at least one source, or leave allowed_sources out")
        for src in sources:
            if src not in get_args(Source):
                raise ValueError(
                    f"unknown MSC source {short(src)}; allowed: {', '.join(get_args(Source))}"
                )
        return sources


def load_constraints(path: str | Path | None) -> Constraints:
    if path is None:
        return Constraints()
    data = read_mapping(path, TwinDataError, "constraints", empty_ok=True)
    try:
        return Constraints.model_validate(data)
    except ValidationError as err:
        raise TwinDataError(one_line(err, Path(path).name)) from None


@dataclass(frozen=True)
class Goal:
    score: str
    level: int
    week: float

    @property
    def text(self) -> str:
        return f"{self.score}-{self.level}@{self.week:g}w"


def parse_goal(text: str, disease: str) -> Goal:
    """A responder goal in the endpoint grammar (:mod:`dermatwin.outcomes.endpoints`) on
    the disease's primary score, a whole PCT, within 104 weeks."""
    not_understood = f"goal: {short(text)} not understood; e.g. EASI-75@16w or PASI-75@12w"
    try:
        ep = parse_endpoint(text, context="twin")
    except EndpointError as err:
        if "not understood" in str(err):
            raise TwinDataError(not_understood) from None
        raise TwinDataError(f"goal: {err}") from None
    if ep.kind != "responder" or not float(ep.threshold).is_integer():
        raise TwinDataError(not_understood)
    primary = primary_score(disease)
    if ep.variable != primary:
        raise TwinDataError(f"goal: {ep.variable} is not the {disease} score; use {primary}")
    if not 0 < ep.time <= MAX_HORIZON_DAYS:
        when = text.split("@", 1)[1].strip()
        raise TwinDataError(f"goal: {short(when)}: allowed after day 0, up to 104 weeks")
    return Goal(ep.variable, int(ep.threshold), ep.time / 7.0)


@dataclass
class Candidate:
    name: str
    kind: str
    items: list[RegimenItem]
    msc_doses: int
    clinic_visits: int
    drugs: tuple[str, ...] = ()
    product: str | None = None


def _msc_item(product: str, schedule: str) -> tuple[MSCItem, int, str]:
    route, amount, unit, days = SCHEDULES[schedule]
    fields = {**PRODUCTS[product], "amount": amount, "unit": unit, "route": route}
    return MSCItem(msc={**fields, "times": list(days)}), len(days), route


def _drug_visits(drug: str, horizon: float) -> int:
    from dermatwin.therapy.drugs import labelled

    entry = CATALOGUE[drug]
    if entry.route in CLINIC_ROUTES:
        return len(labelled(drug).administrations(horizon))
    return 1


def candidates(disease: str, constraints: Constraints) -> list[Candidate]:
    """The candidate grid after the constraints (see the module docstring)."""
    horizon = constraints.horizon
    drugs = []
    for d in plan_drugs(disease):
        entry = CATALOGUE[d]
        if d in constraints.exclude_drugs:
            continue
        if constraints.no_systemic_steroids and entry.drug_class == "systemic corticosteroid":
            continue
        drugs.append(d)
    products = []
    for label, fields in PRODUCTS.items():
        if constraints.no_liposuction and fields == PRODUCTS["adipose autologous fresh"]:
            continue
        if constraints.allowed_sources and fields["source"] not in constraints.allowed_sources:
            continue
        products.append(label)
    out = [Candidate("no further treatment", "none", [], 0, 0)]
    for product in products:
        for schedule in SCHEDULES:
            item, n, _ = _msc_item(product, schedule)
            out.append(Candidate(f"{product} {schedule}", "MSC", [item], n, n, (), product))
    for d in drugs:
        out.append(Candidate(d, "drug", [DrugItem(drug=d)], 0, _drug_visits(d, horizon), (d,)))
    if REFERENCE_PRODUCT in products:
        for d in drugs:
            for schedule in SCHEDULES:
                item, n, _ = _msc_item(REFERENCE_PRODUCT, schedule)
                out.append(
                    Candidate(
                        f"{d} + {REFERENCE_PRODUCT} {schedule}",
                        "combination",
                        [DrugItem(drug=d), item],
                        n,
                        n + _drug_visits(d, horizon),
                        (d,),
                        REFERENCE_PRODUCT,
                    )
                )
    keep = []
    for c in out:
        if constraints.max_infusions is not None and c.msc_doses > constraints.max_infusions:
            continue
        if (
            constraints.max_clinic_visits is not None
            and c.clinic_visits > constraints.max_clinic_visits
        ):
            continue
        keep.append(c)
    return keep


@dataclass
class PlanResult:
    goal: Goal
    constraints: Constraints
    table: pd.DataFrame
    trajectories: dict[str, pd.DataFrame] = field(default_factory=dict)


def paired_se(a: np.ndarray, b: np.ndarray) -> float:
    """Standard error of ``mean(a) - mean(b)`` for hits on the same draws (0/1 arrays;
    draws failed in either are left out)."""
    ok = ~(np.isnan(a) | np.isnan(b))
    n = int(ok.sum())
    if n == 0:
        return float("nan")
    d = a[ok] - b[ok]
    return float(np.sqrt(max(np.mean(d**2) - np.mean(d) ** 2, 0.0) / n))


def prob_best(hits: np.ndarray, seed: int = 0, resamples: int = BOOTSTRAP) -> np.ndarray:
    """Per candidate (column of ``hits``, draws x candidates, NaN for a failed draw) the
    bootstrap probability of the highest goal probability; ties share the credit."""
    n = hits.shape[0]
    rng = rng_stream(seed, 13)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    ok = ~np.isnan(hits)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (weights @ np.where(ok, hits, 0.0)) / (weights @ ok)
    p = np.where(np.isnan(p), -1.0, p)
    best = np.isclose(p, p.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def _order(rows: list[dict], hits: dict[str, np.ndarray]) -> None:
    """Sort ``rows`` in place (module docstring) and set ``rank``, ``tie_group``."""
    rows.sort(key=lambda r: -np.nan_to_num(r["p_goal"], nan=-1.0))
    group, leader = 0, None
    for r in rows:
        if leader is not None:
            diff = leader["p_goal"] - r["p_goal"]
            se = paired_se(hits[leader["regimen"]], hits[r["regimen"]])
            if not diff <= TIE_SE * se + 1e-12:
                group, leader = group + 1, None
        leader = leader or r
        r["tie_group"] = group
    rows.sort(key=lambda r: (r["tie_group"], -round(r["durability_weeks"], 1), r["clinic_visits"]))
    for i, r in enumerate(rows):
        prev = rows[i - 1] if i else None
        same = prev is not None and _key(prev) == _key(r)
        r["rank"] = prev["rank"] if same else i + 1


def _key(r: dict) -> tuple:
    return (r["tie_group"], round(r["durability_weeks"], 1), r["clinic_visits"])


def _explain(rows: list[dict], goal: Goal) -> None:
    for i, r in enumerate(rows):
        parts = [f"P({goal.text}) = {r['p_goal']:.2f} ± {r['p_goal_se']:.2f}"]
        dur = r["durability_weeks"]
        parts.append(
            "response lasts a median "
            + (f"{dur:.0f} weeks" if np.isfinite(dur) else "n/a (no responders)")
            + " after the last dose"
        )
        parts.append(f"{r['clinic_visits']} clinic visits, {r['msc_doses']} MSC doses")
        if i + 1 < len(rows):
            nxt = rows[i + 1]
            if nxt["rank"] == r["rank"]:
                parts.append("tied with the next (same probability within Monte-Carlo error)")
            elif nxt["tie_group"] != r["tie_group"]:
                gain = r["p_goal"] - nxt["p_goal"]
                parts.append(f"ranked above the next for a higher probability (+{gain:.2f})")
            elif round(r["durability_weeks"], 1) > round(nxt["durability_weeks"], 1):
                parts.append(
                    "same probability as the next within Monte-Carlo error; ranked above "
                    "for longer durability"
                )
            else:
                parts.append(
                    "same probability as the next within Monte-Carlo error; ranked above "
                    "for fewer clinic visits"
                )
        r["why"] = "; ".join(parts)


def plan(
    twin: Twin,
    goal: str | Goal = "",
    constraints: Constraints | None = None,
    *,
    n_draws: int = 64,
    model: Model | None = None,
    grid: list[Candidate] | None = None,
    top: int = 5,
    on_regimen: Callable[[str], None] | None = None,
    progress: bool | None = False,
) -> PlanResult:
    """Rank the candidate regimens for ``twin`` (see the module docstring).
    ``on_regimen(name)`` runs after each candidate is simulated (an exception it raises
    stops the plan); ``progress``: a bar of regimens (None: on a terminal)."""
    from dermatwin.twins.likelihood import twin_model

    constraints = constraints or Constraints()
    disease = twin.record.patient.disease
    if not goal:
        goal = f"{primary_score(disease)}-75@16w"
    goal = parse_goal(goal, disease) if isinstance(goal, str) else goal
    if top < 1:
        raise TwinDataError(f"top: {top}; allowed: 1 or more")
    if "horizon" in constraints.model_fields_set and constraints.horizon < 7.0 * goal.week:
        raise TwinDataError(
            f"constraints: horizon: {constraints.horizon / 7:g} weeks is before the goal "
            f"({goal.text}); allowed: at least {goal.week:g} weeks"
        )
    # without a horizon in the constraints the default one stretches to the goal's week
    horizon = max(constraints.horizon, 7.0 * goal.week)
    grid = candidates(disease, constraints) if grid is None else grid
    if not grid:
        raise TwinDataError("constraints: no candidate regimen is left; relax the constraints")
    theta = twin.draws(n_draws)
    model = model or twin_model(twin.settings.parameter_set)[0]
    now = twin.record.last_day
    rows, curves, hits = [], {}, {}
    with progress_bar("plan", len(grid), unit="regimens", enabled=progress) as advance:

        def done(name: str) -> None:
            advance(1)
            if on_regimen is not None:
                on_regimen(name)

        for c in grid:
            regimen = FutureRegimen(name=c.name, horizon=horizon, regimen=c.items)
            try:
                samples, times, status, last = simulate_draws(twin, regimen, theta, model=model)
            except DermatwinError:  # a candidate the therapy layer rejects is skipped
                done(c.name)
                continue
            score = samples[goal.score]
            base = score[:, 0]
            k = int(np.argmin(np.abs(times - (now + 7.0 * goal.week))))
            ok = ~np.isnan(score[:, k])
            hit = np.where(ok, score[:, k] <= (1 - goal.level / 100.0) * base, np.nan)
            hits[c.name] = hit
            n_ok = int(ok.sum())
            p_goal = float(np.nanmean(hit)) if n_ok else float("nan")
            if np.isnan(last):
                durability = 0.0
            else:
                t, event = relapse_times(score, times, last, RELAPSE_FRACTION)
                good = ~np.isnan(t)
                durability = float(np.median(t[good]) / 7.0) if good.any() else 0.0
            rows.append(
                {
                    "regimen": c.name,
                    "kind": c.kind,
                    "p_goal": p_goal,
                    "p_goal_se": float(np.sqrt(p_goal * (1 - p_goal) / n_ok)) if n_ok else np.nan,
                    "durability_weeks": durability,
                    "median_score_at_goal": float(np.nanmedian(score[:, k])),
                    "clinic_visits": c.clinic_visits,
                    "msc_doses": c.msc_doses,
                    "failed_draws": int(np.sum(status != 0)),
                }
            )
            q = np.nanquantile(score, [0.05, 0.5, 0.95], axis=0)
            curves[c.name] = pd.DataFrame({"day": times, "q05": q[0], "q50": q[1], "q95": q[2]})
            done(c.name)
    if not rows:
        raise TwinDataError("plan: no candidate regimen could be simulated for this twin")
    best = prob_best(np.column_stack([hits[r["regimen"]] for r in rows]))
    for r, b in zip(rows, best, strict=True):
        r["p_best"] = float(b)
    _order(rows, hits)
    _explain(rows, goal)
    table = pd.DataFrame(rows)
    table.insert(0, "rank", table.pop("rank"))
    top_names = list(table["regimen"].head(top))
    return PlanResult(goal, constraints, table, {n: curves[n] for n in top_names})
