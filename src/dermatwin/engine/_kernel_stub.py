"""Stand-in model functions so ``_kernel_template`` imports and lints on its own.

``build_kernel`` replaces the template's import of this module by a real model's
source. The stub model is one-compartment decay: dy0/dt = -p[0] * y[0] (per day),
output 0 = y[0]. Its Jacobian pattern is not declared (``SPARSE_PATTERN = False``), as
for a hand-written model: Rodas4 then always uses the dense LU.
"""

import numpy as np
from numba import njit

AUTONOMOUS = True  # the rhs does not depend on t
RODAS_COST = 6.0  # a Rodas4 step attempt costs about this many DP5 attempts
RODAS_COST_SPARSE = 6.0  # the same with the sparse LU (unused: no pattern)
SPARSE_PATTERN = False  # no Jacobian pattern: no sparse LU (the functions below are unused)
LU_NNZ = 1
JAC_PTR = np.zeros(2, dtype=np.int64)
JAC_COL = np.zeros(1, dtype=np.int64)


@njit(cache=True)
def lu_sparse_factor(jm, fac, v):
    return False


@njit(cache=True)
def lu_sparse_solve(v, b):
    pass


@njit(cache=True)
def rhs(t, y, p, dy):
    dy[0] = -p[0] * y[0]


@njit(cache=True)
def jac(t, y, p, J):
    J[0, 0] = -p[0]


@njit(cache=True)
def outputs(t, y, p, out):
    out[0] = y[0]
