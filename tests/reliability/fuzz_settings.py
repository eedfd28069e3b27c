"""Hypothesis settings shared by the fuzz tests: deterministic, no deadline, no shrinking.

Each case is one mutation of a valid input, so the first failing example is already its
own reproducer; skipping the shrink phase keeps a failing run as cheap as a passing one.
"""

from __future__ import annotations

from fuzz_cases import examples
from fuzz_harness import GOOD, Case, Runner
from hypothesis import HealthCheck, Phase, settings


def fuzz_settings(n: int):
    """``n`` examples (``DERMATWIN_FUZZ_EXAMPLES`` overrides), derandomized."""
    return settings(
        max_examples=examples(n),
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )


def check(runner: Runner, case: Case) -> None:
    """The case exits 0, or 2 with one line naming the field; within the limits; no loss."""
    outcome = runner.run(case)
    assert outcome.klass in GOOD, outcome.explain()
