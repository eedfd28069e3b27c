"""Strict JSON for results: non-finite numbers are null, never NaN or Infinity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dermatwin.io.json_safe import dumps, to_jsonable


def strict_loads(text: str):
    """json.loads that refuses NaN / Infinity (as every non-Python JSON reader does)."""

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_everywhere():
    obj = {
        "estimate": math.nan,
        "ci": (np.float64("-inf"), np.float32(2.5)),
        "n": np.int64(3),
        "ok": np.bool_(True),
        "rows": [{"p": np.inf}, np.array([1.0, np.nan])],
        "name": "EASI-50",
        "none": None,
    }
    text = dumps(obj, indent=2)
    assert strict_loads(text) == {
        "estimate": None,
        "ci": [None, 2.5],
        "n": 3,
        "ok": True,
        "rows": [{"p": None}, [1.0, None]],
        "name": "EASI-50",
        "none": None,
    }
    with pytest.raises(ValueError):
        strict_loads(json.dumps(obj["estimate"]))  # what json.dumps alone writes


def test_finite_values_are_written_as_json_dumps_writes_them():
    obj = {"a": [0.1, 1e-300, 12345.678], "b": {"c": 1, "d": "x"}, "t": (1, 2)}
    assert dumps(obj, indent=2) == json.dumps(obj, indent=2)
    assert to_jsonable(np.float64(0.1)) == 0.1


def test_unknown_objects_are_still_an_error():
    with pytest.raises(TypeError):
        dumps({"x": object()})
