"""Registers the mechanism modules of the skin model (import order = build order)."""
