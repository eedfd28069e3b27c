"""One HTML page per patient: data, fitted trajectory, predictions, ranked plan, diagnostics.

Reuses the trial report's style, table, number and figure helpers
(:mod:`dermatwin.trials.report`), so every dermatwin report looks and escapes alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dermatwin._base.atomic import write_text_atomic
from dermatwin.trials.report import _CSS, _e, _num, _png, _table
from dermatwin.trials.spec import PRIMARY_SCORE
from dermatwin.twins.fit import Twin
from dermatwin.twins.likelihood import FITTED
from dermatwin.twins.plan import PlanResult
from dermatwin.twins.predict import Prediction
from dermatwin.twins.visits import NOT_MODELLED

DISCLAIMER = "Research use only: dermatwin is not a medical device."


def _band_figure(prediction: Prediction, variable: str, twin: Twin) -> str:
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
    return _png(fig, f"{variable} prediction")


def _plan_figure(result: PlanResult, twin: Twin) -> str:
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
    return _png(fig, "top regimens")


def _trace_figure(twin: Twin) -> str:
    n = len(twin.names)
    fig = Figure(figsize=(8, 1.3 * n + 0.5))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for j, (ax, p) in enumerate(zip(axes, twin.parameters, strict=True)):
        ax.plot(twin.theta[:, :, j], lw=0.4, alpha=0.5)
        ax.set_ylabel(f"ln {p.name}", fontsize=8)
    axes[-1].set_xlabel("step (after burn-in)")
    fig.tight_layout()
    return _png(fig, "trace plots")


def write_twin_report(
    path: str | Path,
    twin: Twin,
    prediction: Prediction | None = None,
    plan_result: PlanResult | None = None,
) -> Path:
    """Write the patient's page to ``path`` (atomically) and return the path."""
    path = Path(path)
    rec = twin.record
    pid = rec.patient.id or "patient"
    disease = rec.patient.disease
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>dermatwin twin {_e(pid)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Digital twin: {_e(pid)} ({_e(disease)})</h1>",
        f'<p class="disclaimer">{_e(DISCLAIMER)} Predictions come from a mechanistic model '
        "fitted to few visits; they are not clinical advice.</p>",
        "<h2>Patient and visits</h2>",
    ]
    profile = rec.patient.model_dump(exclude_none=True, exclude={"baseline", "prior_therapies"})
    parts.append(_table(["field", "value"], [(_e(k), _e(v)) for k, v in profile.items()], set()))
    columns = sorted({k for v in rec.visits for k in v.values})
    rows = [
        [_num(v.day), *(_num(v.values.get(c)) if c in v.values else "" for c in columns)]
        for v in rec.visits
    ]
    parts.append(_table(["day", *columns], rows, set(range(len(columns) + 1))))
    unfitted = [c for c in columns if c in NOT_MODELLED or c not in FITTED[disease]]
    if unfitted:
        parts.append(
            f"<p>Recorded but not fitted (no model output): {_e(', '.join(unfitted))}.</p>"
        )
    if rec.treatments:
        parts.append("<h3>Treatments given</h3>")
        parts.append(
            "<ul>"
            + "".join(f"<li>{_e(t.model_dump(exclude_none=True))}</li>" for t in rec.treatments)
            + "</ul>"
        )

    parts.append("<h2>Fitted parameters</h2>")
    s = twin.summary()
    parts.append(
        _table(
            [*s.columns],
            [
                [_e(r[c]) if isinstance(r[c], str) else _num(r[c]) for c in s.columns]
                for _, r in s.iterrows()
            ],
            set(range(2, len(s.columns))),
        )
    )
    d = twin.diagnostics
    conv = "converged" if d.get("converged") else "NOT converged: run longer chains"
    parts.append(
        f"<p>Fit diagnostics ({_e(conv)}): max R-hat {_num(d.get('max_rhat'))}, min bulk ESS "
        f"{_num(d.get('min_ess_bulk'))}, acceptance {_num(d.get('acceptance_fraction'))}, "
        f"{_e(d.get('simulations'))} simulations in {_num(d.get('seconds'))} s; sampler "
        f"emcee ({_e(twin.settings.moves)}), {twin.settings.walkers} walkers, "
        f"{twin.settings.burn} burn-in + {twin.settings.steps} steps, "
        f"seed {twin.settings.seed}; parameter set {_e(twin.settings.parameter_set)}.</p>"
    )
    parts.append(_trace_figure(twin))

    if prediction is not None:
        parts.append(f"<h2>Prediction: {_e(prediction.regimen.name)}</h2>")
        score = PRIMARY_SCORE[disease]
        for variable in [score, *[v for v in FITTED[disease] if v != score and v in columns]]:
            if variable in set(prediction.bands["variable"]):
                parts.append(_band_figure(prediction, variable, twin))
        r = prediction.responders
        weeks = [w for w in (4, 8, 12, 16, 24, 52) if w <= r["week"].max()]
        rows = []
        for ep in dict.fromkeys(r["endpoint"]):
            sub = r[r["endpoint"] == ep]
            rows.append(
                [
                    _e(ep),
                    *(
                        _num(sub[np.isclose(sub["week"], w)]["probability"].iloc[0], 2)
                        for w in weeks
                    ),
                ]
            )
        parts.append("<p>Probability of response (from the first visit) by weeks from now:</p>")
        parts.append(_table(["endpoint", *[f"week {w}" for w in weeks]], rows, set(range(1, 7))))
        rel = prediction.relapse
        parts.append(_table(["relapse", "value"], [(_e(k), _num(v)) for k, v in rel.items()], {1}))

    if plan_result is not None:
        parts.append(f"<h2>Ranked plan for {_e(plan_result.goal.text)}</h2>")
        t = plan_result.table.head(15)
        cols = ["rank", "regimen", "p_goal", "durability_weeks", "clinic_visits", "why"]
        parts.append(
            _table(
                cols,
                [
                    [_num(r[c]) if c in cols[2:5] or c == "rank" else _e(r[c]) for c in cols]
                    for _, r in t.iterrows()
                ],
                {0, 2, 3, 4},
            )
        )
        parts.append(_plan_figure(plan_result, twin))
        parts.append(
            f"<p>{len(plan_result.table)} candidate regimens evaluated under the constraints "
            f"{_e(plan_result.constraints.model_dump(exclude_defaults=True) or 'none')}.</p>"
        )
    parts.append(f'<p class="disclaimer">{_e(DISCLAIMER)}</p></body></html>')
    write_text_atomic(path, "\n".join(parts))
    return path
