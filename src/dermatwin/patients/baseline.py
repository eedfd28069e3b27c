"""Baseline matching: select virtual patients so that a population's baseline scores have
published means, SDs and category shares (Table 1 of a trial).

The method is virtual-population selection as in QSP practice (ALLEN2016): draw a
*plausible* population, then accept each plausible patient with a probability
proportional to the ratio of the target density to the plausible density at its
baseline. Allen estimates both densities (a multivariate normal target, a kernel
density estimate of the plausible population). Here the targets are the moments a
baseline table gives (mean and SD of each continuous score, shares of an ordinal grade),
so the target density is taken as the *exponential tilt* of the plausible density that
meets them: among all densities with those moments, the one closest to the plausible
population (least Kullback-Leibler divergence; maximum entropy relative to it). Its
ratio to the plausible density is ``w(x) = exp(lambda . (T(x) - t))`` with ``T`` the
features (``x`` and ``x**2`` per continuous score, one indicator per category but the
last) and ``t`` their targets, so no density has to be estimated, the correlations
between scores are the model's, and the inclusion criteria (truncation) are respected.

``lambda`` is fitted on a pilot: a fixed plausible sample of the population (its own
random stream, the same for every arm and every split of the work). Allen's acceptance
probability is ``w / max w``; a few extreme patients make that small (about 2 % of the
eligible with the pooled AD targets), so the acceptance probability is capped:
``min(1, w / c)`` with ``c`` near the pilot's 90 % quantile of ``w``, and ``lambda`` is
refitted for the capped rule, which meets the targets exactly on the pilot (about 15 %
accepted). A patient is then accepted when its own uniform draw is below its acceptance
probability, so who is accepted depends only on the seed, the arm and the candidate.

>>> import pandas as pd
>>> rng = np.random.default_rng(0)
>>> pilot = pd.DataFrame({"EASI": rng.uniform(16, 60, 4000)})
>>> sel = fit_selection(pilot, {"EASI": ScoreTarget(mean=30, sd=10)})
>>> p = sel.probability(pilot)
>>> round(float(np.average(pilot["EASI"], weights=p)), 3)
30.0
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, model_validator
from scipy.optimize import least_squares, minimize

from dermatwin._base.yaml_files import Number, StrictModel, short, validation_message
from dermatwin.disease.scores import ORDINALS
from dermatwin.patients.profile import DISEASE_SCORES, SCORE_RANGES, PatientError

#: the acceptance probability is capped at this quantile of the pilot's ratios (see above)
CAP_QUANTILE = 0.9
#: rounds of (cap at the quantile, refit): each ends on a fit that meets the targets
CAP_ROUNDS = 3
#: the fitted rule must meet every target on the pilot to this (in SDs of the feature;
#: 1e-3 of an SD is far below what a trial of any size resolves)
FIT_TOLERANCE = 1e-3
#: fewest eligible pilot patients to fit on
MIN_PILOT_ELIGIBLE = 50


class ScoreTarget(StrictModel):
    """Mean and SD of a continuous baseline score (the score's own units)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: Number
    sd: Number = Field(gt=0)


class ShareTarget(StrictModel):
    """Shares of the categories of an ordinal grade (IGA, PGA); unlisted categories are not
    accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shares: dict[int, Number] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares(self) -> ShareTarget:
        for k, v in self.shares.items():
            if not 0 <= k <= 4 or not 0 < v <= 1:
                raise ValueError(f"shares: {k}: {v:g}; allowed: categories 0-4, shares in (0, 1]")
        total = sum(self.shares.values())
        if abs(total - 1) > 0.01:
            raise ValueError(f"shares sum to {total:g}; allowed: 1 (within 0.01)")
        return self


Target = ScoreTarget | ShareTarget

#: the pooled placebo baseline of dupilumab's phase-3 AD trials (n = 1166;
#: AD_BASELINE_POOLED_PBO_EASI, AD_BASELINE_POOLED_PBO_SCORAD,
#: AD_BASELINE_POOLED_PBO_PRURITUS); the IGA 3/4 split (49.4/50.6 %) is the same pooled
#: table's (Br J Dermatol 2022;186:496), as quoted in issue 19 (no reference row yet)
POOLED: dict[str, dict[str, Target]] = {
    "AD": {
        "EASI": ScoreTarget(mean=32.0, sd=15.3),
        "SCORAD": ScoreTarget(mean=64.8, sd=18.9),
        "pruritus_NRS": ScoreTarget(mean=7.0, sd=2.2),
        "IGA": ShareTarget(shares={3: 0.494, 4: 0.506}),
    },
}

#: assumed between-patient log-normal sigmas of read-out parameters that the skin model
#: holds fixed, drawn only in baseline-matched (plausible) populations: SCORAD is a map of
#: EASI (``scorad_k``) and cannot reach the published SD of 18.9 without its own
#: variability (its subjective part, itch and sleep, is not in EASI); itch perception
#: (``pruritus_k``) varies between patients at the same IL-31 (SD 2.2 published, 1.2
#: from IL-31 alone). Sized so that the plausible population covers the pooled targets.
READOUT_SPREAD: dict[str, dict[str, float]] = {
    "AD": {"scorad_k": 0.5, "pruritus_k": 0.8},
    "psoriasis": {},
}


def resolve_targets(disease: str, baseline: str | dict) -> dict[str, Target]:
    """The targets of ``population.baseline``: ``"pooled"`` (the disease's pooled default)
    or ``{SCORE: {mean, sd}}`` / ``{GRADE: {shares: {category: share}}}``; a one-line
    ValueError naming the field otherwise."""
    if isinstance(baseline, str):
        if baseline != "pooled":
            raise ValueError(f"baseline: {short(baseline)}; allowed: pooled or targets per score")
        if disease not in POOLED:
            raise ValueError(
                f"baseline: no pooled baseline for {disease}; allowed: targets per score "
                "({SCORE: {mean, sd}}, {PGA: {shares: ...}})"
            )
        return dict(POOLED[disease])
    if not baseline:
        raise ValueError("baseline: give at least one score target")
    allowed = DISEASE_SCORES[disease]
    out: dict[str, Target] = {}
    for name, value in baseline.items():
        if name not in allowed:
            raise ValueError(
                f"baseline: {short(name, 20)} is not a {disease} score; allowed: "
                + ", ".join(allowed)
            )
        kind = ShareTarget if name in ORDINALS else ScoreTarget
        try:
            target = value if isinstance(value, kind) else kind.model_validate(value)
        except ValidationError as err:
            raise ValueError(f"baseline.{name}.{validation_message(err)}") from None
        if isinstance(target, ScoreTarget):
            low, high = SCORE_RANGES[name]
            if not low < target.mean < high or target.sd > (high - low) / 2:
                raise ValueError(
                    f"baseline.{name}: mean {target.mean:g}, sd {target.sd:g}; allowed: mean "
                    f"inside ({low:g}, {high:g}), sd up to {(high - low) / 2:g}"
                )
        out[name] = target
    return out


def _features(scores: pd.DataFrame, targets: dict[str, Target]) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix ``T`` (patients x features), its targets ``t``."""
    columns, goals = [], []
    for name, target in targets.items():
        x = scores[name].to_numpy(dtype=np.float64)
        if isinstance(target, ScoreTarget):
            columns += [x, x * x]
            goals += [target.mean, target.sd**2 + target.mean**2]
        else:
            for k in list(target.shares)[:-1]:
                columns.append(np.isclose(x, k).astype(np.float64))
                goals.append(target.shares[k] / sum(target.shares.values()))
    return np.column_stack(columns) if columns else np.zeros((len(scores), 0)), np.array(goals)


def _allowed(scores: pd.DataFrame, targets: dict[str, Target]) -> np.ndarray:
    """Patients whose grades are among the listed categories."""
    ok = np.ones(len(scores), dtype=bool)
    for name, target in targets.items():
        if isinstance(target, ShareTarget):
            x = scores[name].to_numpy(dtype=np.float64)
            ok &= np.isin(np.round(x), list(target.shares))
    return ok


@dataclass(frozen=True)
class Selection:
    """The fitted acceptance rule: ``p = min(1, exp(((T - t) / scale) . lam - log_cap))``
    for patients whose grades are listed, 0 for the others."""

    targets: dict[str, Target]
    goal: np.ndarray
    scale: np.ndarray
    lam: np.ndarray
    log_cap: float
    #: pilot: candidates drawn, eligible (inclusion criteria), expected share accepted
    pilot: int = 0
    pilot_eligible: int = 0
    acceptance: float = float("nan")

    def probability(self, scores: pd.DataFrame) -> np.ndarray:
        """Acceptance probability (0-1) of each patient of ``scores`` (baseline scores)."""
        x, _ = _features(scores, self.targets)
        log_w = ((x - self.goal) / self.scale) @ self.lam - self.log_cap
        p = np.exp(np.minimum(log_w, 0.0))
        return np.where(_allowed(scores, self.targets), p, 0.0)


def _describe(scores: pd.DataFrame, targets: dict[str, Target], weights: np.ndarray) -> str:
    parts = []
    for name, target in targets.items():
        x = scores[name].to_numpy(dtype=np.float64)
        if isinstance(target, ScoreTarget):
            m = np.average(x, weights=weights)
            sd = np.sqrt(np.average((x - m) ** 2, weights=weights))
            parts.append(f"{name} {m:.3g} +- {sd:.3g} (target {target.mean:g} +- {target.sd:g})")
        else:
            shares = ", ".join(
                f"{k}: {np.average(np.isclose(x, k), weights=weights):.2f} ({v:g})"
                for k, v in target.shares.items()
            )
            parts.append(f"{name} {shares}")
    return "; ".join(parts)


def fit_selection(pilot: pd.DataFrame, targets: dict[str, Target]) -> Selection:
    """The acceptance rule meeting ``targets`` on ``pilot`` (the baseline scores of the
    eligible plausible patients); a one-line :class:`PatientError` when no rule can."""
    keep = _allowed(pilot, targets)
    scores = pilot[keep].reset_index(drop=True)
    if len(scores) < MIN_PILOT_ELIGIBLE:
        raise PatientError(
            f"population.baseline: only {len(scores)} eligible patients in the pilot with the "
            f"listed categories; at least {MIN_PILOT_ELIGIBLE} are needed: relax the inclusion "
            "criteria or raise baseline_pilot"
        )
    x, goal = _features(scores, targets)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # a constant feature: the fit says if unmet
    d = (x - goal) / scale
    if d.shape[1] == 0:  # one category listed, nothing else: a restriction, no weights
        return Selection(targets, goal, scale, np.zeros(0), 0.0, acceptance=len(d) / len(pilot))

    def log_mean_w(lam):  # convex; its minimum meets the targets (uncapped rule)
        z = d @ lam
        top = z.max()
        w = np.exp(z - top)
        return top + np.log(w.mean()), d.T @ (w / w.sum())

    def residual(lam, log_cap):
        a = np.exp(np.minimum(d @ lam - log_cap, 0.0))
        return d.T @ a / a.sum()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow while far from a solution
        lam = minimize(log_mean_w, np.zeros(d.shape[1]), jac=True, method="BFGS").x
        for _ in range(CAP_ROUNDS):  # the cap moves with lambda: a few rounds bring it near
            log_cap = float(np.quantile(d @ lam, CAP_QUANTILE))
            lam = least_squares(residual, lam, args=(log_cap,), xtol=1e-12, ftol=1e-12).x
    p = np.exp(np.minimum(d @ lam - log_cap, 0.0))
    if not np.all(np.isfinite(p)) or np.abs(residual(lam, log_cap)).max() > FIT_TOLERANCE:
        weights = p if np.all(np.isfinite(p)) and p.sum() > 0 else np.ones(len(p))
        raise PatientError(
            "population.baseline: the eligible plausible population cannot meet the targets; "
            f"closest: {_describe(scores, targets, weights)}; relax the targets or the "
            "inclusion criteria"
        )
    return Selection(targets, goal, scale, lam, log_cap, acceptance=float(p.sum() / len(pilot)))
