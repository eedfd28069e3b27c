"""Miyano, Irvine & Tanaka 2021: the atopic dermatitis QSP model (source id MIYANO2021).

Re-implemented from the published equations (Allergy 2021, doi 10.1111/all.14870) and the
authors' public code (Tanaka-Group/AD_QSP_model, MIT licence, (c) 2021 Takuya Miyano).
14 states: skin barrier integrity ``s``, infiltrated pathogen ``p``, Th1/Th2/Th17/Th22
cells and eight cytokines. EASI = 36 (p + 1 - s).

The paper's rates are per week; the parameters keep their published values and units and
the right-hand side is divided by 7 days/week, so the model runs in days like every
dermatwin model. Drugs are fractional blocks of effective cytokines (X_e = (1 - e_X) X),
switched on as :class:`~dermatwin.model.spec.Intervention` parameter sets; every
treatment period also switches on the placebo/vehicle barrier term ``PLAC``.

Tralokinumab blocks IL-13 through a partial factor (``f_IL13`` = 0.4396, the IL-13Ra2
pathway, as in the authors' code); recombinant IFN-gamma adds 210 to effective IFN-gamma.

>>> from dermatwin.model.reference.miyano2021 import build
>>> m = build()
>>> len(m.states), len(m.parameters) - 10
(14, 51)
"""

from __future__ import annotations

from functools import cache

from dermatwin.model.parameters import read_table
from dermatwin.model.spec import Model, ModelBuilder

SOURCE = "MIYANO2021"
DAYS_PER_WEEK = 7.0
BLOCK = 0.99  # fraction of a cytokine blocked by a biologic in the published model
TRALOKINUMAB_FACTOR = 0.4396  # partial IL-13 block through IL-13Ra2 (authors' code)

#: name, initial value (authors' start point for equilibration), description
STATES = [
    ("s", 0.5931, "skin barrier integrity (0 = broken, 1 = intact)"),
    ("p", 0.4069, "infiltrated pathogens/allergens"),
    ("Th1", 3.1, "Th1 cells"),
    ("Th2", 8.7, "Th2 cells"),
    ("Th17", 2.0, "Th17 cells"),
    ("Th22", 21.0, "Th22 cells"),
    ("IL4", 38.0, "IL-4"),
    ("IL13", 40.5, "IL-13"),
    ("IL17", 5.4, "IL-17"),
    ("IL22", 3.0, "IL-22"),
    ("IL31", 2.0, "IL-31"),
    ("IFNg", 1.5, "IFN-gamma"),
    ("TSLP", 4.4, "TSLP"),
    ("OX40L", 9.7, "OX40L"),
]

#: intervention -> parameters it sets (PLAC = 1 during every treatment, as published)
DRUGS: dict[str, tuple[dict[str, float], str]] = {
    "placebo": ({}, "placebo/vehicle: barrier-forming term k3 switched on"),
    "dupilumab": ({"e_IL4": BLOCK, "e_IL13": BLOCK}, "anti-IL-4Ra (blocks IL-4 and IL-13)"),
    "lebrikizumab": ({"e_IL13": BLOCK}, "anti-IL-13"),
    "tralokinumab": (
        {"e_IL13": BLOCK, "f_IL13": TRALOKINUMAB_FACTOR},
        "anti-IL-13, partial block via the IL-13Ra2 pathway",
    ),
    "nemolizumab": ({"e_IL31": BLOCK}, "anti-IL-31RA"),
    "tezepelumab": ({"e_TSLP": BLOCK}, "anti-TSLP"),
    "GBR830": ({"e_OX40L": BLOCK}, "anti-OX40"),
    "fezakinumab": ({"e_IL22": BLOCK}, "anti-IL-22"),
    "secukinumab": ({"e_IL17": BLOCK}, "anti-IL-17A"),
    "rIFNg": ({"add_IFNg": 210.0}, "recombinant IFN-gamma (adds 210 to effective IFN-gamma)"),
}


@cache
def build() -> Model:
    """The Miyano 2021 model with the published typical patient as default parameters."""
    b = ModelBuilder(
        "miyano2021",
        "Atopic dermatitis QSP model (Miyano, Irvine & Tanaka 2021, Allergy)",
        references=(SOURCE,),
        display_time_unit="week",
        equilibration_days=1000 * DAYS_PER_WEEK,
    )
    x = {
        name: b.state(name, unit="au", initial=init, description=desc, source=SOURCE)
        for name, init, desc in STATES
    }
    k = {}
    for row in read_table("miyano2021"):
        k[row["name"]] = b.parameter(
            row["name"],
            float(row["value"]),
            unit=row["unit"],
            source=row["source"],
            description=row["description"],
            lower=0.0,
            lognormal=(float(row["mu_ln"]), float(row["sigma"])),
        )
    drug = {
        "PLAC": b.parameter(
            "PLAC",
            0.0,
            unit="dimensionless",
            source=SOURCE,
            lower=0,
            upper=1,
            description="placebo/vehicle switch: 1 during any treatment period",
        ),
    }
    for cyt in ("IL4", "IL13", "IL17", "IL22", "IL31", "TSLP", "OX40L"):
        drug[f"e_{cyt}"] = b.parameter(
            f"e_{cyt}",
            0.0,
            unit="dimensionless",
            source=SOURCE,
            lower=0.0,
            upper=1.0,
            description=f"fraction of {cyt} blocked by a drug",
        )
    drug["f_IL13"] = b.parameter(
        "f_IL13",
        1.0,
        unit="dimensionless",
        source=SOURCE,
        lower=0.0,
        upper=1.0,
        description="share of the IL-13 block that acts (0.4396 for tralokinumab)",
    )
    drug["add_IFNg"] = b.parameter(
        "add_IFNg",
        0.0,
        unit="au",
        source=SOURCE,
        lower=0.0,
        description="exogenous IFN-gamma added to the effective level (rIFNg: 210)",
    )

    s, p = x["s"], x["p"]
    IL4 = (1 - drug["e_IL4"]) * x["IL4"]
    IL13 = (1 - drug["e_IL13"] * drug["f_IL13"]) * x["IL13"]
    IL17 = (1 - drug["e_IL17"]) * x["IL17"]
    IL22 = (1 - drug["e_IL22"]) * x["IL22"]
    IL31 = (1 - drug["e_IL31"]) * x["IL31"]
    TSLP = (1 - drug["e_TSLP"]) * x["TSLP"]
    OX40L = (1 - drug["e_OX40L"]) * x["OX40L"]
    IFNg = x["IFNg"] + drug["add_IFNg"]

    per_week = {
        "s": (1 - s)
        * (k["k1"] + k["k2"] * IL22 + k["k3"] * drug["PLAC"])
        / (
            (1 + k["b1"] * IL4)
            * (1 + k["b2"] * IL13)
            * (1 + k["b3"] * IL17)
            * (1 + k["b4"] * IL22)
            * (1 + k["b5"] * IL31)
        )
        - s * (k["d1"] * (1 + k["d3"] * p) + k["d2"] * IL31),
        "p": k["d8"] / (1 + k["b6"] * s)
        - p
        * (
            (1 + k["d4"] * p)
            * (1 + k["d5"] * IL17)
            * (1 + k["d6"] * IL22)
            * (1 + k["d7"] * IFNg)
            / ((1 + k["b7"] * IL4) * (1 + k["b8"] * IL13))
            + k["d8"]
        ),
    }
    den = 4 + k["k9"] * IFNg + k["k10"] * IL4
    th_loss = k["d9"] / (1 + k["b9"] * OX40L)
    per_week["Th1"] = k["k5"] * p * (1 + k["k9"] * IFNg) / den - th_loss * x["Th1"]
    per_week["Th2"] = k["k6"] * p * (1 + k["k10"] * IL4) / den - th_loss * x["Th2"]
    per_week["Th17"] = k["k7"] * p / den - th_loss * x["Th17"]
    per_week["Th22"] = k["k8"] * p / den - th_loss * x["Th22"]
    per_week["IL4"] = k["k11"] * x["Th2"] + k["k12"] - k["d10"] * x["IL4"]
    per_week["IL13"] = k["k13"] * x["Th2"] + k["k14"] - k["d11"] * x["IL13"]
    per_week["IL17"] = k["k15"] * x["Th17"] + k["k16"] - k["d12"] * x["IL17"]
    per_week["IL22"] = k["k17"] * x["Th22"] + k["k18"] - k["d13"] * x["IL22"]
    per_week["IL31"] = k["k19"] * x["Th2"] + k["k20"] - k["d14"] * x["IL31"]
    per_week["IFNg"] = k["k21"] * x["Th1"] + k["k22"] - k["d15"] * x["IFNg"]
    per_week["TSLP"] = k["k23"] * p + k["k24"] - k["d16"] * x["TSLP"]
    per_week["OX40L"] = k["k25"] * TSLP + k["k26"] - k["d17"] * x["OX40L"]
    for name, rate in per_week.items():
        b.ode(x[name], rate / DAYS_PER_WEEK)

    b.output("EASI", 36 * (p + 1 - s), unit="dimensionless", description="EASI score (0-72)")
    for name, (params, description) in DRUGS.items():
        b.intervention(name, {"PLAC": 1.0, **params}, description=description, source=SOURCE)
    return b.build()
