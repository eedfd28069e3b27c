"""Calibration to published clinical rows and validation against the rows not fitted.

:mod:`~dermatwin.calibration.parameter_set` holds versioned fitted values,
:mod:`~dermatwin.calibration.targets` says which trial arm and endpoint express each
clinical row, :mod:`~dermatwin.calibration.fit` refits a set (``dermatwin calibrate``) and
:mod:`~dermatwin.calibration.validate` compares every expressible row with its prediction
(``dermatwin validate``).
"""

from dermatwin.calibration.parameter_set import (
    DEFAULT_SET,
    CalibrationError,
    FittedValue,
    ParameterSet,
    load_parameter_set,
    write_parameter_set,
)

__all__ = [
    "DEFAULT_SET",
    "CalibrationError",
    "FittedValue",
    "ParameterSet",
    "load_parameter_set",
    "write_parameter_set",
]
