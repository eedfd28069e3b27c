"""Observed vs fitted: the twin's posterior scores over the visit period, beside the visits.

For ``n_draws`` posterior draws the record's own treatments are simulated from the first
visit (day 0) to the last, on a weekly grid plus the visit days. For every continuous
score the record holds, the bands give the posterior median and 95 % interval of the
model score (``latent``: parameter uncertainty) and of what a visit would record
(``predictive``: with the measurement error of :mod:`.likelihood`, kept within the
score's scale). A fit that describes the patient has most visits inside the predictive
band. Days are since the first visit; failed draws are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dermatwin.model.spec import Model
from dermatwin.twins.fit import Twin
from dermatwin.twins.likelihood import OUTPUTS, TwinSimulator, twin_model
from dermatwin.twins.predict import add_noise

#: band quantiles (95 % interval and the median)
FIT_QUANTILES = (0.025, 0.5, 0.975)
#: posterior draws simulated for the bands
FIT_DRAWS = 100
#: simulated recorded visits per draw (predictive band)
NOISE_REPLICATES = 20


def fitted_scores(twin: Twin) -> list[str]:
    """The continuous model scores the record observed (what the bands show)."""
    outputs = OUTPUTS[twin.record.patient.disease]
    return [name for name in outputs if twin.record.observed(name)]


def fitted_bands(
    twin: Twin, *, n_draws: int = FIT_DRAWS, model: Model | None = None, seed: int = 0
) -> pd.DataFrame:
    """Per observed score and day: ``q025``, ``q50``, ``q975`` of the ``latent`` and
    ``predictive`` bands (see the module docstring); columns ``variable``, ``band``,
    ``day``, ``week`` and the quantiles."""
    from dermatwin.params.parameter_set import load_parameter_set

    model = model or twin_model(twin.settings.parameter_set)[0]
    pset = load_parameter_set(twin.settings.parameter_set)
    last = twin.record.last_day
    visit_days = [v.day for v in twin.record.visits]
    times = np.unique(np.concatenate([np.arange(0.0, last + 7.0, 7.0), visit_days]))
    times = times[times <= max(last, 7.0)]
    simulator = TwinSimulator(model, twin.record, twin.prior, pset)
    out, status, _ = simulator.run(twin.draws(n_draws), times)
    names = fitted_scores(twin) if (status == 0).any() else []
    latent = {n: out[n][status == 0] for n in names}
    # several recorded visits per draw: a smooth 95 % band from 100 draws
    repeated = {n: np.repeat(v, NOISE_REPLICATES, axis=0) for n, v in latent.items()}
    noisy = add_noise(repeated, seed, pset.severity())
    frames = []
    for band, samples in (("latent", latent), ("predictive", noisy)):
        for name in names:
            q = np.quantile(samples[name], FIT_QUANTILES, axis=0)
            frames.append(
                pd.DataFrame(
                    {
                        "variable": name,
                        "band": band,
                        "day": times,
                        "week": times / 7.0,
                        "q025": q[0],
                        "q50": q[1],
                        "q975": q[2],
                    }
                )
            )
    columns = ["variable", "band", "day", "week", *(f"q{c}" for c in ("025", "50", "975"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
