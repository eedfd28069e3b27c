"""Calibration to published clinical rows and validation against the rows not fitted.

:mod:`~dermatwin.params.parameter_set` holds versioned fitted values (its names are
handed on here),
:mod:`~dermatwin.calibration.targets` says which trial arm and endpoint express each
clinical row, :mod:`~dermatwin.calibration.fit` refits a set (``dermatwin calibrate``) and
:mod:`~dermatwin.calibration.validate` compares every expressible row with its prediction
(``dermatwin validate``). Public names are imported on first use (:mod:`dermatwin._lazy`).
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
    from dermatwin.calibration.parameter_set import (
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
        "dermatwin.calibration.parameter_set": [
            "DEFAULT_SET",
            "CalibrationError",
            "FittedValue",
            "ParameterSet",
            "load_parameter_set",
            "write_parameter_set",
        ],
    },
)
