"""Ageing module: dermal thinning and collagen loss over decades.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("ageing")
def add(b: ModelBuilder) -> None:
    return None
