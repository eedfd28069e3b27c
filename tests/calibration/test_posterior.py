"""Grid posteriors of calibration steps on a small placebo-only trial (issue 18, builds 2
and 4; the full calibration runs in benchmarks/calibration_posterior.py)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from dermatwin.calibration import posterior
from dermatwin.calibration.fit import Step
from dermatwin.calibration.posterior import (
    _merged_grids,
    calibrate_posterior,
    check_against,
    simulator,
    step_posterior,
)
from dermatwin.calibration.problem import step_problem
from dermatwin.calibration.targets import observed
from dermatwin.params.parameter_set import (
    FittedValue,
    ParameterSet,
    Provenance,
    StepGrid,
    load_parameter_set,
    read_parameter_set,
    write_parameter_set,
)

ROW = "AD_DUPI_SOLO1_PBO_EASI75"  # 15 % EASI-75 on placebo
BASE = ParameterSet(name="t", version=1)
#: virtual patients per arm (the calibration's default, 1,000, is too slow for a test)
PATIENTS = 60


def _step(tmp_path, n: int = 60) -> Step:
    spec = {
        "name": "small placebo",
        "disease": "AD",
        "seed": 5,
        "duration": "8 weeks",
        "population": {"inclusion": {"EASI": {"min": 16}}},
        "arms": {"placebo": {"n": n, "regimen": [{"drug": "placebo"}]}},
        "endpoints": ["EASI-75@8w"],
        "reference_rows": {ROW: {"arm": "placebo", "endpoint": "EASI-75@8w", "n": 40}},
    }
    path = tmp_path / "placebo.yaml"
    path.write_text(yaml.safe_dump(spec))
    return Step(
        ("model.placebo_response",),
        ((0.01, 1.0),),
        ("dimensionless",),
        (ROW,),
        str(path),
        (True,),
        "test",
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    step = _step(tmp_path_factory.mktemp("trial"))
    lines = []
    pset = calibrate_posterior(
        base=BASE, log=lines.append, steps=(step,), draws=32, patients=PATIENTS
    )
    return step, pset, lines


def test_posterior_summarises_draws_and_fits_the_row(fitted):
    step, pset, lines = fitted
    (value,) = pset.values
    p = value.posterior
    assert len(value.draws) == 32 == pset.n_draws == pset.provenance.draws
    assert p.low < value.value < p.high and p.low < p.mean < p.high and p.sd > 0
    draws = np.array(value.draws)
    # the draws come from the posterior the summary describes (stratified: close moments)
    assert abs(draws.mean() - p.mean) < 0.5 * p.sd
    assert np.mean((draws >= p.low) & (draws <= p.high)) >= 0.85
    # the point value reproduces the row to within the binomial SD at the published n=40
    assert abs(value.simulated[ROW] - observed(ROW)) < 100 * np.sqrt(0.15 * 0.85 / 40)
    assert p.effective_grid_points >= 1 and p.interpolation_error is not None
    assert ROW in lines[0] or "model.placebo_response" in lines[0]


def test_grid_keeps_per_row_loglik_at_the_nodes(fitted):
    step, pset, _ = fitted
    (grid,) = pset.provenance.steps
    (axis,) = grid.axes
    assert grid.targets == step.targets and len(grid.loglik[ROW]) == len(axis)
    assert list(axis) == sorted(axis) and 0.01 <= axis[0] and axis[-1] <= 1.0
    # the mode lies where the row's likelihood is high
    best = axis[int(np.argmax(grid.loglik[ROW]))]
    assert abs(np.log10(best) - np.log10(pset.values[0].value)) < 0.5


def test_set_with_draws_round_trips_and_gives_point_draws(fitted, tmp_path):
    _, pset, _ = fitted
    path = write_parameter_set(pset, tmp_path / "s.yaml")
    again = read_parameter_set(path)
    assert again == pset
    k = again.draw(5)
    assert k.values[0].value == pset.values[0].draws[5] and k.n_draws == 0
    assert "2026" not in path.read_text() and "date" not in path.read_text()


def test_interpolation_agrees_with_direct_runs(tmp_path):
    post = step_posterior(
        step_problem(_step(tmp_path), patients=PATIENTS), BASE, draws=8, check_points=3
    )
    assert len(post.checks) == 3
    # responders step by 100/PATIENTS points: interpolation is within two patients
    assert post.interpolation_error <= 2 * 100 / PATIENTS


def test_another_seed_moves_no_posterior_mean_by_more_than_one_sd(fitted):
    step, pset, _ = fitted
    other = calibrate_posterior(
        base=BASE, log=lambda _: None, steps=(step,), draws=32, seed=11, patients=PATIENTS
    )
    (a,), (b,) = pset.values, other.values
    assert abs(b.posterior.mean - a.posterior.mean) <= a.posterior.sd
    assert other.provenance.trial_seed == 11 and pset.provenance.trial_seed is None


def test_check_against_uses_the_posterior_spread(fitted):
    _, pset, _ = fitted
    (v,) = pset.values
    inside = ParameterSet(name="s", version=1, values=[v.model_copy(update={"posterior": None})])
    assert check_against(inside, pset) == []
    far = v.model_copy(update={"value": 0.011, "posterior": None, "draws": None})
    shipped = ParameterSet(name="s", version=1, values=[far])
    (line,) = check_against(shipped, pset)
    assert "outside the refit's 95 % CrI" in line
    # a refit that finds the same point at a bound reproduces it, although an
    # equal-tailed interval leaves the bound out
    post = v.posterior.model_copy(update={"low": v.value * 1.01, "high": v.value * 2})
    at_bound = pset.with_value(v.model_copy(update={"posterior": post}))
    assert check_against(inside, at_bound) == []
    extra = FittedValue(
        target="model.other", value=1.0, unit="1", bounds=(0, 2), fitted_to=["R"], trial="t"
    )
    assert check_against(shipped.with_value(extra), pset, full=True)[-1] == (
        "model.other: not refitted"
    )


def test_cli_calibrate_writes_draws_and_checks_the_shipped_value(tmp_path):
    """One cheap real step (the IGA 0/1 edge on SOLO-1's dupilumab arm), the others kept;
    its grid points in 2 worker processes."""
    import os
    import subprocess
    import sys

    out = tmp_path / "set.yaml"
    cmd = [sys.executable, "-m", "dermatwin.cli", "calibrate", "--only", "severity.iga1_easi"]
    cmd += ["--draws", "8", "--patients", "150", "--out", str(out), "--check", "--workers", "2"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "within the posterior spread" in proc.stdout and "95 % CrI" in proc.stdout
    pset = read_parameter_set(out)
    (v,) = (v for v in pset.values if v.target == "severity.iga1_easi")
    shipped = load_parameter_set("default").severity()["iga1_easi"]
    assert len(v.draws) == 8 and v.posterior.low <= shipped <= v.posterior.high
    # values not refitted keep their shipped point and carry no draws
    assert all(w.draws is None for w in pset.values if w.target != v.target)


def test_diagnostics_flag_draws_that_are_not_mixed():
    from dermatwin.calibration.posterior import with_diagnostics
    from dermatwin.params.parameter_set import FittedValue, ParameterSet, Posterior

    mixed = np.random.default_rng(1).uniform(0.3, 0.9, size=64)

    def value(draws):
        return FittedValue(
            target="drug.dupilumab.emax", value=0.6, unit="dimensionless", bounds=(0.3, 0.999),
            fitted_to=("AD_DUPI_SOLO1_q2w_EASI75",), trial="solo1_dupilumab_ad.yaml",
            draws=tuple(draws), posterior=Posterior(mean=0.6, sd=0.17, low=0.31, high=0.89),
        )  # fmt: skip

    for draws, ok in ((mixed, True), (np.sort(mixed), False)):
        s = with_diagnostics(ParameterSet(name="X", version=1, values=[value(draws)]))
        p = s.values[0].posterior
        assert (p.rhat < 1.1 and p.ess > 30) == ok


def test_too_few_draws_give_no_diagnostics():
    from dermatwin.calibration.posterior import draw_diagnostics

    assert draw_diagnostics([0.1, 0.2, 0.3]) == (None, None)
    assert draw_diagnostics(np.linspace(0, 1, 15)) == (None, None)
    assert draw_diagnostics(np.random.default_rng(0).normal(size=16))[0] is not None


def test_a_step_stops_at_its_last_row_with_the_same_result(tmp_path, monkeypatch):
    """The simulation of a step ends at its last row's day: rows bit-identical to the
    full trial's (here 4 of 12 weeks, with a later withdrawal and endpoint)."""
    spec = {
        "name": "truncated",
        "disease": "AD",
        "seed": 3,
        "duration": "12 weeks",
        "population": {"inclusion": {"EASI": {"min": 16}}},
        "arms": {
            "drug": {
                "n": 20,
                "regimen": [{"drug": "dupilumab"}],
                "withdrawal": {"at": "8 weeks"},
            }
        },
        "endpoints": ["EASI-50@4w", "EASI-50@12w"],
        "reference_rows": {ROW: {"arm": "drug", "endpoint": "EASI-50@4w", "n": 40}},
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec))
    step = Step(
        ("drug.dupilumab.emax",),
        ((0.3, 0.999),),
        ("dimensionless",),
        (ROW,),
        str(path),
        (False,),
        "test",
    )
    problem = step_problem(step, patients=20)
    runs = []
    real_run = posterior.run_trial
    monkeypatch.setattr(posterior, "run_trial", lambda s: runs.append(s) or real_run(s))
    short = simulator(problem, BASE)(np.array([0.8]))
    monkeypatch.setattr(posterior, "_up_to_rows", lambda run, problem: run)
    full = simulator(problem, BASE)(np.array([0.8]))
    assert short == full
    assert [r.duration for r in runs] == [28.0, 84.0]
    assert runs[0].endpoints == ["EASI-50@4w"] and runs[0].arms["drug"].withdrawal is None


def test_a_partial_refit_keeps_the_other_steps_grids():
    def grid(target, trial="a.yaml"):
        return StepGrid(targets=(target,), trial=trial, axes=((0.0, 1.0),), loglik={})

    steps = [Step((t,), ((0, 1),), ("1",), ("R",), "x", (False,), "") for t in "abc"]
    kept = Provenance(draws=8, steps=(grid("a"), grid("b"), grid("gone")))
    new_b = grid("b", "new.yaml")
    merged = _merged_grids(kept, [new_b], steps, None, 0)
    assert [g.targets for g in merged] == [("a",), ("b",)]
    assert merged[1].trial == "new.yaml"  # the refitted grid replaces the kept one
    # a base drawn with other seeds: only the refitted grids
    assert _merged_grids(kept, [new_b], steps, 11, 0) == (new_b,)


def test_workers_give_the_same_grid_and_draws(tmp_path, pool):
    """Grid points in 2 worker processes: the same simulated values, draws and checks."""
    problem = step_problem(_step(tmp_path, n=30), patients=30)
    kw = {"draws": 8, "nodes": 4, "check_points": 2}
    one = step_posterior(problem, BASE, **kw)
    two = step_posterior(problem, BASE, workers=pool, **kw)
    assert one.simulated.keys() == two.simulated.keys()
    for key, values in one.simulated.items():
        assert np.array_equal(values, two.simulated[key])
    assert np.array_equal(one.draws_u, two.draws_u) and one.checks == two.checks
    assert len(one.checks) == 2 and np.array_equal(one.axes[0], two.axes[0])


def test_an_error_in_a_worker_is_the_one_line_error_of_one_process(tmp_path, pool):
    from dermatwin.params.parameter_set import CalibrationError

    bad = BASE.with_value(
        FittedValue(target="model.no_such_value", value=1.0, unit="1", bounds=(0, 2),
                    fitted_to=["R"], trial="t")
    )  # fmt: skip
    problem = step_problem(_step(tmp_path, n=10), patients=10)
    messages = []
    for workers in (1, pool):
        with pytest.raises(CalibrationError) as err:
            step_posterior(problem, bad, draws=4, nodes=2, check_points=0, workers=workers)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "no_such_value" in messages[0]
    assert "\n" not in messages[0]


@pytest.mark.parametrize("workers", [0, -1, 10_000, 1.5])
def test_bad_workers_are_refused_before_any_run(workers, tmp_path):
    from dermatwin.params.parameter_set import CalibrationError

    with pytest.raises(CalibrationError, match=r"^workers: .*allowed: a whole number from 1"):
        calibrate_posterior(base=BASE, log=print, steps=(_step(tmp_path),), workers=workers)
