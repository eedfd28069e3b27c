"""Registers the mechanism modules of the skin model (import order = build order)."""

from dermatwin.model.skin import (  # noqa: F401
    ageing,
    barrier,
    cytokines,
    dermis,
    drugs,
    immune,
    keratinocytes,
    macrophages,
    microbiome,
    msc,
    scores,
    tolerance,
    vasculature,
)
