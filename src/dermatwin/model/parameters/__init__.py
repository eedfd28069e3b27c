"""Parameter tables shipped with dermatwin (CSV: value, unit, source id)."""

from __future__ import annotations

import csv
from importlib import resources


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of ``dermatwin/model/parameters/<name>.csv`` as dictionaries."""
    with resources.files(__package__).joinpath(f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))
