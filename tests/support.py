"""Helpers shared by test modules (imported by name: ``from support import ...``; a
conftest.py is not importable by name once a sub-folder has its own conftest.py)."""

from __future__ import annotations

import numpy as np


def published_tolerance(text: str, rel: float = 1e-3) -> float:
    """Absolute tolerance for a published number: ``rel`` or half its last printed digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(rel * abs(float(text)), 0.5 * 10.0**-decimals)


def assert_published(value: float, text: str, rel: float = 1e-3) -> None:
    """``value`` reproduces the published number ``text`` within ``rel`` (or rounding)."""
    tol = published_tolerance(text, rel)
    assert abs(value - float(text)) <= tol, f"{value} vs published {text} (tolerance {tol:.3g})"


def small_ad_trial(weeks: int, **update) -> dict:
    """A small AD trial spec (dupilumab vs placebo, 12 per arm, EASI >= 16) as a mapping."""
    return {
        "name": "small",
        "disease": "AD",
        "seed": 4,
        "duration": f"{weeks} weeks",
        "population": {"inclusion": {"EASI": {"min": 16}}},
        "background": [{"drug": "placebo"}],
        "arms": {"dupilumab": {"n": 12, "regimen": [{"drug": "dupilumab"}]}, "placebo": {"n": 12}},
        "endpoints": [f"EASI-50@{weeks}w", f"mean_pct_change:EASI@{weeks}w", f"IGA01@{weeks}w"],
        "noise": {"EASI": 0.1},
        **update,
    }


def with_draws(pset, n: int, spread: float = 0.1):
    """``pset`` with ``n`` draws per value, spread by +-``spread`` (relative) inside its
    bounds (a stand-in for a calibrated posterior)."""
    z = np.linspace(-1.0, 1.0, n)
    values = tuple(
        v.model_copy(
            update={
                "draws": tuple(
                    float(np.clip(v.value * (1 + spread * zi), *v.bounds)) for zi in z[::-1]
                )
            }
        )
        for v in pset.values
    )
    return pset.model_copy(update={"values": values, "name": "WITH-DRAWS"})
