"""Tests of the compiled batch ODE solver (``dermatwin.engine.kernel`` and its template).

All numerical tests share one hand-written model source (``ZOO``) holding several test
problems selected by ``p[0]``, so the solver is compiled once per test session (numba
compilation of the template dominates this file's run time).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dermatwin.engine import kernel as kernel_mod
from dermatwin.engine.kernel import KERNEL_TEMPLATE_VERSION, build_kernel
from dermatwin.engine.status import Status

ZOO = """
import math

import numpy as np
from numba import njit

# test problems, selected by p[0]; time in days
DECAY, ROBERTSON, VDP, NAN_AFTER, LINEAR, CASCADE, SINUS, BLOWUP = 0, 1, 2, 3, 4, 5, 6, 7
# first-order loss rates (per day) of the cascade states 5..13: stiffness ratio 1e5
K_OUT = np.array([1000.0, 300.0, 100.0, 30.0, 10.0, 3.0, 1.0, 0.1, 0.01])


@njit(cache=True)
def hill(x, ec50):
    return x / (x + ec50)


@njit(cache=True)
def rhs(t, y, p, dy):
    prob = int(p[0])
    if prob == DECAY:
        dy[0] = -p[1] * y[0]
    elif prob == ROBERTSON:
        dy[0] = -0.04 * y[0] + 1e4 * y[1] * y[2]
        dy[2] = 3e7 * y[1] * y[1]
        dy[1] = -dy[0] - dy[2]
    elif prob == VDP:
        dy[0] = y[1]
        dy[1] = p[1] * (1.0 - y[0] * y[0]) * y[1] - y[0]
    elif prob == NAN_AFTER:
        dy[0] = -p[1] * y[0]
        if p[2] > 0.0 and t > p[2]:
            dy[0] = math.nan
    elif prob == LINEAR:
        dy[0] = p[1] - p[2] * y[0]
        dy[1] = p[2] * y[0] - p[3] * y[1]
    elif prob == CASCADE:
        # drug depot/central/peripheral, target binding, 9-step cascade (14 states)
        ka, kel, kon, emax = p[1], p[2], p[3], p[4]
        bind = kon * y[1] * y[3] - 0.1 * y[4]
        dy[0] = -ka * y[0]
        dy[1] = ka * y[0] - kel * y[1] - 2.0 * y[1] + 0.5 * y[2] - bind
        dy[2] = 2.0 * y[1] - 0.5 * y[2]
        dy[3] = 5.0 - 5.0 * y[3] - bind
        dy[4] = bind - 3.0 * y[4]
        drive = 1.0 - emax * hill(y[4], 0.3)
        for j in range(9):
            src = drive if j == 0 else hill(y[4 + j], 0.5)
            dy[5 + j] = K_OUT[j] * (src - y[5 + j])
    elif prob == SINUS:
        dy[0] = p[1] * math.cos(t) * y[0]
    else:
        dy[0] = y[0] * y[0]


@njit(cache=True)
def jac(t, y, p, J):
    J[:, :] = 0.0
    prob = int(p[0])
    if prob == DECAY or prob == NAN_AFTER:
        J[0, 0] = -p[1]
    elif prob == ROBERTSON:
        J[0, 0] = -0.04
        J[0, 1] = 1e4 * y[2]
        J[0, 2] = 1e4 * y[1]
        J[2, 1] = 6e7 * y[1]
        J[1, 0] = 0.04
        J[1, 1] = -1e4 * y[2] - 6e7 * y[1]
        J[1, 2] = -1e4 * y[1]
    elif prob == VDP:
        J[0, 1] = 1.0
        J[1, 0] = -2.0 * p[1] * y[0] * y[1] - 1.0
        J[1, 1] = p[1] * (1.0 - y[0] * y[0])
    elif prob == LINEAR:
        J[0, 0] = -p[2]
        J[1, 0] = p[2]
        J[1, 1] = -p[3]
    elif prob == CASCADE:
        ka, kel, kon, emax = p[1], p[2], p[3], p[4]
        J[0, 0] = -ka
        J[1, 0] = ka
        J[1, 1] = -kel - 2.0 - kon * y[3]
        J[1, 2] = 0.5
        J[1, 3] = -kon * y[1]
        J[1, 4] = 0.1
        J[2, 1] = 2.0
        J[2, 2] = -0.5
        J[3, 1] = -kon * y[3]
        J[3, 3] = -5.0 - kon * y[1]
        J[3, 4] = 0.1
        J[4, 1] = kon * y[3]
        J[4, 3] = kon * y[1]
        J[4, 4] = -3.1
        J[5, 4] = -K_OUT[0] * emax * 0.3 / (y[4] + 0.3) ** 2
        for j in range(9):
            J[5 + j, 5 + j] = -K_OUT[j]
            if j > 0:
                J[5 + j, 4 + j] = K_OUT[j] * 0.5 / (y[4 + j] + 0.5) ** 2
    elif prob == SINUS:
        J[0, 0] = p[1] * math.cos(t)
    else:
        J[0, 0] = 2.0 * y[0]


@njit(cache=True)
def outputs(t, y, p, out):
    out[0] = y[0]
    out[1] = p[1]
"""
DECAY, ROBERTSON, VDP, NAN_AFTER, LINEAR, CASCADE, SINUS, BLOWUP = range(8)
AUTO, DP5, RODAS4 = 0, 1, 2
COST_SWITCH, WARM_EVENTS = 4, 8  # option flags added to the method id
N_OUT = 2
ZOO_KEY = "test_zoo_" + hashlib.sha256((ZOO + KERNEL_TEMPLATE_VERSION).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("kernels")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DERMATWIN_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def zoo(cache_dir):
    return build_kernel(ZOO, ZOO_KEY)


def events(per_patient):
    """CSR event arrays from one list of (time, kind, index, value) per patient."""
    ptr = np.zeros(len(per_patient) + 1, np.int64)
    rows = []
    for i, evs in enumerate(per_patient):
        ptr[i + 1] = ptr[i] + len(evs)
        rows.extend(evs)
    time = np.array([r[0] for r in rows], np.float64)
    kind = np.array([r[1] for r in rows], np.int64)
    index = np.array([r[2] for r in rows], np.int64)
    value = np.array([r[3] for r in rows], np.float64)
    return ptr, time, kind, index, value


def solve(
    mod,
    p,
    y0,
    t_out,
    *,
    ev=None,
    rtol=1e-7,
    atol=1e-12,
    method=AUTO,
    max_steps=1_000_000,
    h_max=0.0,
    t0=0.0,
):
    p = np.ascontiguousarray(np.atleast_2d(np.asarray(p, np.float64)))
    y0 = np.ascontiguousarray(np.atleast_2d(np.asarray(y0, np.float64)))
    if ev is None:
        ev = events([[] for _ in range(p.shape[0])])
    return mod.solve_batch(
        float(t0),
        y0,
        p,
        np.asarray(t_out, np.float64),
        *ev,
        float(rtol),
        np.full(y0.shape[1], float(atol)),
        N_OUT,
        method,
        max_steps,
        float(h_max),
    )


def rel_error(y, ref):
    return np.max(np.abs(y - ref) / np.abs(ref).clip(1e-300))


# ---- build_kernel ------------------------------------------------------------------------
def test_build_kernel_writes_one_module_file_once(zoo, cache_dir):
    path = cache_dir / f"k_{ZOO_KEY}.py"
    text = path.read_text()
    assert "def rhs(t, y, p, dy)" in text
    assert "_kernel_stub" not in text
    assert zoo.__name__ == f"dermatwin_kernels.k_{ZOO_KEY}"
    assert build_kernel(ZOO, ZOO_KEY) is zoo  # memoised
    mtime = path.stat().st_mtime_ns
    # a fresh import (as in another process) leaves the file, and numba's cache, alone
    kernel_mod._modules.pop(ZOO_KEY)
    try:
        again = build_kernel(ZOO, ZOO_KEY)
        assert again is not zoo
        assert path.stat().st_mtime_ns == mtime
    finally:
        kernel_mod._modules[ZOO_KEY] = zoo
    assert len(KERNEL_TEMPLATE_VERSION) == 16
    assert int(KERNEL_TEMPLATE_VERSION, 16) >= 0


def test_build_kernel_rejects_bad_sources(cache_dir):
    clash = ZOO + "\n\ndef _f(x):\n    return x\n"
    with pytest.raises(ValueError, match="_f"):
        build_kernel(clash, "clash")
    with pytest.raises(ValueError, match="outputs"):
        build_kernel(ZOO.replace("def outputs", "def other"), "missing")


def test_status_codes_match_template(zoo):
    for status in Status:
        assert getattr(zoo, f"_{status.name}") == status.value


def test_cache_is_reused_by_another_process(zoo, cache_dir):
    t_out = np.array([0.0, 0.5, 1.0])
    Y, _, _, _ = solve(zoo, [ROBERTSON], [1.0, 0.0, 0.0], t_out)
    script = textwrap.dedent(
        f"""
        import numpy as np
        from dermatwin.engine.kernel import build_kernel
        from tests_engine_zoo import ZOO, solve
        mod = build_kernel(ZOO, {ZOO_KEY!r})
        Y = solve(mod, [1.0], [1.0, 0.0, 0.0], np.array([0.0, 0.5, 1.0]))[0]
        stats = mod.solve_batch.stats
        print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
        print(Y.tobytes().hex())
        """
    )
    helper = cache_dir / "tests_engine_zoo.py"
    helper.write_text(
        f"ZOO = {ZOO!r}\nimport numpy as np\n"
        "def solve(mod, p, y0, t_out):\n"
        "    p = np.atleast_2d(np.asarray(p, np.float64))\n"
        "    y0 = np.atleast_2d(np.asarray(y0, np.float64))\n"
        "    e = np.empty(0)\n"
        "    i = np.empty(0, np.int64)\n"
        "    return mod.solve_batch(0.0, y0, p, t_out, np.zeros(2, np.int64), e, i, i, e,\n"
        f"        1e-7, np.full(3, 1e-12), {N_OUT}, 0, 1000000, 0.0)\n"
    )
    # the child must import this dermatwin (a worktree's template differs from an install's)
    path = [str(cache_dir), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p))
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    hits, misses = map(int, out[0].split())
    assert (hits, misses) == (1, 0)
    assert out[1] == Y.tobytes().hex()


# ---- events --------------------------------------------------------------------------------
def test_decay_with_boluses_and_parameter_switch(zoo):
    k = 0.7
    ev = events(
        [
            [
                (1.0, 0, 0, 2.0),  # bolus
                (2.0, 2, 1, 0.0),  # elimination off...
                (3.0, 1, 0, 5.0),  # set state, then add: same-time events in order
                (3.0, 0, 0, 1.0),
                (4.0, 2, 1, k),  # ...and on again
                (9.0, 0, 0, 100.0),  # after the last output: ignored
            ]
        ]
    )
    t_out = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 6.0])
    Y, obs, status, stats = solve(zoo, [DECAY, k], [1.0], t_out, ev=ev, rtol=1e-6, atol=1e-10)
    y1 = np.exp(-k) + 2.0  # just after the bolus at t = 1
    y2 = y1 * np.exp(-k)  # at t = 2, then constant until t = 3
    exact = np.array(
        [
            1.0,
            np.exp(-0.5 * k),
            np.exp(-k),  # trough: the output at t = 1 is before the bolus
            y1 * np.exp(-0.5 * k),
            y2,
            y2,
            y2,  # before the events at t = 3
            6.0,
            6.0,
            6.0 * np.exp(-2.0 * k),
        ]
    )
    assert status[0] == Status.OK
    assert np.max(np.abs(Y[0, :, 0] - exact) / exact) < 1e-5
    # outputs use the parameters in force at each time (before same-time events)
    np.testing.assert_array_equal(obs[0, :, 1], [k, k, k, k, k, 0, 0, 0, 0, k])
    np.testing.assert_array_equal(obs[0, :, 0], Y[0, :, 0])


def test_zero_order_infusion(zoo):
    k, rate = 0.5, 3.0
    ev = events([[(1.0, 3, 0, rate), (5.0, 3, 0, 0.0)]])
    t_out = np.linspace(0.0, 10.0, 21)
    Y, _, status, _ = solve(zoo, [DECAY, k], [2.0], t_out, ev=ev, rtol=1e-6, atol=1e-10)
    ss = rate / k
    y_on = np.where(t_out <= 1.0, 2.0 * np.exp(-k * t_out), 0.0)
    y1 = 2.0 * np.exp(-k)
    during = ss + (y1 - ss) * np.exp(-k * (t_out - 1.0))
    y5 = ss + (y1 - ss) * np.exp(-4.0 * k)
    after = y5 * np.exp(-k * (t_out - 5.0))
    exact = np.where(t_out <= 1.0, y_on, np.where(t_out <= 5.0, during, after))
    assert status[0] == Status.OK
    assert np.max(np.abs(Y[0, :, 0] - exact) / exact) < 1e-5


def test_events_before_t0_apply_at_t0(zoo):
    ev = events([[(-1.0, 1, 0, 4.0), (2.0, 0, 0, 1.0)]])
    Y, _, status, _ = solve(zoo, [DECAY, 0.0], [1.0], [2.0, 2.0, 3.0], ev=ev, t0=2.0)
    assert status[0] == Status.OK
    np.testing.assert_array_equal(Y[0, :, 0], [4.0, 4.0, 5.0])


def test_invalid_inputs_raise(zoo):
    with pytest.raises(ValueError):
        solve(zoo, [DECAY, 1.0], [1.0], [1.0, 0.5])
    with pytest.raises(ValueError):
        solve(zoo, [DECAY, 1.0], [1.0], [1.0], ev=events([[(0.5, 0, 3, 1.0)]]))
    with pytest.raises(ValueError):
        solve(zoo, [DECAY, 1.0], [1.0], [1.0], method=7)
    with pytest.raises(ValueError):
        solve(zoo, [DECAY, 1.0], [1.0], [1.0], method=AUTO + 32)  # no such flag
    with pytest.raises(ValueError):
        solve(zoo, [DECAY, 1.0], [1.0], [1.0], atol=0.0)


# ---- accuracy against scipy -----------------------------------------------------------------
def robertson(t, y):
    return [
        -0.04 * y[0] + 1e4 * y[1] * y[2],
        0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
        3e7 * y[1] ** 2,
    ]


def van_der_pol(mu):
    def f(t, y):
        return [y[1], mu * (1.0 - y[0] ** 2) * y[1] - y[0]]

    def jac(t, y):
        return np.array([[0.0, 1.0], [-2.0 * mu * y[0] * y[1] - 1.0, mu * (1.0 - y[0] ** 2)]])

    return f, jac


STIFF = {
    # name: p, y0, t_out (days), scipy rhs, scipy jac, atol (reference atol)
    "robertson": (
        [ROBERTSON],
        [1.0, 0.0, 0.0],
        [0.0, 1e-3, 0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5],
        robertson,
        None,
        1e-14,
    ),
    # output times away from the relaxation jumps (near t = 807, 1614, 2421)
    "vdp1000": (
        [VDP, 1000.0],
        [2.0, 0.0],
        [0.0, 300.0, 600.0, 1000.0, 1300.0, 1900.0, 2200.0, 2700.0, 3000.0],
        *van_der_pol(1000.0),
        1e-10,
    ),
}


def reference(f, jac, y0, t_out, atol):
    sol = solve_ivp(
        f,
        (t_out[0], t_out[-1]),
        y0,
        method="Radau",
        rtol=1e-10,
        atol=atol * 1e-2,
        jac=jac,
        t_eval=t_out,
    )
    assert sol.success
    return sol.y.T


@pytest.mark.parametrize("switch", [0, COST_SWITCH])
@pytest.mark.parametrize("name", sorted(STIFF))
def test_stiff_problems_switch_to_rodas4(zoo, name, switch):
    # with either stiffness switch (the cost switch keeps Rodas4: it pays here)
    p, y0, t_out, f, jac, atol = STIFF[name]
    ref = reference(f, jac, y0, np.array(t_out), atol)
    Y, _, status, stats = solve(zoo, p, y0, t_out, rtol=1e-7, atol=atol, method=AUTO + switch)
    assert status[0] == Status.OK
    nz = ref != 0.0
    assert rel_error(Y[0][nz], ref[nz]) < 1e-4
    assert np.all(np.abs(Y[0][~nz]) < 1e-12)
    assert stats[0, 4] >= 1  # switched to Rodas4...
    assert stats[0, 3] > 0.5 * stats[0, 0]  # ...and took most steps with it
    # DP5 alone needs at least 20 times as many steps (or runs out of them)
    _, _, dp5_status, dp5 = solve(
        zoo, p, y0, t_out, rtol=1e-7, atol=atol, method=DP5, max_steps=100_000
    )
    assert dp5[0, 0] + dp5[0, 1] > 20 * (stats[0, 0] + stats[0, 1])
    assert dp5_status[0] in (Status.OK, Status.MAX_STEPS)
    # Rodas4 alone is as accurate
    Y2, _, status2, _ = solve(zoo, p, y0, t_out, rtol=1e-7, atol=atol, method=RODAS4)
    assert status2[0] == Status.OK
    assert rel_error(Y2[0][nz], ref[nz]) < 1e-4


def test_nonstiff_van_der_pol_stays_explicit(zoo):
    f, jac = van_der_pol(1.0)
    t_out = np.linspace(0.0, 20.0, 11)
    ref = reference(f, jac, [2.0, 0.0], t_out, 1e-10)
    for method in (AUTO, DP5, RODAS4):
        Y, _, status, stats = solve(
            zoo, [VDP, 1.0], [2.0, 0.0], t_out, rtol=1e-7, atol=1e-10, method=method
        )
        assert status[0] == Status.OK
        assert rel_error(Y[0], ref) < 1e-4
        if method == AUTO:
            assert stats[0, 4] == 0 and stats[0, 3] == 0


def test_auto_switches_back_to_dp5_when_the_problem_turns_mild(zoo):
    # decay at 1e4/day (stiff) until day 1; then a parameter event makes it 0.1/day and a
    # bolus gives it something to resolve: Rodas4's steps become calm (h*rho_max < 1) and
    # auto hands back to DP5. Patient 2 turns stiff again at day 50 and switches again.
    ev = events(
        [
            [(1.0, 2, 1, 0.1), (1.0, 0, 0, 1.0)],
            [(1.0, 2, 1, 0.1), (1.0, 0, 0, 1.0), (50.0, 2, 1, 1e4)],
        ]
    )
    t_out = np.linspace(0.0, 200.0, 41)
    Y, _, status, stats = solve(
        zoo, [[DECAY, 1e4], [DECAY, 1e4]], [[1.0], [1.0]], t_out, ev=ev, rtol=1e-6, atol=1e-12
    )
    np.testing.assert_array_equal(status, Status.OK)
    np.testing.assert_array_equal(stats[:, 4], [2, 3])
    mild = np.where(t_out <= 1.0, np.exp(-1e4 * t_out), np.exp(-0.1 * (t_out - 1.0)))
    assert np.all(np.abs(Y[0, :, 0] - mild) <= 1e-5 * mild + 1e-12)
    again = np.where(t_out <= 50.0, mild, 0.0)
    assert np.all(np.abs(Y[1, :, 0] - again) <= 1e-5 * again + 1e-9)


def frequent_boluses(interval, horizon):
    """A cascade patient dosed every ``interval`` days: stiff (loss rates up to 1000/day),
    with Rodas4's steps capped by the events."""
    p, y0, _ = cascade_patients(1)
    doses = [[(t, 0, 0, 0.5) for t in np.arange(0.0, horizon, interval)]]
    return p, y0, events(doses)


def test_cost_switch_leaves_rodas4_when_events_cap_its_steps(zoo):
    # doses every 0.01 day: Rodas4 advances at most 0.01 day per attempt, which buys less
    # than RODAS_COST (6 for a hand-written model) stability-limited DP5 steps (~3.3/1000
    # day each). The step-size switch looks at the steps Rodas4 proposes (unbounded by the
    # events) and stays; the cost switch goes back to DP5.
    p, y0, ev = frequent_boluses(0.01, 3.0)
    t_out = np.linspace(0.5, 3.0, 6)
    ref = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-10, atol=1e-13, method=RODAS4)[0]
    runs = {}
    for name, method in (("step", AUTO), ("cost", AUTO + COST_SWITCH)):
        Y, _, status, stats = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-4, atol=1e-7, method=method)
        assert status[0] == Status.OK
        assert rel_error(Y[0], ref[0]) < 1e-3
        runs[name] = stats[0]
    rodas_steps = {name: st[3] for name, st in runs.items()}  # one Jacobian per accepted step
    assert rodas_steps["step"] > 0.5 * runs["step"][0]  # mostly Rodas4
    assert rodas_steps["cost"] < 0.2 * runs["cost"][0]  # mostly DP5
    # the cost each switch sees: DP5 attempts + 6 x Rodas4 attempts (rhs counts: 6 per DP5
    # attempt, 5 per Rodas4 attempt)
    cost = {name: (st[2] - 5 * st[3]) / 6 + 6 * st[3] for name, st in runs.items()}
    assert cost["cost"] < cost["step"]


def test_warm_events_keep_accuracy_and_save_rejections(zoo):
    # the stiff cascade dosed every 0.3 day under DP5 (stability-limited steps): restarting
    # after each dose with the step in force (not the larger one a cut-short step suggests)
    # and the controller's memory rejects fewer steps (44 -> 18 when written)
    p, y0, ev = frequent_boluses(0.3, 10.0)
    t_out = np.linspace(0.05, 9.95, 100)
    ref = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-10, atol=1e-13, method=RODAS4)[0]
    cold = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-6, atol=1e-9, method=DP5)
    warm = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-6, atol=1e-9, method=DP5 + WARM_EVENTS)
    for Y, _, status, _ in (cold, warm):
        assert status[0] == Status.OK
        assert rel_error(Y[0], ref[0]) < 1e-5
    assert warm[3][0, 1] < 0.75 * cold[3][0, 1]  # rejections
    assert warm[3][0, 0] <= cold[3][0, 0]  # and no more accepted steps


def test_flags_do_not_change_single_method_runs(zoo):
    # the stiffness switch is only consulted in auto mode
    p, y0, ev = frequent_boluses(0.5, 5.0)
    t_out = np.linspace(0.0, 5.0, 11)
    for method in (DP5, RODAS4):
        a = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-6, atol=1e-9, method=method)
        b = solve(zoo, p, y0, t_out, ev=ev, rtol=1e-6, atol=1e-9, method=method + COST_SWITCH)
        for j in range(4):
            np.testing.assert_array_equal(a[j], b[j])


def test_nonautonomous_problem(zoo):
    # y' = cos(t) y: Rodas4 needs its df/dt terms to be this accurate
    t_out = np.linspace(0.0, 10.0, 41)
    exact = np.exp(np.sin(t_out))
    for method in (DP5, RODAS4):
        Y, _, status, _ = solve(
            zoo, [SINUS, 1.0], [1.0], t_out, rtol=1e-9, atol=1e-9, method=method
        )
        assert status[0] == Status.OK
        assert rel_error(Y[0, :, 0], exact) < 2e-8


# ---- order of the methods -----------------------------------------------------------------
def test_rodas4_global_order_with_fixed_steps(zoo):
    """Steps forced to h_max (loose tolerances): the global error falls as h^4."""
    f, _ = van_der_pol(1.0)
    t_end = 3.0
    sol = solve_ivp(f, (0, t_end), [2.0, 0.0], method="DOP853", rtol=1e-13, atol=1e-15)
    ref = sol.y[:, -1]
    errors = []
    for n in (32, 64, 128, 256):
        Y, _, status, _ = solve(
            zoo, [VDP, 1.0], [2.0, 0.0], [t_end], rtol=1e6, atol=1e6, method=RODAS4, h_max=t_end / n
        )
        assert status[0] == Status.OK
        errors.append(np.max(np.abs(Y[0, -1] - ref)))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all((orders > 3.7) & (orders < 4.8)), orders


def one_step_workspace(zoo, p, y):
    """Work arrays of the private step functions, with f(0, y) and df/dy at (0, y) filled in."""
    n = y.shape[0]
    ws = {
        "u": np.zeros(n),
        "w": np.zeros((5, n)),  # rows: f0, ynew, stage, df/dt (0 here), scratch
        "k": np.zeros((7, n)),
        "jm": np.zeros((n, n)),
        "e": np.zeros((n, n)),
        "piv": np.zeros(n, np.int64),
        "lu": np.zeros(1),  # the zoo declares no Jacobian pattern: dense LU only
    }
    zoo._f(0.0, y, p, ws["u"], ws["w"][0])
    zoo.jac(0.0, y, p, ws["jm"])
    return ws


def lin(ws):
    """The linear-algebra argument of ``_rodas_attempt``: (sparse LU wanted, e, piv, lu)."""
    return (False, ws["e"], ws["piv"], ws["lu"])


def test_local_error_orders(zoo):
    """One step of each method from the same point: local error ~ h^(order + 1).

    The bounds are one-sided: the leading error terms can be small at a given point, so
    the observed slope can exceed the order at these step sizes, but a wrong coefficient
    lowers it.
    """
    f, _ = van_der_pol(1.0)
    y = np.array([1.0, 0.5])
    p = np.array([VDP, 1.0])
    atol = np.full(2, 1e-6)
    ws = one_step_workspace(zoo, p, y)
    w, k = ws["w"], ws["k"]
    hs = [0.2, 0.1, 0.05]
    local = {DP5: [], RODAS4: []}
    estimate = {DP5: [], RODAS4: []}
    for h in hs:
        exact = solve_ivp(f, (0, h), y, method="DOP853", rtol=1e-13, atol=1e-16).y[:, -1]
        err, _ = zoo._dp5_attempt(0.0, h, y, p, ws["u"], atol, 1e-6, k, w)
        local[DP5].append(np.max(np.abs(w[1] - exact)))
        estimate[DP5].append(err)
        err, singular = zoo._rodas_attempt(
            0.0, h, y, p, ws["u"], atol, 1e-6, ws["jm"], lin(ws), k, w
        )
        assert not singular
        local[RODAS4].append(np.max(np.abs(w[1] - exact)))
        estimate[RODAS4].append(err)
    for method, order in ((DP5, 5), (RODAS4, 4)):
        # local error of the propagated solution ~ h^(p+1); of the error estimate ~ h^p
        slopes = np.diff(np.log(local[method])) / np.diff(np.log(hs))
        assert np.all(slopes > order + 0.5), (method, slopes)
        slopes = np.diff(np.log(estimate[method])) / np.diff(np.log(hs))
        assert np.all(slopes > order - 0.5), (method, slopes)


def test_dp5_stability_polynomial(zoo):
    """On y' = -y one DP5 step multiplies y by sum_{j<=5} z^j/j! + z^6/600 (z = -h)."""
    y = np.array([1.0])
    p = np.array([DECAY, 1.0])
    ws = one_step_workspace(zoo, p, y)
    for h in (0.1, 0.5, 1.0):
        z = -h
        poly = sum(z**j / np.prod(np.arange(1, j + 1)) for j in range(6)) + z**6 / 600.0
        zoo._dp5_attempt(0.0, h, y, p, ws["u"], np.ones(1), 1e-6, ws["k"], ws["w"])
        assert abs(ws["w"][1, 0] - poly) < 1e-15


def test_dense_output_between_steps(zoo):
    t_out = np.linspace(0.0, 4.0, 401)
    exact = np.exp(np.sin(t_out))
    for method, bound in ((DP5, 30.0), (RODAS4, 10.0)):
        for rtol in (1e-6, 1e-8):
            kw = dict(rtol=rtol, atol=rtol, method=method)
            Y, obs, status, stats = solve(zoo, [SINUS, 1.0], [1.0], t_out, **kw)
            assert status[0] == Status.OK
            assert np.max(np.abs(Y[0, :, 0] - exact)) < bound * rtol
            np.testing.assert_array_equal(obs[0, :, 0], Y[0, :, 0])
            # outputs come from the interpolant: the steps are those of a run without them
            Y1, _, _, stats1 = solve(zoo, [SINUS, 1.0], [1.0], [4.0], **kw)
            np.testing.assert_array_equal(stats, stats1)
            assert Y1[0, -1, 0] == Y[0, -1, 0]


# ---- failures ---------------------------------------------------------------------------
def test_non_finite_patient_fails_alone(zoo):
    p = np.array([[NAN_AFTER, 1.0, 0.0], [NAN_AFTER, 0.5, 2.0], [NAN_AFTER, 2.0, 0.0]])
    y0 = np.ones((3, 1))
    t_out = np.linspace(0.0, 5.0, 11)
    ev = events([[(1.0, 0, 0, 1.0)]] * 3)
    Y, obs, status, _ = solve(zoo, p, y0, t_out, ev=ev)
    np.testing.assert_array_equal(status, [Status.OK, Status.NON_FINITE, Status.OK])
    good = t_out < 2.0  # NaN for t > 2: the steps cannot quite reach t = 2
    assert np.all(np.isfinite(Y[1, good])) and np.all(np.isnan(Y[1, ~good]))
    assert np.all(np.isfinite(obs[1, good])) and np.all(np.isnan(obs[1, ~good]))
    for i in (0, 2):
        Yi, Oi, si, sti = solve(zoo, p[i], y0[i], t_out, ev=events([[(1.0, 0, 0, 1.0)]]))
        assert si[0] == Status.OK
        np.testing.assert_array_equal(Yi[0], Y[i])
        np.testing.assert_array_equal(Oi[0], obs[i])


def test_max_steps_and_step_too_small(zoo):
    Y, obs, status, stats = solve(zoo, [DECAY, 1.0], [1.0], [0.0, 1.0, 50.0], max_steps=5)
    assert status[0] == Status.MAX_STEPS
    assert stats[0, 0] + stats[0, 1] == 5
    assert Y[0, 0, 0] == 1.0 and np.all(np.isnan(Y[0, 1:])) and np.all(np.isnan(obs[0, 1:]))
    # y' = y^2 from y = 1 blows up at t = 1
    Y, _, status, _ = solve(zoo, [BLOWUP], [1.0], [0.5, 2.0], rtol=1e-6, atol=1e-6)
    assert status[0] == Status.STEP_TOO_SMALL
    assert abs(Y[0, 0, 0] - 2.0) < 1e-5 and np.isnan(Y[0, 1, 0])


def test_lu_factor_and_solve(zoo):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(7, 7))
    a[0, 0] = 0.0  # forces a row exchange
    b = rng.normal(size=7)
    lu = a.copy()
    piv = np.zeros(7, np.int64)
    assert zoo._lu_factor(lu, piv)
    x = b.copy()
    zoo._lu_solve(lu, piv, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-10)
    a[:, 3] = 0.0
    assert not zoo._lu_factor(a.copy(), piv)


# ---- reproducibility ----------------------------------------------------------------------
def cascade_patients(n, seed=0):
    rng = np.random.default_rng(seed)
    p = np.column_stack(
        [
            np.full(n, float(CASCADE)),
            rng.uniform(0.5, 2.0, n),
            rng.uniform(0.1, 1.0, n),
            rng.uniform(10.0, 100.0, n),
            rng.uniform(0.5, 0.9, n),
        ]
    )
    y0 = np.zeros((n, 14))
    y0[:, 3] = 1.0
    y0[:, 5:] = 1.0
    doses = [[(7.0 * d, 0, 0, 5.0 + i) for d in range(1 + i % 3)] for i in range(n)]
    return p, y0, doses


@pytest.mark.parametrize("method", [AUTO, AUTO + COST_SWITCH + WARM_EVENTS])
def test_results_do_not_depend_on_batching_or_threads(zoo, method):
    p, y0, doses = cascade_patients(8)
    t_out = np.linspace(0.0, 28.0, 29)
    kw = {"rtol": 1e-6, "atol": 1e-9, "method": method}
    full = solve(zoo, p, y0, t_out, ev=events(doses), **kw)
    assert np.all(full[2] == Status.OK)
    assert np.all(full[3][:, 4] >= 1)  # stiff: auto switched to Rodas4
    splits = [[slice(0, 3), slice(3, 8)], [slice(i, i + 1) for i in range(8)]]
    for parts in splits:
        pieces = [solve(zoo, p[s], y0[s], t_out, ev=events(doses[s]), **kw) for s in parts]
        for j in range(4):
            np.testing.assert_array_equal(np.concatenate([x[j] for x in pieces]), full[j])
    threads = numba.get_num_threads()
    try:
        for n in {1, min(2, numba.config.NUMBA_NUM_THREADS)}:
            numba.set_num_threads(n)
            again = solve(zoo, p, y0, t_out, ev=events(doses), **kw)
            for j in range(4):
                np.testing.assert_array_equal(again[j], full[j])
    finally:
        numba.set_num_threads(threads)


# ---- steady state -------------------------------------------------------------------------
def test_equilibrate_batch(zoo):
    a, k1, k2 = 2.0, np.array([0.5, 1.0, 3.0]), np.array([0.2, 2.0, 0.7])
    p = np.column_stack([np.full(3, float(LINEAR)), np.full(3, a), k1, k2])
    y0 = np.zeros((3, 2))
    atol = np.full(2, 1e-10)
    y_ss, t_reached, status = zoo.equilibrate_batch(y0, p, 1e4, 1e-8, atol, 1e-9, AUTO, 100_000)
    np.testing.assert_array_equal(status, Status.OK)
    exact = np.column_stack([a / k1, a / k2])
    assert np.max(np.abs(y_ss - exact) / exact) < 1e-7
    assert np.all((t_reached > 0.0) & (t_reached < 1e4))
    # the same patient alone gives the same numbers
    one = zoo.equilibrate_batch(y0[1:2], p[1:2], 1e4, 1e-8, atol, 1e-9, AUTO, 100_000)
    np.testing.assert_array_equal(one[0][0], y_ss[1])
    # too short a horizon: NOT_CONVERGED, with the state reached at t_max
    y_ss, t_reached, status = zoo.equilibrate_batch(y0, p, 1.0, 1e-8, atol, 1e-9, RODAS4, 10_000)
    np.testing.assert_array_equal(status, Status.NOT_CONVERGED)
    np.testing.assert_array_equal(t_reached, 1.0)
    assert np.all(np.isfinite(y_ss)) and np.all(y_ss < exact)
