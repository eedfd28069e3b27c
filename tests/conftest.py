"""Shared test set-up: a per-session kernel cache so tests never touch the user's cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Compiled kernels are cached per test session (numba's disk cache then works across the
# worker processes some tests start); set before any kernel is built.
os.environ.setdefault(
    "DERMATWIN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "dermatwin-test-kernels")
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


def published_tolerance(text: str, rel: float = 1e-3) -> float:
    """Absolute tolerance for a published number: ``rel`` or half its last printed digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(rel * abs(float(text)), 0.5 * 10.0**-decimals)


def assert_published(value: float, text: str, rel: float = 1e-3) -> None:
    """``value`` reproduces the published number ``text`` within ``rel`` (or rounding)."""
    tol = published_tolerance(text, rel)
    assert abs(value - float(text)) <= tol, f"{value} vs published {text} (tolerance {tol:.3g})"
