"""Benchmark workloads on the Miyano 2021 model (shared by the engine benchmark).

(a) smooth: the 1,000-patient cohort with a constant dupilumab effect for 24 weeks after
    equilibration (no events after day 0).
(b) event-rich: the same cohort with dupilumab 600 mg then 300 mg every 2 weeks through
    first-order subcutaneous PK, and an emollient applied every day as a dose event
    (12 + 168 events per patient in 24 weeks).

The PK values are representative of dupilumab's label and population-PK reports but are
benchmark settings, not calibrated: each is marked ``assumed`` with its reason.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from dermatwin.engine.events import Event, bolus, intervention
from dermatwin.model.reference import miyano2021
from dermatwin.model.spec import Model, ModelBuilder
from dermatwin.patients.sampling import sample_lognormal

N_PATIENTS = 1000
SEED = 2021
WEEKS = 24
HORIZON = WEEKS * 7.0
# Output times half a day after the daily emollient doses so that engines which report
# post-event states (libRoadRunner) and pre-event states (dermatwin) agree exactly.
OUTPUT_TIMES = np.arange(0.5, HORIZON, 7.0)
PATIENT_YEARS_PER_PATIENT = HORIZON / 365.25


@cache
def miyano_with_pk() -> Model:
    """Miyano 2021 with dupilumab exposure (depot -> serum, Emax) and an emollient film."""
    base = miyano2021.build()
    b = ModelBuilder.extend(base, "miyano2021_pk", "Miyano 2021 + dupilumab PK + emollient")
    depot = b.state(
        "dupi_depot",
        unit="mg",
        initial=0.0,
        scale=100.0,
        description="dupilumab at the subcutaneous injection site",
    )
    conc = b.state(
        "dupi_serum",
        unit="mg/L",
        initial=0.0,
        scale=10.0,
        description="dupilumab serum concentration",
    )
    film = b.state(
        "emollient",
        unit="au",
        initial=0.0,
        scale=1.0,
        description="emollient on the skin (1 per application)",
    )
    ka = b.parameter(
        "dupi_ka",
        0.3,
        unit="1/day",
        source="assumed: label t_max ~1 week",
        description="absorption rate",
    )
    bio = b.parameter(
        "dupi_F",
        0.64,
        unit="dimensionless",
        source="assumed: label F ~64 %",
        description="bioavailability",
    )
    vol = b.parameter(
        "dupi_V",
        4.8,
        unit="L",
        source="assumed: typical mAb Vc + Vp",
        description="volume of distribution",
    )
    ke = b.parameter(
        "dupi_ke",
        math.log(2) / 14,
        unit="1/day",
        source="assumed: linear half-life ~2 weeks",
        description="elimination rate",
    )
    ec50 = b.parameter(
        "dupi_EC50",
        5.0,
        unit="mg/L",
        source="assumed: benchmark setting",
        description="serum level giving half the maximal block",
    )
    k_film = b.parameter(
        "emollient_loss",
        2.0,
        unit="1/day",
        source="assumed: film lasts ~12 h",
        description="emollient loss rate",
    )
    b.ode(depot, -ka * depot)
    b.ode(conc, bio * ka * depot / vol - ke * conc)
    b.ode(film, -k_film * film)
    block = miyano2021.BLOCK * conc / (conc + ec50)
    sym = ModelBuilder.symbol
    # Exposure drives the IL-4/IL-13 block and the emollient film replaces the on/off
    # vehicle switch, so both treatments act through states moved by dose events.
    b.substitute({sym("e_IL4"): block, sym("e_IL13"): block, sym("PLAC"): film})
    return b.build()


def cohort_parameters(model: Model, n: int = N_PATIENTS) -> np.ndarray:
    """Miyano virtual patients (seeded per patient), padded with the model's defaults."""
    base = miyano2021.build()
    sampled = sample_lognormal(base, n, SEED)
    params = np.tile(model.default_parameters(), (n, 1))
    for j, name in enumerate(base.parameter_names):
        params[:, model.parameter_index(name)] = sampled[:, j]
    return params


def smooth_events(model: Model) -> list[Event]:
    return intervention(model, "dupilumab", 0.0)


def event_rich_events() -> list[Event]:
    doses = [bolus(0.0, "dupi_depot", 600.0)]
    doses += [bolus(t, "dupi_depot", 300.0) for t in np.arange(14.0, HORIZON, 14.0)]
    films = [bolus(float(t), "emollient", 1.0) for t in np.arange(0.0, HORIZON, 1.0)]
    return sorted(doses + films, key=lambda e: e.time)
