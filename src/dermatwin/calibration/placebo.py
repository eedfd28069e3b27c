"""Trial-level placebo response: a random effect per disease, estimated from placebo arms.

The calibrated parameter set holds one placebo value per disease (``model.placebo_response``:
the size of Miyano's AD vehicle term; ``model.placebo_response_pso``: the share of
psoriasis T recruitment a placebo removes), fitted to ONE placebo arm. Real placebo arms
differ far more between trials than sampling explains (EASI-75 on placebo 7.3-16 %,
psoriasis PASI-75 3.1-18.9 %). Here trial ``j``'s placebo parameter is

    theta_j = mu + b_j,   b_j ~ N(0, tau^2)

on the **parameter's own scale**: log for the AD term (positive, no upper bound), logit
for the psoriasis share (0-1). The random effect sits on the model parameter, not on the
observed placebo rate, because the model already turns one parameter value into
different rates for different endpoints, weeks and populations (EASI-50 at week 12 vs
EASI-75 at week 16; a refractory population): tau is the spread left after that, and a
draw of it changes every arm of a trial (treated patients get the vehicle term too), not
the placebo arm alone.

Data: from each example trial with a placebo arm, one row (:func:`placebo_rows`): the
first reference row of the placebo arm that is a responder rate on the disease's primary
score below 100 % improvement (EASI-50/75, PASI-75; IGA/PGA rows depend on the separately
fitted score mapping and are correlated with the EASI/PASI row of the same patients).
Each row is binomial: round(rate x n) responders of the published n. The model's rate
p_j(theta) comes from simulating the trial's placebo arm alone (:data:`CURVE_N` virtual
patients, common random numbers) at :data:`GRID` parameter values, interpolated linearly
on the logit of the rate; the virtual arm's own sampling error enters as a beta-binomial
(:mod:`~dermatwin.calibration.likelihood`), so it is not read as spread between trials.
``mu`` and ``tau`` maximise the marginal likelihood (the
random effect integrated out by Gauss-Hermite quadrature); tau's 95 % interval is the
profile-likelihood interval and mu's SE comes from the curvature.

A new trial's placebo parameter is predicted as N(mu, tau^2 + se(mu)^2)
(:meth:`PlaceboModel.nodes`, :meth:`PlaceboModel.value_at`), whatever the parameter set's
own placebo value: that value is fitted to one trial, the model to all of them. The
fitted models ship in ``placebo_effects.yaml`` beside this module;
``dermatwin calibrate-placebo`` refits them.

>>> m = PlaceboModel("AD", "model.placebo_response", "log", mu=0.0, tau=0.5, mu_se=0.1,
...                  tau_ci=(0.2, 1.0), grid=(0.01, 3.0), fitted_value=1.0)
>>> [round(v, 3) for v, _ in m.nodes(3)]
[0.413, 1.0, 2.419]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from scipy import optimize, stats
from scipy.special import expit, logit

from dermatwin._base.atomic import write_text_atomic
from dermatwin.calibration.likelihood import binomial_loglik
from dermatwin.execution.base import Executor
from dermatwin.params.parameter_set import CalibrationError, FittedValue, ParameterSet
from dermatwin.therapy.items import DrugItem
from dermatwin.trials.spec import PRIMARY_SCORE, TrialSpec

#: catalogue drugs that make an arm a placebo (vehicle) arm
PLACEBO_DRUGS = frozenset({"placebo"})
#: the parameter that carries the placebo response, per disease, its scale and the range
#: over which its curves are simulated (values outside are clipped to it)
TARGETS: dict[str, tuple[str, str, tuple[float, float]]] = {
    "AD": ("model.placebo_response", "log", (0.05, 2.0)),
    "psoriasis": ("model.placebo_response_pso", "logit", (0.01, 0.4)),
}
#: parameter values per curve (spaced evenly on the parameter's scale)
GRID = 9
#: virtual patients of the placebo arm per curve point (more than published arms, so that
#: the curve's own sampling noise is small next to the published arm's: SE about 2 points)
CURVE_N = 300
#: Gauss-Hermite nodes for the marginal likelihood (the estimate; predictions use fewer)
FIT_NODES = 40
#: the shipped fitted placebo models
SHIPPED = Path(str(resources.files(__package__).joinpath("placebo_effects.yaml")))


def placebo_arm(spec: TrialSpec, arm: str) -> bool:
    """Whether ``arm`` gives nothing but placebo (besides the trial's background), and a
    placebo is given to it at all (an untreated arm without any vehicle is no placebo arm)."""
    regimen = spec.arms[arm].regimen
    only_placebo = all(
        isinstance(item, DrugItem) and item.drug in PLACEBO_DRUGS for item in regimen
    )
    given = any(
        isinstance(item, DrugItem) and item.drug in PLACEBO_DRUGS
        for item in (*regimen, *spec.background)
    )
    return only_placebo and given


def gives_placebo(spec: TrialSpec) -> bool:
    """Whether the placebo parameter acts in the trial (a placebo in any regimen)."""
    return any(
        isinstance(item, DrugItem) and item.drug in PLACEBO_DRUGS
        for _, item in spec.regimen_items()
    )


def _scale(kind: str) -> tuple[Callable, Callable]:
    if kind == "log":
        return np.log, np.exp
    return logit, expit


@dataclass(frozen=True)
class PlaceboRow:
    """One placebo arm's responder row: ``responders`` of ``n`` (published)."""

    trial: str
    row: str
    arm: str
    endpoint: str
    observed: float
    n: int

    @property
    def responders(self) -> int:
        return int(round(self.observed / 100.0 * self.n))


def placebo_rows(specs: dict[str, TrialSpec], disease: str) -> list[PlaceboRow]:
    """One responder row per trial with a placebo arm (see the module docstring)."""
    from dermatwin.calibration.targets import observed  # targets imports this module

    out = []
    for name, spec in specs.items():
        if spec.disease != disease:
            continue
        eps = {e.text: e for e in spec.parsed_endpoints()}
        for row, ref in spec.reference_rows.items():
            ep = eps[ref.endpoint]
            if (
                placebo_arm(spec, ref.arm)
                and ref.n
                and ref.scale == 1
                and ep.summary_kind == "rate"
                and ep.variable == PRIMARY_SCORE[disease]
                and (ep.threshold or 0) < 100
            ):
                out.append(PlaceboRow(name, row, ref.arm, ref.endpoint, observed(row), ref.n))
                break
    return out


def with_placebo(pset: ParameterSet, disease: str, value: float) -> ParameterSet:
    """``pset`` with the disease's placebo parameter set to ``value`` (one trial's draw)."""
    target, _, (low, high) = TARGETS[disease]
    value = float(np.clip(value, low, high))
    old = next((v for v in pset.values if v.target == target), None)
    return pset.with_value(
        FittedValue(
            target=target,
            value=value,
            unit="dimensionless",
            bounds=(low, high),
            fitted_to=old.fitted_to if old else ("trial-level placebo draw",),
            trial=old.trial if old else "",
            note="a trial-level draw of the placebo random effect",
        )
    )


def placebo_value(pset: ParameterSet, disease: str) -> float:
    """The set's placebo parameter (the model's default where the set has none)."""
    from dermatwin.model.skin import build

    target, _, _ = TARGETS[disease]
    overrides = pset.model_overrides()
    name = target.removeprefix("model.")
    if name in overrides:
        return float(overrides[name])
    return float(build().parameter(name).value)


def curve_spec(spec: TrialSpec, row: PlaceboRow, n: int = CURVE_N) -> TrialSpec:
    """The trial's placebo arm alone, ``n`` patients, reading the row's endpoint."""
    arm = spec.arms[row.arm].model_copy(update={"n": n, "allocation": None})
    return spec.model_copy(
        update={
            "arms": {row.arm: arm},
            "n_total": None,
            "reference_arm": None,
            "reference_rows": {},
            "endpoints": [row.endpoint],
            "paired": False,
        }
    )


def grid_values(disease: str, points: int = GRID) -> np.ndarray:
    _, kind, (low, high) = TARGETS[disease]
    to, back = _scale(kind)
    return back(np.linspace(to(low), to(high), points))


def _curve_runs(spec, row: PlaceboRow, pset, disease: str, n: int) -> list[tuple]:
    """The arguments of :func:`_arm_rate` at each :func:`grid_values` point of the row's
    curve: the placebo arm alone, its parameter set to the point."""
    one = curve_spec(spec, row, n)
    return [
        (one.model_copy(update={"parameter_set": with_placebo(pset, disease, v)}), row)
        for v in grid_values(disease)
    ]


def _arm_rate(spec: TrialSpec, row: PlaceboRow) -> float:
    """The row's responder rate (%) in a run of ``spec`` (a worker's task)."""
    from dermatwin.trials.run import run_trial

    result = run_trial(spec)
    return float(result.summary["arms"][row.arm][row.endpoint]["estimate"])


class Curves:
    """p_j(theta) of every row: logit of the rate, linear between grid points."""

    def __init__(self, thetas: np.ndarray, rates: np.ndarray, n_sim: int) -> None:
        floor = 0.5 / n_sim  # a rate of 0 or 1 on the grid is "below one patient in n_sim"
        #: virtual patients behind each rate (their own sampling error enters the fit)
        self.n_sim = n_sim
        self.thetas = np.asarray(thetas, dtype=float)
        self.logits = logit(np.clip(np.asarray(rates, dtype=float) / 100.0, floor, 1 - floor))

    def __call__(self, j: int, theta: np.ndarray) -> np.ndarray:
        return expit(np.interp(theta, self.thetas, self.logits[j]))


def _nodes(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss-Hermite nodes and weights summing to 1 (for z ~ N(0, 1))."""
    z, w = np.polynomial.hermite_e.hermegauss(k)
    return z, w / w.sum()


def log_marginal(
    mu: float,
    tau: float,
    y: np.ndarray,
    n: np.ndarray,
    curve: Callable,
    nodes: int = FIT_NODES,
    virtual_n: int | None = None,
) -> float:
    """Sum over rows of log of the binomial likelihood integrated over b_j ~ N(0, tau^2)
    (beta-binomial when the curve's rates come from ``virtual_n`` virtual patients)."""
    z, w = _nodes(nodes)
    p = np.array([curve(j, mu + tau * z) for j in range(len(y))])
    ll = binomial_loglik(np.asarray(y)[:, None], np.asarray(n)[:, None], 100.0 * p, virtual_n)
    return float(np.log(np.exp(ll) @ w + 1e-300).sum())


@dataclass(frozen=True)
class TauFit:
    mu: float
    tau: float
    mu_se: float
    tau_ci: tuple[float, float]
    log_likelihood: float


def fit_tau(
    y: Sequence[int],
    n: Sequence[int],
    curve: Callable,
    mu0: float = 0.0,
    profile_ci: bool = True,
    virtual_n: int | None = None,
) -> TauFit:
    """Maximum marginal likelihood of (mu, tau) and tau's 95 % profile interval (NaN
    without ``profile_ci``); ``virtual_n``: virtual patients behind the curve's rates."""
    y, n = np.asarray(y), np.asarray(n)

    def neg(p):
        return -log_marginal(p[0], abs(p[1]), y, n, curve, virtual_n=virtual_n)

    best = min(
        (
            optimize.minimize(
                neg, [mu0, t0], method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6}
            )
            for t0 in (0.1, 0.5, 1.5)
        ),
        key=lambda r: r.fun,
    )
    mu, tau = float(best.x[0]), abs(float(best.x[1]))

    def profile(t: float) -> float:
        res = optimize.minimize_scalar(
            lambda m: -log_marginal(m, t, y, n, curve, virtual_n=virtual_n),
            bracket=(mu - 1, mu + 1),
        )
        return -float(res.fun)

    h = 1e-3
    curvature = (neg([mu + h, tau]) - 2 * best.fun + neg([mu - h, tau])) / h**2
    mu_se = float(1 / math.sqrt(curvature)) if curvature > 0 else float("inf")
    if not profile_ci:
        return TauFit(mu, tau, mu_se, (math.nan, math.nan), -float(best.fun))
    limit = -best.fun - stats.chi2.ppf(0.95, 1) / 2

    def excess(t: float) -> float:
        return profile(t) - limit

    low = 0.0 if excess(0.0) >= 0 else optimize.brentq(excess, 0.0, tau, xtol=1e-3)
    high = max(2 * tau, 0.5)
    while excess(high) > 0 and high < 20:
        high *= 2
    high = optimize.brentq(excess, tau, high, xtol=1e-3) if excess(high) < 0 else high
    return TauFit(mu, tau, mu_se, (float(low), float(high)), -float(best.fun))


@dataclass(frozen=True)
class PlaceboModel:
    """A disease's fitted trial-level placebo model (parameter scale: ``scale``)."""

    disease: str
    target: str
    scale: str
    mu: float
    tau: float
    mu_se: float
    tau_ci: tuple[float, float]
    grid: tuple[float, float]
    #: the set's placebo value when the model was fitted (``mu`` is relative to it)
    fitted_value: float
    parameter_set: str = ""
    rows: tuple[dict, ...] = field(default_factory=tuple)
    #: virtual patients behind each stored curve rate
    curve_n: int = CURVE_N

    @property
    def predictive_sd(self) -> float:
        """SD of a new trial's parameter: tau and the uncertainty of mu."""
        return math.sqrt(self.tau**2 + self.mu_se**2)

    def value_at(self, z: float | np.ndarray) -> float | np.ndarray:
        """A new trial's parameter value ``z`` predictive SDs from ``mu`` (on the model's
        scale; clipped to the simulated range)."""
        _, back = _scale(self.scale)
        low, high = self.grid
        return np.clip(back(self.mu + self.predictive_sd * np.asarray(z)), low, high)

    def nodes(self, k: int = 5) -> list[tuple[float, float]]:
        """``k`` Gauss-Hermite (parameter value, weight) pairs of a new trial's placebo
        parameter (see :meth:`value_at`)."""
        if k < 1:
            raise CalibrationError(f"placebo nodes: {k}; allowed: a whole number >= 1")
        z, w = _nodes(k)
        values = self.value_at(z)
        return [(float(v), float(wk)) for v, wk in zip(values, w, strict=True)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tau_ci"] = list(self.tau_ci)
        d["grid"] = list(self.grid)
        d["rows"] = [dict(r) for r in self.rows]
        return d


def fit_placebo(
    specs: dict[str, TrialSpec],
    pset: ParameterSet,
    disease: str,
    log: Callable[[str], None] = print,
    n: int = CURVE_N,
    workers: int | Executor = 1,
) -> PlaceboModel:
    """Simulate the placebo curves of ``disease``'s trials and fit mu and tau; the curve
    points of all trials run in ``workers`` processes (or an open executor's), the same
    model for any number."""
    from dermatwin.calibration.workers import run_each, worker_pool

    rows = placebo_rows(specs, disease)
    if len(rows) < 2:
        raise CalibrationError(f"placebo model {disease}: needs 2 or more placebo arms")
    target, kind, bounds = TARGETS[disease]
    to, _ = _scale(kind)
    thetas = to(grid_values(disease))
    runs = [_curve_runs(specs[r.trial], r, pset, disease, n) for r in rows]
    with worker_pool(workers) as pool:
        flat = run_each(_arm_rate, [a for row_runs in runs for a in row_runs], pool)
    rates = [flat[j * len(thetas) : (j + 1) * len(thetas)] for j in range(len(rows))]
    for r, curve in zip(rows, rates, strict=True):
        log(f"{disease} {r.row}: " + ", ".join(f"{v:.1f}" for v in curve))
    curves = Curves(thetas, np.array(rates), n)
    center = placebo_value(pset, disease)
    fit = fit_tau(
        [r.responders for r in rows],
        [r.n for r in rows],
        curves,
        float(to(np.clip(center, *bounds))),
        virtual_n=n,
    )
    return PlaceboModel(
        disease,
        target,
        kind,
        round(fit.mu, 4),
        round(fit.tau, 4),
        round(fit.mu_se, 4),
        (round(fit.tau_ci[0], 4), round(fit.tau_ci[1], 4)),
        bounds,
        center,
        pset.name,
        tuple(
            {**asdict(r), "responders": r.responders, "curve": [round(v, 2) for v in rates[j]]}
            for j, r in enumerate(rows)
        ),
        n,
    )


def curves_of(model: PlaceboModel) -> tuple[Curves, np.ndarray, np.ndarray]:
    """The stored curves and data of a fitted model (for refits without simulation)."""
    to, _ = _scale(model.scale)
    thetas = to(grid_values(model.disease, len(model.rows[0]["curve"])))
    rates = np.array([r["curve"] for r in model.rows])
    y = np.array([r["responders"] for r in model.rows])
    n = np.array([r["n"] for r in model.rows])
    return Curves(thetas, rates, model.curve_n), y, n


def write_placebo_models(models: Sequence[PlaceboModel], path: str | Path) -> Path:
    data = {"placebo_models": [m.to_dict() for m in models]}
    try:
        return write_text_atomic(Path(path), yaml.safe_dump(data, sort_keys=False, width=100))
    except OSError as err:
        raise CalibrationError(f"placebo models: cannot write {path} ({err.strerror})") from None


def read_placebo_models(path: str | Path = SHIPPED) -> dict[str, PlaceboModel]:
    """The fitted placebo models by disease ({} where the file is absent)."""
    path = Path(path)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    out = {}
    for d in data.get("placebo_models", []):
        d = {**d, "tau_ci": tuple(d["tau_ci"]), "grid": tuple(d["grid"]), "rows": tuple(d["rows"])}
        out[d["disease"]] = PlaceboModel(**d)
    return out


def placebo_without(model: PlaceboModel, trial: str) -> PlaceboModel:
    """``model`` with mu and tau refitted without ``trial``'s placebo row (stored curves,
    no simulation); ``model`` itself where the trial gave it no row."""
    keep = [i for i, r in enumerate(model.rows) if r["trial"] != trial]
    if len(keep) == len(model.rows):
        return model
    curves, y, n = curves_of(model)

    def others(i, t):
        return curves(keep[i], t)

    fit = fit_tau(y[keep], n[keep], others, model.mu, profile_ci=False, virtual_n=curves.n_sim)
    return dataclasses.replace(
        model,
        mu=fit.mu,
        tau=fit.tau,
        mu_se=fit.mu_se,
        tau_ci=fit.tau_ci,
        rows=tuple(model.rows[i] for i in keep),
    )


def placebo_cross(model: PlaceboModel) -> list[dict]:
    """Leave-one-trial-out for the placebo arms: for each row, mu and tau refitted to the
    other trials' rows (stored curves, no simulation), and the row's predictive median and
    95 % interval of the responder rate at its published n (percent)."""
    curves, y, n = curves_of(model)
    z, w = _nodes(FIT_NODES)
    out = []
    for j, row in enumerate(model.rows):
        fit = placebo_without(model, row["trial"])
        sd = fit.predictive_sd
        rates = 100.0 * curves(j, fit.mu + sd * z)
        pmf = np.exp(binomial_loglik(np.arange(n[j] + 1)[:, None], n[j], rates, curves.n_sim)) @ w
        cdf = np.cumsum(pmf)
        low, high = (100.0 * np.searchsorted(cdf, q) / n[j] for q in (0.025, 0.975))
        median = 100.0 * float(curves(j, fit.mu))
        out.append(
            {
                "row": row["row"],
                "trial": row["trial"],
                "observed": row["observed"],
                "predicted": median,
                "interval": [float(low), float(high)],
                "inside": bool(low <= row["observed"] <= high),
                "tau": fit.tau,
            }
        )
    return out
