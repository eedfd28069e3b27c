"""Fit a personal twin: posterior of the twin parameters given one patient's visits.

Sampler: emcee's ensemble sampler with ``vectorize=True``, so each step is one batched
equilibrate + simulate call for all walkers. The default schedule (``moves="de-t"``,
:mod:`dermatwin.twins.sampler`) burns in with differential-evolution moves, then
proposes from a multivariate t fitted to the burn-in draws (independence moves): on the
shipped examples it converges (R-hat < 1.05, bulk ESS > 400) on about 4,800
simulations, where the former default (DE moves, 7,000 simulations) did not
(docs/twins.md, benchmarks/twin.py). Gradient-based samplers are out: the compiled ODE
kernel gives no gradients. The walkers start at the best of ``8 x walkers`` prior draws
(one batched evaluation), which shortens burn-in on peaked posteriors.

Convergence: rank-normalised split R-hat and bulk/tail effective sample sizes (arviz,
walkers as chains), emcee's integrated autocorrelation time and acceptance fraction. The
twin is flagged ``converged`` when max R-hat < 1.05 and min bulk ESS >= 400; otherwise
:func:`fit_twin` warns (:class:`TwinConvergenceWarning`).

Output folder (:meth:`Twin.save`): ``posterior.parquet`` (walker, draw, log_prob and each
parameter in its unit), ``diagnostics.json``, ``twin.json`` (the visit record, the
parameters and priors, settings, versions) — everything :func:`load_twin` needs.

Same record, settings and seed give bit-identical posteriors.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from dermatwin._base.disclaimer import DISCLAIMER
from dermatwin._base.display import html_table, names, one_line
from dermatwin._base.rng import rng_stream
from dermatwin._version import __version__
from dermatwin.execution.progress import progress_bar
from dermatwin.io.json_safe import dumps as json_dumps
from dermatwin.model.spec import Model
from dermatwin.therapy.items import MSCItem
from dermatwin.twins.likelihood import ERROR_MODEL, LogPosterior, TwinSimulator, twin_model
from dermatwin.twins.limits import BURN, MAX_STEPS, MAX_WALKERS, MOVES, STEPS, WALKERS
from dermatwin.twins.prior import MSC_RESPONSE, Prior, TwinParameter, twin_parameters
from dermatwin.twins.sampler import run_chain
from dermatwin.twins.visits import TwinDataError, VisitRecord

#: R-hat and ESS thresholds for the ``converged`` flag
RHAT_MAX = 1.05
ESS_MIN = 400.0
#: seeds are 0 .. 2**32 - 1 (emcee draws from numpy's legacy RandomState)
SEED_MAX = 2**32 - 1


class TwinConvergenceWarning(UserWarning):
    """A twin fit ended without converging (max R-hat or min bulk ESS past the
    thresholds): its posterior may be too narrow or off; fit longer."""


@dataclass(frozen=True)
class FitSettings:
    """Sampler settings: ``walkers`` (>= 2 x parameters), ``steps`` kept after ``burn``
    burn-in steps, ``thin`` (keep every thin-th step), ``seed``, ``moves`` (``de-t``:
    DE burn-in, then a fitted t independence proposal mixed with DE moves, the default,
    :mod:`dermatwin.twins.sampler`; ``de``: emcee's DEMove 80 % + DESnookerMove 20 %;
    ``stretch``: emcee's default affine-invariant stretch move)."""

    walkers: int = WALKERS
    steps: int = STEPS
    burn: int = BURN
    thin: int = 1
    seed: int = 0
    moves: str = "de-t"
    #: extend the kept steps while not converged (up to 4 x steps; :mod:`.sampler`)
    extend: bool = True
    #: calibrated parameter set (``default``: the one trials use; ``none``: uncalibrated)
    parameter_set: str = "default"

    def __post_init__(self) -> None:
        limits = {
            "walkers": (4, MAX_WALKERS),
            "steps": (10, MAX_STEPS),
            "burn": (0, MAX_STEPS),
            "thin": (1, MAX_STEPS),
            "seed": (0, SEED_MAX),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or not lo <= value <= hi:
                raise TwinDataError(f"{name}: {str(value)[:40]}; allowed: {lo} to {hi}")
        if self.moves not in MOVES:
            raise TwinDataError(f"moves: {str(self.moves)[:40]!r}; allowed: {', '.join(MOVES)}")
        if not isinstance(self.extend, bool):
            raise TwinDataError(f"extend: {str(self.extend)[:40]}; allowed: true, false")


@dataclass
class Twin:
    """A fitted twin: the record, the parameters, posterior draws and diagnostics."""

    record: VisitRecord
    parameters: list[TwinParameter]
    theta: np.ndarray  # (draws, walkers, ndim), ln of the parameter values
    log_prob: np.ndarray  # (draws, walkers)
    settings: FitSettings
    diagnostics: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def prior(self) -> Prior:
        return Prior(self.parameters)

    def flat_theta(self) -> np.ndarray:
        return self.theta.reshape(-1, self.theta.shape[-1])

    # -- display (the dataclass repr printed every posterior draw: kilobytes) ----------
    def _convergence(self) -> str:
        d = self.diagnostics
        if "converged" not in d:
            return "not checked"
        word = "converged" if d["converged"] else "NOT converged"
        return f"{word} (max R-hat {d['max_rhat']:.3f}, min ESS {d['min_ess_bulk']:.0f})"

    def _patient(self) -> str:
        p = self.record.patient
        return f"{p.id or 'patient'} ({p.disease})"

    def __repr__(self) -> str:
        return one_line(
            "Twin",
            self._patient(),
            [
                ("parameters", names(self.names, 4)),
                ("draws", self.theta.shape[0] * self.theta.shape[1]),
                ("fit", self._convergence()),
            ],
        )

    def _repr_html_(self) -> str:
        table = self.summary()
        rows = [
            (
                f"{r.parameter}: {r.meaning}",
                r.unit,
                f"{r.posterior_median:.3g}",
                f"{r.q05:.3g} to {r.q95:.3g}",
                "-" if r.rhat is None else f"{r.rhat:.3f}",
                "-" if r.ess_bulk is None else f"{r.ess_bulk:.0f}",
            )
            for r in table.itertuples(index=False)
        ]
        return html_table(
            f"Twin {self._patient()}",
            [
                ("visits", len(self.record.visits)),
                ("treatments", len(self.record.treatments)),
                ("parameter set", self.settings.parameter_set),
                ("draws", self.theta.shape[0] * self.theta.shape[1]),
                ("convergence", self._convergence()),
            ],
            ("parameter", "unit", "median", "90 % interval", "R-hat", "ESS"),
            rows,
        )

    def draws(self, n: int) -> np.ndarray:
        """``n`` posterior draws of theta (evenly spaced through the flattened chain, so
        the choice is deterministic and spread over walkers and steps)."""
        if n < 1:
            raise TwinDataError(f"draws: {n}; allowed: 1 or more")
        flat = self.flat_theta()
        if n >= len(flat):
            return flat.copy()
        idx = np.linspace(0, len(flat) - 1, n).round().astype(int)
        return flat[idx]

    def summary(self) -> pd.DataFrame:
        flat = np.exp(self.flat_theta())
        rows = []
        for j, p in enumerate(self.parameters):
            q = np.quantile(flat[:, j], [0.05, 0.5, 0.95])
            rows.append(
                {
                    "parameter": p.name,
                    "meaning": plain_name(p),
                    "unit": p.unit,
                    "prior_median": p.median,
                    "prior_sigma_ln": p.sigma,
                    "posterior_median": q[1],
                    "q05": q[0],
                    "q95": q[2],
                    "shrinkage": 1.0 - np.std(self.flat_theta()[:, j]) / p.sigma,
                    "rhat": self.diagnostics.get("rhat", {}).get(p.name),
                    "ess_bulk": self.diagnostics.get("ess_bulk", {}).get(p.name),
                }
            )
        return pd.DataFrame(rows)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        n_draws, n_walkers, _ = self.theta.shape
        frame = pd.DataFrame(
            {
                "draw": np.repeat(np.arange(n_draws), n_walkers),
                "walker": np.tile(np.arange(n_walkers), n_draws),
                "log_prob": self.log_prob.ravel(),
            }
        )
        for j, name in enumerate(self.names):
            frame[name] = np.exp(self.theta[:, :, j].ravel())
        frame.to_parquet(folder / "posterior.parquet", index=False)
        (folder / "diagnostics.json").write_text(json_dumps(self.diagnostics, indent=2))
        meta = {
            "dermatwin_version": __version__,
            "record": self.record.to_dict(),
            "parameters": [asdict(p) for p in self.parameters],
            "settings": asdict(self.settings),
            "error_model": {k: asdict(v) for k, v in ERROR_MODEL.items()},
            "disclaimer": DISCLAIMER,
        }
        (folder / "twin.json").write_text(json_dumps(meta, indent=2))


def plain_name(p: TwinParameter) -> str:
    """What the parameter means, in a few words (the model's description, up to a colon)."""
    return p.description.split(":", 1)[0]


def load_twin(folder: str | Path) -> Twin:
    """A twin saved by :meth:`Twin.save` (a one-line TwinDataError if it is not one)."""
    folder = Path(folder)
    try:
        is_dir, exists = folder.is_dir(), folder.exists()
    except OSError as err:  # e.g. a name too long for the file system
        is_dir, exists = False, err.strerror
    if not is_dir:
        what = {True: "a file", False: "no such folder"}.get(exists, exists)
        shown = str(folder) if len(str(folder)) <= 60 else "..." + str(folder)[-57:]
        raise TwinDataError(f"{shown}: not a twin folder ({what}; from `dermatwin twin fit`)")
    try:
        meta = json.loads((folder / "twin.json").read_text())
        frame = pd.read_parquet(folder / "posterior.parquet")
        diagnostics = json.loads((folder / "diagnostics.json").read_text())
        parameters = [TwinParameter(**p) for p in meta["parameters"]]
        n_draws = int(frame["draw"].max()) + 1
        n_walkers = int(frame["walker"].max()) + 1
        theta = np.stack(
            [np.log(frame[p.name].to_numpy()).reshape(n_draws, n_walkers) for p in parameters],
            axis=-1,
        )
        log_prob = frame["log_prob"].to_numpy().reshape(n_draws, n_walkers)
        settings = FitSettings(**meta["settings"])
        record = VisitRecord.from_dict(meta["record"], where=str(folder / "twin.json"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        detail = str(err).splitlines()[0][:120] if str(err) else ""
        raise TwinDataError(
            f"{folder}: not a twin folder (twin.json, posterior.parquet, diagnostics.json; "
            f"{err.__class__.__name__}: {detail})"
        ) from None
    return Twin(record, parameters, theta, log_prob, settings, diagnostics)


def convergence(theta: np.ndarray, names: tuple[str, ...]) -> dict:
    """R-hat, ESS (arviz; walkers as chains) and emcee's autocorrelation time."""
    import arviz as az
    import emcee

    chains = np.swapaxes(theta, 0, 1)  # (walkers, draws, ndim)
    data = {n: chains[:, :, j] for j, n in enumerate(names)}
    rhat = az.rhat(data)
    bulk = az.ess(data, method="bulk")
    tail = az.ess(data, method="tail")
    with np.errstate(invalid="ignore", divide="ignore"):  # a walker that never moved
        tau = emcee.autocorr.integrated_time(theta, quiet=True, tol=0)
    out = {
        "rhat": {n: float(rhat[n]) for n in names},
        "ess_bulk": {n: float(bulk[n]) for n in names},
        "ess_tail": {n: float(tail[n]) for n in names},
        "autocorr_time_steps": {n: float(t) for n, t in zip(names, tau, strict=True)},
    }
    out["max_rhat"] = max(out["rhat"].values())
    out["min_ess_bulk"] = min(out["ess_bulk"].values())
    out["converged"] = bool(out["max_rhat"] < RHAT_MAX and out["min_ess_bulk"] >= ESS_MIN)
    return out


def _step(bar: Callable[[int], None], then: Callable[[], None] | None) -> None:
    bar(1)
    if then is not None:
        then()


def fit_twin(
    record: VisitRecord,
    settings: FitSettings = FitSettings(),
    *,
    model: Model | None = None,
    progress: bool = False,
    on_step: Callable[[], None] | None = None,
) -> Twin:
    """Sample the posterior of ``record``'s twin parameters (see the module docstring).

    The twin runs on the skin model with ``settings.parameter_set`` (default
    ``"default"``: the shipped calibrated set, as ``dermatwin twin fit``; ``"none"``:
    uncalibrated priors); predictions and plans reuse the twin's set. ``progress`` shows
    a progress bar on stderr when it is a terminal; ``on_step()`` runs after each sampler
    step (burn-in and kept; an exception it raises stops the fit). Warns
    (:class:`TwinConvergenceWarning`) when the fit does not converge."""
    from dermatwin.params.parameter_set import CalibrationError, load_parameter_set

    try:
        if model is None:
            model, pset = twin_model(settings.parameter_set)
        else:  # the caller's model must carry the set's model values (twin_model)
            pset = load_parameter_set(settings.parameter_set)
    except CalibrationError as err:
        raise TwinDataError(str(err)) from None
    parameters = twin_parameters(model, record.patient)
    # Without MSC in the record the likelihood does not depend on the MSC responsiveness,
    # so its posterior is its prior: draw it exactly instead of making the walkers explore it.
    has_msc = any(isinstance(t, MSCItem) for t in record.treatments)
    sampled = [p for p in parameters if has_msc or p.name != MSC_RESPONSE]
    prior = Prior(sampled)
    if settings.walkers < 2 * prior.ndim:
        raise TwinDataError(
            f"walkers: need at least {2 * prior.ndim} (2 x {prior.ndim} parameters), "
            f"got {settings.walkers}"
        )
    log_post = LogPosterior(TwinSimulator(model, record, prior, pset))
    if not log_post.observations:
        raise TwinDataError(f"{record.source}: visits: no score the model can fit")
    rng = rng_stream(settings.seed, 7)
    start = time.perf_counter()
    total = settings.burn + settings.steps
    # the bar only on a terminal (progress_bar): silent in pipes, logs and tests
    with progress_bar("twin fit", total, unit="steps", enabled=None if progress else False) as bar:
        pool = prior.sample(8 * settings.walkers, rng)
        lp = log_post(pool)
        order = np.argsort(-np.where(np.isfinite(lp), lp, -np.inf), kind="stable")
        best = order[: settings.walkers]
        if not np.all(np.isfinite(lp[best])):
            raise TwinDataError(
                f"{record.source}: the model could not be simulated for enough prior draws"
            )
        chain, log_prob, acceptance = run_chain(
            log_post,
            pool[best],
            lp[best],
            kind=settings.moves,
            burn=settings.burn,
            steps=settings.steps,
            thin=settings.thin,
            seed=settings.seed,
            prior_sigma=prior.sigma,
            on_step=lambda: _step(bar, on_step),
            converged=(lambda c: convergence(c, prior.names)["converged"])
            if settings.extend
            else None,
        )
    elapsed = time.perf_counter() - start
    if len(sampled) < len(parameters):
        full = Prior(parameters)
        extra = full.sample(chain.shape[0] * chain.shape[1], rng)[:, -1]
        chain = np.concatenate([chain, extra.reshape(chain.shape[:2] + (1,))], axis=-1)
    diagnostics = convergence(chain, tuple(p.name for p in parameters))
    diagnostics.update(
        acceptance_fraction=acceptance,
        log_prob_evaluations=int(log_post.calls),
        simulations=int(log_post.simulations),
        seconds=round(elapsed, 2),
        visits=len(record.visits),
        observations={k: len(v[0]) for k, v in log_post.observations.items()},
        prior_only=[p.name for p in parameters if p not in sampled],
    )
    twin = Twin(record, parameters, chain, log_prob, settings, diagnostics)
    if not diagnostics["converged"]:
        warnings.warn(
            f"twin fit of {record.source} did not converge: max R-hat "
            f"{diagnostics['max_rhat']:.3f} (wanted < {RHAT_MAX}), min bulk ESS "
            f"{diagnostics['min_ess_bulk']:.0f} (wanted >= {ESS_MIN:.0f}); fit with more steps",
            TwinConvergenceWarning,
            stacklevel=2,
        )
    return twin
