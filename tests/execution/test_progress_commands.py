"""Progress bars of plan, sensitivity and calibrate (issue 15): shown on a terminal only,
silent under --json and -q; a bar never changes a number."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from dermatwin._base.verbosity import set_verbosity
from dermatwin.execution import progress
from dermatwin.scenario import Scenario

SHMAROV = {"model": "shmarov2022", "horizon": 60, "steady_state": False}


def recorder(calls: list):
    @contextmanager
    def bar(description, total, *, unit, enabled):
        calls.append((description, total, unit, enabled))
        yield lambda k: calls.append(k)

    return bar


def test_bar_is_silent_off_a_terminal_and_under_quiet(capsys, monkeypatch):
    with progress.progress_bar("runs", 3, unit="runs") as advance:  # tests: no terminal
        advance(3)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(progress, "interactive", lambda: True)
    set_verbosity(-1)
    try:
        with progress.progress_bar("runs", 3, unit="runs", enabled=True) as advance:
            advance(3)
    finally:
        set_verbosity(0)
    assert capsys.readouterr() == ("", "")
    with progress.progress_bar("runs", 3, unit="runs", enabled=True) as advance:
        advance(3)
    assert "runs" in capsys.readouterr().err  # enabled and not quiet: a bar is drawn


def test_sensitivity_bar_counts_every_simulation_and_changes_nothing(monkeypatch):
    import dermatwin.sensitivity as sensitivity

    s = Scenario.model_validate(SHMAROV)
    kw = dict(method="sobol", n=8, parameters=["desq", "sc2"])
    calls: list = []
    monkeypatch.setattr(sensitivity, "progress_bar", recorder(calls))
    monkeypatch.setattr(sensitivity, "BATCH", 7)
    split = sensitivity.run_sensitivity(s, "totC@60d", progress=None, **kw)
    assert calls[0] == ("sensitivity", 8 * 4, "simulations", None)
    assert calls[1:] == [7, 7, 7, 7, 4]
    monkeypatch.setattr(sensitivity, "BATCH", 1000)
    whole = sensitivity.run_sensitivity(s, "totC@60d", **kw)
    assert calls[-2:] == [("sensitivity", 32, "simulations", False), 32]
    # the split into batches changes no number (bit-identical indices)
    assert split.table.equals(whole.table)


def test_plan_bar_counts_every_candidate(monkeypatch):
    import importlib

    from dermatwin.twins.likelihood import twin_model
    from tests.twins.test_twin_plan import _grid, _twin

    # the package re-exports the function ``plan`` under the module's name
    plan_module = importlib.import_module("dermatwin.twins.plan")

    model = twin_model()[0]
    calls: list = []
    monkeypatch.setattr(plan_module, "progress_bar", recorder(calls))
    grid = _grid()[1:]
    plan_module.plan(
        _twin(model, 1.0), "EASI-50@12w", n_draws=4, model=model, grid=grid, progress=None
    )
    assert calls == [("plan", len(grid), "regimens", None), 1, 1, 1]


def test_calibrate_bar_counts_the_chosen_steps(monkeypatch):
    import dermatwin.calibration.posterior as posterior
    from dermatwin.params.parameter_set import load_parameter_set

    shipped = load_parameter_set("default")
    done: list = []
    monkeypatch.setattr(posterior, "step_problem", lambda step, i, n: i)
    monkeypatch.setattr(posterior, "step_posterior", lambda i, pset, **kw: done.append(i) or i)
    monkeypatch.setattr(posterior, "apply_posterior", lambda pset, post: pset)
    monkeypatch.setattr(posterior, "describe", lambda post: f"step {post}")
    monkeypatch.setattr(posterior, "step_grid", lambda post: shipped.provenance.steps[0])
    calls: list = []
    monkeypatch.setattr(progress, "progress_bar", recorder(calls))
    target = posterior.STEPS[1].targets[0]
    lines: list = []
    posterior.calibrate_posterior([target], log=lines.append, progress=None)
    assert done == [1] and lines == ["step 1"]
    assert calls == [("calibration", 1, "steps", None), 1]


@pytest.mark.parametrize(("flags", "enabled"), [([], None), (["--json"], False)])
def test_cli_sensitivity_bar_only_without_json(flags, enabled, tmp_path, monkeypatch, capsys):
    import dermatwin.sensitivity as sensitivity
    from dermatwin.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("model: shmarov2022\nhorizon: 60\nsteady_state: false\n")
    calls: list = []
    monkeypatch.setattr(sensitivity, "progress_bar", recorder(calls))
    args = ["sensitivity", scenario, "--output", "totC@60d", "--n", "2"]
    args += ["--parameters", "desq", "--out", tmp_path / "out", *flags]
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    assert exit_.value.code == 0, capsys.readouterr().err
    assert calls[0] == ("sensitivity", 6, "simulations", enabled)
    assert np.sum(calls[1:]) == 6
