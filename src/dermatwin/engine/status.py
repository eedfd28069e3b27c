"""Per-patient integration status codes returned by the compiled kernels.

The integer values are part of the kernel interface: ``_kernel_template.py`` uses the
same numbers as plain ints (numba-compiled code cannot import this enum).
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Outcome of one patient's integration (``status`` array of the kernels)."""

    OK = 0
    #: More than ``max_steps`` attempted (accepted + rejected) steps.
    MAX_STEPS = 1
    #: The step size fell below 1e-14 * max(1, |t|).
    STEP_TOO_SMALL = 2
    #: NaN/inf in the state or error estimate that smaller steps could not avoid.
    NON_FINITE = 3
    #: The Rosenbrock iteration matrix had a zero pivot (repeatedly).
    SINGULAR = 4
    #: ``equilibrate_batch`` reached ``t_max`` before the steady-state criterion held.
    NOT_CONVERGED = 5
