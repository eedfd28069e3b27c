"""Side-by-side endpoint tables of finished trial runs (the comparison page).

Each run's ``summary.json`` gives per arm and endpoint an estimate with its 95 % CI; rows
are (arm, endpoint) pairs of any run, and each run after the first gets its difference
from the first run's estimate. Runs of different trials are not paired: a difference
says how the estimates differ, not the effect of a change (for that, one paired trial).

>>> a = {"arms": {"x": {"EASI-50@4w": {"estimate": 40.0, "ci": [30.0, 50.0], "n": 10}}}}
>>> b = {"arms": {"x": {"EASI-50@4w": {"estimate": 55.0, "ci": [45.0, 65.0], "n": 10}}}}
>>> [(r["arm"], r["endpoint"], r["differences"]) for r in side_by_side([a, b])]
[('x', 'EASI-50@4w', [None, 15.0])]
"""

from __future__ import annotations

from collections.abc import Sequence

#: runs a comparison shows at most
MAX_COMPARED = 6


def side_by_side(summaries: Sequence[dict]) -> list[dict]:
    """Rows ``{arm, endpoint, cells, differences}``: ``cells`` one per run (the arm's
    endpoint summary or None), ``differences`` one per run (estimate minus the first
    run's, None for the first run and where either is missing)."""
    keys: dict[tuple[str, str], None] = {}
    for s in summaries:
        for arm, endpoints in s.get("arms", {}).items():
            for endpoint in endpoints:
                keys[(arm, endpoint)] = None
    rows = []
    for arm, endpoint in keys:
        cells = [s.get("arms", {}).get(arm, {}).get(endpoint) for s in summaries]
        first = cells[0]["estimate"] if cells[0] else None
        differences: list[float | None] = [None]
        for cell in cells[1:]:
            value = cell["estimate"] if cell else None
            ok = first is not None and value is not None
            differences.append(value - first if ok else None)
        rows.append({"arm": arm, "endpoint": endpoint, "cells": cells, "differences": differences})
    return rows
