"""Standard therapies as data: the drug catalogue, doses and the model events they imply.

Every drug a user compares MSC therapy with is a :class:`Drug` entry of :data:`CATALOGUE`:
disease(s), class, the skin model's target slot (:mod:`dermatwin.model.skin.drugs`) and
maximal inhibition, exposure model, route, labelled regimen and dose range, sources.

Exposure models
---------------
* ``first_order``: one-compartment PK. Each administration adds
  ``amount * F / V`` (mg/L) to the slot's exposure state, which decays with
  ``ln 2 / half-life``; the effect is ``emax * C^h / (C^h + EC50^h)`` (Hill
  coefficient ``hill``, 1 unless calibrated). ``EC50`` is derived: at the labelled
  maintenance regimen's steady-state reference exposure (trough for antibodies, average
  for daily oral drugs) the effect is ``occupancy * emax``, so
  ``EC50 = C_ref * ((1 - occupancy) / occupancy)^(1/h)``.
  Oral drugs taken once or more a day (reference ``average``) enter as a continuous
  input at their daily-average rate instead of a bolus per tablet: their half-lives
  (hours) are far below the weeks over which the skin responds, their labelled
  potencies refer to the average exposure, and a daily peak-and-trough cycle would make
  the modelled effect grow only with the logarithm of the dose (JADE MONO-1's 100 and
  200 mg arms differ far more than that). The AD biologics take Miyano's
  published block (``emax`` = 0.99) with ``occupancy`` 0.98 at the labelled trough.
  Only ``C / EC50`` matters to the model, so assumed volumes only scale the units.
* ``on_off``: a parameter switched on for windows (topical corticosteroid: one day per
  application; placebo/vehicle: Miyano ``PLAC``; UVB: Shmarov ``uv_dose`` sessions).
* emollient: boluses of applications into the barrier module's ``emollient`` state.

Doses (:class:`DrugDose`) are validated on construction; bad values raise a one-line
:class:`~dermatwin.therapy.products.TherapyError` naming the field and allowed values.
An amount of 0 gives no events at all (exactly the untreated patient).

>>> d = DrugDose("dupilumab", 300.0, "mg")
>>> [round(e.time) for e in drug_events(d, horizon_days=42.0)]
[0, 14, 28]
>>> sorted(drug_parameters("dupilumab"))
['il4r_ec50', 'il4r_emax', 'il4r_hill', 'il4r_kel']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dermatwin._base.yaml_files import short
from dermatwin.engine.events import Event, EventKind, bolus, set_parameter
from dermatwin.model.reference.miyano2021 import BLOCK, TRALOKINUMAB_FACTOR
from dermatwin.model.reference.shmarov2022 import UVB_LADDER
from dermatwin.model.skin.drugs import SLOTS, TCS_PARAMETER, state_name
from dermatwin.params.parameter_set import ParameterSet, calibrated_drug, register_drugs
from dermatwin.therapy.products import TherapyError

DISEASES = ("AD", "psoriasis")
ROUTES = ("SC", "IV", "oral", "topical", "phototherapy")
UNITS = ("mg", "mg/kg", "potency", "application", "J/cm2", "switch")

#: signalling blocked (partially) by JAK1 inhibitors in the AD core
JAK1_PATHWAYS = ("IL-4", "IL-13", "IL-22", "IL-31", "TSLP", "IFN-g")
#: applications of a topical steroid act for about a day (assumed; merged when they overlap)
TCS_WINDOW_DAYS = 1.0
#: UVB: first-session dose of the SHMAROV2022 ladder (J/cm2); other doses scale the ladder
UVB_LABEL_DOSE = UVB_LADDER[0]
#: reference body weight for mg/kg doses when deriving EC50 (kg)
REFERENCE_WEIGHT_KG = 70.0
#: doses up to this multiple of the labelled maximum are accepted (dose-response studies)
MAX_LABEL_MULTIPLE = 2.0
AD_BIOLOGIC_OCCUPANCY = 0.98
AD_BIOLOGIC_OCCUPANCY_SOURCE = (
    "assumed: effect at the labelled steady-state trough is 98 % of Miyano's BLOCK "
    "(biologics dosed for near-complete target coverage)"
)


@dataclass(frozen=True)
class Phase:
    """Part of a schedule: administrations from ``start`` (days after the drug's start),
    every ``interval`` days, ``count`` times (None: until the drug stops), each of
    ``multiple`` x the dose amount."""

    start: float
    multiple: float = 1.0
    interval: float | None = None
    count: int | None = 1

    def times(self, t0: float, end: float) -> list[float]:
        if self.interval is None:
            return [t0 + self.start] if t0 + self.start < end else []
        out, i = [], 0
        while self.count is None or i < self.count:
            t = t0 + self.start + i * self.interval
            if t >= end:
                break
            out.append(t)
            i += 1
        return out


@dataclass(frozen=True)
class Label:
    """The labelled regimen: dose, schedule, dose range and where they come from."""

    dose: float
    phases: tuple[Phase, ...]
    dose_range: tuple[float, float]
    text: str
    source: str


@dataclass(frozen=True)
class Drug:
    """One catalogue entry. ``targets`` maps each blocked pathway to its maximal
    inhibition; ``slot`` is the skin model's exposure state class (None for on/off)."""

    name: str
    diseases: tuple[str, ...]
    drug_class: str
    targets: dict[str, float]
    exposure: str  # "first_order" | "on_off"
    route: str
    unit: str
    label: Label
    sources: tuple[str, ...]
    slot: str | None = None
    emax: float = 0.0
    emax_source: str = ""
    half_life_days: float | None = None
    half_life_source: str = ""
    exposure_per_unit: float = 1.0  # F / V (1/L) for mg doses
    exposure_source: str = ""
    reference: str = "trough"  # steady-state exposure the occupancy refers to
    occupancy: float = 0.95
    occupancy_source: str = ""
    hill: float = 1.0
    hill_source: str = "assumed: 1 (hyperbolic exposure response)"
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def kel(self) -> float:
        return math.log(2.0) / self.half_life_days

    def amount_mg(self, amount: float, weight_kg: float) -> float:
        return amount * weight_kg if self.unit == "mg/kg" else amount

    def reference_exposure(self) -> float:
        """Steady-state trough or average exposure (mg/L) at the labelled maintenance."""
        maint = [p for p in self.label.phases if p.interval is not None][-1]
        a = (
            self.amount_mg(self.label.dose * maint.multiple, REFERENCE_WEIGHT_KG)
            * self.exposure_per_unit
        )
        k, tau = self.kel, maint.interval
        if self.reference == "average":
            return a / (k * tau)
        return a * math.exp(-k * tau) / (1.0 - math.exp(-k * tau))

    @property
    def ec50(self) -> float:
        odds = (1.0 - self.occupancy) / self.occupancy
        return self.reference_exposure() * odds ** (1.0 / self.hill)


def _q(start: float, interval: float, multiple: float = 1.0, count: int | None = None) -> Phase:
    return Phase(start, multiple, interval, count)


def _once(start: float, multiple: float = 1.0) -> Phase:
    return Phase(start, multiple)


_MAB = "assumed: typical IgG antibody, bioavailability 0.7 and volume 7 L (only C/EC50 matters)"
_ORAL = "assumed: oral bioavailability 0.8 and volume 100 L (only C/EC50 matters)"
_PSO_OCC = "assumed: labelled regimen gives near-maximal target inhibition at trough"
_ORAL_OCC = "assumed: labelled dose gives 75 % of maximal inhibition at average exposure"


def _antibody(name, drug_class, slot, targets, label, half_life, hl_source, sources, **kw):
    """A subcutaneous antibody: at the labelled steady-state trough its effect is
    ``occupancy`` of its maximum (AD defaults: Miyano's block, 98 %)."""
    return Drug(
        name=name,
        diseases=kw.pop("diseases", ("AD",)),
        drug_class=drug_class,
        targets=targets,
        exposure="first_order",
        route="SC",
        unit="mg",
        label=label,
        sources=sources,
        slot=slot,
        emax=max(targets.values()),
        emax_source=kw.pop("emax_source", "MIYANO2021 (BLOCK = 0.99)"),
        half_life_days=half_life,
        half_life_source=hl_source,
        exposure_per_unit=kw.pop("exposure_per_unit", 0.7 / 7.0),
        exposure_source=kw.pop("exposure_source", _MAB),
        reference="trough",
        occupancy=kw.pop("occupancy", AD_BIOLOGIC_OCCUPANCY),
        occupancy_source=kw.pop("occupancy_source", AD_BIOLOGIC_OCCUPANCY_SOURCE),
        **kw,
    )


def _pso_biologic(name, drug_class, slot, targets, label, half_life, hl_source, sources):
    """A psoriasis antibody: near-maximal (95 %) inhibition at the labelled trough."""
    return _antibody(
        name,
        drug_class,
        slot,
        targets,
        label,
        half_life,
        hl_source,
        sources,
        diseases=("psoriasis",),
        emax_source=SLOTS[slot].emax_source,
        occupancy=0.95,
        occupancy_source=_PSO_OCC,
    )


def _oral(name, diseases, drug_class, targets, slot, label, sources, per_unit, source, **kw):
    """An oral drug of ``slot``: its effect at the labelled average exposure is 75 % of the
    slot's maximum; the half-life is the slot's unless given (``half_life``,
    ``hl_source``)."""
    return Drug(
        name=name,
        diseases=diseases,
        drug_class=drug_class,
        targets=targets,
        exposure="first_order",
        route="oral",
        unit=kw.pop("unit", "mg"),
        label=label,
        sources=sources,
        slot=slot,
        emax=SLOTS[slot].emax,
        emax_source=SLOTS[slot].emax_source,
        half_life_days=kw.pop("half_life", SLOTS[slot].half_life_days),
        half_life_source=kw.pop("hl_source", SLOTS[slot].half_life_source),
        exposure_per_unit=per_unit,
        exposure_source=source,
        reference="average",
        occupancy=0.75,
        occupancy_source=_ORAL_OCC,
    )


_TRALO_EMAX = BLOCK * TRALOKINUMAB_FACTOR

_ENTRIES = [
    _antibody(
        "dupilumab",
        "anti-IL-4Ra monoclonal antibody",
        "il4r",
        {"IL-4": BLOCK, "IL-13": BLOCK},
        Label(
            300.0,
            (_once(0.0, 2.0), _q(14.0, 14.0)),
            (200.0, 300.0),
            "600 mg loading, then 300 mg every 2 weeks (200 mg q2w < 60 kg adolescents)",
            "label: Dupixent USPI; SOLO-1 (AD_DUPI_SOLO1_q2w_EASIPCT)",
        ),
        math.log(2.0) / 0.0418,
        "Zhang et al. CPT Pharmacometrics Syst Pharmacol 2021;10:941 (PMID 34313019): "
        "linear elimination 0.0418/day",
        ("label: Dupixent USPI", "AD_DUPI_SOLO1_q2w_EASIPCT", "MIYANO2021"),
        exposure_per_unit=0.64 / 4.8,
        exposure_source="label: Dupixent USPI (bioavailability 61-64 %, volume 4.8 L)",
    ),
    _antibody(
        "lebrikizumab",
        "anti-IL-13 monoclonal antibody",
        "il13",
        {"IL-13": BLOCK},
        Label(
            250.0,
            (_once(0.0, 2.0), _once(14.0, 2.0), _q(28.0, 14.0, count=7), _q(140.0, 28.0)),
            (125.0, 250.0),
            "500 mg at weeks 0 and 2, 250 mg q2w to week 16, then 250 mg q4w",
            "label: Ebglyss USPI",
        ),
        24.5,
        "label: Ebglyss USPI (terminal half-life about 24.5 days)",
        ("label: Ebglyss USPI", "MIYANO2021"),
    ),
    _antibody(
        "tralokinumab",
        "anti-IL-13 monoclonal antibody (IL-13Ra1 and IL-13Ra2)",
        "il13",
        {"IL-13": _TRALO_EMAX},
        Label(
            300.0,
            (_once(0.0, 2.0), _q(14.0, 14.0)),
            (150.0, 300.0),
            "600 mg loading, then 300 mg every 2 weeks (adolescents 150 mg)",
            "label: Adbry USPI",
        ),
        22.0,
        "label: Adbry USPI (half-life about 22 days)",
        ("label: Adbry USPI", "MIYANO2021 (tralokinumab block 0.99 x 0.4396)"),
        emax_source="MIYANO2021 (BLOCK 0.99 x f_IL13 0.4396, IL-13Ra2 pathway)",
    ),
    _antibody(
        "nemolizumab",
        "anti-IL-31RA monoclonal antibody",
        "il31ra",
        {"IL-31": BLOCK},
        Label(
            30.0,
            (_once(0.0, 2.0), _q(28.0, 28.0)),
            (30.0, 60.0),
            "60 mg loading, then 30 mg every 4 weeks (prurigo nodularis >= 90 kg: 60 mg)",
            "label: Nemluvio USPI",
        ),
        18.9,
        "label: Nemluvio SmPC (terminal half-life 18.9 days, popPK)",
        ("label: Nemluvio USPI/SmPC", "MIYANO2021"),
        exposure_per_unit=1.0 / 7.67,
        exposure_source="label: Nemluvio SmPC (volume 7.67 L; bioavailability assumed 1)",
    ),
    _antibody(
        "tezepelumab",
        "anti-TSLP monoclonal antibody",
        "tslp",
        {"TSLP": BLOCK},
        Label(
            210.0,
            (_q(0.0, 28.0),),
            (210.0, 280.0),
            "210 mg every 4 weeks (asthma label; AD phase 2a used 280 mg q2w)",
            "label: Tezspire USPI (asthma); not licensed for AD",
        ),
        26.0,
        "label: Tezspire USPI (half-life about 26 days)",
        ("label: Tezspire USPI", "MIYANO2021"),
    ),
    _oral(
        "upadacitinib",
        ("AD",),
        "JAK1 inhibitor",
        dict.fromkeys(JAK1_PATHWAYS, SLOTS["jak1"].emax),
        "jak1",
        Label(
            15.0,
            (_q(0.0, 1.0),),
            (15.0, 30.0),
            "15 mg once daily (30 mg if inadequate response)",
            "label: Rinvoq USPI; Measure Up 1 (AD_UPA_MU1_15_EASI75)",
        ),
        ("label: Rinvoq USPI", "AD_UPA_MU1_15_EASI75"),
        0.8 / 100.0,
        _ORAL,
        half_life=10.0 / 24.0,
        hl_source="label: Rinvoq USPI (terminal half-life 8-14 h)",
    ),
    _oral(
        "abrocitinib",
        ("AD",),
        "JAK1 inhibitor",
        dict.fromkeys(JAK1_PATHWAYS, SLOTS["jak1"].emax),
        "jak1",
        Label(
            100.0,
            (_q(0.0, 1.0),),
            (50.0, 200.0),
            "100 mg once daily (200 mg if inadequate response; 50 mg with impairment)",
            "label: Cibinqo USPI; JADE MONO-1 (AD_ABRO_MONO1_100_EASI75)",
        ),
        ("label: Cibinqo USPI", "AD_ABRO_MONO1_100_EASI75"),
        0.6 / 100.0,
        _ORAL,
        half_life=5.0 / 24.0,
        hl_source="label: Cibinqo USPI (half-life about 5 h)",
    ),
    _oral(
        "ciclosporin",
        ("AD", "psoriasis"),
        "calcineurin inhibitor",
        {"T-cell activation": SLOTS["calcineurin"].emax},
        "calcineurin",
        Label(
            5.0,
            (_q(0.0, 1.0),),
            (2.5, 5.0),
            "2.5-5 mg/kg/day (modelled as one daily dose)",
            "label: Neoral SmPC (AD 2.5-5 mg/kg/day); AD_CSA_GRAN_END",
        ),
        ("label: Neoral SmPC", "AD_CSA_GRAN_END", "AD_CSA_META_6_8W"),
        0.3 / 300.0,
        "assumed: bioavailability 0.3, volume 300 L (only C/EC50 matters)",
        unit="mg/kg",
        half_life=8.4 / 24.0,
        hl_source="label: Neoral USPI (terminal half-life about 8.4 h)",
    ),
    _oral(
        "prednisone",
        ("AD",),
        "systemic corticosteroid",
        {"T-cell drive": SLOTS["systemic_steroid"].emax},
        "systemic_steroid",
        Label(
            40.0,
            (_q(0.0, 1.0),),
            (5.0, 60.0),
            "5-60 mg once daily; AD rescue courses about 0.5 mg/kg/day for 2 weeks",
            "label: prednisone tablets USPI (5-60 mg/day); AD_PRED_SCHMITT2010_REMISSION",
        ),
        ("label: prednisone tablets USPI", "AD_PRED_SCHMITT2010_REMISSION"),
        0.8 / 50.0,
        "assumed: bioavailability 0.8, volume 50 L (only C/EC50 matters)",
    ),
    Drug(
        name="topical_steroid",
        diseases=("AD", "psoriasis"),
        drug_class="topical corticosteroid",
        targets={"local T-cell drive": 0.5},
        exposure="on_off",
        route="topical",
        unit="potency",
        label=Label(
            1.0,
            (_q(0.0, 1.0),),
            (0.25, 1.0),
            "once daily to lesions (reactive); proactive: twice weekly (proactive_tcs)",
            "assumed: relative potency 1 = potent (class III) preparation; "
            "AD_TCS_PROACTIVE_EMOLL_RELAPSE",
        ),
        sources=("AD_TCS_PROACTIVE_EMOLL_RELAPSE", "assumed: tcs_emax 0.5 (to be calibrated)"),
        emax=0.5,
        emax_source="assumed: a potent TCS halves the local T-cell drive (tcs_emax)",
    ),
    Drug(
        name="emollient",
        diseases=("AD",),
        drug_class="emollient (barrier repair)",
        targets={"barrier formation": 1.0},
        exposure="first_order",
        route="topical",
        unit="application",
        label=Label(
            1.0,
            (_q(0.0, 0.5),),
            (0.5, 2.0),
            "one application twice daily",
            "assumed: twice-daily use as in AD_TCS_PROACTIVE_EMOLL_RELAPSE (background)",
        ),
        sources=("MIYANO2021 (k3 vehicle barrier term)", "AD_TCS_PROACTIVE_EMOLL_RELAPSE"),
        half_life_days=math.log(2.0) / 2.0,
        half_life_source="barrier module: emollient_loss 2/day (assumed, about 8 h)",
        exposure_source="barrier module: 1 au per application",
    ),
    Drug(
        name="placebo",
        diseases=("AD", "psoriasis"),
        drug_class="placebo/vehicle",
        targets={"barrier formation (PLAC)": 1.0},
        exposure="on_off",
        route="SC",
        unit="switch",
        label=Label(
            1.0,
            (_once(0.0),),
            (1.0, 1.0),
            "vehicle or placebo injections for the treatment period (Miyano PLAC = 1)",
            "MIYANO2021 (PLAC)",
        ),
        sources=("MIYANO2021 (PLAC)", "AD_DUPI_SOLO1_PBO_EASIPCT"),
    ),
    _pso_biologic(
        "secukinumab",
        "anti-IL-17A monoclonal antibody",
        "il17a",
        {"IL-17A": SLOTS["il17a"].emax},
        Label(
            300.0,
            (_q(0.0, 7.0, count=5), _q(56.0, 28.0)),
            (150.0, 300.0),
            "300 mg at weeks 0, 1, 2, 3 and 4, then every 4 weeks (150 mg may suffice)",
            "label: Cosentyx USPI; ERASURE (PSO_SECU_ERASURE_300_PASI75)",
        ),
        27.0,
        "label: Cosentyx USPI (mean half-life 22-31 days)",
        ("label: Cosentyx USPI", "PSO_SECU_ERASURE_300_PASI75"),
    ),
    _pso_biologic(
        "ixekizumab",
        "anti-IL-17A monoclonal antibody",
        "il17a",
        {"IL-17A": SLOTS["il17a"].emax},
        Label(
            80.0,
            (_once(0.0, 2.0), _q(14.0, 14.0, count=6), _q(112.0, 28.0)),
            (80.0, 80.0),
            "160 mg at week 0, 80 mg at weeks 2-12 every 2 weeks, then 80 mg every 4 weeks",
            "label: Taltz USPI",
        ),
        13.0,
        "label: Taltz USPI (half-life about 13 days)",
        ("label: Taltz USPI",),
    ),
    _pso_biologic(
        "ustekinumab",
        "anti-IL-12/IL-23 p40 monoclonal antibody",
        "p40",
        {"IL-12": SLOTS["p40"].emax, "IL-23": SLOTS["p40"].emax},
        Label(
            45.0,
            (_once(0.0), _q(28.0, 84.0)),
            (45.0, 90.0),
            "45 mg (90 mg > 100 kg) at weeks 0 and 4, then every 12 weeks",
            "label: Stelara USPI; PHOENIX 1 (PSO_UST_PHX1_45_PASI75)",
        ),
        21.0,
        "label: Stelara USPI (half-life about 3 weeks)",
        ("label: Stelara USPI", "PSO_UST_PHX1_45_PASI75"),
    ),
    _pso_biologic(
        "guselkumab",
        "anti-IL-23 p19 monoclonal antibody",
        "il23p19",
        {"IL-23": SLOTS["il23p19"].emax},
        Label(
            100.0,
            (_once(0.0), _q(28.0, 56.0)),
            (100.0, 100.0),
            "100 mg at weeks 0 and 4, then every 8 weeks",
            "label: Tremfya USPI",
        ),
        17.0,
        "label: Tremfya USPI (half-life about 17 days)",
        ("label: Tremfya USPI",),
    ),
    _pso_biologic(
        "risankizumab",
        "anti-IL-23 p19 monoclonal antibody",
        "il23p19",
        {"IL-23": SLOTS["il23p19"].emax},
        Label(
            150.0,
            (_once(0.0), _q(28.0, 84.0)),
            (150.0, 150.0),
            "150 mg at weeks 0 and 4, then every 12 weeks",
            "label: Skyrizi USPI",
        ),
        28.0,
        "label: Skyrizi USPI (half-life about 28 days in psoriasis)",
        ("label: Skyrizi USPI",),
    ),
    _pso_biologic(
        "adalimumab",
        "anti-TNF monoclonal antibody",
        "tnf",
        {"TNF": SLOTS["tnf"].emax},
        Label(
            40.0,
            (_once(0.0, 2.0), _q(7.0, 14.0)),
            (40.0, 80.0),
            "80 mg loading, then 40 mg every 2 weeks from week 1",
            "label: Humira USPI; CHAMPION (PSO_CHAMPION_ADA_PASI75)",
        ),
        14.0,
        "label: Humira USPI (terminal half-life about 2 weeks)",
        ("label: Humira USPI", "PSO_CHAMPION_ADA_PASI75"),
    ),
    _pso_biologic(
        "etanercept",
        "TNF receptor fusion protein",
        "tnf",
        {"TNF": SLOTS["tnf"].emax},
        Label(
            50.0,
            (_q(0.0, 3.5, count=24), _q(84.0, 7.0)),
            (25.0, 50.0),
            "50 mg twice weekly for 12 weeks, then 50 mg weekly",
            "label: Enbrel USPI; PSO_ETN_2003_50_twice_weekly_W12",
        ),
        102.0 / 24.0,
        "label: Enbrel USPI (half-life 102 +- 30 h)",
        ("label: Enbrel USPI", "PSO_ETN_2003_50_twice_weekly_W12"),
    ),
    _oral(
        "methotrexate",
        ("psoriasis",),
        "antimetabolite (antiproliferative, T-cell)",
        {"T-cell drive": SLOTS["mtx"].emax, "keratinocyte proliferation": 0.18},
        "mtx",
        Label(
            15.0,
            (_q(0.0, 7.0),),
            (7.5, 25.0),
            "7.5-25 mg once weekly",
            "label: methotrexate tablets USPI; CHAMPION (PSO_CHAMPION_MET_PASI75)",
        ),
        ("label: methotrexate tablets USPI", "PSO_CHAMPION_MET_PASI75"),
        0.7 / 50.0,
        "assumed: bioavailability 0.7, volume 50 L (only C/EC50 matters)",
    ),
    Drug(
        name="uvb",
        diseases=("psoriasis",),
        drug_class="narrowband UVB phototherapy",
        targets={"keratinocyte and T-cell apoptosis": 1.0},
        exposure="on_off",
        route="phototherapy",
        unit="J/cm2",
        label=Label(
            UVB_LABEL_DOSE,
            (),
            (0.2, UVB_LABEL_DOSE),
            "3 sessions a week, ladder from 0.7 to 3.43 J/cm2 over 30 sessions",
            "SHMAROV2022 (UVB ladder of simulate_uvb_v8_4.m)",
        ),
        sources=("SHMAROV2022",),
    ),
]

CATALOGUE: dict[str, Drug] = {d.name: d for d in _ENTRIES}
register_drugs(CATALOGUE)  # parameter sets check their drug targets against these names


def get_drug(name: str) -> Drug:
    try:
        return CATALOGUE[name]
    except (KeyError, TypeError):
        raise TherapyError(
            f"drug: unknown drug {short(name)}; allowed: {', '.join(CATALOGUE)}"
        ) from None


def _finite(value, field_name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TherapyError(f"{field_name}: expected a number, got {short(value)}") from None
    if not math.isfinite(x):
        raise TherapyError(f"{field_name}: must be finite, got {short(value)}")
    return x


@dataclass(frozen=True)
class DrugDose:
    """A drug given at ``amount`` (catalogue unit) from ``start_day`` until ``stop_day``
    (exclusive; None: until the simulation horizon) on the labelled schedule, or on
    ``phases`` when given (times relative to ``start_day``)."""

    drug: str
    amount: float
    unit: str
    route: str | None = None
    start_day: float = 0.0
    stop_day: float | None = None
    phases: tuple[Phase, ...] | None = None

    def __post_init__(self) -> None:
        entry = get_drug(self.drug)
        amount = _finite(self.amount, "amount")
        low, high = entry.label.dose_range
        top = high * MAX_LABEL_MULTIPLE
        if amount != 0.0 and not 0.0 < amount <= top:
            raise TherapyError(
                f"amount: {self.drug} dose {amount} {entry.unit} is outside the allowed range "
                f"0 or (0, {top:g}] (labelled {low:g}-{high:g} {entry.unit})"
            )
        if self.unit != entry.unit:
            raise TherapyError(
                f"unit: {self.drug} is dosed in {entry.unit!r}, got {short(self.unit)}"
            )
        route = entry.route if self.route is None else self.route
        if route != entry.route:
            raise TherapyError(
                f"route: {self.drug} is given {entry.route!r}, got {short(route)} "
                f"(routes: {', '.join(ROUTES)})"
            )
        start = _finite(self.start_day, "start_day")
        if start < 0:
            raise TherapyError(f"start_day: must be a day >= 0, got {start}")
        if self.stop_day is not None and not _finite(self.stop_day, "stop_day") > start:
            raise TherapyError(f"stop_day: must be after start_day {start}, got {self.stop_day}")
        if self.phases is not None and self.drug == "uvb":
            raise TherapyError("phases: uvb follows the SHMAROV2022 ladder; allowed: None")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "route", route)
        object.__setattr__(self, "start_day", start)

    @property
    def entry(self) -> Drug:
        return CATALOGUE[self.drug]

    def end(self, horizon_days: float) -> float:
        limit = self.start_day + horizon_days
        return limit if self.stop_day is None else min(float(self.stop_day), limit)

    def administrations(self, horizon_days: float = 364.0) -> list[tuple[float, float]]:
        """(day, amount) of every administration before the dose stops."""
        end = self.end(horizon_days)
        out = []
        for ph in self.phases if self.phases is not None else self.entry.label.phases:
            out += [(t, self.amount * ph.multiple) for t in ph.times(self.start_day, end)]
        return sorted(out)


def labelled(drug: str, **kw) -> DrugDose:
    """The drug at its labelled dose, unit and route (keywords override, e.g. start_day)."""
    entry = get_drug(drug)
    return DrugDose(drug, kw.pop("amount", entry.label.dose), entry.unit, **kw)


def reactive_tcs(potency: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Topical corticosteroid once daily on active lesions."""
    return DrugDose("topical_steroid", potency, "potency", None, start_day, stop_day)


def proactive_tcs(potency: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Topical corticosteroid twice weekly (days 0 and 3 of each week) on healed skin."""
    phases = (_q(0.0, 7.0), _q(3.0, 7.0))
    return DrugDose("topical_steroid", potency, "potency", None, start_day, stop_day, phases)


def emollient_bid(applications: float = 1.0, start_day: float = 0.0, stop_day=None) -> DrugDose:
    """Emollient twice daily."""
    return DrugDose("emollient", applications, "application", None, start_day, stop_day)


def drug_parameters(drug: str, parameter_set: ParameterSet | None = None) -> dict[str, float]:
    """Model parameter values the drug implies (its slot's PK and potency), with the
    fields a calibrated ``parameter_set`` fits (emax, occupancy) replaced."""
    entry = get_drug(drug)
    if parameter_set is not None:
        entry = calibrated_drug(entry, parameter_set)
    if entry.slot is None:
        return {}
    return {
        f"{entry.slot}_kel": entry.kel,
        f"{entry.slot}_ec50": entry.ec50,
        f"{entry.slot}_emax": entry.emax,
        f"{entry.slot}_hill": entry.hill,
    }


def drug_parameter_sources(drug: str) -> dict[str, str]:
    """The source of every parameter value :func:`drug_parameters` sets."""
    entry = get_drug(drug)
    if entry.slot is None:
        return {}
    return {
        f"{entry.slot}_kel": f"{entry.name}: {entry.half_life_source}",
        f"{entry.slot}_ec50": (
            f"{entry.name}: derived from the labelled steady-state {entry.reference} "
            f"({entry.exposure_source}); {entry.occupancy_source}"
        ),
        f"{entry.slot}_emax": f"{entry.name}: {entry.emax_source}",
        f"{entry.slot}_hill": f"{entry.name}: {entry.hill_source}",
    }


def _windows(starts: list[tuple[float, float]], width: float, end: float):
    """Merge (time, level) application windows of ``width`` days into on/off spans."""
    spans: list[list[float]] = []
    for t, level in starts:
        stop = min(t + width, end)
        if spans and t <= spans[-1][1] and level == spans[-1][2]:
            spans[-1][1] = max(spans[-1][1], stop)
        else:
            spans.append([t, stop, level])
    return spans


def drug_events(
    dose: DrugDose, *, horizon_days: float = 364.0, weight_kg: float = REFERENCE_WEIGHT_KG
) -> list[Event]:
    """The model events of one drug dose: boluses into its exposure state, or on/off
    parameter windows. An amount of 0 gives no events."""
    if not isinstance(dose, DrugDose):
        raise TherapyError(f"dose: expected a DrugDose, got {type(dose).__name__}")
    weight = _finite(weight_kg, "weight_kg")
    if weight <= 0:
        raise TherapyError(f"weight_kg: must be > 0 kg, got {weight_kg}")
    if dose.amount == 0.0:
        return []
    entry = dose.entry
    end = dose.end(horizon_days)
    if entry.name == "uvb":
        scale = dose.amount / UVB_LABEL_DOSE
        events = []
        for i, level in enumerate(UVB_LADDER):
            week, slot = divmod(i, 3)
            t = dose.start_day + 7 * week + (0, 2, 4)[slot]
            if t >= end:
                break
            events += [set_parameter(t, "uv_dose", level * scale)]
            events += [set_parameter(min(t + 1.0, end), "uv_dose", 0.0)]
        return events
    if entry.name == "placebo":
        events = [set_parameter(dose.start_day, "PLAC", 1.0)]
        if dose.stop_day is not None:
            events.append(set_parameter(end, "PLAC", 0.0))
        return events
    admin = dose.administrations(horizon_days)
    if entry.name == "topical_steroid":
        events = []
        for t0, t1, level in _windows(admin, TCS_WINDOW_DAYS, end):
            events.append(set_parameter(t0, TCS_PARAMETER, level))
            events.append(set_parameter(t1, TCS_PARAMETER, 0.0))
        return events
    target = "emollient" if entry.name == "emollient" else state_name(entry.slot)
    amounts = [(t, entry.amount_mg(a, weight) * entry.exposure_per_unit) for t, a in admin]
    if entry.reference == "average" and _at_least_daily(admin):
        return _daily_average_input(amounts, target, end)
    return [bolus(t, target, a) for t, a in amounts]


def _at_least_daily(admin: list[tuple[float, float]]) -> bool:
    times = sorted({t for t, _ in admin})
    gaps = [t1 - t0 for t0, t1 in zip(times, times[1:], strict=False)]
    return bool(gaps) and max(gaps) <= 1.0 + 1e-9


def _daily_average_input(amounts: list[tuple[float, float]], state: str, end: float):
    """A zero-order input carrying each administration's amount (mg/L) over the time to
    the next one (the last over the same interval as the one before, cut at ``end``);
    a new rate event only where the rate changes."""
    merged: dict[float, float] = {}
    for t, a in amounts:  # e.g. a loading dose on the first day of the maintenance
        merged[t] = merged.get(t, 0.0) + a
    amounts = sorted(merged.items())
    if len(amounts) == 1:
        return [bolus(amounts[0][0], state, amounts[0][1])]
    events, rate = [], None
    times = [t for t, _ in amounts]
    last_gap = times[-1] - times[-2]
    for (t, a), t_next in zip(amounts, [*times[1:], times[-1] + last_gap], strict=True):
        new = a / (t_next - t)
        if new != rate:
            events.append(Event(float(t), EventKind.SET_RATE, state, float(new)))
            rate = new
    events.append(Event(float(min(times[-1] + last_gap, end)), EventKind.SET_RATE, state, 0.0))
    return events
