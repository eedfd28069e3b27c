"""Macrophage module: M1/M2 polarisation and efferocytosis of dying MSC.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("macrophages")
def add(b: ModelBuilder) -> None:
    return None
