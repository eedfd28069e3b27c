"""Generate the compiled right-hand side, Jacobian and outputs of a :class:`Model`.

The symbolic equations are differentiated with sympy to get an exact Jacobian, common
subexpressions are shared (``sympy.cse``) and the result is printed as plain Python
that numba compiles. Only nonzero Jacobian entries are computed; the sparsity pattern
is known at generation time, and with it a sparse LU of Rodas4's iteration matrix is
generated as straight-line code (``sparse_lu_source``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

if TYPE_CHECKING:
    from types import ModuleType

    from dermatwin.model.spec import Model

_HEADER = """\
import math

import numpy as np
from numba import njit
"""


class _KernelPrinter(PythonCodePrinter):
    """Prints sympy expressions as numba-friendly scalar Python (math.* functions)."""

    def _print_Indexed(self, expr):
        base = self._print(expr.base)
        return f"{base}[{', '.join(str(int(i)) for i in expr.indices)}]"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Integer and 1 < abs(int(exp)) <= 4:
            b = self.parenthesize(base, 100)
            prod = "*".join([b] * abs(int(exp)))
            return f"({prod})" if exp > 0 else f"(1.0/({prod}))"
        return super()._print_Pow(expr, rational=rational)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Rational(self, expr):
        return f"({int(expr.p)}.0/{int(expr.q)}.0)"


def _indexed_substitutions(model: Model) -> dict[sp.Symbol, sp.Expr]:
    y = sp.IndexedBase("y")
    p = sp.IndexedBase("p")
    subs: dict[sp.Symbol, sp.Expr] = {}
    for i, sym in enumerate(model.state_symbols):
        subs[sym] = y[i]
    for j, sym in enumerate(model.parameter_symbols):
        subs[sym] = p[j]
    subs[sp.Symbol("t", real=True)] = sp.Symbol("t")
    return subs


def _emit(
    name: str, target: str, entries: list[tuple[str, sp.Expr]], subs, zero: str | None
) -> tuple[str, int]:
    """One njit function writing ``target[index] = expression`` for each entry, and the
    number of operations it evaluates (``sympy.count_ops`` after sharing)."""
    printer = _KernelPrinter({"fully_qualified_modules": True})
    exprs = [e.xreplace(subs) for _, e in entries]
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("c"), optimizations=None)
    # numpy error model: a division by zero gives inf/NaN (reported per patient as
    # NON_FINITE) instead of raising inside the batch
    lines = ['@njit(cache=True, error_model="numpy")', f"def {name}(t, y, p, {target}):"]
    if zero:
        lines.append(f"    {zero}")
    for sym, expr in replacements:
        lines.append(f"    {sym} = {printer.doprint(expr)}")
    for (index, _), expr in zip(entries, reduced, strict=True):
        lines.append(f"    {target}[{index}] = {printer.doprint(expr)}")
    if len(lines) == 2:
        lines.append("    pass")
    ops = sum(sp.count_ops(e) for _, e in replacements) + sum(sp.count_ops(e) for e in reduced)
    return "\n".join(lines) + "\n", int(ops)


def jacobian_entries(model: Model) -> list[tuple[int, int, sp.Expr]]:
    """Nonzero (row, column, d rhs_row / d state_col) entries of the Jacobian."""
    out = []
    for i, f in enumerate(model.rhs):
        for j, x in enumerate(model.state_symbols):
            if x in f.free_symbols:
                d = sp.diff(f, x)
                if d != 0:
                    out.append((i, j, d))
    return out


def lu_flops(n: int, pattern: list[tuple[int, int]]) -> int:
    """Floating-point operations of the kernel's LU of I/(h*gamma) - J for a Jacobian with
    nonzero ``pattern`` (row, column) entries, counting the fill-in of elimination without
    row exchanges (the kernel skips rows whose multiplier is zero, so its cost follows the
    fill; with diagonally dominant iteration matrices it rarely pivots)."""
    a = np.eye(n, dtype=bool)
    for i, j in pattern:
        a[i, j] = True
    flops = 0
    for k in range(n):
        rows = np.flatnonzero(a[k + 1 :, k]) + k + 1
        flops += 2 * (n - k) + rows.size * 2 * (n - k - 1)
        a[rows, k + 1 :] |= a[k, k + 1 :]
    return flops


def lu_order(n: int, pattern: list[tuple[int, int]]) -> list[int]:
    """Elimination order (a symmetric permutation) for the sparse LU of I/(h*gamma) - J.

    Greedy Markowitz on the nonzero ``pattern`` (row, column) plus the diagonal: each
    step eliminates the remaining state whose (row count - 1) x (column count - 1) is
    smallest (ties: the lowest index), then adds its fill. A symmetric permutation keeps
    the iteration matrix's diagonal (1/(h*gamma) - J_ii, the dominant part at small steps)
    on the pivots. On the skin model (79 states, 373 nonzeros) the factors hold 483
    entries against 885 with reverse Cuthill-McKee and 1,105 in the natural order.
    """
    a = np.eye(n, dtype=bool)
    for i, j in pattern:
        a[i, j] = True
    alive = np.ones(n, dtype=bool)
    order = []
    for _ in range(n):
        sub = a & alive[:, None] & alive[None, :]
        score = (sub.sum(1) - 1) * (sub.sum(0) - 1)
        v = int(np.argmin(np.where(alive, score, np.iinfo(np.int64).max)))
        order.append(v)
        alive[v] = False
        a[np.ix_(np.flatnonzero(a[:, v] & alive), np.flatnonzero(a[v, :] & alive))] = True
    return order


#: Sparse LU pivot test: a pivot smaller than this fraction of 1/(h*gamma) + |J_kk| (both
#: unchanged by rescaling the states) is cancellation the unpivoted factorisation should
#: not trust; the kernel then uses the dense LU with partial pivoting for that matrix. On
#: skin-model Jacobians along a year of the rich regimen and steps of 1e-3 to 1e4 days the
#: ratio stayed above 0.48.
SPARSE_PIVOT_MIN = 0.01


_SPARSE_FACTOR = """\
@njit(cache=True)
def lu_sparse_factor(jm, fac, v):
    flat = jm.ravel()
    for q in range(LU_SRC.shape[0]):  # fac * I - jm on the factors' pattern (fill: 0)
        src = LU_SRC[q]
        v[q] = -flat[src] if src >= 0 else 0.0
    for k in range(LU_DIAG.shape[0]):
        v[LU_DIAG[k]] += fac
    for k in range(LU_DIAG.shape[0]):  # right-looking elimination, pivots in order
        d = v[LU_DIAG[k]]
        src = LU_DIAG_SRC[k]
        if not abs(d) >= SPARSE_PIVOT_MIN * (fac + (abs(flat[src]) if src >= 0 else 0.0)):
            return False
        inv = 1.0 / d
        for m in range(LU_KPTR[k], LU_KPTR[k + 1]):
            lik = v[LU_LPOS[m]] * inv
            v[LU_LPOS[m]] = lik
            for q in range(LU_UPTR[m], LU_UPTR[m + 1]):
                v[LU_UT[q]] -= lik * v[LU_US[q]]
    return True
"""


def _int_array(name: str, values: list[int]) -> str:
    return f"{name} = np.array({values or [0]}, dtype=np.int64)\n"


def sparse_lu_source(n: int, pattern: list[tuple[int, int]], order: list[int]):
    """Numba source of the sparse LU of I/(h*gamma) - J and its solve, from the pattern.

    Returns (source, floating-point operations of the factorisation, nonzeros of L + U).
    ``lu_sparse_factor(jm, fac, v)`` gathers fac*I - jm (jm: the dense Jacobian, only
    ``pattern`` read) into the compressed factors ``v`` (``LU_NNZ`` values, rows of the
    permuted matrix) in the order ``order``, eliminates without row exchanges following
    index arrays computed here, and returns False when a pivot fails the test
    ``SPARSE_PIVOT_MIN`` (the caller falls back to the dense LU).
    ``lu_sparse_solve(v, b)`` solves in place, the permutation undone, as straight-line
    code with the unknowns in locals. On the skin model (2026-12, loaded 2-core x86_64)
    the straight-line solve took 2.3 us for 6 right-hand sides against 7-13 us for loops
    over index arrays, for 2.5 s of compilation; a straight-line factorisation took 0.3 us
    against 1-2 us for the loops but 20 s to compile, so the factorisation loops. The dense
    LU and 6 solves took about 80 us.
    """
    pos_of = {state: k for k, state in enumerate(order)}
    a = np.eye(n, dtype=bool)
    in_jac = np.zeros((n, n), dtype=bool)
    for i, j in pattern:
        a[pos_of[i], pos_of[j]] = in_jac[pos_of[i], pos_of[j]] = True
    for k in range(n):  # symbolic elimination: the fill
        rows = np.flatnonzero(a[k + 1 :, k]) + k + 1
        a[np.ix_(rows, np.flatnonzero(a[k, k + 1 :]) + k + 1)] = True
    pos = {(int(i), int(j)): q for q, (i, j) in enumerate(np.argwhere(a))}
    src = [order[i] * n + order[j] if in_jac[i, j] else -1 for i, j in pos]
    diag_src = [order[k] * (n + 1) if in_jac[k, k] else -1 for k in range(n)]
    kptr, lpos, uptr, ut, us = [0], [], [0], [], []
    for k in range(n):
        cols = [j for j in range(k + 1, n) if a[k, j]]
        for i in range(k + 1, n):
            if a[i, k]:
                lpos.append(pos[(i, k)])
                ut += [pos[(i, j)] for j in cols]
                us += [pos[(k, j)] for j in cols]
                uptr.append(len(ut))
        kptr.append(len(lpos))
    flops = len(lpos) + 2 * len(ut)
    solve = ["@njit(cache=True)", "def lu_sparse_solve(v, b):"]
    for i in range(n):  # L y = P b (unit diagonal)
        terms = "".join(f" - v[{pos[(i, j)]}] * x{j}" for j in range(i) if a[i, j])
        solve.append(f"    x{i} = b[{order[i]}]{terms}")
    for i in range(n - 1, -1, -1):  # U x = y
        terms = "".join(f" - v[{pos[(i, j)]}] * x{j}" for j in range(i + 1, n) if a[i, j])
        solve.append(f"    x{i} = (x{i}{terms}) / v[{pos[(i, i)]}]")
    solve += [f"    b[{order[i]}] = x{i}" for i in range(n)]
    rows_j = [[j for i2, j in sorted(pattern) if i2 == i] for i in range(n)]
    consts = (
        "SPARSE_PATTERN = True\n"
        f"SPARSE_PIVOT_MIN = {SPARSE_PIVOT_MIN!r}\n"
        f"LU_NNZ = {len(pos)}\n"
        + _int_array("JAC_PTR", np.cumsum([0] + [len(r) for r in rows_j]).tolist())
        + _int_array("JAC_COL", [j for r in rows_j for j in r])
        + _int_array("LU_SRC", src)
        + _int_array("LU_DIAG", [pos[(k, k)] for k in range(n)])
        + _int_array("LU_DIAG_SRC", diag_src)
        + _int_array("LU_KPTR", kptr)
        + _int_array("LU_LPOS", lpos)
        + _int_array("LU_UPTR", uptr)
        + _int_array("LU_UT", ut)
        + _int_array("LU_US", us)
    )
    source = consts + "\n\n" + _SPARSE_FACTOR + "\n\n" + "\n".join(solve) + "\n"
    return source, flops, len(pos)


def rodas_cost(n: int, rhs_ops: int, jac_ops: int, lu: int, matrix: int | None = None) -> float:
    """Estimated cost of one Rodas4 step attempt in DP5 attempts, for the cost-aware
    stiffness switch (kernel option ``_OPT_COST_SWITCH``).

    DP5: 6 rhs and ~80 n vector operations. Rodas4: the Jacobian, 5 rhs, ~60 n vector
    operations, and matrix work weighted 1.5: the LU (``lu``: ``lu_flops`` for the dense
    LU, the sparse LU's count for the sparse one) and ``matrix``, the rest (dense: the
    spectral-radius bound, the iteration matrix, 6 triangular solves, 16 n^2; sparse:
    about 2 nnz(J) + 13 nnz(L + U)). The weight fits step timings of two models on the
    2-core x86_64 machine (2026-12, loaded): 17 states 4.7 (estimate 4.3), 77 states 16.7
    (estimate 17.6). Only the switch's threshold depends on it, never the accuracy.
    """
    dp5 = 6 * (rhs_ops + n) + 80 * n
    matrix = 16 * n * n if matrix is None else matrix
    rodas = jac_ops + 5 * (rhs_ops + n) + 60 * n + 1.5 * (matrix + lu)
    return round(rodas / dp5, 1)


def generate_source(model: Model) -> str:
    """Python source of ``rhs``, ``jac`` and ``outputs`` for the kernel template."""
    subs = _indexed_substitutions(model)
    entries = jacobian_entries(model)
    rhs, rhs_ops = _emit("rhs", "dy", [(str(i), f) for i, f in enumerate(model.rhs)], subs, None)
    # only the pattern's entries are written: the kernel's Jacobian matrix is zeroed once
    # when allocated (zeroing 77 x 77 per Jacobian cost as much as the sparse LU)
    jac, jac_ops = _emit("jac", "J", [(f"{i}, {j}", d) for i, j, d in entries], subs, None)
    outputs, _ = _emit(
        "outputs", "out", [(str(k), o.expression) for k, o in enumerate(model.outputs)], subs, None
    )
    banner = f"# generated by dermatwin.engine.codegen for model {model.name}\n"
    time = sp.Symbol("t", real=True)
    autonomous = f"AUTONOMOUS = {not any(time in f.free_symbols for f in model.rhs)}\n"
    n = len(model.states)
    pattern = [(i, j) for i, j, _ in entries]
    lu = lu_flops(n, pattern)
    order = lu_order(n, pattern)
    sparse, sparse_lu_ops, nnz_lu = sparse_lu_source(n, pattern, order)
    cost = (
        f"RODAS_COST = {rodas_cost(n, rhs_ops, jac_ops, lu)!r}\n"
        f"RODAS_COST_SPARSE = "
        f"{rodas_cost(n, rhs_ops, jac_ops, sparse_lu_ops, 2 * len(pattern) + 13 * nnz_lu)!r}\n"
    )
    return (
        banner
        + _HEADER
        + "\n"
        + autonomous
        + cost
        + "\n\n"
        + rhs
        + "\n\n"
        + jac
        + "\n\n"
        + outputs
        + "\n\n"
        + sparse
    )


#: Hash of this generator's own code: a changed printer or Jacobian rule is a new kernel.
_CODEGEN_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def compile_model(model: Model) -> ModuleType:
    """Build (or load from the on-disk cache) the batch solver module for ``model``.

    Generating the source (a symbolic Jacobian) takes seconds for the skin model, and
    every worker process of a distributed run would pay it. The source depends only on
    the equations (``model.structure_hash``), this generator and the solver template, so
    the kernel is keyed by those and a warm start skips the generation.
    """
    from dermatwin.engine.kernel import KERNEL_TEMPLATE_VERSION, build_kernel, load_kernel

    versions = f"{model.structure_hash}|{_CODEGEN_VERSION}|{KERNEL_TEMPLATE_VERSION}"
    key = f"{model.name}_{hashlib.sha256(versions.encode()).hexdigest()[:16]}"
    return load_kernel(key) or build_kernel(generate_source(model), key)
