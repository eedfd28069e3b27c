"""One self-contained HTML report of a virtual trial (tables, and PNG figures inlined as base64).

Figures (matplotlib, Agg, no display needed):

* mean of each trajectory variable over time per arm, with a band for the 95 % confidence
  interval of the mean (mean +- t quantile x standard error over the patients at that time);
* responder rates (``rate`` endpoints) per arm with 95 % Wilson intervals (from the summary);
* waterfall of each patient's % change from baseline (time 0) of the primary variable at the
  last time in the trajectories, one panel per arm (negative = improvement);
* Kaplan-Meier curves per arm for every ``time_to_event`` endpoint.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from dermatwin._base.atomic import write_text_atomic
from dermatwin.report.plots import DISCLAIMER
from dermatwin.trials.statistics import EVENT_SUFFIX, kaplan_meier, rate_difference

_CSS = """
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
.disclaimer { border: 1px solid #c60; background: #fff4e5; padding: 0.6em; font-weight: bold; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(x, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if math.isnan(v) or math.isinf(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) < 0.01:
        return f"{v:.2e}"
    return f"{v:.{digits}g}"


def _ci(ci) -> str:
    if not ci or all(c is None for c in ci):
        return "n/a"
    return f"{_num(ci[0])} to {_num(ci[1])}"


def _p(p) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "&lt; 0.001" if p < 0.001 else f"{p:.3f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _png(fig: Figure, alt: str) -> str:
    fig.text(0.99, 0.005, DISCLAIMER, ha="right", va="bottom", fontsize=7, color="0.4")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _arm_order(*frames: pd.DataFrame) -> list[str]:
    arms: list[str] = []
    for df in frames:
        if df is not None and "arm" in df.columns:
            arms += [str(a) for a in pd.unique(df["arm"]) if str(a) not in arms]
    return arms


def _colours(arms: list[str]) -> dict[str, str]:
    return {arm: f"C{i % 10}" for i, arm in enumerate(arms)}


# ---------------------------------------------------------------------------------------------
# figures


def _trajectory_figure(traj: pd.DataFrame, variable: str, arms, colours, level: float) -> str:
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
        ax.plot(t, mean, color=colours[arm], lw=1.8, label=f"{arm}")
        ax.fill_between(t, mean - half, mean + half, color=colours[arm], alpha=0.2, lw=0)
    ax.set_xlabel("time (weeks)")
    ax.set_ylabel(f"mean {variable}")
    ax.set_title(
        f"{variable}: mean per arm, band = {100 * level:.0f} % CI of the mean", fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _png(fig, f"mean {variable} over time by arm")


def _responder_figure(summary: dict, rate_names: list[str], arms, colours) -> str:
    fig = Figure(figsize=(max(5.0, 1.6 * len(rate_names) * max(1, len(arms)) / 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(arms))
    x = np.arange(len(rate_names), dtype=float)
    for i, arm in enumerate(arms):
        est, lo, hi = [], [], []
        for name in rate_names:
            r = summary.get("arms", {}).get(arm, {}).get(name, {})
            e = r.get("estimate")
            ci = r.get("ci") or [None, None]
            est.append(np.nan if e is None else e)
            lo.append(np.nan if ci[0] is None or e is None else e - ci[0])
            hi.append(np.nan if ci[1] is None or e is None else ci[1] - e)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, est, width, color=colours[arm], label=arm)
        ax.errorbar(pos, est, yerr=[lo, hi], fmt="none", ecolor="k", capsize=3, lw=1)
    ax.set_xticks(x, rate_names, fontsize=8)
    ax.set_ylabel("responders (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Responder rates with 95 % Wilson intervals", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _png(fig, "responder rates by arm")


def _waterfall_figure(traj: pd.DataFrame, variable: str, arms, colours) -> str | None:
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
    fig = Figure(figsize=(7, 2.4 * len(present)))
    axes = fig.subplots(len(present), 1, squeeze=False, sharey=True)[:, 0]
    arm_level = change.index.get_level_values("arm").astype(str)
    for ax, arm in zip(axes, present, strict=True):
        v = np.sort(change[arm_level == arm].to_numpy(dtype=float))[::-1]
        # one step patch, not a bar per patient: tens of thousands of bars cost
        # hundreds of MB and most of the report's time in large trials
        ax.stairs(v, np.arange(v.size + 1), baseline=0.0, fill=True, color=colours[arm])
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylabel("% change")
        ax.set_title(f"{arm} (n = {v.size})", fontsize=9)
        ax.set_xticks([])
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(
        f"{variable}: % change from baseline at day {t_last:g} (each bar a patient)", fontsize=10
    )
    fig.tight_layout()
    return _png(fig, f"waterfall of {variable} % change by arm")


def _km_figure(endpoints: pd.DataFrame, name: str, arms, colours) -> str:
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
        label = f"{arm} (median {_num(med)} d)" if not math.isnan(med) else f"{arm}"
        ax.step(t, s, where="post", color=colours[arm], lw=1.6, label=label)
        cens = table[table["censored"] > 0]
        ax.plot(cens["time"], cens["survival"], "|", color=colours[arm], ms=7)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days")
    ax.set_ylabel("event-free fraction")
    ax.set_title(f"Kaplan-Meier: {name} (| = censored)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _png(fig, f"Kaplan-Meier curves for {name}")


# ---------------------------------------------------------------------------------------------
# the report


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
) -> Path:
    """Write the trial report to ``path`` (atomically) and return the path.

    ``summary`` is the output of :func:`dermatwin.trials.statistics.summarise`; ``endpoints``,
    ``kinds`` and ``trajectories`` are as described there and in the module docstring;
    ``manifest`` is shown as a key/value table (spec name, seed, versions, model hash, ...);
    ``primary`` is the variable of the waterfall plot (default: the first variable in
    ``trajectories``). All text is HTML-escaped; missing numbers are shown as "n/a".
    """
    path = Path(path)
    arms = list(summary.get("arms", {})) or _arm_order(endpoints, trajectories)
    for a in _arm_order(endpoints, trajectories):
        if a not in arms:
            arms.append(a)
    colours = _colours(arms)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="disclaimer">{_e(DISCLAIMER)}. Results are simulated (virtual patients), '
        "not clinical evidence.</p>",
    ]
    notes = [str(n) for n in notes]
    if notes:
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")

    parts.append("<h2>Manifest</h2>")
    parts.append(_table(["item", "value"], [(_e(k), _e(v)) for k, v in manifest.items()], set()))

    # per-arm endpoints, with the number of patients left out (failed, or a value that
    # could not be computed) per endpoint: the summary's count, which also holds patients
    # with no row (a failed chunk); else the missing values of the table
    def excluded(arm: str, name: str, kind: str, r: Mapping) -> int | None:
        if r.get("excluded") is not None:
            return int(r["excluded"])
        if endpoints is None or name not in endpoints.columns:
            return None
        g = endpoints[endpoints["arm"].astype(str) == arm]
        miss = ~np.isfinite(g[name].to_numpy(dtype=float))
        if kind == "time_to_event" and name + EVENT_SUFFIX in g.columns:
            miss |= ~np.isfinite(g[name + EVENT_SUFFIX].to_numpy(dtype=float))
        return int(miss.sum())

    unit = {"rate": "% responders", "mean": "mean", "time_to_event": "median (days)"}
    rows = []
    for arm in arms:
        for name, r in summary.get("arms", {}).get(arm, {}).items():
            kind = kinds.get(name, "")
            x = excluded(arm, name, kind, r)
            rows.append(
                (
                    _e(arm),
                    _e(name),
                    _e(unit.get(kind, kind)),
                    _num(r.get("estimate")),
                    _ci(r.get("ci")),
                    _e(r.get("n")),
                    "n/a" if x is None else str(x),
                )
            )
    parts.append(f"<h2>Endpoints by arm ({100 * level:.0f} % confidence intervals)</h2>")
    parts.append(
        _table(
            ["arm", "endpoint", "statistic", "estimate", "CI", "n analysed", "excluded"],
            rows,
            {3, 4, 5, 6},
        )
    )

    def rate_test(c: dict) -> str:
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

    test = {
        "rate": "difference in % points; Newcombe CI; {rate_test}",
        "mean": "difference of means; Welch t",
        "time_to_event": "difference of medians (days); log-rank",
    }
    rows = [
        (
            _e(c["endpoint"]),
            _e(c["arm"]),
            _e(c["reference"]),
            _num(c.get("difference")),
            _ci(c.get("ci")),
            _p(c.get("p_value")),
            # a paired trial names each comparison's method in the summary
            _e(
                c.get("method")
                or test.get(kinds.get(c["endpoint"], ""), "").format(
                    rate_test=rate_test(c) if kinds.get(c["endpoint"]) == "rate" else ""
                )
            ),
        )
        for c in summary.get("comparisons", [])
    ]
    parts.append("<h2>Comparisons with the reference arm</h2>")
    parts.append(
        _table(
            ["endpoint", "arm", "reference", "difference", "CI", "p-value", "method"],
            rows,
            {3, 4, 5},
        )
    )

    parts.append("<h2>Figures</h2>")
    figures: list[str] = []
    variables: list[str] = []
    if trajectories is not None and not trajectories.empty:
        variables = [str(v) for v in pd.unique(trajectories["variable"])]
        for v in variables:
            figures.append(_trajectory_figure(trajectories, v, arms, colours, level))
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
    parts.extend(figures)
    parts.append(f"<footer><p>{_e(DISCLAIMER)}</p></footer></body></html>")
    write_text_atomic(path, "\n".join(parts) + "\n")
    return path
