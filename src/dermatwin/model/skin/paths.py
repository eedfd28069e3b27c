"""How each mechanism module reaches a disease score, or why it is a read-out.

One record per module of the skin model: the causal path from the module to EASI (AD) or
PASI (psoriasis), the parameter values that cut it (the knock-out of
tests/model/skin/test_knockouts.py) and the effect of that knock-out measured there, on the
same 24 virtual patients with the shipped set CAL-2. :data:`READ_OUTS` names the states that
reach no score, each with its reason; the test checks that the model's own dependency graph
gives exactly this set. docs/model.md ("Paths to disease") is generated from both.

>>> sorted(PATHS)[:3]
['ageing', 'barrier', 'cytokines']
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Path:
    """``path``: the causal chain in words; ``knockout``: the values that cut it;
    ``effect``: what the knock-out does to the paired MSC effect (measured)."""

    path: str
    knockout: dict[str, float] = field(default_factory=dict)
    effect: str = ""


PATHS: dict[str, Path] = {
    "msc": Path(
        "given cells -> secretome, growth factors and apoptotic cells (signals read by the "
        "immune, macrophage, cytokine, barrier, vasculature, keratinocyte, dermis and "
        "tolerance modules); licensing reads lesional and systemic IFN-gamma/TNF",
        {},
        "no cells: every core equation as published (tests/model/skin/test_msc.py)",
    ),
    "tolerance": Path(
        "apoptotic MSC -> efferocytosis (lung, spleen, liver; skin weighted) -> tolerogenic "
        "phagocytes -> induced Tregs with memory -> AD k5..k8 and psoriasis t2 (immune "
        "module) and T-cell cytokine production (k11..k21, il172)",
        {"tol_induction": 0.0},
        "removes 99 % of the two-dose IV effect on EASI at week 16 (ADSTEM design)",
    ),
    "immune": Path(
        "secretome and Treg excess (secretome-, TGF-beta- and efferocytosis-induced) -> "
        "suppression of AD Th differentiation k5..k8 and psoriasis T recruitment t2",
        {"msc_emax": 0.0},
        "removes 33 % of the two-dose IV effect on EASI at week 16",
    ),
    "macrophages": Path(
        "MSC secretome and skin efferocytosis -> MSC-educated macrophages (M2_msc) -> (1) "
        "fewer M1 cells: psoriasis TNF production tnf2 and AD keratinocyte TSLP k23 fall; "
        "(2) IL-10 and TGF-beta made by the educated cells (cytokines module)",
        {"mac_msc_gain": 0.0},
        "removes 48 % of the single SC dose's effect on EASI at week 4 (FURESTEM design) "
        "and 34 % of the psoriasis IV effect on PASI at week 4; the TNF part alone "
        "(mac_tnf_share = 0) 11 % of the psoriasis effect",
    ),
    "cytokines": Path(
        "MSC-made IL-10 (IL10_msc) -> less effector T-cell activation (k5..k8, t2); "
        "MSC-made TGF-beta (TGFb_msc) -> Treg induction (immune module)",
        {"il10_t_gain": 0.0, "treg_tgfb_gain": 0.0},
        "IL-10 removes 36 %, TGF-beta 16 % of the SC dose's effect on EASI at week 4",
    ),
    "vasculature": Path(
        "MSC-made VEGF (VEGF_msc) -> extra vessels over those the skin's own VEGF gives "
        "(vessel_density / vessel_density_core) -> more T recruitment t2 (psoriasis; "
        "pro-inflammatory)",
        {"vessel_influx_exp": 0.0},
        "the psoriasis IV effect on PASI grows by 0.02 % without it (plaque vessels are "
        "near saturation); larger in wounds, where MSC VEGF is 5-fold (hypoxia)",
    ),
    "barrier": Path(
        "MSC growth factors, emollient and filaggrin loss -> AD barrier formation k1 "
        "(and the emollient term) -> barrier integrity s -> EASI",
        {"gf_barrier_emax": 0.0},
        "removes 4 % of the SC dose's effect on EASI at week 4",
    ),
    "keratinocytes": Path(
        "growth factors -> wound re-epithelialisation (state wound, outcome wound_open); "
        "the wound feeds macrophage recruitment and polarisation, TGF-beta and hypoxic MSC "
        "VEGF; cycle time and epidermal thickness are read-outs of the psoriasis core",
    ),
    "drugs": Path(
        "drug exposure states -> the cores' drug effects (Miyano's blocks e_*, Shmarov's "
        "t2/il232/il172/tnf2/k5/k7 factors, steroid and calcineurin slots); placebo "
        "switch PLAC -> onset states placebo_onset_ad/_pso -> Miyano's vehicle barrier "
        "term k3 (AD) and t2 (psoriasis)"
    ),
    "dermis": Path(
        "read-out: collagen, fibroblasts, myofibroblasts (scar and ageing outcomes); "
        "myofibroblasts feed TGF-beta, itself a read-out except its MSC-made part"
    ),
    "ageing": Path("read-out: dermal ageing signals read by the dermis module"),
    "microbiome": Path(
        "read-out: S. aureus colonisation and skin infections from the barrier defect and "
        "Th2 cytokines (the AD core's pathogen load p already carries what crosses the "
        "barrier, so no second feedback)"
    ),
    "scores": Path("read-out: PASI, SCORAD and pruritus mapped from the cores"),
}

#: states that reach no disease score, with why they are kept
READ_OUTS: dict[str, str] = {
    "TARC": "serum biomarker of the AD core's Th2 cytokines",
    "TGFb": "total active TGF-beta (only its MSC-made part, TGFb_msc, feeds back)",
    "collagen_I": "dermis: scar and ageing outcome",
    "collagen_III": "dermis: scar and ageing outcome",
    "fibroblasts": "dermis: scar and ageing outcome",
    "myofibroblasts": "dermis: scar outcome (feeds the TGF-beta read-out)",
    "sa_colonisation": "S. aureus colonisation and the skin-infection endpoint (AD)",
    "msc_given": "cumulative cells given, for dose fractions",
    "msc_label_circ": "111In label (what imaging sees), not viable cells",
    "msc_label_liver": "111In label",
    "msc_label_lung": "111In label",
    "msc_label_spleen": "111In label",
}
