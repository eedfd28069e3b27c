"""Flare triggers: a patient's environment as a seeded stochastic process (AD).

Atopic dermatitis waxes and wanes: allergens, irritants and infections cross the barrier
and flare the skin. The AD core (Miyano 2021) is deterministic and settles on one steady
state, so untreated virtual patients never flare. A trial may therefore give its AD patients
triggers (``triggers:`` in the trial YAML, :class:`Triggers`):

* each patient has a trigger rate ``lambda`` (per year) drawn from a gamma distribution
  with mean ``rate_per_year`` and shape ``shape`` (patients differ in exposure and
  susceptibility: a negative-binomial number of flares a year);
* trigger times are a Poisson process with that rate (exponential gaps drawn in turn, so a
  longer trial extends the same sequence);
* each trigger adds ``size`` (au) to the core's pathogen/allergen load ``p`` (a bolus):
  the load then drives Th2/Th22 activation and barrier damage through Miyano's equations,
  and EASI rises and falls back over weeks. A flare is counted by the trial's
  ``flares_per_year`` endpoints (upward crossings of ``flare_fraction`` x baseline at
  visits).
* **on skin under a topical corticosteroid** a trigger elicits less: the bolus is
  ``size * (1 - steroid_block * potency)``, where ``potency`` is the model's ``tcs_on``
  at the trigger's time (the application windows of the patient's regimen,
  :mod:`dermatwin.therapy.exposure`). Why: normal-looking, previously affected AD skin
  keeps a residual inflammatory infiltrate and immune activation (subclinical
  inflammation), from which a trigger provokes the next flare; intermittent steroid on
  that skin suppresses it, the rationale of proactive therapy (WOLLENBERG2009), and a
  steroid applied to the skin before an allergen challenge suppresses the intensity and
  size of the eczematous (patch test) reaction it elicits (SUKANTO1981). The steroid's
  T-cell effect in the model (``tcs_emax``) acts on Th differentiation only, while a
  trigger raises EASI through the load ``p`` itself, so without this path proactive
  steroid barely changed relapse in Berth-Jones 2003 (relapse-risk ratio 1.1-1.2,
  published hazard ratio 5.8). ``steroid_block`` is fitted to one row (see
  :data:`DEFAULT_STEROID_BLOCK`); ``steroid_block: 0`` is the knock-out. Trials without
  a topical steroid are unchanged.

* ``unexposed_share`` (opt-in, default 0) of the patients meet no trigger during the
  trial: a year without a relevant exposure. The gamma rates have no such lower tail (at
  shape 12 only 1 % of patients meet fewer than 10 triggers a year), and in the model a
  patient with more than a few triggers a year flares at least once whatever the rate
  (how many flares depends on the core's amplification, not on the trigger count:
  correlation 0.08), so without it no untreated patient reports a year without flares
  (NH_AD_FLARES_0: 3.7 %). A lower gamma shape gives such patients but moves the other
  categories out of the cohort's (shape 2: 4.0, 57.0, 18.7, 20.3 % vs 3.7, 44.8, 20.8,
  30.7 %). The share is fitted to NH_AD_FLARES_0 (``scripts/fit_unexposed_share.py``); the
  other three categories are predictions. Each patient's draw (a uniform from its own
  stream, apart from the trigger times) decides, so the exposed patients' triggers are
  those of a trial without the share.

The draws use the patient's own random stream (trial seed, population stream, candidate
index), so a patient's triggers are the same however the trial is split into chunks, and
paired arms (one population stream) give the same patient the same triggers.
:data:`DEFAULT_TRIGGERS` is calibrated (a grid over rate, shape and size, 150 patients per
point, then ``unexposed_share`` fitted to NH_AD_FLARES_0 alone) to the flare-frequency
categories of a population cohort (NH_AD_FLARES_0, _1_5, _6_10, _GT10: 3.7, 44.8, 20.8 and
30.7 % of patients with 0, 1-5, 6-10 and more than 10 flares a year; 300 patients: 3.7,
45.0, 21.3 and 30.0 %), with flares counted as patients report them: daily visits, a flare when EASI
rises above 1.25 x the trigger-free baseline (examples/trials/ad_flares_cohort.yaml,
validated by ``dermatwin validate``). Weekly visits miss most of these short flares: the
core recovers from a trigger within about a week, then slowly over weeks. The example has
no measurement noise: noise at daily visits would cross the threshold by itself and count
false flares.

>>> t = Triggers(rate_per_year=6.0, shape=2.0, size=0.3)
>>> [round(e.time, 1) for e in trigger_events(t, seed=1, stream=0, candidate=4, days=365.0)][:3]
[10.4, 22.0, 193.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from dermatwin._base.rng import rng_stream
from dermatwin._base.yaml_files import StrictModel
from dermatwin.engine.events import Event, EventKind, bolus
from dermatwin.model.skin.drugs import TCS_PARAMETER

#: random stream of the trigger process (added to the population stream)
TRIGGER_STREAM_OFFSET = 6_000_011
#: random stream of the draw that leaves a patient unexposed (added to the population stream)
UNEXPOSED_STREAM_OFFSET = 6_000_029
#: the AD core's pathogen/allergen load (MIYANO2021 state ``p``)
TRIGGER_STATE = "p"
DAYS_PER_YEAR = 365.25
#: share of a trigger's load that elicits no inflammation on skin under a potent topical
#: steroid (potency 1). Fitted by ``scripts/fit_steroid_block.py`` (bisection, the example
#: trial's own patients and seed) to one row: AD_TCS_PROACTIVE_FP_RELAPSE (40 of the
#: fluticasone arm's ~148 patients relapsed by week 16 of maintenance, 27 %); the emollient
#: arm, its median time to relapse and the hazard ratio are predictions
DEFAULT_STEROID_BLOCK = 0.547


class Triggers(StrictModel):
    """Environmental flare triggers of AD patients (see the module docstring)."""

    rate_per_year: float = Field(gt=0, le=100, description="mean triggers per patient-year")
    shape: float = Field(gt=0, le=100, description="gamma shape of the patients' rates")
    size: float = Field(gt=0, le=5, description="load added to the core's p per trigger (au)")
    steroid_block: float = Field(
        default=DEFAULT_STEROID_BLOCK,
        ge=0,
        le=1,
        description="share of a trigger's load that elicits no inflammation on skin under a "
        "potent topical steroid (x the preparation's potency; 0 = knock-out)",
    )
    unexposed_share: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="share of patients who meet no trigger during the trial (0 = none)",
    )


#: calibrated to NH_AD_FLARES_* (see the module docstring): 26 triggers a patient-year on
#: average, gamma shape 12, 0.25 au of load each; 3.44 % of patients unexposed (fitted to
#: NH_AD_FLARES_0 by scripts/fit_unexposed_share.py, bracket 0.0336-0.0344)
DEFAULT_TRIGGERS = Triggers(rate_per_year=26.0, shape=12.0, size=0.25, unexposed_share=0.0344)


def trigger_times(
    triggers: Triggers, *, seed: int, stream: int, candidate: int, days: float
) -> np.ndarray:
    """Sorted trigger days in ``[0, days)`` of one patient (see the module docstring).

    The gaps between triggers are drawn one after another (exponential at the patient's
    rate), so a longer trial extends the same sequence: the patient's triggers in weeks
    0-12 are the same in a 12-week and a 52-week trial. An unexposed patient (see
    ``unexposed_share``) has none."""
    if triggers.unexposed_share > 0.0:
        draw = rng_stream(seed, stream + UNEXPOSED_STREAM_OFFSET, candidate).random()
        if draw < triggers.unexposed_share:
            return np.zeros(0)
    rng = rng_stream(seed, stream + TRIGGER_STREAM_OFFSET, candidate)
    rate = rng.gamma(triggers.shape, triggers.rate_per_year / triggers.shape) / DAYS_PER_YEAR
    times: list[float] = []
    t = rng.exponential(1.0 / rate)
    while t < days:
        times.append(t)
        t += rng.exponential(1.0 / rate)
    return np.asarray(times)


def trigger_events(
    triggers: Triggers,
    *,
    seed: int,
    stream: int,
    candidate: int,
    days: float,
    regimen: Sequence[Event] = (),
) -> list[Event]:
    """The patient's triggers as boluses into the AD core's ``p``, each smaller by
    ``steroid_block`` x the topical steroid's potency on the skin at its time (read from
    the ``tcs_on`` events of the patient's ``regimen``; see the module docstring)."""
    times = trigger_times(triggers, seed=seed, stream=stream, candidate=candidate, days=days)
    potency = steroid_potency(regimen, times)
    sizes = triggers.size * (1.0 - triggers.steroid_block * potency)
    return [bolus(float(t), TRIGGER_STATE, float(a)) for t, a in zip(times, sizes, strict=True)]


def steroid_potency(regimen: Sequence[Event], times: np.ndarray) -> np.ndarray:
    """The topical steroid's potency (``tcs_on``) at each of ``times`` (days), from the
    regimen's events: the last value set at or before the time. The engine applies a
    regimen's events before a trigger at the same time (the triggers follow them in the
    plan), so a window that closes at a trigger's time no longer covers it.

    >>> from dermatwin.engine.events import on_off
    >>> steroid_potency(on_off(1.0, 4.5, "tcs_on", 1.0), np.array([0.5, 1.0, 4.4, 4.5]))
    array([0., 1., 1., 0.])
    """
    switches = sorted(
        ((e.time, i, e.value) for i, e in enumerate(regimen) if _sets_steroid(e)),
    )
    at = np.array([t for t, _, _ in switches], dtype=np.float64)
    level = np.array([0.0, *(v for _, _, v in switches)], dtype=np.float64)
    return level[np.searchsorted(at, np.asarray(times, dtype=np.float64), side="right")]


def _sets_steroid(event: Event) -> bool:
    return event.kind == EventKind.SET_PARAMETER and event.target == TCS_PARAMETER
