"""Generate the compiled right-hand side, Jacobian and outputs of a :class:`Model`.

The symbolic equations are differentiated with sympy to get an exact Jacobian, common
subexpressions are shared (``sympy.cse``) and the result is printed as plain Python
that numba compiles. Only nonzero Jacobian entries are computed; the sparsity pattern
is known at generation time.
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


def rodas_cost(n: int, rhs_ops: int, jac_ops: int, lu: int) -> float:
    """Estimated cost of one Rodas4 step attempt in DP5 attempts, for the cost-aware
    stiffness switch (kernel option ``_OPT_COST_SWITCH``).

    DP5: 6 rhs and ~80 n vector operations. Rodas4: the Jacobian, 5 rhs, ~60 n vector
    operations, and dense-matrix work weighted 1.5 (zeroing J, the spectral-radius bound,
    the iteration matrix, 6 triangular solves: 16 n^2; the LU, ``lu_flops``). The weight
    fits step timings of two models on the 2-core x86_64 machine (2026-12, loaded): 17
    states 4.7 (estimate 4.3), 77 states 16.7 (estimate 17.6). Only the switch's
    threshold depends on it, never the accuracy.
    """
    dp5 = 6 * (rhs_ops + n) + 80 * n
    rodas = jac_ops + 5 * (rhs_ops + n) + 60 * n + 1.5 * (16 * n * n + lu)
    return round(rodas / dp5, 1)


def generate_source(model: Model) -> str:
    """Python source of ``rhs``, ``jac`` and ``outputs`` for the kernel template."""
    subs = _indexed_substitutions(model)
    entries = jacobian_entries(model)
    rhs, rhs_ops = _emit("rhs", "dy", [(str(i), f) for i, f in enumerate(model.rhs)], subs, None)
    jac, jac_ops = _emit(
        "jac", "J", [(f"{i}, {j}", d) for i, j, d in entries], subs, "J[:, :] = 0.0"
    )
    outputs, _ = _emit(
        "outputs", "out", [(str(k), o.expression) for k, o in enumerate(model.outputs)], subs, None
    )
    banner = f"# generated by dermatwin.engine.codegen for model {model.name}\n"
    time = sp.Symbol("t", real=True)
    autonomous = f"AUTONOMOUS = {not any(time in f.free_symbols for f in model.rhs)}\n"
    n = len(model.states)
    lu = lu_flops(n, [(i, j) for i, j, _ in entries])
    cost = f"RODAS_COST = {rodas_cost(n, rhs_ops, jac_ops, lu)!r}\n"
    return (
        banner + _HEADER + "\n" + autonomous + cost + "\n\n" + rhs + "\n\n" + jac + "\n\n" + outputs
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
