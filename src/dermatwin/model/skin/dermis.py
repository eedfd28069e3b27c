"""Dermis module: fibroblasts, myofibroblasts, collagen I/III, scar index, elasticity.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("dermis")
def add(b: ModelBuilder) -> None:
    return None
