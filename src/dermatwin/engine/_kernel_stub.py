"""Stand-in model functions so ``_kernel_template`` imports and lints on its own.

``build_kernel`` replaces the template's import of this module by a real model's
source. The stub model is one-compartment decay: dy0/dt = -p[0] * y[0] (per day),
output 0 = y[0].
"""

from numba import njit

AUTONOMOUS = True  # the rhs does not depend on t
RODAS_COST = 6.0  # a Rodas4 step attempt costs about this many DP5 attempts


@njit(cache=True)
def rhs(t, y, p, dy):
    dy[0] = -p[0] * y[0]


@njit(cache=True)
def jac(t, y, p, J):
    J[0, 0] = -p[0]


@njit(cache=True)
def outputs(t, y, p, out):
    out[0] = y[0]
