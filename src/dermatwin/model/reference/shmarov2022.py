"""Shmarov et al. 2022: the psoriasis keratinocyte/immune model (source id SHMAROV2022).

Re-implemented from the paper (PLoS Comput Biol 2022, doi 10.1371/journal.pcbi.1010267)
and the SBML model ``psor_v8_4`` in pzuliani/psoriasis (Apache-2.0). Cells per mm2, time
in days. Stem (SC), transit-amplifying (TA), differentiated (D) and apoptotic (A)
keratinocytes, T cells, dendritic cells (DC), IL-23, IL-17, TNF and a keratinocyte growth
factor (GF). Bistable: healthy and plaque steady states.

Inputs are parameters switched by events: ``uv_dose`` (J/cm2, on for one day per UVB
session; :func:`uvb_course`) and ``dc_stim`` (extra DC activation, cells/mm2/day;
a 2-day pulse of 6000 from a healthy state starts a plaque). The Hill exponent of DC
recruitment by GF is fixed at 4 as published. The adalimumab/ustekinumab PK stubs of
the SBML file are not coupled to the dynamics in v8_4 and are left out.

>>> from dermatwin.model.reference.shmarov2022 import build
>>> build().state_names
('SC', 'TA', 'D', 'A', 'T', 'DC', 'IL23', 'IL17', 'TNF', 'GF')
"""

from __future__ import annotations

from functools import cache

from dermatwin.engine.events import Event, set_parameter
from dermatwin.model.parameters import read_table
from dermatwin.model.spec import Model, ModelBuilder

SOURCE = "SHMAROV2022"

DESCRIPTIONS = {
    "SC": "stem keratinocytes",
    "TA": "transit-amplifying keratinocytes",
    "D": "differentiated keratinocytes",
    "A": "apoptotic cells",
    "T": "T cells",
    "DC": "dendritic cells",
    "IL23": "IL-23",
    "IL17": "IL-17",
    "TNF": "TNF-alpha",
    "GF": "keratinocyte growth factor",
}

#: PASI index normalisers: (healthy, plaque) values of total cells, T and D (cells/mm2)
PASI_SCALE = {
    "totC": (79828.0, 266011.65),
    "T": (1556.09, 4783.0),
    "D": (50529.3, 173504.0),
}

#: published plaque steady state (shared/reference/validation_targets.md), as printed
PUBLISHED_PLAQUE = {
    "SC": "12544",
    "TA": "70350",
    "D": "173504",
    "T": "4783",
    "DC": "4804",
    "IL23": "131.6",
    "IL17": "65.5",
    "TNF": "65.5",
    "GF": "2271",
    "totC": "266012",
    "PASI_index": "1.000",
    "turnover": "14.3",
}

#: UVB dose ladder (J/cm2), three sessions a week, from the authors' simulate_uvb_v8_4.m
UVB_LADDER = (
    [0.7, 0.7, 0.98, 0.98, 1.323, 1.323, 1.72, 1.72, 2.15, 2.15]
    + [2.58, 2.58, 2.967, 2.967, 3.264, 3.264]
    + [3.427] * 14
)


@cache
def build() -> Model:
    """The Shmarov 2022 model (psor_v8_4) starting from its healthy steady state."""
    b = ModelBuilder(
        "shmarov2022",
        "Psoriasis keratinocyte-immune model (Shmarov et al. 2022, PLoS Comput Biol)",
        references=(SOURCE,),
        display_time_unit="day",
        equilibration_days=2000.0,
    )
    healthy = {
        r["state"]: (float(r["value"]), r["unit"]) for r in read_table("shmarov2022_healthy_state")
    }
    x = {}
    for name in ("SC", "TA", "D", "A", "T", "DC", "IL23", "IL17", "TNF", "GF"):
        value, unit = healthy[name]
        x[name] = b.state(
            name, unit=unit, initial=value, description=DESCRIPTIONS[name], source=SOURCE
        )
    k = {
        row["name"]: b.parameter(
            row["name"],
            float(row["value"]),
            unit=row["unit"],
            source=row["source"],
            description=row["description"],
            lower=0.0,
        )
        for row in read_table("shmarov2022")
    }
    u = b.parameter(
        "uv_dose",
        0.0,
        unit="J/cm2",
        source=SOURCE,
        lower=0.0,
        description="UVB dose, applied over a 1-day window per session",
    )
    stim = b.parameter(
        "dc_stim",
        0.0,
        unit="cell/mm2/day",
        source=SOURCE,
        lower=0.0,
        description="external dendritic-cell stimulus (plaque trigger)",
    )
    scale = {}
    for name, (healthy_value, plaque_value) in PASI_SCALE.items():
        scale[name] = (
            b.parameter(
                f"pasi_{name}_healthy",
                healthy_value,
                unit="cell/mm2",
                source=SOURCE,
                description=f"{name} in the healthy state (PASI index 0)",
            ),
            b.parameter(
                f"pasi_{name}_plaque",
                plaque_value,
                unit="cell/mm2",
                source=SOURCE,
                description=f"{name} in the plaque state (PASI index 1)",
            ),
        )

    SC, TA, D, A, T, DC = (x[n] for n in ("SC", "TA", "D", "A", "T", "DC"))
    c = x["IL17"] + x["TNF"]
    e = k["uv_eff"]

    def death(cells, floor):
        """UVB-induced plus basal apoptosis of a cell population (cells/mm2/day)."""
        return e * u * (cells - floor) + k["a_base"] * cells

    b.ode(SC, k["sc2"] * c * SC - k["sc20"] * SC**2 - death(SC, k["SC_min"]))
    b.ode(TA, k["ta2"] * c * TA - k["ta20"] * TA**2 + k["sc2ta"] * c * SC - death(TA, k["TA_min"]))
    b.ode(D, k["ta2d"] * c * TA - k["d20"] * D**2 - k["a_base"] * D - k["desq"] * D)
    b.ode(
        A,
        death(T, k["T_min"])
        + death(SC, k["SC_min"])
        + death(TA, k["TA_min"])
        + death(DC, k["DC_min"])
        + k["a_base"] * D
        - k["a20"] * A,
    )
    b.ode(T, k["t2"] * x["IL23"] - k["t20"] * T - death(T, k["T_min"]))
    gf4 = x["GF"] ** 4
    b.ode(
        DC,
        k["t_vm"] * gf4 / (k["t_kp"] + gf4)
        - k["t20"] * DC
        + k["dc_act"]
        + stim
        - death(DC, k["DC_min"]),
    )
    b.ode(x["IL23"], k["il232"] * DC - k["il2320"] * x["IL23"])
    b.ode(x["IL17"], k["il172"] * T - k["il1720"] * x["IL17"])
    b.ode(x["TNF"], k["tnf2"] * T - k["tnf20"] * x["TNF"])
    b.ode(x["GF"], k["sc2gf"] * SC + k["ta2gf"] * TA - k["gf20"] * x["GF"])

    tot = D + SC + TA + A + T + DC
    b.output("totC", tot, unit="cell/mm2", description="total epidermal cells")

    def index(value, name):
        lo, hi = scale[name]
        return (value - lo) / (hi - lo)

    b.output(
        "PASI_index",
        (index(tot, "totC") + index(T, "T") + index(D, "D")) / 3,
        unit="dimensionless",
        description="severity index: 0 healthy, 1 plaque (mean of totC, T, D rescaled)",
    )
    b.output(
        "turnover",
        (SC + TA) / (k["sc2"] * c * SC + k["sc2ta"] * c * SC + k["ta2"] * c * TA)
        + D / (k["ta2d"] * c * TA),
        unit="day",
        description="epidermal turnover time",
    )
    b.output(
        "A_per_1000",
        1000 * A / tot,
        unit="dimensionless",
        description="apoptotic cells per 1000 epidermal cells",
    )
    return b.build()


def uvb_course(start_day: float, doses=UVB_LADDER, days=(0, 2, 4), window_days=1.0) -> list[Event]:
    """UVB phototherapy as events: each session sets ``uv_dose`` for ``window_days``.

    Sessions fall on ``days`` of each week (default Mon/Wed/Fri) from ``start_day``.
    """
    events: list[Event] = []
    for i, dose in enumerate(doses):
        week, slot = divmod(i, len(days))
        t = start_day + 7 * week + days[slot]
        events += [
            set_parameter(t, "uv_dose", dose),
            set_parameter(t + window_days, "uv_dose", 0.0),
        ]
    return events


def dc_stimulus(start_day: float, duration_days: float, level: float = 6000.0) -> list[Event]:
    """A dendritic-cell stimulus pulse (cells/mm2/day) that can trigger a plaque."""
    return [
        set_parameter(start_day, "dc_stim", level),
        set_parameter(start_day + duration_days, "dc_stim", 0.0),
    ]
