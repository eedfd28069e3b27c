"""Versioned calibrated parameter sets: moved to :mod:`dermatwin.params.parameter_set`.

This module keeps the public path ``dermatwin.calibration.parameter_set`` working (an
arrow down, calibration -> params). It also loads the drug catalogue, so a set read through
this path has its ``drug.<drug>.<field>`` targets checked against the catalogue's names, as
before the move.

>>> load_parameter_set("default").name
'CAL-5'
"""

import dermatwin.therapy.drugs  # noqa: F401  (registers the drug names with params)
from dermatwin.params.parameter_set import (
    DEFAULT_SET,
    DRUG_FIELD_RANGES,
    DRUG_FIELDS,
    SETS_DIR,
    SEVERITY_TARGETS,
    UNCALIBRATED,
    CalibrationError,
    FittedValue,
    ParameterSet,
    calibrated_drug,
    load_parameter_set,
    read_parameter_set,
    shipped_sets,
    write_parameter_set,
)

__all__ = [
    "DEFAULT_SET",
    "DRUG_FIELDS",
    "DRUG_FIELD_RANGES",
    "SETS_DIR",
    "SEVERITY_TARGETS",
    "UNCALIBRATED",
    "CalibrationError",
    "FittedValue",
    "ParameterSet",
    "calibrated_drug",
    "load_parameter_set",
    "read_parameter_set",
    "shipped_sets",
    "write_parameter_set",
]
