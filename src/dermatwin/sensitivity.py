"""Global sensitivity analysis of a scenario output with SALib (Sobol or Morris).

Each sample is one virtual patient: the scenario's typical patient with some parameters
moved within a log-uniform range (default: a factor of 2 either way), equilibrated and
treated as in the scenario's first arm (or ``arm``). Every sample is simulated in one
batched engine call, so thousands of samples take seconds.

>>> from dermatwin.scenario import Scenario
>>> s = Scenario.model_validate({"model": "shmarov2022", "horizon": 30, "steady_state": False})
>>> r = run_sensitivity(s, "totC@30d", method="morris", n=4, parameters=["sc2", "desq"])
>>> sorted(r.table["parameter"])
['desq', 'sc2']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dermatwin._base.errors import ScenarioError
from dermatwin._base.times import parse_days
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate
from dermatwin.execution.progress import progress_bar
from dermatwin.model.spec import Model
from dermatwin.run import ParameterSetLike, scenario_model
from dermatwin.scenario import Scenario

_OUTPUT = re.compile(r"^(?:(pct_change):)?([A-Za-z_][A-Za-z0-9_]*)@(.+)$")
METHODS = ("sobol", "morris")


@dataclass(frozen=True)
class SensitivityResult:
    output: str
    method: str
    table: pd.DataFrame  # ranked, most influential first
    n_simulations: int
    n_failed: int

    def to_dict(self) -> dict:
        return {
            "output": self.output,
            "method": self.method,
            "simulations": self.n_simulations,
            "failed": self.n_failed,
            "indices": self.table.to_dict(orient="records"),
        }


def default_parameters(model: Model) -> list[str]:
    """Parameters that vary between patients (log-normal prior) or, if the model has no
    priors, every nonzero parameter that appears in the equations."""
    priors = [p.name for p in model.parameters if p.lognormal is not None]
    if priors:
        return priors
    used = set().union(*(f.free_symbols for f in model.rhs))
    return [
        p.name
        for p, sym in zip(model.parameters, model.parameter_symbols, strict=True)
        if p.value != 0 and sym in used
    ]


def _parse_output(text: str, model: Model, horizon: float) -> tuple[str | None, str, float]:
    m = _OUTPUT.match(text)
    if not m:
        raise ScenarioError(
            f"output {text!r}: use VAR@TIME or pct_change:VAR@TIME, e.g. EASI@16w",
            parameter="output",
        )
    kind, var, when = m.groups()
    known = (*model.state_names, *model.output_names)
    if var not in known:
        raise ScenarioError(
            f"output: unknown variable {var!r}; allowed: {', '.join(known)}", parameter="output"
        )
    try:
        t = parse_days(when)
    except ValueError as err:
        raise ScenarioError(f"output {text!r}: {err}", parameter="output") from None
    if not 0 < t <= horizon:
        raise ScenarioError(
            f"output {text!r}: time must lie in (0, horizon={horizon} days]", parameter="output"
        )
    return kind, var, t


def run_sensitivity(
    scenario: Scenario,
    output: str,
    *,
    method: str = "sobol",
    n: int = 256,
    parameters: list[str] | None = None,
    fold: float = 2.0,
    arm: str | None = None,
    seed: int = 0,
    parameter_set: ParameterSetLike = "default",
    progress: bool | None = False,
) -> SensitivityResult:
    """Rank parameters by their influence on ``output`` (e.g. ``EASI@16w``).

    The samples vary around the scenario's model with ``parameter_set`` applied: the
    shipped calibrated set by default, ``"none"`` for the uncalibrated priors, or another
    set's name or path (as :func:`dermatwin.run.run_scenario`). ``progress``: a bar of
    simulations (None: on a terminal)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise ScenarioError(f"method {method!r}: allowed: {', '.join(METHODS)}", parameter="method")
    if n < 2:
        raise ScenarioError(f"n: {n}; allowed: >= 2", parameter="n")
    if not fold > 1:
        raise ScenarioError(f"fold: {fold}; allowed: a range factor > 1", parameter="fold")
    model, _ = scenario_model(scenario, parameter_set)
    kind, variable, t_out = _parse_output(output, model, scenario.horizon)
    names = parameters or default_parameters(model)
    base = model.parameter_vector(scenario.parameters)
    idx = [model.parameter_index(p) for p in names]
    if any(base[i] <= 0 for i in idx):
        zero = [p for p, i in zip(names, idx, strict=True) if base[i] <= 0]
        raise ScenarioError(
            f"parameters: {zero} are zero or negative; a log range needs > 0",
            parameter="parameters",
        )
    log_base = np.log(base[idx])
    half = np.log(fold)
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[lb - half, lb + half] for lb in log_base],
    }
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        x = morris_sample.sample(problem, n, num_levels=4, seed=seed)
    params = np.tile(base, (x.shape[0], 1))
    params[:, idx] = np.exp(x)
    arm_name = arm or next(iter(scenario.arms))
    if arm_name not in scenario.arms:
        raise ScenarioError(
            f"arm {arm_name!r}: allowed: {', '.join(scenario.arms)}", parameter="arm"
        )
    options = SolverOptions(rtol=scenario.solver.rtol, method=scenario.solver.method)
    events = scenario.arm_events(model, scenario.arms[arm_name])
    values, ok = _simulate_samples(
        model, params, scenario.steady_state, events, t_out, variable, options, progress
    )
    y = values[:, 1] if kind is None else 100.0 * (values[:, 1] - values[:, 0]) / values[:, 0]
    ok &= np.isfinite(y)
    # SALib needs every sample; failed ones are set to the mean and counted in the report
    y = np.where(ok, y, np.nanmean(np.where(ok, y, np.nan)))
    if method == "sobol":
        # SALib's Sobol analysis ignores a seed of 0 (``if seed:``) and then bootstraps
        # the confidence intervals unseeded, so they changed from run to run: seed + 1
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed + 1)
        table = pd.DataFrame(
            {
                "parameter": names,
                "ST": res["ST"],
                "ST_conf": res["ST_conf"],
                "S1": res["S1"],
                "S1_conf": res["S1_conf"],
            }
        ).sort_values("ST", ascending=False)
    else:
        res = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
        table = pd.DataFrame(
            {
                "parameter": names,
                "mu_star": res["mu_star"],
                "mu_star_conf": res["mu_star_conf"],
                "sigma": res["sigma"],
            }
        ).sort_values("mu_star", ascending=False)
    return SensitivityResult(output, method, table.reset_index(drop=True), len(y), int((~ok).sum()))


#: samples simulated per batch (a progress step); each sample's result is independent of
#: the split (dermatwin.engine.simulate), so the batch size changes no number
BATCH = 64


def _simulate_samples(model, params, steady_state, events, t_out, variable, options, progress):
    """``variable`` at days 0 and ``t_out`` per sample row, and which runs succeeded."""
    n = params.shape[0]
    values = np.empty((n, 2))
    ok = np.empty(n, dtype=bool)
    with progress_bar("sensitivity", n, unit="simulations", enabled=progress) as advance:
        for lo in range(0, n, BATCH):
            rows = slice(lo, min(lo + BATCH, n))
            p = params[rows]
            y0 = np.tile(model.default_initial_state(), (p.shape[0], 1))
            eq_ok = np.ones(p.shape[0], dtype=bool)
            if steady_state:
                y0, status = equilibrate(model, p, y0, options=options)
                eq_ok = status == 0
            ds = simulate(model, [0.0, t_out], p, y0=y0, events=events, options=options)
            values[rows] = ds[variable].values
            ok[rows] = (ds["status"].values == 0) & eq_ok
            advance(p.shape[0])
    return values, ok


def tornado_plot(result: SensitivityResult, path: str | Path, top: int = 15) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dermatwin.report.plots import save_figure

    key = "ST" if result.method == "sobol" else "mu_star"
    rows = result.table.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.5))
    ax.barh(rows["parameter"], rows[key], xerr=rows[f"{key}_conf"], color="tab:blue", alpha=0.8)
    label = "total-order Sobol index ST" if key == "ST" else "Morris mu* (mean |elementary effect|)"
    ax.set_xlabel(label)
    ax.set_title(f"Sensitivity of {result.output} ({result.n_simulations} simulations)")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)
