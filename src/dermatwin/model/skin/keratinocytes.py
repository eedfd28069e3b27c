"""Keratinocyte module: hyperproliferation, cycle time, epidermal thickness, regeneration.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("keratinocytes")
def add(b: ModelBuilder) -> None:
    return None
