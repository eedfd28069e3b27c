"""One HTML page per patient: data, treatments, fitted parameters and diagnostics,
predictions and the ranked plan; rendered through the shared template layer
(:mod:`dermatwin.report.html`), so every dermatwin report looks and escapes alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dermatwin.disease.scores import SCORES
from dermatwin.report.html import DISCLAIMER, Image, Table, num, png, write_page
from dermatwin.therapy.items import DrugItem
from dermatwin.trials.spec import PRIMARY_SCORE
from dermatwin.twins.fit import Twin
from dermatwin.twins.fitted import fitted_bands
from dermatwin.twins.likelihood import ERROR_MODEL, FITTED
from dermatwin.twins.plan import PlanResult
from dermatwin.twins.predict import Prediction
from dermatwin.twins.visits import NOT_MODELLED

__all__ = ["DISCLAIMER", "write_twin_report"]


def _band_figure(prediction: Prediction, variable: str, twin: Twin) -> Image:
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    for kind, colour, alpha in (("predictive", "C0", 0.12), ("latent", "C0", 0.3)):
        b = prediction.bands
        b = b[(b["variable"] == variable) & (b["band"] == kind)]
        ax.fill_between(b["week"], b["q05"], b["q95"], color=colour, alpha=alpha, lw=0)
        if kind == "latent":
            ax.fill_between(b["week"], b["q25"], b["q75"], color=colour, alpha=0.35, lw=0)
            ax.plot(b["week"], b["q50"], color=colour, lw=1.5, label="median")
    obs = twin.record.observed(variable)
    if obs:
        days, values = zip(*obs, strict=True)
        ax.plot(np.array(days) / 7, values, "ko", ms=5, label="visits")
    ax.axvline(prediction.now / 7, color="0.5", ls="--", lw=1)
    ax.axvline((prediction.now + prediction.regimen.horizon) / 7, color="0.5", ls=":", lw=1)
    ax.set_xlabel("weeks since the first visit")
    ax.set_ylabel(variable)
    ax.set_title(
        f"{variable}: {prediction.regimen.name} (bands 50 %/90 % model, light 90 % predictive)"
    )
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return png(fig, f"{variable} prediction")


def plan_figure(result: PlanResult, twin: Twin) -> Image:
    """The top regimens' median and 90 % band of the goal's score, with the visits."""
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    for i, (name, c) in enumerate(result.trajectories.items()):
        ax.plot(c["day"] / 7, c["q50"], color=f"C{i}", lw=1.5, label=f"{i + 1}. {name}")
        ax.fill_between(c["day"] / 7, c["q05"], c["q95"], color=f"C{i}", alpha=0.1, lw=0)
    obs = twin.record.observed(result.goal.score)
    if obs:
        days, values = zip(*obs, strict=True)
        ax.plot(np.array(days) / 7, values, "ko", ms=5, label="visits")
    goal_week = twin.record.last_day / 7 + result.goal.week
    ax.axvline(goal_week, color="0.3", ls="--", lw=1)
    ax.set_xlabel("weeks since the first visit")
    ax.set_ylabel(result.goal.score)
    ax.set_title(f"top regimens for {result.goal.text} (median and 90 % band)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return png(fig, "top regimens")


def fit_figure(bands: pd.DataFrame, twin: Twin) -> Image:
    """Observed vs fitted: one panel per observed score (visits, posterior median, 95 %
    bands of the model score and of a recorded visit)."""
    names = list(dict.fromkeys(bands["variable"]))
    fig = Figure(figsize=(8, 2.4 * len(names) + 0.4))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        b = bands[bands["variable"] == name]
        pred, lat = b[b["band"] == "predictive"], b[b["band"] == "latent"]
        ax.fill_between(pred["week"], pred["q025"], pred["q975"], color="C0", alpha=0.12, lw=0)
        ax.fill_between(lat["week"], lat["q025"], lat["q975"], color="C0", alpha=0.35, lw=0)
        ax.plot(lat["week"], lat["q50"], color="C0", lw=1.5, label="posterior median")
        days, values = zip(*twin.record.observed(name), strict=True)
        ax.plot(np.array(days) / 7, values, "ko", ms=5, label="observed")
        unit = SCORES[name].unit if name in SCORES else ERROR_MODEL[name].unit
        ax.set_ylabel(name if unit in ("", "score") else f"{name} ({unit})")
        ax.set_ylim(bottom=0)
    axes[0].set_title("observed vs fitted (dark: 95 % model band; light: 95 % of a visit)")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("weeks since the first visit")
    fig.tight_layout()
    return png(fig, "observed vs fitted scores")


def _trace_figure(twin: Twin) -> Image:
    n = len(twin.names)
    fig = Figure(figsize=(8, 1.3 * n + 0.5))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for j, (ax, p) in enumerate(zip(axes, twin.parameters, strict=True)):
        ax.plot(twin.theta[:, :, j], lw=0.4, alpha=0.5)
        ax.set_ylabel(f"ln {p.name}", fontsize=8)
    axes[-1].set_xlabel("step (after burn-in)")
    fig.tight_layout()
    return png(fig, "trace plots")


def treatments_table(treatments) -> Table:
    """The treatments given, one row each (drug or MSC course, dose, route, days)."""
    rows = []
    for t in treatments:
        if isinstance(t, DrugItem):
            days = f"{t.start:g} to {t.stop:g}" if t.stop is not None else f"from {t.start:g}"
            dose = "" if t.amount is None else f"{t.amount:g} {t.unit or ''}".strip()
            how = t.schedule + (f", every {t.every:g} d" if t.every else "")
            rows.append([t.drug, dose, t.route or "", days, how])
        else:
            m = dict(t.msc)
            what = " ".join(str(m.pop(k)) for k in ("source", "origin") if k in m)
            amount, unit = m.pop("amount", None), m.pop("unit", "")
            dose = "" if amount is None else f"{float(amount):g} {unit}".strip()
            times = ", ".join(f"{float(x):g}" for x in m.pop("times", [0.0]))
            extra = "; ".join(f"{k} {v}" for k, v in m.items() if k != "route")
            rows.append([f"MSC {what}".strip(), dose, m.get("route", ""), times, extra])
    return Table(["treatment", "dose", "route", "day(s)", "schedule"], rows)


def _responders(prediction: Prediction) -> Table:
    r = prediction.responders
    weeks = [w for w in (4, 8, 12, 16, 24, 52) if w <= r["week"].max()]
    rows = []
    for ep in dict.fromkeys(r["endpoint"]):
        sub = r[r["endpoint"] == ep]
        rows.append(
            [ep, *(num(sub[np.isclose(sub["week"], w)]["probability"].iloc[0], 2) for w in weeks)]
        )
    return Table(
        ["endpoint", *[f"week {w}" for w in weeks]],
        rows,
        set(range(1, len(weeks) + 1)),
        caption="Probability of response (from the first visit) by weeks from now",
    )


def _plan_table(plan_result: PlanResult) -> Table:
    t = plan_result.table.head(15)
    cols = ["rank", "regimen", "p_goal", "p_goal_se", "p_best", "durability_weeks"]
    cols += ["clinic_visits", "why"]
    numeric = set(cols) - {"regimen", "why"}
    return Table(
        cols,
        [[num(r[c]) if c in numeric else r[c] for c in cols] for _, r in t.iterrows()],
        {0, 2, 3, 4, 5, 6},
        caption="p_goal_se: Monte-Carlo standard error of p_goal (binomial over the draws); "
        "p_best: probability of the highest p_goal (bootstrap); a shared rank is a tie",
    )


def write_twin_report(
    path: str | Path,
    twin: Twin,
    prediction: Prediction | None = None,
    plan_result: PlanResult | None = None,
    *,
    fit_bands: pd.DataFrame | None = None,
) -> Path:
    """Write the patient's page to ``path`` (atomically) and return the path.
    ``fit_bands`` (:func:`~dermatwin.twins.fitted.fitted_bands`) are simulated when
    not given."""
    rec = twin.record
    disease = rec.patient.disease
    profile = rec.patient.model_dump(exclude_none=True, exclude={"baseline", "prior_therapies"})
    columns = sorted({k for v in rec.visits for k in v.values})
    visits = Table(
        ["day", *columns],
        [
            [num(v.day), *(num(v.values.get(c)) if c in v.values else "" for c in columns)]
            for v in rec.visits
        ],
        set(range(len(columns) + 1)),
    )
    s = twin.summary()
    fitted = Table(
        list(s.columns),
        [
            [r[c] if isinstance(r[c], str) else num(r[c]) for c in s.columns]
            for _, r in s.iterrows()
        ],
        set(range(3, len(s.columns))),
    )
    d = twin.diagnostics
    if fit_bands is None:
        fit_bands = fitted_bands(twin)
    bands: list[Image] = []
    if prediction is not None:
        score = PRIMARY_SCORE[disease]
        for variable in [score, *[v for v in FITTED[disease] if v != score and v in columns]]:
            if variable in set(prediction.bands["variable"]):
                bands.append(_band_figure(prediction, variable, twin))
    return write_page(
        path,
        "twin.html.j2",
        title=f"Digital twin: {rec.patient.id or 'patient'} ({disease})",
        profile=Table(["field", "value"], [(k, v) for k, v in profile.items()]),
        visits=visits,
        unfitted=[c for c in columns if c in NOT_MODELLED or c not in FITTED[disease]],
        treatments=treatments_table(rec.treatments) if rec.treatments else None,
        fitted=fitted,
        converged=bool(d.get("converged")),
        diagnostics={
            "max R-hat": num(d.get("max_rhat")),
            "min bulk ESS": num(d.get("min_ess_bulk")),
            "acceptance": num(d.get("acceptance_fraction")),
            "simulations": d.get("simulations"),
            # more than the settings' steps when the fit was extended until converged
            "kept steps": twin.theta.shape[0],
            "seconds": num(d.get("seconds")),
        },
        settings=twin.settings,
        trace=_trace_figure(twin),
        fit_figure=fit_figure(fit_bands, twin) if not fit_bands.empty else None,
        prediction=prediction,
        bands=bands,
        responders=_responders(prediction) if prediction is not None else None,
        relapse=Table(
            ["relapse", "value"], [(k, num(v)) for k, v in prediction.relapse.items()], {1}
        )
        if prediction is not None
        else None,
        plan=plan_result,
        plan_table=_plan_table(plan_result) if plan_result is not None else None,
        plan_figure=plan_figure(plan_result, twin) if plan_result is not None else None,
        constraints=(
            ", ".join(
                f"{k}: {v}"
                for k, v in plan_result.constraints.model_dump(exclude_defaults=True).items()
            )
            or "none"
        )
        if plan_result is not None
        else None,
    )
