"""Batched ODE solver template: compiled once per model by ``dermatwin.engine.kernel``.

``build_kernel`` replaces the import marked ``# model-functions`` below by the model's
generated source (``rhs``, ``jac``, ``outputs``), writes the result into the kernel cache
directory and imports it, so numba's on-disk cache (``cache=True``) covers the whole
solver specialised to that model. Imported as is, the template solves a one-state stub.

Time is in days throughout; ``rhs`` returns states per day.

Methods
-------
* DP5: explicit Dormand-Prince 5(4) with Hairer's PI step-size control (DOPRI5),
  FSAL and Shampine's 4th-order continuous extension for output times.
* Rodas4: Hairer & Wanner's L-stable 6-stage Rosenbrock method of order 4(3)
  (stiffly accurate, error estimate = last stage), analytic Jacobian from ``jac``,
  dense LU with partial pivoting or (option ``_OPT_SPARSE_LU``) the model's generated
  sparse LU (``lu_sparse_factor``: an elimination order fixed from the Jacobian's
  pattern, no row exchanges, the dense LU for any matrix whose pivot test fails),
  predictive (Gustafsson) step-size control and its own 3rd-order dense output. A
  non-autonomous ``rhs`` is handled through a finite-difference df/dt (exactly zero
  when ``rhs`` does not depend on t).
* auto: starts with DP5. DOPRI5's stiffness test, h*rho > 3.0 with rho estimated
  from the last two stages (both at t+h), switches to Rodas4 after 15 detections
  (6 consecutive non-stiff steps reset the count, as in DOPRI5). Hairer uses 3.25, but
  the PI controller keeps a stability-limited DP5 at h*rho ~ 3.15-3.24 (the real-axis
  stability boundary is ~3.3), so 3.25 is crossed only occasionally (Robertson: ~900
  DP5 steps before the switch with 3.25, ~60 with 3.0). Rodas4 switches back
  to DP5 when ``h * rho_max < 1`` for 10 consecutive accepted steps, where rho_max is
  a Gershgorin bound on the Jacobian's spectral radius, taken after scaling by the
  error weights (a similarity transform, so still a bound): the accuracy-limited
  Rodas step would then be well inside DP5's stability region (|h*lambda| ~ 3.3 on
  the real axis). The margin avoids switching back and forth. It also switches back
  when, for 10 consecutive steps, Rodas4 proposes steps less than 5 times the DP5 step
  it took over from (cost-aware: an accuracy-limited problem with frequent events is
  cheaper with DP5 even where DP5 is near its stability limit); each such return
  doubles the detections needed for the next switch to Rodas4.
  Option ``_OPT_COST_SWITCH`` replaces that step-size test by a cost test: the days
  advanced per step attempt under Rodas4 (rejections and steps cut short by events
  included) against ``RODAS_COST`` times DP5's over the stiff stretch before the switch,
  ``RODAS_COST`` being the model's estimated cost of a Rodas4 attempt in DP5 attempts
  (``dermatwin.engine.codegen``; 6 for a hand-written model). The fixed factor 5 held for
  17 states; with 77 a Rodas4 attempt costs ~17 DP5 attempts (dense LU), so loose
  tolerances, which let DP5 reach its stability limit, moved the skin model to the
  costlier method and made it slower than tight ones.

All step functions write into work arrays allocated once per patient.

Structure
---------
As diffrax separates solver, step-size controller and events, ``_integrate`` (the loop
from one event to the next) delegates to: step attempts (``_dp5_attempt``,
``_rodas_attempt`` after ``_jacobian_update``), step-size controllers
(``_controller_accept``, ``_controller_reject``; ``_first_step`` at a fresh start), the
stiffness switch (``_dp5_stiffness_test``, ``_rodas_calm_test``) and the dense output
(``_fill_outputs``). A patient's state between integrations lives in small arrays with
named slots: ``ctl`` (``_CTL_*``), ``hmem`` (``_HM_*``), ``stats`` (``_N_*``); work rows
are ``_W_*``. Helpers called on every step are inlined by numba (``inline="always"``);
``_fill_outputs`` is called only on steps that pass an output time. The split is
bit-identical to the former single loop (same operations in the same order).
"""

import math

import numpy as np
from numba import njit, prange

from dermatwin.engine._kernel_stub import (  # model-functions
    AUTONOMOUS,
    JAC_COL,
    JAC_PTR,
    LU_NNZ,
    RODAS_COST,
    RODAS_COST_SPARSE,
    SPARSE_PATTERN,
    jac,
    lu_sparse_factor,
    lu_sparse_solve,
    outputs,
    rhs,
)

# ---- status codes: same ints as dermatwin.engine.status.Status ---------------------------
_OK = 0
_MAX_STEPS = 1
_STEP_TOO_SMALL = 2
_NON_FINITE = 3
_SINGULAR = 4
_NOT_CONVERGED = 5

# ---- method ids (argument ``method``: the low two bits, plus option flags) ---------------
_AUTO = 0
_DP5 = 1
_RODAS4 = 2
_METHOD_BITS = 3
# Option flags, added to ``method``; each 0 by default (today's behaviour).
# _OPT_COST_SWITCH: method = auto leaves Rodas4 when its realised advance per step attempt
#   (rejections and event cut-offs included) buys less than RODAS_COST times DP5's over
#   the stiff stretch before the switch (RODAS_COST: the model's estimated cost of a Rodas4
#   attempt in DP5 attempts, from codegen), instead of the fixed 5x step-size gain.
# _OPT_WARM_EVENTS: an integration after an event keeps the step-size controllers' memory
#   and, after a step cut short to land on the event, the step that was in force (not the
#   larger one the short step's small error suggests, which the next step then rejects).
# _OPT_SPARSE_LU: Rodas4 factorises its iteration matrix with the model's generated sparse
#   LU (``lu_sparse_factor``: a fill-reducing order fixed at generation time, no row
#   exchanges), falling back to the dense LU for a matrix whose pivot test fails; no
#   effect for a model without a known pattern (SPARSE_PATTERN False).
_OPT_COST_SWITCH = 4
_OPT_WARM_EVENTS = 8
_OPT_SPARSE_LU = 16
_OPT_ALL = _OPT_COST_SWITCH | _OPT_WARM_EVENTS | _OPT_SPARSE_LU

# ---- event kinds ------------------------------------------------------------------------
_EV_ADD_STATE = 0
_EV_SET_STATE = 1
_EV_SET_PARAM = 2
_EV_SET_RATE = 3

# ---- stats columns ----------------------------------------------------------------------
_N_ACCEPTED = 0
_N_REJECTED = 1
_N_RHS = 2
_N_JAC = 3
_N_SWITCH = 4
N_STATS = 5

# ---- per-patient method state, carried across integrations (int64 array ``ctl``) --------
_CTL_METHOD = 0  # method in use: _DP5 or _RODAS4
_CTL_STIFF = 1  # DP5 stiffness detections (h*rho > _STIFF_HRHO) since the last reset
_CTL_NONSTIFF = 2  # consecutive accepted DP5 steps without a detection
_CTL_CALM = 3  # consecutive accepted Rodas4 steps arguing for DP5 (calm, or no gain)
_CTL_BACKOFF = 4  # returns for lack of gain: the next switch needs _STIFF_COUNT << this
_CTL_WIN_ATT = 5  # _OPT_COST_SWITCH: step attempts (accepted + rejected) at the window start
_CTL_WIN_ACC = 6  # _OPT_COST_SWITCH: accepted steps at the window start
_N_CTL = 7

# ---- per-patient step-size memory, carried across integrations (float64 array ``hmem``) ---
_HM_NEXT = 0  # step (days) the controller proposed last; 0: none yet (use _initial_step)
_HM_DP5_AT_SWITCH = 1  # DP5 step (days) at the last switch to Rodas4 (the gain test)
_HM_WIN_T = 2  # _OPT_COST_SWITCH: time (days) at the start of the method's current window
_HM_DP5_RATE = 3  # _OPT_COST_SWITCH: DP5's days per attempt over the window before the switch
_HM_FACOLD = 4  # _OPT_WARM_EVENTS: controller memory carried across events (see
_HM_H_ACC = 5  # _controller_accept); _HM_H_ACC = 0 means none yet
_HM_ERR_ACC = 6
_N_HM = 7

# ---- rows of the per-patient work matrix ``w`` (each of length n_states) -----------------
_W_F0 = 0  # f(t, y) at the start of the step (DP5's first stage; FSAL)
_W_YNEW = 1  # proposed solution at t + h (also a stage-argument scratch row)
_W_YSTAGE = 2  # stage argument (DP5: stage 6, used by the stiffness test)
_W_FX = 3  # df/dt for Rodas4
_W_FTMP = 4  # scratch f value
_N_W = 5

# ---- step control -----------------------------------------------------------------------
_SAFETY = 0.9
_MAX_NONFINITE_RETRIES = 10  # consecutive step attempts with NaN/inf before giving up
_NONFINITE_SHRINK = 0.25  # step reduction after NaN/inf
_MAX_SINGULAR_RETRIES = 5
_H_MIN_REL = 1e-14  # STEP_TOO_SMALL when h < _H_MIN_REL * max(1, |t|)
_EPS = 2.220446049250313e-16

# ---- stiffness switching (method = auto) --------------------------------------------------
_STIFF_HRHO = 3.0  # h*rho beyond this: the step is stability-limited (boundary ~3.3)
_STIFF_COUNT = 15  # detections before switching to Rodas4 (DOPRI5 uses 15 too)
_NONSTIFF_RESET = 6  # consecutive non-stiff DP5 steps that clear the detection count
_CALM_HRHO = 1.0  # Rodas4 -> DP5 when h * rho_max stays below this...
_CALM_COUNT = 10  # ...for this many accepted steps
# A Rodas4 step costs about 6 DP5 steps here (Jacobian, LU, 6 stages vs 6 cheap stages;
# 17 states). If Rodas4's steps stay below this multiple of the DP5 step at the switch,
# the problem is accuracy-limited, not stiff, and DP5 is cheaper: go back, and make the
# next switch to Rodas4 need twice as many stiffness detections (no ping-pong).
_RODAS_GAIN = 5.0
_MAX_BACKOFF = 6

# ---- Dormand-Prince 5(4) (Hairer's DOPRI5) ------------------------------------------------
_DP_C2 = 1.0 / 5.0
_DP_C3 = 3.0 / 10.0
_DP_C4 = 4.0 / 5.0
_DP_C5 = 8.0 / 9.0
_DP_A21 = 1.0 / 5.0
_DP_A31 = 3.0 / 40.0
_DP_A32 = 9.0 / 40.0
_DP_A41 = 44.0 / 45.0
_DP_A42 = -56.0 / 15.0
_DP_A43 = 32.0 / 9.0
_DP_A51 = 19372.0 / 6561.0
_DP_A52 = -25360.0 / 2187.0
_DP_A53 = 64448.0 / 6561.0
_DP_A54 = -212.0 / 729.0
_DP_A61 = 9017.0 / 3168.0
_DP_A62 = -355.0 / 33.0
_DP_A63 = 46732.0 / 5247.0
_DP_A64 = 49.0 / 176.0
_DP_A65 = -5103.0 / 18656.0
_DP_B1 = 35.0 / 384.0
_DP_B3 = 500.0 / 1113.0
_DP_B4 = 125.0 / 192.0
_DP_B5 = -2187.0 / 6784.0
_DP_B6 = 11.0 / 84.0
# error weights: 5th-order minus embedded 4th-order solution
_DP_E1 = 71.0 / 57600.0
_DP_E3 = -71.0 / 16695.0
_DP_E4 = 71.0 / 1920.0
_DP_E5 = -17253.0 / 339200.0
_DP_E6 = 22.0 / 525.0
_DP_E7 = -1.0 / 40.0
# Shampine's dense output
_DP_D1 = -12715105075.0 / 11282082432.0
_DP_D3 = 87487479700.0 / 32700410799.0
_DP_D4 = -10690763975.0 / 1880347072.0
_DP_D5 = 701980252875.0 / 199316789632.0
_DP_D6 = -1453857185.0 / 822651844.0
_DP_D7 = 69997945.0 / 29380423.0
# PI controller (DOPRI5 defaults): h_new / h in [0.2, 10], beta = 0.04
_DP_BETA = 0.04
_DP_EXPO = 0.2 - 0.75 * _DP_BETA
_DP_FAC_MIN = 0.2
_DP_FAC_MAX = 10.0

# ---- Rodas4 (Hairer & Wanner, rodas.f METH=1) --------------------------------------------
_RO_GAMMA = 0.25
_RO_C2 = 0.386
_RO_C3 = 0.21
_RO_C4 = 0.63
_RO_D1 = 0.25  # gamma_i = sum_j gamma_ij, multiplies h * df/dt
_RO_D2 = -0.1043
_RO_D3 = 0.1035
_RO_D4 = -0.3620000000000023e-01
_RO_A21 = 0.1544000000000000e01
_RO_A31 = 0.9466785280815826e00
_RO_A32 = 0.2557011698983284e00
_RO_A41 = 0.3314825187068521e01
_RO_A42 = 0.2896124015972201e01
_RO_A43 = 0.9986419139977817e00
_RO_A51 = 0.1221224509226641e01
_RO_A52 = 0.6019134481288629e01
_RO_A53 = 0.1253708332932087e02
_RO_A54 = -0.6878860361058950e00
_RO_C21 = -0.5668800000000000e01
_RO_C31 = -0.2430093356833875e01
_RO_C32 = -0.2063599157091915e00
_RO_C41 = -0.1073529058151375e00
_RO_C42 = -0.9594562251023355e01
_RO_C43 = -0.2047028614809616e02
_RO_C51 = 0.7496443313967647e01
_RO_C52 = -0.1024680431464352e02
_RO_C53 = -0.3399990352819905e02
_RO_C54 = 0.1170890893206160e02
_RO_C61 = 0.8083246795921522e01
_RO_C62 = -0.7981132988064893e01
_RO_C63 = -0.3152159432874371e02
_RO_C64 = 0.1631930543123136e02
_RO_C65 = -0.6058818238834054e01
# dense output
_RO_D21 = 0.1012623508344586e02
_RO_D22 = -0.7487995877610167e01
_RO_D23 = -0.3480091861555747e02
_RO_D24 = -0.7992771707568823e01
_RO_D25 = 0.1025137723295662e01
_RO_D31 = -0.6762803392801253e00
_RO_D32 = 0.6087714651680015e01
_RO_D33 = 0.1643084320892478e02
_RO_D34 = 0.2476722511418386e02
_RO_D35 = -0.6594389125716872e01
# controller (rodas.f defaults): h_new / h in [0.2, 6]
_RO_FAC_MIN = 0.2
_RO_FAC_MAX = 6.0


# =========================================================================================
# small helpers
# =========================================================================================
@njit(cache=True)
def _f(t, y, p, u, dy):
    """Model right-hand side plus the zero-order input rates u (per day)."""
    rhs(t, y, p, dy)
    for i in range(y.shape[0]):
        dy[i] += u[i]


@njit(cache=True)
def _all_finite(x):
    for i in range(x.shape[0]):
        if not math.isfinite(x[i]):
            return False
    return True


@njit(cache=True)
def _initial_step(t, y, f0, p, u, atol, rtol, order, h_lim, y1, f1):
    """Hairer's starting-step heuristic (HINIT); costs one rhs evaluation.

    Uses the RMS norm weighted by atol + rtol*|y|; ``h_lim`` caps the result.
    """
    n = y.shape[0]
    dnf = 0.0
    dny = 0.0
    for i in range(n):
        sk = atol[i] + rtol * abs(y[i])
        dnf += (f0[i] / sk) ** 2
        dny += (y[i] / sk) ** 2
    dnf = math.sqrt(dnf / n)
    dny = math.sqrt(dny / n)
    if dnf <= 1e-5 or dny <= 1e-5:
        h = 1e-6
    else:
        h = 0.01 * dny / dnf
    h = min(h, h_lim)
    # an explicit Euler step estimates the second derivative
    for i in range(n):
        y1[i] = y[i] + h * f0[i]
    _f(t + h, y1, p, u, f1)
    der2 = 0.0
    for i in range(n):
        sk = atol[i] + rtol * abs(y[i])
        der2 += ((f1[i] - f0[i]) / sk) ** 2
    der2 = math.sqrt(der2 / n) / h
    der12 = max(der2, dnf)
    if not math.isfinite(der12):
        h1 = h * 1e-3
    elif der12 <= 1e-15:
        h1 = max(1e-6, h * 1e-3)
    else:
        h1 = (0.01 / der12) ** (1.0 / order)
    return min(100.0 * h, h1, h_lim)


@njit(cache=True)
def _rms_error(err, y, ynew, atol, rtol):
    """RMS of err_i / (atol_i + rtol * max(|y_i|, |ynew_i|)); NaN if anything is non-finite."""
    n = y.shape[0]
    s = 0.0
    for i in range(n):
        if not math.isfinite(ynew[i]):
            return math.nan
        sk = atol[i] + rtol * max(abs(y[i]), abs(ynew[i]))
        s += (err[i] / sk) ** 2
    return math.sqrt(s / n)


@njit(cache=True)
def _dense(theta, yold, r, out):
    """Evaluate the step's interpolant at theta = (t - t_old)/h in [0, 1].

    Both methods use y(theta) = yold + theta*(r0 + (1-theta)*(r1 + theta*(r2 + (1-theta)*r3)))
    (Rodas4 has r3 = 0).
    """
    th1 = 1.0 - theta
    for i in range(yold.shape[0]):
        out[i] = yold[i] + theta * (r[0, i] + th1 * (r[1, i] + theta * (r[2, i] + th1 * r[3, i])))


# =========================================================================================
# linear algebra: dense LU with partial pivoting (row-major, in place)
# =========================================================================================
@njit(cache=True)
def _lu_factor(a, piv):
    """Factor a = P L U in place; returns False on an exactly zero pivot."""
    n = a.shape[0]
    for k in range(n):
        m = k
        amax = abs(a[k, k])
        for i in range(k + 1, n):
            v = abs(a[i, k])
            if v > amax:
                amax = v
                m = i
        piv[k] = m
        if amax == 0.0:
            return False
        if m != k:
            for j in range(n):
                tmp = a[k, j]
                a[k, j] = a[m, j]
                a[m, j] = tmp
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            lik = a[i, k] * inv
            a[i, k] = lik
            if lik != 0.0:  # sparse Jacobians: skip empty rows cheaply
                for j in range(k + 1, n):
                    a[i, j] -= lik * a[k, j]
    return True


@njit(cache=True)
def _lu_solve(lu, piv, b):
    """Solve (P L U) x = b in place."""
    n = lu.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            tmp = b[k]
            b[k] = b[m]
            b[m] = tmp
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= lu[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= lu[i, j] * b[j]
        b[i] = s / lu[i, i]


# =========================================================================================
# one step attempt of each method
# =========================================================================================
@njit(cache=True)
def _dp5_attempt(t, h, y, p, u, atol, rtol, k, w):
    """One Dormand-Prince step from (t, y) with step h; w[_W_F0] must hold f(t, y).

    Writes stages 2..7 into k[1..6] (k[6] = f(t+h, ynew)) and w[_W_YNEW].
    Returns (error norm, h*rho stiffness estimate); the error is NaN on non-finite values.
    """
    n = y.shape[0]
    f0 = w[_W_F0]
    ys = w[_W_YNEW]  # scratch for stage arguments until the final solution
    y6 = w[_W_YSTAGE]
    for i in range(n):
        ys[i] = y[i] + h * _DP_A21 * f0[i]
    _f(t + _DP_C2 * h, ys, p, u, k[1])
    for i in range(n):
        ys[i] = y[i] + h * (_DP_A31 * f0[i] + _DP_A32 * k[1, i])
    _f(t + _DP_C3 * h, ys, p, u, k[2])
    for i in range(n):
        ys[i] = y[i] + h * (_DP_A41 * f0[i] + _DP_A42 * k[1, i] + _DP_A43 * k[2, i])
    _f(t + _DP_C4 * h, ys, p, u, k[3])
    for i in range(n):
        ys[i] = y[i] + h * (
            _DP_A51 * f0[i] + _DP_A52 * k[1, i] + _DP_A53 * k[2, i] + _DP_A54 * k[3, i]
        )
    _f(t + _DP_C5 * h, ys, p, u, k[4])
    for i in range(n):
        y6[i] = y[i] + h * (
            _DP_A61 * f0[i]
            + _DP_A62 * k[1, i]
            + _DP_A63 * k[2, i]
            + _DP_A64 * k[3, i]
            + _DP_A65 * k[4, i]
        )
    _f(t + h, y6, p, u, k[5])
    ynew = w[_W_YNEW]
    for i in range(n):
        ynew[i] = y[i] + h * (
            _DP_B1 * f0[i]
            + _DP_B3 * k[2, i]
            + _DP_B4 * k[3, i]
            + _DP_B5 * k[4, i]
            + _DP_B6 * k[5, i]
        )
    _f(t + h, ynew, p, u, k[6])
    err = w[_W_FTMP]
    stnum = 0.0
    stden = 0.0
    for i in range(n):
        err[i] = h * (
            _DP_E1 * f0[i]
            + _DP_E3 * k[2, i]
            + _DP_E4 * k[3, i]
            + _DP_E5 * k[4, i]
            + _DP_E6 * k[5, i]
            + _DP_E7 * k[6, i]
        )
        stnum += (k[6, i] - k[5, i]) ** 2
        stden += (ynew[i] - y6[i]) ** 2
    hrho = h * math.sqrt(stnum / stden) if stden > 0.0 else 0.0
    return _rms_error(err, y, ynew, atol, rtol), hrho


@njit(cache=True)
def _dp5_dense_prepare(h, y, k, w, r):
    """Coefficients of DP5's continuous extension for the step just accepted."""
    f0 = w[_W_F0]
    ynew = w[_W_YNEW]
    for i in range(y.shape[0]):
        dy = ynew[i] - y[i]
        bspl = h * f0[i] - dy
        r[0, i] = dy
        r[1, i] = bspl
        r[2, i] = dy - h * k[6, i] - bspl
        r[3, i] = h * (
            _DP_D1 * f0[i]
            + _DP_D3 * k[2, i]
            + _DP_D4 * k[3, i]
            + _DP_D5 * k[4, i]
            + _DP_D6 * k[5, i]
            + _DP_D7 * k[6, i]
        )


@njit(cache=True, inline="always")
def _solve(sparse, e, piv, lu, b):
    """Solve with the sparse factors ``lu`` or the dense ones ``e``, ``piv``, in place."""
    if sparse:
        lu_sparse_solve(lu, b)
    else:
        _lu_solve(e, piv, b)


@njit(cache=True)
def _rodas_attempt(t, h, y, p, u, atol, rtol, jm, lin, k, w):
    """One Rodas4 step; w[_W_F0] = f(t, y), w[_W_FX] = df/dt and jm = df/dy at (t, y).

    Stages solve (I/(h*gamma) - J) k_i = f(y + sum a_ij k_j) + sum (c_ij/h) k_j + h*d_i*df/dt,
    so k_i are state increments. Writes k[0..5], w[_W_YNEW]. ``lin`` = (sparse, e, piv,
    lu): with ``sparse`` (and a known pattern) the factors go to ``lu``
    (``lu_sparse_factor``), else, or when its pivot test fails, the dense LU to e, piv.
    Returns (error norm, singular flag).
    """
    n = y.shape[0]
    f0 = w[_W_F0]
    fx = w[_W_FX]
    ys = w[_W_YSTAGE]
    ynew = w[_W_YNEW]
    want_sparse, e, piv, lu = lin
    fac = 1.0 / (h * _RO_GAMMA)
    sparse = SPARSE_PATTERN and want_sparse and lu_sparse_factor(jm, fac, lu)
    if not sparse:
        for i in range(n):
            for j in range(n):
                e[i, j] = -jm[i, j]
            e[i, i] += fac
        if not _lu_factor(e, piv):
            return math.nan, True
    hd1 = h * _RO_D1
    hd2 = h * _RO_D2
    hd3 = h * _RO_D3
    hd4 = h * _RO_D4
    hc21 = _RO_C21 / h
    hc31 = _RO_C31 / h
    hc32 = _RO_C32 / h
    hc41 = _RO_C41 / h
    hc42 = _RO_C42 / h
    hc43 = _RO_C43 / h
    hc51 = _RO_C51 / h
    hc52 = _RO_C52 / h
    hc53 = _RO_C53 / h
    hc54 = _RO_C54 / h
    hc61 = _RO_C61 / h
    hc62 = _RO_C62 / h
    hc63 = _RO_C63 / h
    hc64 = _RO_C64 / h
    hc65 = _RO_C65 / h
    # stage 1
    for i in range(n):
        k[0, i] = f0[i] + hd1 * fx[i]
    _solve(sparse, e, piv, lu, k[0])
    # stage 2
    for i in range(n):
        ys[i] = y[i] + _RO_A21 * k[0, i]
    _f(t + _RO_C2 * h, ys, p, u, k[1])
    for i in range(n):
        k[1, i] += hc21 * k[0, i] + hd2 * fx[i]
    _solve(sparse, e, piv, lu, k[1])
    # stage 3
    for i in range(n):
        ys[i] = y[i] + _RO_A31 * k[0, i] + _RO_A32 * k[1, i]
    _f(t + _RO_C3 * h, ys, p, u, k[2])
    for i in range(n):
        k[2, i] += hc31 * k[0, i] + hc32 * k[1, i] + hd3 * fx[i]
    _solve(sparse, e, piv, lu, k[2])
    # stage 4
    for i in range(n):
        ys[i] = y[i] + _RO_A41 * k[0, i] + _RO_A42 * k[1, i] + _RO_A43 * k[2, i]
    _f(t + _RO_C4 * h, ys, p, u, k[3])
    for i in range(n):
        k[3, i] += hc41 * k[0, i] + hc42 * k[1, i] + hc43 * k[2, i] + hd4 * fx[i]
    _solve(sparse, e, piv, lu, k[3])
    # stage 5 (at t + h)
    for i in range(n):
        ys[i] = y[i] + _RO_A51 * k[0, i] + _RO_A52 * k[1, i] + _RO_A53 * k[2, i] + _RO_A54 * k[3, i]
    _f(t + h, ys, p, u, k[4])
    for i in range(n):
        k[4, i] += hc51 * k[0, i] + hc52 * k[1, i] + hc53 * k[2, i] + hc54 * k[3, i]
    _solve(sparse, e, piv, lu, k[4])
    # stage 6: the embedded solution ys + k4 is the argument; its correction is the error
    for i in range(n):
        ynew[i] = ys[i] + k[4, i]
    _f(t + h, ynew, p, u, k[5])
    for i in range(n):
        k[5, i] += hc61 * k[0, i] + hc62 * k[1, i] + hc63 * k[2, i] + hc64 * k[3, i]
        k[5, i] += hc65 * k[4, i]
    _solve(sparse, e, piv, lu, k[5])
    for i in range(n):
        ynew[i] += k[5, i]
    return _rms_error(k[5], y, ynew, atol, rtol), False


@njit(cache=True)
def _rodas_dense_prepare(y, k, w, r):
    """Coefficients of Rodas4's dense output for the step just accepted."""
    ynew = w[_W_YNEW]
    for i in range(y.shape[0]):
        r[0, i] = ynew[i] - y[i]
        r[1, i] = (
            _RO_D21 * k[0, i]
            + _RO_D22 * k[1, i]
            + _RO_D23 * k[2, i]
            + _RO_D24 * k[3, i]
            + _RO_D25 * k[4, i]
        )
        r[2, i] = (
            _RO_D31 * k[0, i]
            + _RO_D32 * k[1, i]
            + _RO_D33 * k[2, i]
            + _RO_D34 * k[3, i]
            + _RO_D35 * k[4, i]
        )
        r[3, i] = 0.0


@njit(cache=True)
def _rho_bound(jm, y, atol, rtol):
    """Upper bound on the Jacobian's spectral radius (per day).

    Gershgorin (max absolute row sum) of D J D^-1 with D = diag(1/(atol + rtol|y|)):
    the similarity keeps the eigenvalues but balances states of very different sizes.
    With a known pattern only its entries are summed (row by row, columns ascending, as
    the dense loop: the zeros it adds change nothing, so the bound is bit-identical).
    """
    n = y.shape[0]
    best = 0.0
    for i in range(n):
        si = atol[i] + rtol * abs(y[i])
        s = 0.0
        if SPARSE_PATTERN:
            for q in range(JAC_PTR[i], JAC_PTR[i + 1]):
                j = JAC_COL[q]
                s += abs(jm[i, j]) * (atol[j] + rtol * abs(y[j]))
        else:
            for j in range(n):
                s += abs(jm[i, j]) * (atol[j] + rtol * abs(y[j]))
        best = max(best, s / si)
    return best


# =========================================================================================
# integration: start, controllers, stiffness switch, dense output, the loop
# =========================================================================================
@njit(cache=True)
def _steady(y, f, atol, ss_tol):
    """True when max_i |f_i| / max(|y_i|, atol_i) < ss_tol (per day)."""
    worst = 0.0
    for i in range(y.shape[0]):
        worst = max(worst, abs(f[i]) / max(abs(y[i]), atol[i]))
    return worst < ss_tol


@njit(cache=True, inline="always")
def _first_step(t, t_end, y, p, u, atol, rtol, h_max, ctl, hmem, stats, w):
    """Step size (days) that starts an integration from t; w[_W_F0] must hold f(t, y).

    After an event, the step the controller proposed last (``hmem[_HM_NEXT]``) instead of
    the initial-step heuristic: event-rich schedules (daily doses) then pay no ramp-up each
    time, and the error control still rejects it if the event made the problem harder.
    """
    h_lim = t_end - t
    if h_max > 0.0:
        h_lim = min(h_lim, h_max)
    if hmem[_HM_NEXT] > 0.0:
        return min(hmem[_HM_NEXT], h_lim)
    order = 5 if ctl[_CTL_METHOD] == _DP5 else 4
    stats[_N_RHS] += 1
    return _initial_step(t, y, w[_W_F0], p, u, atol, rtol, order, h_lim, w[_W_YNEW], w[_W_FTMP])


@njit(cache=True, inline="always")
def _jacobian_update(t, y, p, u, atol, rtol, stats, w, jm):
    """df/dy into jm and df/dt into w[_W_FX] at (t, y), for Rodas4; w[_W_F0] holds f(t, y).

    Returns the Gershgorin bound on the scaled Jacobian's spectral radius (per day).
    """
    jac(t, y, p, jm)
    stats[_N_JAC] += 1
    fx = w[_W_FX]
    if AUTONOMOUS:  # known at generation time: df/dt = 0, save an rhs call
        for i in range(y.shape[0]):
            fx[i] = 0.0
    else:  # df/dt by forward difference
        f0 = w[_W_F0]
        dt = math.sqrt(_EPS * max(1e-5, abs(t)))
        dt = (t + dt) - t
        _f(t + dt, y, p, u, fx)
        for i in range(y.shape[0]):
            fx[i] = (fx[i] - f0[i]) / dt
        stats[_N_RHS] += 1
    return _rho_bound(jm, y, atol, rtol)


# ---- step-size controllers ------------------------------------------------------------------
# Controller memory lives in _integrate's locals: facold (DP5 PI controller: error of the
# last accepted step, >= 1e-4) and h_acc, err_acc (Rodas4 Gustafsson controller: the last
# accepted step, 0 when none yet, and its error, >= 1e-2). A fresh start resets them.
@njit(cache=True, inline="always")
def _controller_reject(cur, err, h_step):
    """Step to retry with after the error test failed (err > 1): the error estimate only,
    no PI / Gustafsson memory."""
    if cur == _DP5:
        fac = min(1.0 / _DP_FAC_MIN, err**_DP_EXPO / _SAFETY)
    else:
        fac = min(1.0 / _RO_FAC_MIN, err**0.25 / _SAFETY)
    return h_step / fac


@njit(cache=True, inline="always")
def _controller_accept(cur, err, h_step, facold, h_acc, err_acc):
    """Step proposed after an accepted step of method ``cur`` with error norm ``err`` <= 1.

    Returns (h_new, facold, h_acc, err_acc), the controller memory updated: DOPRI5's PI
    control for DP5, rodas.f's predictive (Gustafsson) control for Rodas4.
    """
    if cur == _DP5:
        fac = err**_DP_EXPO / facold**_DP_BETA
        fac = max(1.0 / _DP_FAC_MAX, min(1.0 / _DP_FAC_MIN, fac / _SAFETY))
        return h_step / fac, max(err, 1e-4), h_acc, err_acc
    fac = max(1.0 / _RO_FAC_MAX, min(1.0 / _RO_FAC_MIN, err**0.25 / _SAFETY))
    if h_acc > 0.0:
        facgus = (h_acc / h_step) * (err * err / err_acc) ** 0.25 / _SAFETY
        facgus = max(1.0 / _RO_FAC_MAX, min(1.0 / _RO_FAC_MIN, facgus))
        fac = max(fac, facgus)
    return h_step / fac, facold, h_step, max(1e-2, err)


# ---- stiffness switch (method = auto) ---------------------------------------------------------
@njit(cache=True, inline="always")
def _dp5_stiffness_test(hrho, h_step, ctl, hmem, stats):
    """After an accepted DP5 step with stiffness estimate ``hrho``: count detections and
    switch to Rodas4 after _STIFF_COUNT << back-off of them. Returns the next method."""
    if not hrho > _STIFF_HRHO:
        ctl[_CTL_NONSTIFF] += 1
        if ctl[_CTL_NONSTIFF] >= _NONSTIFF_RESET:
            ctl[_CTL_STIFF] = 0
        return _DP5
    ctl[_CTL_STIFF] += 1
    ctl[_CTL_NONSTIFF] = 0
    if ctl[_CTL_STIFF] < _STIFF_COUNT << ctl[_CTL_BACKOFF]:
        return _DP5
    ctl[_CTL_METHOD] = _RODAS4
    ctl[_CTL_STIFF] = 0
    ctl[_CTL_CALM] = 0
    hmem[_HM_DP5_AT_SWITCH] = h_step
    stats[_N_SWITCH] += 1
    return _RODAS4


@njit(cache=True, inline="always")
def _rodas_calm_test(hrho_max, h_new, cost, ctl, hmem, stats):
    """After an accepted Rodas4 step (``hrho_max`` = h * rho_max, ``h_new`` the step it
    proposes): count steps that argue for DP5 and switch back after _CALM_COUNT of them in
    a row. With ``cost`` (_OPT_COST_SWITCH) only calm steps count: ``_cost_switch`` judges
    the gain. Returns the next method."""
    if hrho_max < _CALM_HRHO:  # DP5 would be stable with this step
        ctl[_CTL_CALM] += 1
    elif not cost and h_new < _RODAS_GAIN * hmem[_HM_DP5_AT_SWITCH]:  # not worth Rodas4's cost
        ctl[_CTL_CALM] += 1
        if ctl[_CTL_CALM] >= _CALM_COUNT:
            ctl[_CTL_BACKOFF] = min(ctl[_CTL_BACKOFF] + 1, _MAX_BACKOFF)
    else:
        ctl[_CTL_CALM] = 0
    if ctl[_CTL_CALM] < _CALM_COUNT:
        return _RODAS4
    ctl[_CTL_METHOD] = _DP5
    ctl[_CTL_NONSTIFF] = 0
    ctl[_CTL_CALM] = 0
    stats[_N_SWITCH] += 1
    return _DP5


@njit(cache=True, inline="always")
def _window_start(t, ctl, hmem, stats):
    """_OPT_COST_SWITCH: start measuring the current method's advance per attempt at t."""
    hmem[_HM_WIN_T] = t
    ctl[_CTL_WIN_ATT] = stats[_N_ACCEPTED] + stats[_N_REJECTED]
    ctl[_CTL_WIN_ACC] = stats[_N_ACCEPTED]


@njit(cache=True, inline="always")
def _window_rate(t, ctl, hmem, stats):
    """Days advanced per step attempt since the window started (rejections count)."""
    attempts = stats[_N_ACCEPTED] + stats[_N_REJECTED] - ctl[_CTL_WIN_ATT]
    return (t - hmem[_HM_WIN_T]) / max(attempts, 1)


@njit(cache=True, inline="always")
def _cost_switch(cur, nxt, t, rodas_cost, ctl, hmem, stats):
    """_OPT_COST_SWITCH, after an accepted step at t of method ``cur`` (``nxt``: what the
    stiffness test decided). DP5: a stretch without stiffness restarts DP5's window; at a
    switch its advance per attempt is kept. Rodas4: every _CALM_COUNT accepted steps its
    advance per attempt is compared with ``rodas_cost`` (RODAS_COST, or RODAS_COST_SPARSE
    with the sparse LU) times DP5's; below it, back to DP5 and
    the next switch needs twice the detections. Returns the next method."""
    if cur == _DP5:
        if nxt == _RODAS4:
            hmem[_HM_DP5_RATE] = _window_rate(t, ctl, hmem, stats)
            _window_start(t, ctl, hmem, stats)
        elif ctl[_CTL_STIFF] == 0:
            _window_start(t, ctl, hmem, stats)
        return nxt
    if nxt == _DP5:  # calm: DP5 is stable with Rodas4's steps
        _window_start(t, ctl, hmem, stats)
        return nxt
    if stats[_N_ACCEPTED] - ctl[_CTL_WIN_ACC] < _CALM_COUNT:
        return nxt
    if _window_rate(t, ctl, hmem, stats) >= rodas_cost * hmem[_HM_DP5_RATE]:
        _window_start(t, ctl, hmem, stats)  # worth its cost: keep checking
        return nxt
    ctl[_CTL_BACKOFF] = min(ctl[_CTL_BACKOFF] + 1, _MAX_BACKOFF)
    ctl[_CTL_METHOD] = _DP5
    ctl[_CTL_NONSTIFF] = 0
    ctl[_CTL_CALM] = 0
    stats[_N_SWITCH] += 1
    _window_start(t, ctl, hmem, stats)
    return _DP5


# ---- dense output ---------------------------------------------------------------------------
@njit(cache=True)
def _fill_outputs(cur, t, t_new, h_step, y, p, w, kst, r, out, k_out):
    """Outputs t_out[k_out:] passed by the step just accepted from (t, y) to t_new, from
    its interpolant (the step's end exactly from w[_W_YNEW]). Returns the next output index.

    Called only when t_out[k_out] <= t_new (the test stays in the loop: a call per step
    costs ~10 % on event-rich workloads, even with numba's inlining).
    """
    t_out, yo, oo, n_out = out
    n_t = t_out.shape[0]
    if cur == _DP5:
        _dp5_dense_prepare(h_step, y, kst, w, r)
    else:
        _rodas_dense_prepare(y, kst, w, r)
    ynew = w[_W_YNEW]
    while k_out < n_t and t_out[k_out] <= t_new:
        if t_out[k_out] == t_new:
            for i in range(y.shape[0]):
                yo[k_out, i] = ynew[i]
        else:
            _dense((t_out[k_out] - t) / h_step, y, r, yo[k_out])
        if n_out > 0:
            outputs(t_out[k_out], yo[k_out], p, oo[k_out])
        k_out += 1
    return k_out


# ---- the integration loop -------------------------------------------------------------------
@njit(cache=True)
def _integrate(t, t_end, y, p, u, opts, out, k_out, mstate, ws):
    """Integrate y (in place) from t to t_end (days), a fresh start with no step history.

    ``opts`` = (atol, rtol, method, max_steps, h_max, ss_tol); ``out`` = (t_out, yo, oo,
    n_out): output times t_out[k_out:] that fall in (t, t_end] are filled in yo/oo from
    the dense output as the steps pass them. With ss_tol > 0 the integration stops early,
    with status OK, once ``_steady`` holds (checked at t and after every accepted step).
    ``mstate`` = (ctl, hmem, stats), the patient's method state, step-size memory (slots
    _CTL_* and _HM_*) and counters (_N_*), carried across calls. ``ws`` = ``_workspace``.
    Returns (status, next output index, t reached).
    """
    atol, rtol, method_flags, max_steps, h_max, ss_tol = opts
    method = method_flags & _METHOD_BITS
    cost_switch = (method_flags & _OPT_COST_SWITCH) != 0
    warm = (method_flags & _OPT_WARM_EVENTS) != 0
    sparse = (method_flags & _OPT_SPARSE_LU) != 0
    # the cost of a Rodas4 attempt in DP5 attempts, for the cost switch
    rodas_cost = RODAS_COST_SPARSE if sparse and SPARSE_PATTERN else RODAS_COST
    t_out = out[0]
    ctl, hmem, stats = mstate
    w, kst, r, jm, e, piv, lu = ws
    lin = (sparse, e, piv, lu)
    f0 = w[_W_F0]
    ynew = w[_W_YNEW]
    if not _all_finite(y):
        return _NON_FINITE, k_out, t
    _f(t, y, p, u, f0)
    stats[_N_RHS] += 1
    if not _all_finite(f0):
        return _NON_FINITE, k_out, t
    if ss_tol > 0.0 and _steady(y, f0, atol, ss_tol):
        return _OK, k_out, t
    if t_end <= t:
        return _OK, k_out, t
    h = _first_step(t, t_end, y, p, u, atol, rtol, h_max, ctl, hmem, stats, w)
    have_f0 = True  # f0 holds f(t, y)
    reject = False  # the previous attempt was rejected: do not grow h
    facold = 1e-4  # controller memory (see _controller_accept)
    h_acc = 0.0
    err_acc = 1e-2
    if warm and hmem[_HM_FACOLD] > 0.0:  # kept from before the event
        facold = hmem[_HM_FACOLD]
        h_acc = hmem[_HM_H_ACC]
        err_acc = hmem[_HM_ERR_ACC]
    n_nonfinite = 0
    n_singular = 0
    last_nonfinite = False
    jac_valid = False  # jm holds df/dy at the current (t, y)
    rho = 0.0

    while True:
        if stats[_N_ACCEPTED] + stats[_N_REJECTED] >= max_steps:
            return _MAX_STEPS, k_out, t
        if h_max > 0.0:
            h = min(h, h_max)
        # land exactly on t_end rather than leave a sliver
        last = t + 1.0001 * h >= t_end
        # (a short step to t_end, e.g. between close events, is not a collapse)
        if not last and h < _H_MIN_REL * max(1.0, abs(t)):
            return (_NON_FINITE if last_nonfinite else _STEP_TOO_SMALL), k_out, t
        h_step = t_end - t if last else h
        cur = ctl[_CTL_METHOD]

        # ---- one step attempt -----------------------------------------------------------
        if not have_f0:
            _f(t, y, p, u, f0)
            stats[_N_RHS] += 1
            have_f0 = True
        if cur == _DP5:
            err, hrho = _dp5_attempt(t, h_step, y, p, u, atol, rtol, kst, w)
            stats[_N_RHS] += 6
            singular = False
        else:
            if not jac_valid:
                rho = _jacobian_update(t, y, p, u, atol, rtol, stats, w, jm)
                jac_valid = True
            err, singular = _rodas_attempt(t, h_step, y, p, u, atol, rtol, jm, lin, kst, w)
            stats[_N_RHS] += 5
            hrho = 0.0

        # ---- failed attempts: singular matrix, NaN/inf, error test ----------------------
        if singular:
            stats[_N_REJECTED] += 1
            n_singular += 1
            if n_singular > _MAX_SINGULAR_RETRIES:
                return _SINGULAR, k_out, t
            h = 0.5 * h_step
            reject = True
            continue
        if not math.isfinite(err):
            stats[_N_REJECTED] += 1
            n_nonfinite += 1
            last_nonfinite = True
            if n_nonfinite > _MAX_NONFINITE_RETRIES:
                return _NON_FINITE, k_out, t
            h = _NONFINITE_SHRINK * h_step
            reject = True
            continue
        n_nonfinite = 0
        n_singular = 0
        if err > 1.0:
            stats[_N_REJECTED] += 1
            last_nonfinite = False
            h = _controller_reject(cur, err, h_step)
            reject = True
            continue

        # ---- accepted -------------------------------------------------------------------
        stats[_N_ACCEPTED] += 1
        h_new, facold, h_acc, err_acc = _controller_accept(cur, err, h_step, facold, h_acc, err_acc)
        if reject:
            h_new = min(h_new, h_step)
        # a step cut short to land on t_end says little about the step the problem allows
        if warm:
            hmem[_HM_NEXT] = h if (last and h_step < h) else h_new
        else:
            hmem[_HM_NEXT] = max(h_new, h) if (last and h_step < h) else h_new
        reject = False
        last_nonfinite = False
        t_new = t_end if last else t + h_step
        if k_out < t_out.shape[0] and t_out[k_out] <= t_new:  # outputs passed by this step
            k_out = _fill_outputs(cur, t, t_new, h_step, y, p, w, kst, r, out, k_out)
        for i in range(y.shape[0]):
            y[i] = ynew[i]
        t = t_new
        if cur == _DP5:
            for i in range(y.shape[0]):  # FSAL: the last stage is f(t_new, y_new)
                f0[i] = kst[6, i]
            have_f0 = True
        else:
            have_f0 = False
            jac_valid = False

        if method == _AUTO:
            if cur == _DP5:
                nxt = _dp5_stiffness_test(hrho, h_step, ctl, hmem, stats)
            else:
                nxt = _rodas_calm_test(h_step * rho, h_new, cost_switch, ctl, hmem, stats)
            if cost_switch:
                nxt = _cost_switch(cur, nxt, t, rodas_cost, ctl, hmem, stats)
            if nxt != cur:  # the new method's controller starts without memory
                h_acc = 0.0
                facold = 1e-4
        if warm:
            hmem[_HM_FACOLD] = facold
            hmem[_HM_H_ACC] = h_acc
            hmem[_HM_ERR_ACC] = err_acc

        if ss_tol > 0.0:
            if not have_f0:
                _f(t, y, p, u, f0)
                stats[_N_RHS] += 1
                have_f0 = True
            if _steady(y, f0, atol, ss_tol):
                return _OK, k_out, t
        if last:
            return _OK, k_out, t
        h = h_new


@njit(cache=True)
def _workspace(n):
    """Work arrays for one patient (allocated once, reused by every step)."""
    w = np.empty((_N_W, n))
    kst = np.empty((7, n))
    r = np.empty((4, n))
    jm = np.zeros((n, n))  # generated ``jac`` writes only its pattern's entries
    e = np.empty((n, n))
    piv = np.empty(n, np.int64)
    lu = np.empty(LU_NNZ)
    return w, kst, r, jm, e, piv, lu


@njit(cache=True)
def _method_state(method, stats):
    """(ctl, hmem, stats) for a patient's first integration: slots _CTL_*, _HM_*, _N_*."""
    ctl = np.zeros(_N_CTL, np.int64)
    ctl[_CTL_METHOD] = _RODAS4 if (method & _METHOD_BITS) == _RODAS4 else _DP5
    return ctl, np.zeros(_N_HM), stats


# =========================================================================================
# one patient
# =========================================================================================
@njit(cache=True)
def _apply_event(kind, idx, value, y, p, u):
    if kind == _EV_ADD_STATE:
        y[idx] += value
    elif kind == _EV_SET_STATE:
        y[idx] = value
    elif kind == _EV_SET_PARAM:
        p[idx] = value
    else:
        u[idx] = value


@njit(cache=True)
def _solve_patient(
    t0,
    y0,
    p0,
    t_out,
    ev_time,
    ev_kind,
    ev_index,
    ev_value,
    rtol,
    atol,
    n_out,
    method,
    max_steps,
    h_max,
    yo,
    oo,
    stats,
):
    """Integrate one patient through its events; fills yo (n_t, n_s), oo and stats."""
    n = y0.shape[0]
    n_t = t_out.shape[0]
    y = y0.copy()
    p = p0.copy()
    u = np.zeros(n)
    ws = _workspace(n)
    mstate = _method_state(method, stats)
    mstate[1][_HM_WIN_T] = t0
    opts = (atol, rtol, method, max_steps, h_max, -1.0)  # ss_tol <= 0: no early stop
    out = (t_out, yo, oo, n_out)

    status = _OK
    k = 0
    t = t0
    n_ev = ev_time.shape[0]
    j = 0
    # events before t0 take effect at t0; outputs at t0 see the state before the
    # events at t0 (trough convention), like at every other event time
    while j < n_ev and ev_time[j] < t0:
        _apply_event(ev_kind[j], ev_index[j], ev_value[j], y, p, u)
        j += 1
    while k < n_t and t_out[k] <= t0:
        for i in range(n):
            yo[k, i] = y[i]
        if n_out > 0:
            outputs(t_out[k], yo[k], p, oo[k])
        k += 1
    while k < n_t:
        # events due now, in the given order; then integrate afresh to the next one
        while j < n_ev and ev_time[j] <= t:
            _apply_event(ev_kind[j], ev_index[j], ev_value[j], y, p, u)
            j += 1
        t_end = t_out[n_t - 1]
        if j < n_ev and ev_time[j] < t_end:
            t_end = ev_time[j]
        status, k, t = _integrate(t, t_end, y, p, u, opts, out, k, mstate, ws)
        if status != _OK:
            break
        t = t_end
    for kk in range(k, n_t):
        for i in range(n):
            yo[kk, i] = math.nan
        for i in range(n_out):
            oo[kk, i] = math.nan
    return status


# =========================================================================================
# batch entry points
# =========================================================================================
@njit(cache=True)
def _check_common(y0, p, rtol, atol, method):
    if p.shape[0] != y0.shape[0]:
        raise ValueError("y0 and p must have one row per patient")
    if atol.shape[0] != y0.shape[1]:
        raise ValueError("atol must have one entry per state")
    if method < 0 or (method & _METHOD_BITS) > 2 or (method & ~(_METHOD_BITS | _OPT_ALL)) != 0:
        raise ValueError(
            "method must be 0 (auto), 1 (DP5) or 2 (Rodas4), plus option flags 4, 8, 16"
        )
    if not rtol > 0.0:
        raise ValueError("rtol must be positive")
    for i in range(atol.shape[0]):
        if not atol[i] > 0.0:  # also keeps every error weight atol + rtol*|y| positive
            raise ValueError("atol must be positive")


@njit(cache=True, parallel=True)
def solve_batch(
    t0,
    y0,
    p,
    t_out,
    ev_ptr,
    ev_time,
    ev_kind,
    ev_index,
    ev_value,
    rtol,
    atol,
    n_out,
    method,
    max_steps,
    h_max,
):
    """Integrate every patient from t0 through its events, reporting states at t_out.

    Parameters (time in days)
    -------------------------
    t0 : float start time.
    y0 : float64[n_pat, n_s] initial states; p : float64[n_pat, n_p] parameters
        (copied; a patient's events may change its own copy).
    t_out : float64[n_t] output times, ascending, >= t0.
    ev_ptr : int64[n_pat + 1]; patient i's events are ev_ptr[i]:ev_ptr[i+1] of
        ev_time (ascending per patient), ev_kind, ev_index, ev_value. Kinds:
        0 y[index] += value, 1 y[index] = value, 2 p[index] = value,
        3 zero-order input rate u[index] = value (states per day, added to rhs).
        Integration restarts at each event time; outputs at an event time report the
        state before the events (trough); events after t_out[-1] are ignored.
    rtol : float; atol : float64[n_s].
    n_out : number of model outputs; method : 0 auto, 1 DP5, 2 Rodas4, plus the option
        flags _OPT_COST_SWITCH (4), _OPT_WARM_EVENTS (8) and _OPT_SPARSE_LU (16); 0 each
        keeps the original behaviour.
    max_steps : attempted (accepted + rejected) steps allowed per patient.
    h_max : largest step in days (<= 0: no limit).

    Returns
    -------
    Y float64[n_pat, n_t, n_s], O float64[n_pat, n_t, n_out], status int64[n_pat]
    (``Status`` codes; a failed patient's remaining outputs are NaN), stats
    int64[n_pat, 5] (accepted, rejected, rhs evaluations, Jacobian evaluations,
    method switches). Each patient's results depend only on its own inputs.
    """
    n_pat = y0.shape[0]
    n_s = y0.shape[1]
    n_t = t_out.shape[0]
    _check_common(y0, p, rtol, atol, method)
    if ev_ptr.shape[0] != n_pat + 1 or ev_ptr[0] != 0:
        raise ValueError("ev_ptr must have n_patients + 1 entries starting at 0")
    n_ev = ev_time.shape[0]
    if ev_ptr[n_pat] > n_ev or ev_kind.shape[0] < n_ev or ev_index.shape[0] < n_ev:
        raise ValueError("event arrays are shorter than ev_ptr says")
    if ev_value.shape[0] < n_ev:
        raise ValueError("event arrays are shorter than ev_ptr says")
    for k in range(n_t):
        if t_out[k] < t0 or (k > 0 and t_out[k] < t_out[k - 1]):
            raise ValueError("t_out must be ascending and >= t0")
    for i in range(n_pat):
        if ev_ptr[i + 1] < ev_ptr[i]:
            raise ValueError("ev_ptr must be non-decreasing")
        for j in range(ev_ptr[i], ev_ptr[i + 1]):
            kind = ev_kind[j]
            if kind < 0 or kind > 3:
                raise ValueError("event kind must be 0..3")
            limit = p.shape[1] if kind == _EV_SET_PARAM else n_s
            if ev_index[j] < 0 or ev_index[j] >= limit:
                raise ValueError("event index out of range")
            if j > ev_ptr[i] and ev_time[j] < ev_time[j - 1]:
                raise ValueError("event times must be ascending within a patient")

    Y = np.empty((n_pat, n_t, n_s))
    obs = np.empty((n_pat, n_t, n_out))
    status = np.zeros(n_pat, np.int64)
    stats = np.zeros((n_pat, N_STATS), np.int64)
    for i in prange(n_pat):
        a = ev_ptr[i]
        b = ev_ptr[i + 1]
        status[i] = _solve_patient(
            t0,
            y0[i],
            p[i],
            t_out,
            ev_time[a:b],
            ev_kind[a:b],
            ev_index[a:b],
            ev_value[a:b],
            rtol,
            atol,
            n_out,
            method,
            max_steps,
            h_max,
            Y[i],
            obs[i],
            stats[i],
        )
    return Y, obs, status, stats


@njit(cache=True)
def _equilibrate_patient(y0, p0, t_max, rtol, atol, ss_tol, method, max_steps, y_ss):
    n = y0.shape[0]
    y = y0.copy()
    p = p0.copy()
    u = np.zeros(n)
    ws = _workspace(n)
    mstate = _method_state(method, np.zeros(N_STATS, np.int64))
    no_t = np.empty(0)
    no_y = np.empty((0, n))
    no_o = np.empty((0, 0))
    zero = no_t.shape[0]  # a plain int64: a literal 0 would compile _integrate again
    opts = (atol, rtol, method, max_steps, 0.0, ss_tol)
    out = (no_t, no_y, no_o, zero)
    status, _, t = _integrate(0.0, t_max, y, p, u, opts, out, zero, mstate, ws)
    if status == _OK:
        # _integrate also returns OK when it simply reached t_max: recheck the criterion
        f0 = ws[0][_W_F0]
        _f(t, y, p, u, f0)
        if not _steady(y, f0, atol, ss_tol):
            status = _NOT_CONVERGED
    for i in range(n):
        y_ss[i] = y[i] if status == _OK or status == _NOT_CONVERGED else math.nan
    return status, t


@njit(cache=True, parallel=True)
def equilibrate_batch(y0, p, t_max, rtol, atol, ss_tol, method, max_steps):
    """Integrate each patient (no events) from t = 0 towards its steady state.

    Stops at the first accepted step after which max_i |f_i(y)| / max(|y_i|, atol_i)
    < ss_tol (per day), or at t_max days (status NOT_CONVERGED unless the criterion
    holds there). Returns y_ss float64[n_pat, n_s] (the state reached; NaN for
    failures other than NOT_CONVERGED), t_reached float64[n_pat] (days) and
    status int64[n_pat].
    """
    n_pat = y0.shape[0]
    _check_common(y0, p, rtol, atol, method)
    if not ss_tol > 0.0:
        raise ValueError("ss_tol must be positive")
    y_ss = np.empty_like(y0)
    t_reached = np.zeros(n_pat)
    status = np.zeros(n_pat, np.int64)
    for i in prange(n_pat):
        st, tr = _equilibrate_patient(
            y0[i], p[i], t_max, rtol, atol, ss_tol, method, max_steps, y_ss[i]
        )
        status[i] = st
        t_reached[i] = tr
    return y_ss, t_reached, status
