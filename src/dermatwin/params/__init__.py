"""Parameter sets: versioned fitted values (or priors) and how they apply to the model,
the drug catalogue, MSC products and severity edges.

This layer sits below therapy and above the engine (docs/architecture.md): therapy, trials,
twins and calibration read sets from here; calibration writes them. The shipped sets are
package data (``params/sets/*.yaml``). Public names are imported on first use
(:mod:`dermatwin._lazy`).

>>> from dermatwin.params import load_parameter_set
>>> load_parameter_set("none").name
'none'
"""

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

__all__ = [
    "DEFAULT_SET",
    "CalibrationError",
    "FittedValue",
    "ParameterSet",
    "load_parameter_set",
    "write_parameter_set",
]

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from dermatwin.params.parameter_set import (
        DEFAULT_SET,
        CalibrationError,
        FittedValue,
        ParameterSet,
        load_parameter_set,
        write_parameter_set,
    )

__getattr__, __dir__ = attach(
    __name__,
    {
        "dermatwin.params.parameter_set": [
            "DEFAULT_SET",
            "CalibrationError",
            "FittedValue",
            "ParameterSet",
            "load_parameter_set",
            "write_parameter_set",
        ],
    },
)
