"""Registers the mechanism modules of the skin model (import order = build order)."""

from dermatwin.model.skin import (
    barrier,  # noqa: F401
    immune,  # noqa: F401
    msc,  # noqa: F401
)
