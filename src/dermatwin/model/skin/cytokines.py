"""Cytokine module: IL-10, TGF-beta and the TARC/CCL17 biomarker.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("cytokines")
def add(b: ModelBuilder) -> None:
    return None
