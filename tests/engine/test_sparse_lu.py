"""The generated sparse LU of Rodas4's iteration matrix: a fill-reducing order fixed at
generation time, agreement with the dense LU, and the fallback when a pivot fails."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.engine import codegen
from dermatwin.engine.codegen import compile_model
from dermatwin.engine.simulate import SolverOptions, equilibrate
from dermatwin.engine.status import Status
from dermatwin.model.reference import miyano2021
from dermatwin.patients.sampling import sample_lognormal


def test_the_elimination_order_avoids_the_fill_of_an_arrow():
    """State 0 couples to every other state: eliminated first it fills the whole matrix,
    eliminated once at most one other state is left it fills nothing (L + U keep the
    arrow's 3n - 2 entries)."""
    n = 8
    arrow = [(0, j) for j in range(n)] + [(i, 0) for i in range(1, n)]
    _, _, natural = codegen.sparse_lu_source(n, arrow, list(range(n)))
    order = codegen.lu_order(n, arrow)
    _, flops, chosen = codegen.sparse_lu_source(n, arrow, order)
    assert sorted(order) == list(range(n)) and order.index(0) >= n - 2
    assert (natural, chosen) == (n * n, 3 * n - 2)
    assert flops == 3 * (n - 1)  # one multiplier and one update per eliminated row


@pytest.fixture(scope="module")
def miyano():
    model = miyano2021.build()
    params = sample_lognormal(model, 3, seed=1)
    y, status = equilibrate(model, params)
    assert (status == Status.OK).all()
    return compile_model(model), params, y


@pytest.mark.parametrize("h", [1e-4, 1e-2, 1.0, 100.0])
def test_sparse_factors_solve_as_the_dense_lu_does(miyano, h):
    kernel, params, states = miyano
    n = states.shape[1]
    fac = 1.0 / (0.25 * h)
    rng = np.random.default_rng(7)
    for p, y in zip(params, states, strict=True):
        jm = np.zeros((n, n))  # as in the kernel: only the pattern is written
        kernel.jac(0.0, y, p, jm)
        v = np.empty(kernel.LU_NNZ)
        assert kernel.lu_sparse_factor(jm, fac, v)
        e = fac * np.eye(n) - jm
        piv = np.empty(n, np.int64)
        assert kernel._lu_factor(e, piv)
        b = rng.standard_normal(n)
        x_sparse, x_dense = b.copy(), b.copy()
        kernel.lu_sparse_solve(v, x_sparse)
        kernel._lu_solve(e, piv, x_dense)
        exact = np.linalg.solve(fac * np.eye(n) - jm, b)
        scale = np.max(np.abs(exact))
        np.testing.assert_allclose(x_sparse, exact, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(x_sparse, x_dense, rtol=0, atol=1e-12 * scale)


def rodas_step(kernel, p, y, jm, h, sparse):
    """One Rodas4 attempt from (0, y) with Jacobian ``jm``; returns (error, y_new, singular)."""
    n = y.shape[0]
    u = np.zeros(n)
    w = np.zeros((5, n))  # rows: f0, ynew, stage, df/dt (0: autonomous), scratch
    k = np.zeros((7, n))
    kernel._f(0.0, y, p, u, w[0])
    lin = (sparse, np.empty((n, n)), np.empty(n, np.int64), np.empty(kernel.LU_NNZ))
    atol = np.full(n, 1e-8)
    err, singular = kernel._rodas_attempt(0.0, h, y, p, u, atol, 1e-6, jm, lin, k, w)
    return err, w[1].copy(), singular


def test_a_failed_pivot_test_falls_back_to_the_dense_lu(miyano):
    """An iteration matrix whose pivot nearly cancels (1/(h gamma) - J_kk = 1e-4 of
    1/(h gamma)) fails the pivot test: the step is then the dense-LU step, bit for bit."""
    kernel, params, states = miyano
    p, y = params[0], states[0]
    n = y.shape[0]
    h = 0.1
    fac = 1.0 / (0.25 * h)
    jm = np.zeros((n, n))
    kernel.jac(0.0, y, p, jm)
    k = int(np.flatnonzero(kernel.LU_DIAG_SRC >= 0)[-1])  # the last pivot on J's diagonal
    s = kernel.LU_DIAG_SRC[k] // (n + 1)
    jm[s, :] = 0.0  # a row without couplings: its pivot is 1/(h gamma) - J_ss exactly
    jm[s, s] = fac * (1.0 - 1e-4)
    assert not kernel.lu_sparse_factor(jm, fac, np.empty(kernel.LU_NNZ))
    dense = rodas_step(kernel, p, y, jm, h, sparse=False)
    fallback = rodas_step(kernel, p, y, jm, h, sparse=True)
    assert not dense[2] and not fallback[2]
    assert dense[0] == fallback[0] and np.array_equal(dense[1], fallback[1])
    # with the ordinary Jacobian the sparse step agrees with the dense one to round-off
    kernel.jac(0.0, y, p, jm)
    dense = rodas_step(kernel, p, y, jm, h, sparse=False)
    sparse = rodas_step(kernel, p, y, jm, h, sparse=True)
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-13)


def test_linear_solver_is_an_option_naming_its_values():
    from dermatwin.errors import ModelError

    assert SolverOptions(linear_solver="dense").kernel_method() == 0
    assert SolverOptions().kernel_method() == 16  # the sparse LU is the default
    with pytest.raises(ModelError, match="linear_solver: must be 'dense' or 'sparse'"):
        SolverOptions(linear_solver="lu")
