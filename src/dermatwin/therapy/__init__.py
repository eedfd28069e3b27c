"""Therapies as data: MSC products and standard drugs, doses, regimens and the model
events and parameters they imply."""

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
