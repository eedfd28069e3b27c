"""Valid JSON for results: NaN and infinities become ``null``.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no strict JSON parser
(``jq``, browsers, JavaScript) reads. Every summary, manifest or ``--json`` print of the
project goes through :func:`dumps`, which first turns non-finite floats into ``None`` and
then encodes with ``allow_nan=False`` as a guard (a value the conversion missed is an
error, never invalid output).

>>> dumps({"estimate": float("nan"), "ci": [float("-inf"), 2.0]})
'{"estimate": null, "ci": [null, 2.0]}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_jsonable(obj: Any) -> Any:
    """``obj`` with non-finite floats (Python or NumPy) replaced by ``None``, NumPy scalars
    and arrays as plain Python values, tuples as lists; other values unchanged."""
    if isinstance(obj, Mapping):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def dumps(obj: Any, **kwargs) -> str:
    """``json.dumps`` of :func:`to_jsonable` (``obj``), strict (``allow_nan=False``)."""
    return json.dumps(to_jsonable(obj), allow_nan=False, **kwargs)
