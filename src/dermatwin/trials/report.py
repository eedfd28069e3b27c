"""The HTML report of a virtual trial, read as a trial designer reads one: the headline
comparison first, then who was screened and analysed (CONSORT-style counts), baseline
characteristics (Table 1), every endpoint by arm, the differences against the reference arm,
a multiplicity note, figures, and the run's metadata at the end. Rendered through the shared
template layer (:mod:`dermatwin.report.html`); PNG figures are embedded as base64.

Figures (matplotlib, Agg, no display needed):

* mean of each score over time per arm (unit on the axis), with a band for the 95 %
  confidence interval of the mean (mean +- t quantile x standard error over the patients at
  that time); a dashed line at the withdrawal, if the trial has one;
* responder rates (``rate`` endpoints) per arm with 95 % Wilson intervals (from the summary);
* waterfall of each patient's % change from baseline (time 0) of the primary score at the
  last time in the trajectories, one panel per arm (negative = improvement), with lines at
  -50 % and -75 %;
* Kaplan-Meier curves per arm for every ``time_to_event`` endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from dermatwin.disease.scores import ORDINALS, SCORES
from dermatwin.report.html import Image, Table, ci, num, png, pvalue, write_page
from dermatwin.report.plots import plain
from dermatwin.trials.statistics import EVENT_SUFFIX, kaplan_meier, rate_difference
from dermatwin.trials.table1 import target_text


def _arm_order(*frames: pd.DataFrame) -> list[str]:
    arms: list[str] = []
    for df in frames:
        if df is not None and "arm" in df.columns:
            arms += [str(a) for a in pd.unique(df["arm"]) if str(a) not in arms]
    return arms


def _colours(arms: list[str]) -> dict[str, str]:
    return {arm: f"C{i % 10}" for i, arm in enumerate(arms)}


def axis_label(variable: str) -> str:
    """``variable`` with its unit (TEWL in g/m2/h; clinical scales in points of their range)."""
    score = SCORES.get(variable)
    if score is None:
        return plain(variable)
    if score.unit != "score":
        return plain(f"{variable} ({score.unit})")
    return plain(f"{variable} (points, {score.low:g}-{score.high:g})")


# ---------------------------------------------------------------------------------------------
# figures


def _trajectory_figure(
    traj: pd.DataFrame, variable: str, arms, colours, level: float, withdrawal: float | None
) -> Image:
    fig = Figure(figsize=(7, 3.4))
    ax = fig.add_subplot()
    sub = traj[traj["variable"] == variable]
    for arm in arms:
        g = sub[sub["arm"].astype(str) == arm].groupby("time")["value"]
        agg = g.agg(["mean", "std", "count"]).sort_index()
        if agg.empty:
            continue
        t = agg.index.to_numpy(dtype=float) / 7.0
        n = agg["count"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = stats.t.ppf(0.5 + level / 2, n - 1) * agg["std"].to_numpy() / np.sqrt(n)
        mean = agg["mean"].to_numpy()
        ax.plot(t, mean, color=colours[arm], lw=1.8, label=plain(arm))
        ax.fill_between(t, mean - half, mean + half, color=colours[arm], alpha=0.2, lw=0)
    if withdrawal is not None:
        ax.axvline(withdrawal / 7.0, color="0.3", ls="--", lw=1, label="withdrawal")
    ax.set_xlabel("time (weeks)")
    ax.set_ylabel(f"mean {axis_label(variable)}")
    ax.set_title(
        plain(f"{variable}: mean per arm, band = {100 * level:.0f} % CI of the mean"), fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return png(fig, f"mean {variable} over time by arm")


def _responder_figure(summary: dict, rate_names: list[str], arms, colours) -> Image:
    fig = Figure(figsize=(max(5.0, 1.6 * len(rate_names) * max(1, len(arms)) / 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(arms))
    x = np.arange(len(rate_names), dtype=float)
    for i, arm in enumerate(arms):
        est, lo, hi = [], [], []
        for name in rate_names:
            r = summary.get("arms", {}).get(arm, {}).get(name, {})
            e = r.get("estimate")
            interval = r.get("ci") or [None, None]
            est.append(np.nan if e is None else e)
            lo.append(np.nan if interval[0] is None or e is None else e - interval[0])
            hi.append(np.nan if interval[1] is None or e is None else interval[1] - e)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, est, width, color=colours[arm], label=plain(arm))
        ax.errorbar(pos, est, yerr=[lo, hi], fmt="none", ecolor="k", capsize=3, lw=1)
    ax.set_xticks(x, [plain(n) for n in rate_names], fontsize=8)
    ax.set_ylabel("responders (% of patients analysed)")
    ax.set_ylim(0, 100)
    ax.set_title("Responder rates with 95 % Wilson intervals", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return png(fig, "responder rates by arm")


def _waterfall_figure(traj: pd.DataFrame, variable: str, arms, colours) -> Image | None:
    sub = traj[traj["variable"] == variable]
    if sub.empty:
        return None
    t_last = float(sub["time"].max())
    base = sub[sub["time"] == sub["time"].min()].set_index(["arm", "patient"])["value"]
    last = sub[sub["time"] == t_last].set_index(["arm", "patient"])["value"]
    with np.errstate(invalid="ignore", divide="ignore"):
        change = (100.0 * (last - base) / base).dropna()
    change = change[np.isfinite(change.to_numpy(dtype=float))]
    present = [a for a in arms if a in change.index.get_level_values("arm").astype(str)]
    if not present:
        return None
    fig = Figure(figsize=(7, 2.4 * len(present) + 0.3))
    axes = fig.subplots(len(present), 1, squeeze=False, sharey=True)[:, 0]
    arm_level = change.index.get_level_values("arm").astype(str)
    for ax, arm in zip(axes, present, strict=True):
        v = np.sort(change[arm_level == arm].to_numpy(dtype=float))[::-1]
        # one step patch, not a bar per patient: tens of thousands of bars cost
        # hundreds of MB and most of the report's time in large trials
        ax.stairs(v, np.arange(v.size + 1), baseline=0.0, fill=True, color=colours[arm])
        ax.axhline(0, color="k", lw=0.8)
        for level, style in ((-50, "--"), (-75, ":")):
            ax.axhline(level, color="0.25", ls=style, lw=1, label=f"{level} %")
        ax.set_xlim(0, max(1, v.size))
        ax.set_ylabel("% change")
        ax.set_title(plain(f"{arm} (n = {v.size})"), fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("patients, sorted from least to most improved")
    fig.suptitle(
        plain(f"{variable}: % change from baseline at week {t_last / 7:g} (negative = better)"),
        fontsize=10,
    )
    fig.tight_layout()
    return png(fig, f"waterfall of {variable} % change by arm")


def _km_figure(endpoints: pd.DataFrame, name: str, arms, colours) -> Image:
    fig = Figure(figsize=(7, 3.4))
    ax = fig.add_subplot()
    for arm in arms:
        g = endpoints[endpoints["arm"].astype(str) == arm]
        table, median = kaplan_meier(
            g[name].to_numpy(dtype=float), g[name + EVENT_SUFFIX].to_numpy(dtype=float)
        )
        if table.empty:
            continue
        t = np.concatenate([[0.0], table["time"].to_numpy()])
        s = np.concatenate([[1.0], table["survival"].to_numpy()])
        med = median["estimate"]
        label = f"{arm} (median {num(med)} d)" if not math.isnan(med) else f"{arm}"
        ax.step(t, s, where="post", color=colours[arm], lw=1.6, label=plain(label))
        cens = table[table["censored"] > 0]
        ax.plot(cens["time"], cens["survival"], "|", color=colours[arm], ms=7)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days")
    ax.set_ylabel("event-free fraction")
    ax.set_title(plain(f"Kaplan-Meier: {name} (| = censored)"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return png(fig, f"Kaplan-Meier curves for {name}")


# ---------------------------------------------------------------------------------------------
# tables

STATISTIC = {"rate": "% responders", "mean": "mean", "time_to_event": "median (days)"}


def _mean_sd(x) -> str:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "n/a"
    sd = float(x.std(ddof=1)) if x.size > 1 else float("nan")
    return f"{num(x.mean(), 3)} \u00b1 {num(sd, 3)}"


def _share(mask, n: int) -> str:
    return "n/a" if n == 0 else f"{100.0 * float(np.sum(mask)) / n:.0f} %"


def screening_counts(
    endpoints: pd.DataFrame,
    summary: Mapping,
    arms: list[str],
    primary: str | None,
    failures: pd.DataFrame | None = None,
) -> dict[str, dict[str, int | None]]:
    """CONSORT-style counts per arm, from what a run records.

    Candidates are screened in index order and an arm's patients are the first ``n`` who
    qualify, so the candidates screened for an arm are its last accepted candidate's index
    + 1 (column ``candidate`` of the endpoint table; the same shared population for a paired
    trial). ``allocated``: patients simulated (analysed + excluded for the primary endpoint);
    ``failed``: simulations that failed numerically or whose chunk failed (``failures``);
    ``analysed``/``excluded``: the summary's count for the primary endpoint.
    """
    paired = bool(summary.get("paired"))
    has_candidate = endpoints is not None and "candidate" in endpoints.columns
    out: dict[str, dict[str, int | None]] = {}
    for arm in arms:
        r = summary.get("arms", {}).get(arm, {}).get(primary or "", {})
        analysed, excluded = r.get("n"), r.get("excluded")
        allocated = None if analysed is None or excluded is None else analysed + excluded
        screened = None
        if has_candidate:
            rows = endpoints if paired else endpoints[endpoints["arm"].astype(str) == arm]
            cand = pd.to_numeric(rows["candidate"], errors="coerce").dropna()
            if not cand.empty:
                screened = int(cand.max()) + 1
        failed = None
        if failures is not None and "arm" in failures.columns:
            failed = int((failures["arm"].astype(str) == arm).sum())
        out[arm] = {
            "screened": screened,
            "not_eligible": None
            if screened is None or allocated is None or paired
            else screened - allocated,
            "allocated": allocated,
            "failed": failed,
            "analysed": analysed,
            "excluded": excluded,
        }
    return out


def _screening_table(counts: Mapping[str, Mapping], paired: bool) -> Table:
    show = lambda v: "n/a" if v is None else str(v)  # noqa: E731
    labels = [
        (
            "screened",
            "candidates screened" + (" (one population shared by all arms)" if paired else ""),
        ),
        ("not_eligible", "not eligible (inclusion/exclusion criteria)"),
        ("allocated", "included and simulated"),
        ("failed", "simulation failed (numerical)"),
        ("excluded", "excluded from the primary analysis (failed or not computable)"),
        ("analysed", "analysed for the primary endpoint"),
    ]
    rows = [[label, *(show(c[key]) for c in counts.values())] for key, label in labels]
    if paired:
        rows = [r for r in rows if not r[0].startswith("not eligible")]
    return Table(["", *counts], rows, set(range(1, len(counts) + 1)))


def baseline_table(
    endpoints: pd.DataFrame,
    trajectories: pd.DataFrame,
    arms: list[str],
    targets: Mapping | None = None,
) -> Table:
    """Table 1: per arm, patients, age, sex, weight and carrier shares (the endpoint table's
    covariates), then every score at the first visit (mean +- SD) and the ordinal grade's
    category shares (from the trajectories); with ``targets`` (a baseline-matched trial:
    ``summary["baseline"]["targets"]``) a last column gives each score's target."""
    targets = targets or {}
    rows: list[list[str]] = []
    groups = {a: endpoints[endpoints["arm"].astype(str) == a] for a in arms}
    rows.append(["patients (n)", *(str(len(groups[a])) for a in arms)])
    if "age" in endpoints.columns:
        rows.append(["age (years), mean \u00b1 SD", *(_mean_sd(groups[a]["age"]) for a in arms)])
    if "sex" in endpoints.columns:
        rows.append(
            ["female", *(_share(groups[a]["sex"].astype(str) == "F", len(groups[a])) for a in arms)]
        )
    if "weight_kg" in endpoints.columns:
        rows.append(
            ["weight (kg), mean \u00b1 SD", *(_mean_sd(groups[a]["weight_kg"]) for a in arms)]
        )
    for col, label in (("flg_loss", "filaggrin loss-of-function"), ("hla_c0602", "HLA-C*06:02")):
        if col in endpoints.columns:
            rows.append(
                [label, *(_share(groups[a][col].astype(bool), len(groups[a])) for a in arms)]
            )
    if trajectories is not None and not trajectories.empty:
        first = trajectories[trajectories["time"] == trajectories["time"].min()]
        for variable in pd.unique(first["variable"]):
            sub = first[first["variable"] == variable]
            per_arm = {a: sub.loc[sub["arm"].astype(str) == a, "value"] for a in arms}
            target = targets.get(variable, {})
            if variable in ORDINALS:
                shares = {int(k): v for k, v in target.get("shares", {}).items()}
                for k in range(5):
                    rows.append(
                        [
                            f"baseline {variable} = {k}",
                            *(
                                _share(np.isclose(per_arm[a].to_numpy(float), k), len(per_arm[a]))
                                for a in arms
                            ),
                            f"{100 * shares[k]:.0f} %" if k in shares else "",
                        ]
                    )
            else:
                rows.append(
                    [
                        f"baseline {axis_label(variable)}, mean \u00b1 SD",
                        *(_mean_sd(per_arm[a]) for a in arms),
                        target_text(target) if target else "",
                    ]
                )
    if not targets:
        rows = [r[: len(arms) + 1] for r in rows]
        return Table(["characteristic", *arms], rows, set(range(1, len(arms) + 1)))
    rows = [r + [""] * (len(arms) + 2 - len(r)) for r in rows]
    header = ["characteristic", *arms, "target (population.baseline)"]
    return Table(header, rows, set(range(1, len(arms) + 2)))


def _flatten(mapping: Mapping, prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for k, v in mapping.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            rows += _flatten(v, key + ".")
        else:
            rows.append((key, str(v)))
    return rows


# ---------------------------------------------------------------------------------------------
# the report


def _rate_test(endpoints: pd.DataFrame | None, c: Mapping) -> str:
    """Which test rate_difference used for this comparison (chi-square or Fisher)."""
    if endpoints is None or c["endpoint"] not in endpoints.columns:
        return "chi-square or Fisher"
    counts = []
    for arm in (c["arm"], c["reference"]):
        x = endpoints.loc[endpoints["arm"].astype(str) == arm, c["endpoint"]]
        x = x[np.isfinite(x.to_numpy(dtype=float))]
        counts += [int((x > 0.5).sum()), int(x.size)]
    used = rate_difference(*counts)["test"]
    return {"chi2": "chi-square", "fisher": "Fisher exact"}.get(used, "n/a")


def _method(c: Mapping, kind: str, endpoints: pd.DataFrame | None) -> str:
    if c.get("method"):  # a paired trial names each comparison's method in the summary
        text = str(c["method"])
    elif kind == "rate":
        text = f"difference in % points; Newcombe CI; {_rate_test(endpoints, c)}"
    else:
        text = {
            "mean": "difference of means; Welch t",
            "time_to_event": "difference of medians (days); log-rank",
        }.get(kind, "")
    hr = c.get("hazard_ratio")
    if hr and hr.get("estimate") is not None:
        text += f"; hazard ratio {num(hr['estimate'])} ({ci(hr['ci'])})"
    return text


def _headline(summary: Mapping, primary: str, kinds: Mapping[str, str]) -> list[dict]:
    arms = summary.get("arms", {})
    out = []
    for c in summary.get("comparisons", []):
        if c["endpoint"] != primary:
            continue
        n_arm = arms.get(c["arm"], {}).get(primary, {}).get("n")
        n_ref = arms.get(c["reference"], {}).get(primary, {}).get("n")
        out.append(
            {
                "arm": c["arm"],
                "reference": c["reference"],
                "arm_estimate": num(arms.get(c["arm"], {}).get(primary, {}).get("estimate")),
                "reference_estimate": num(
                    arms.get(c["reference"], {}).get(primary, {}).get("estimate")
                ),
                "difference": num(c.get("difference")),
                "ci": ci(c.get("ci")),
                "p": pvalue(c.get("p_value")),
                "n": f"{n_arm} vs {n_ref}",
                "unit": "% points" if kinds.get(primary) == "rate" else "",
            }
        )
    return out


def _survival_rows(summary: Mapping, name: str, arms: list[str]) -> list[list[str]]:
    """Rows of the Kaplan-Meier survival of endpoint ``name`` at the trial's
    ``survival_at`` days (summary ``survival``; none without it)."""
    survival = summary.get("survival", {})
    days = next((list(survival[a][name]) for a in arms if name in survival.get(a, {})), [])
    rows = []
    for day in days:
        cells = []
        for arm in arms:
            r = survival.get(arm, {}).get(name, {}).get(day, {})
            cells.append(f"{num(r.get('estimate'))} ({ci(r.get('ci'))})")
        rows.append([f"{name} at week {float(day) / 7:g}", "survival %", *cells])
    return rows


def write_html_report(
    path: str | Path,
    *,
    title: str,
    summary: dict,
    endpoints: pd.DataFrame,
    kinds: Mapping[str, str],
    trajectories: pd.DataFrame,
    manifest: Mapping[str, object],
    notes: Iterable[str] = (),
    primary: str | None = None,
    level: float = 0.95,
    failures: pd.DataFrame | None = None,
    withdrawal: float | None = None,
) -> Path:
    """Write the trial report to ``path`` (atomically) and return the path.

    ``summary`` is the output of :func:`dermatwin.trials.statistics.summarise`; ``endpoints``,
    ``kinds`` and ``trajectories`` are as described there and in the module docstring. The
    primary endpoint is the first of ``kinds``. ``manifest`` is shown at the end as a
    key/value table (nested mappings such as the environment flattened to ``a.b`` keys);
    ``primary`` is the score of the waterfall plot (default: the first variable in
    ``trajectories``); ``failures`` (columns ``arm``, ``patient``, ``status``) gives the
    failed simulations per arm; ``withdrawal`` (days) is marked on the score curves. All
    text is HTML-escaped by the templates; missing numbers are shown as "n/a".
    """
    arms = list(summary.get("arms", {})) or _arm_order(endpoints, trajectories)
    for a in _arm_order(endpoints, trajectories):
        if a not in arms:
            arms.append(a)
    colours = _colours(arms)
    primary_endpoint = next(iter(kinds), None)
    paired = bool(summary.get("paired"))
    reference = next((c["reference"] for c in summary.get("comparisons", [])), None)

    rows = []
    for name, kind in kinds.items():
        cells = []
        for arm in arms:
            r = summary.get("arms", {}).get(arm, {}).get(name, {})
            cells.append(
                f"{num(r.get('estimate'))} ({ci(r.get('ci'))}); n {r.get('n', 'n/a')}"
                + (f", excl. {r['excluded']}" if r.get("excluded") else "")
            )
        rows.append([name, STATISTIC.get(kind, kind), *cells])
        rows += _survival_rows(summary, name, arms)
    wide = Table(["endpoint", "statistic", *arms], rows, set(range(2, len(arms) + 2)))

    comparisons = summary.get("comparisons", [])
    diff = Table(
        ["endpoint", "arm", "reference", "difference", "CI", "p-value", "method"],
        [
            [
                c["endpoint"],
                c["arm"],
                c["reference"],
                num(c.get("difference")),
                ci(c.get("ci")),
                pvalue(c.get("p_value")),
                _method(c, kinds.get(c["endpoint"], ""), endpoints),
            ]
            for c in comparisons
        ],
        {3, 4, 5},
    )
    n_p = sum(1 for c in comparisons if c.get("p_value") is not None)

    figures: list[Image] = []
    variables: list[str] = []
    if trajectories is not None and not trajectories.empty:
        variables = [str(v) for v in pd.unique(trajectories["variable"])]
        for v in variables:
            figures.append(_trajectory_figure(trajectories, v, arms, colours, level, withdrawal))
    rate_names = [n for n, k in kinds.items() if k == "rate"]
    if rate_names:
        figures.append(_responder_figure(summary, rate_names, arms, colours))
    if variables:
        wf = _waterfall_figure(trajectories, primary or variables[0], arms, colours)
        if wf is not None:
            figures.append(wf)
    for name, kind in kinds.items():
        if kind == "time_to_event" and endpoints is not None and name in endpoints.columns:
            figures.append(_km_figure(endpoints, name, arms, colours))

    counts = screening_counts(endpoints, summary, arms, primary_endpoint, failures)
    return write_page(
        path,
        "trial.html.j2",
        title=title,
        notes=[str(n) for n in notes],
        level=f"{100 * level:.0f}",
        primary=primary_endpoint,
        primary_statistic=STATISTIC.get(kinds.get(primary_endpoint or "", ""), ""),
        reference=reference,
        paired=paired,
        headline=_headline(summary, primary_endpoint, kinds) if primary_endpoint else [],
        screening=_screening_table(counts, paired),
        baseline=baseline_table(
            endpoints, trajectories, arms, summary.get("baseline", {}).get("targets")
        )
        if endpoints is not None
        else None,
        wide=wide,
        differences=diff,
        n_p=n_p,
        figures=figures,
        metadata=Table(["item", "value"], _flatten(manifest)),
    )
