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
