"""Therapies as data: MSC products, doses and the model events and parameters they imply."""

from dermatwin.therapy.products import (
    MSCDose,
    MSCProduct,
    TherapyError,
    msc_dose_events,
    msc_parameters,
)

__all__ = ["MSCDose", "MSCProduct", "TherapyError", "msc_dose_events", "msc_parameters"]
