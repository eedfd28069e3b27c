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

The draws use the patient's own random stream (trial seed, population stream, candidate
index), so a patient's triggers are the same however the trial is split into chunks, and
paired arms (one population stream) give the same patient the same triggers.
:data:`DEFAULT_TRIGGERS` is calibrated (a grid over rate, shape and size, 150 patients per
point) to the flare-frequency categories of a population cohort (NH_AD_FLARES_0, _1_5,
_6_10, _GT10: 3.7, 44.8, 20.8 and 30.7 % of patients with 0, 1-5, 6-10 and more than 10
flares a year), with flares counted as patients report them: daily visits, a flare when EASI
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

import numpy as np
from pydantic import Field

from dermatwin._base.rng import rng_stream
from dermatwin._base.yaml_files import StrictModel
from dermatwin.engine.events import Event, bolus

#: random stream of the trigger process (added to the population stream)
TRIGGER_STREAM_OFFSET = 6_000_011
#: the AD core's pathogen/allergen load (MIYANO2021 state ``p``)
TRIGGER_STATE = "p"
DAYS_PER_YEAR = 365.25


class Triggers(StrictModel):
    """Environmental flare triggers of AD patients (see the module docstring)."""

    rate_per_year: float = Field(gt=0, le=100, description="mean triggers per patient-year")
    shape: float = Field(gt=0, le=100, description="gamma shape of the patients' rates")
    size: float = Field(gt=0, le=5, description="load added to the core's p per trigger (au)")


#: calibrated to NH_AD_FLARES_* (see the module docstring): 26 triggers a patient-year on
#: average, gamma shape 12, 0.25 au of load each
DEFAULT_TRIGGERS = Triggers(rate_per_year=26.0, shape=12.0, size=0.25)


def trigger_times(
    triggers: Triggers, *, seed: int, stream: int, candidate: int, days: float
) -> np.ndarray:
    """Sorted trigger days in ``[0, days)`` of one patient (see the module docstring).

    The gaps between triggers are drawn one after another (exponential at the patient's
    rate), so a longer trial extends the same sequence: the patient's triggers in weeks
    0-12 are the same in a 12-week and a 52-week trial."""
    rng = rng_stream(seed, stream + TRIGGER_STREAM_OFFSET, candidate)
    rate = rng.gamma(triggers.shape, triggers.rate_per_year / triggers.shape) / DAYS_PER_YEAR
    times: list[float] = []
    t = rng.exponential(1.0 / rate)
    while t < days:
        times.append(t)
        t += rng.exponential(1.0 / rate)
    return np.asarray(times)


def trigger_events(
    triggers: Triggers, *, seed: int, stream: int, candidate: int, days: float
) -> list[Event]:
    """The patient's triggers as boluses into the AD core's ``p``."""
    times = trigger_times(triggers, seed=seed, stream=stream, candidate=candidate, days=days)
    return [bolus(float(t), TRIGGER_STATE, triggers.size) for t in times]
