"""Ageing module: slow drift of dermal collagen, thickness and elasticity with age.

Per-patient parameter ``age_years`` (age at time 0) and a switch ``ageing_clock``:

* ``ageing_clock`` = 0 (default): the skin is that of a person aged ``age_years``,
  frozen (no drift), so the model still has a steady state and can be equilibrated.
* ``ageing_clock`` = 1: the age runs, ``a(t) = age_years + t / 365.25``. Set it with a
  ``set_parameter`` event at time 0 to simulate decades after an equilibration.

Age-normal dermal collagen content, relative to a young adult of ``age_reference`` =
30 years, falls linearly by ``collagen_loss_per_year`` = 1 %/year (SCA-23, adult skin;
the source is unverified): ``N(a) = 1 - beta (a - age_reference)``. The dermis module
turns collagen over with a half-life of 15 years (SCA-20), so a synthesis that tracks
``N`` must lead it: the dermis makes collagen at ``k_c N(t)/N(0) + dN/dt / N(0)``
(synthesis falling with age), which keeps an unwounded dermis exactly on ``N``.
Dermal thickness is 40 % matrix other than collagen plus 60 % collagen
(``dermis_collagen_share``), so it falls 0.6 %/year, 6 % per decade (SCA-03, SCA-03d),
while collagen content falls 1 %/year.

Elasticity falls by ``elasticity_loss_per_year`` (assumed 0.8 %/year of the young-adult
value): the reference data give only correlations with age (Cutometer R7 r = -0.62,
R0 r = -0.47, R6 r = +0.49 in 60 women aged 18-70, SCA-05, SCA-06, SCA-07), no slope.

Ages are in ``year`` and yearly rates in ``1/year``; the model's clock ``t`` is in days.

**Inflammation and ageing** (path: inflammation -> M1 macrophages -> MMPs -> collagen
loss -> the age-like read-outs). The dermis module lowers the level type I collagen
settles at to ``N / (1 + inflammatory_collagen_degradation * m1)``, with ``m1`` the excess
of M1 macrophages over healthy dermis (macrophage module; IFN-gamma/TNF of the cores and
an open wound raise it, IL-4/IL-13 lower it). Lower collagen gives a thinner dermis, lower
elasticity (``deficit_elasticity_loss``: 0.8 % of elasticity per 1 % of collagen below the
age-normal level, the ratio of the two ageing rates above) and a higher wrinkle proxy,
i.e. skin that reads older. The coupling is assumed and **off by default** (0): no
reference row gives a rate, and on it changes the dermis of every patient whose M1 differs
from healthy dermis (0.2 au M1). With 0.25, the default (typical AD) patient ageing
from 30 has collagen 0.55 of the young adult's at 70 (0.60 with the coupling off: its
M1 is 0.29 au), and 0.52 with a psoriatic plaque from age 30 (M1 0.36 au; same patient;
knock-out: the coupling at 0, tests/model/skin/test_ageing.py). Limits: the collagen level follows
M1 within months (the dermis module's scar remodelling, half-life ~70 days), so the loss
does not build up over years; only type I collagen (85 %) is affected; the AD core's Th2
milieu polarises macrophages to M2, so a typical AD lesion has *fewer* M1 than the same
patient cleared by IL-4/IL-13 blockade (0.29 vs 0.38 au), and this path then makes AD
age the dermis less than its clearance does.

**Wrinkle proxy** (read-out only; nothing reads it): ``wrinkle_index = 1 - elasticity x
dermal_thickness`` (0 for a young adult's normal skin; assumed mapping: wrinkles deepen
as the dermis thins and recoils less; the reference data hold no wrinkle grading, only
elasticity-age correlations SCA-05..07). It rises from 0 at 30 to 0.48 at 70 with normal
ageing.

Signals fed (all 0 at the reference age with the clock stopped):

* ``age_level`` = N(age_years) - 1: the patient's collagen at time 0 relative to the
  young adult,
* ``age_norm`` = N(a(t)) / N(age_years) - 1 and ``age_norm_rate`` = its time
  derivative (1/day): the drift since time 0, read by the dermis module,
* ``age_elasticity`` = -elasticity_loss_per_year * (a(t) - age_reference).

Outputs ``skin_age`` (years), ``collagen_content_age`` (N(a(t)), relative to the
young adult) and ``wrinkle_index``. Not modelled: slower epidermal/barrier turnover
with age (it would change the AD core for every patient whose age differs from a
reference; left for a module that can keep the no-therapy identity).
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder

DAYS_PER_YEAR = 365.25


@register("ageing")
def add(b: ModelBuilder) -> None:
    age0 = b.parameter(
        "age_years",
        30.0,
        unit="year",
        source="assumed: default patient at the reference age (per patient)",
        lower=0.0,
        upper=100.0,
        description="age of the patient at time 0 (years)",
    )
    clock = b.parameter(
        "ageing_clock",
        0.0,
        unit="dimensionless",
        source="assumed: switch (0 = age frozen for equilibration, 1 = age runs)",
        lower=0.0,
        upper=1.0,
        description="1 to let the age run with simulated time",
    )
    ref = b.parameter(
        "age_reference",
        30.0,
        unit="year",
        source="assumed: young adult; SCA-03 declines are linear in adult age",
        lower=0.0,
        upper=100.0,
        description="age (years) at which the dermis is the reference (1)",
    )
    beta = b.parameter(
        "collagen_loss_per_year",
        0.01,
        unit="1/year",
        source="SCA-23 (skin collagen content falls about 1 % per year in adults)",
        lower=0.0,
        upper=0.012,
        description="yearly fall of dermal collagen content (fraction of young adult per year)",
    )
    el_loss = b.parameter(
        "elasticity_loss_per_year",
        0.008,
        unit="1/year",
        source="assumed: slope not in the reference data; SCA-05..07 give only "
        "correlations of Cutometer R7/R0/R6 with age",
        lower=0.0,
        upper=0.012,
        description="yearly fall of skin elasticity (fraction of young adult per year)",
    )

    t = b.symbol("t")
    age = age0 + clock * t / DAYS_PER_YEAR
    n0 = 1 - beta * (age0 - ref)
    n_t = 1 - beta * (age - ref)
    b.add_signal("age_level", n0 - 1)
    b.add_signal("age_norm", n_t / n0 - 1)
    b.add_signal("age_norm_rate", -beta * clock / DAYS_PER_YEAR / n0)
    b.add_signal("age_elasticity", -el_loss * (age - ref))
    b.output("skin_age", age, unit="year", description="age of the skin (years)")
    b.output(
        "collagen_content_age",
        n_t,
        unit="dimensionless",
        description="age-normal dermal collagen content relative to a young adult",
    )
    # a read-out only: nothing in the model reads it
    b.output(
        "wrinkle_index",
        1 - b.output_expression("elasticity") * b.output_expression("dermal_thickness"),
        unit="dimensionless",
        description="wrinkle proxy: 1 - elasticity x dermal thickness (0 = young adult)",
    )
