"""Studies of many patients: one cohort simulation (:mod:`.cohort`) that scenario runs,
trial chunks and twin predictions share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dermatwin._lazy import attach

if TYPE_CHECKING:
    from dermatwin.study.cohort import Cohort, simulate_cohort

__getattr__, __dir__ = attach(__name__, {"dermatwin.study.cohort": ["Cohort", "simulate_cohort"]})
__all__ = ["Cohort", "simulate_cohort"]
