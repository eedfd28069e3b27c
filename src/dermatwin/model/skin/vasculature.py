"""Vasculature module: VEGF, vessel density and erythema.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("vasculature")
def add(b: ModelBuilder) -> None:
    return None
