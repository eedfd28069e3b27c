"""Therapies as data: MSC products and standard drugs, doses, regimens and the model
events and parameters they imply. Public names are imported on first use
(:mod:`dermatwin._lazy`)."""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

__all__ = [
    "CATALOGUE",
    "Drug",
    "DrugDose",
    "Label",
    "MSCCourse",
    "MSCDose",
    "MSCProduct",
    "Phase",
    "Plan",
    "Regimen",
    "TherapyError",
    "drug_events",
    "drug_parameter_sources",
    "drug_parameters",
    "emollient_bid",
    "get_drug",
    "labelled",
    "msc_course",
    "msc_dose_events",
    "msc_parameters",
    "proactive_tcs",
    "reactive_tcs",
]

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin.therapy.drugs import (
        CATALOGUE,
        Drug,
        DrugDose,
        Label,
        Phase,
        drug_events,
        drug_parameter_sources,
        drug_parameters,
        emollient_bid,
        get_drug,
        labelled,
        proactive_tcs,
        reactive_tcs,
    )
    from dermatwin.therapy.products import (
        MSCDose,
        MSCProduct,
        TherapyError,
        msc_dose_events,
        msc_parameters,
    )
    from dermatwin.therapy.regimen import MSCCourse, Plan, Regimen, msc_course

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.therapy.drugs": [
            "CATALOGUE",
            "Drug",
            "DrugDose",
            "Label",
            "Phase",
            "drug_events",
            "drug_parameter_sources",
            "drug_parameters",
            "emollient_bid",
            "get_drug",
            "labelled",
            "proactive_tcs",
            "reactive_tcs",
        ],
        "dermatwin.therapy.products": [
            "MSCDose",
            "MSCProduct",
            "TherapyError",
            "msc_dose_events",
            "msc_parameters",
        ],
        "dermatwin.therapy.regimen": ["MSCCourse", "Plan", "Regimen", "msc_course"],
    },
)
