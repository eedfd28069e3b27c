"""Terminal tables of the CLI that fit the console's width (80 columns included).

Arm and endpoint names are identifiers a user types back (``--endpoint``, SQL), so they are
never cut with an ellipsis: a wide result is split into several narrower tables (one per
group of arms), and every column folds (``overflow="fold"``) rather than truncates should a
single name still be wider than the terminal. Only :mod:`rich` is imported here, so the
module is cheap to load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

#: wide enough that measuring a table never caps it at the console's width
_UNBOUNDED = 100_000


def num(x: float | None, fmt: str = ".1f") -> str:
    """``x`` formatted, or ``n/a`` for a missing value (None)."""
    return "n/a" if x is None else format(x, fmt)


def interval(ci: Sequence[float | None] | None, fmt: str = ".1f") -> str:
    """A confidence interval as ``lo to hi`` ("to": the bounds may be negative)."""
    if not ci or ci[0] is None or ci[1] is None:
        return "no CI"
    return f"{format(ci[0], fmt)} to {format(ci[1], fmt)}"


def p_value(p: float | None) -> str:
    """A p-value as ``p = 0.042``, ``p < 0.001`` or ``p n/a``."""
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _table(lines: bool = True) -> Table:
    """A table without title: titles are printed as lines of their own, which wrap at the
    console's width rather than at a narrow table's."""
    # no outer edge and collapsed padding: three arms with their CIs fit next to the longest
    # usual endpoint name (mean_pct_change:pruritus_NRS@12w) in 80 columns
    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        show_lines=lines,
    )


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` at its natural width fits the console."""
    options = console.options.update(max_width=_UNBOUNDED)
    return console.measure(table, options=options).maximum <= console.width


def arm_groups(
    console: Console, make: Callable[[list[str]], Table], arms: Sequence[str]
) -> list[list[str]]:
    """``arms`` (or any column keys) split, in order, into consecutive groups whose table
    (``make(group)``) fits the console, each as large as fits; a group holds at least one."""
    groups: list[list[str]] = []
    for arm in arms:
        if groups and fits(console, make([*groups[-1], arm])):
            groups[-1].append(arm)
        else:
            groups.append([arm])
    return groups


def columns_table(
    row_header: str, row_names: Sequence[str], columns: Sequence[tuple[str, list[str]]]
) -> Table:
    """A table with one row per name in ``row_names`` (first column ``row_header``) and the
    ``columns`` given as (header, cells, one per row); cells may hold several lines."""
    table = _table()
    table.add_column(row_header, overflow="fold")
    for header, _ in columns:
        table.add_column(header, justify="right", overflow="fold")
    for i, name in enumerate(row_names):
        table.add_row(name, *(cells[i] for _, cells in columns))
    return table


def print_columns(
    console: Console,
    title: str,
    row_header: str,
    row_names: Sequence[str],
    columns: Sequence[tuple[str, list[str]]],
) -> None:
    """:func:`columns_table`, split into consecutive groups of columns (each a table of
    its own, under the same title) where all the columns do not fit the console."""
    by_header = dict(columns)

    def make(headers: list[str]) -> Table:
        return columns_table(row_header, row_names, [(h, by_header[h]) for h in headers])

    for group in arm_groups(console, make, list(by_header)):
        console.print(title, markup=False)
        console.print(make(group))
        console.print()


def _arm_n(info: Mapping[str, dict]) -> int:
    return max((e.get("n") or 0 for e in info.values()), default=0)


def estimate_columns(summary: Mapping, endpoints: Sequence[str]) -> list[tuple[str, list[str]]]:
    """One column per arm (header: name and n): each endpoint's estimate over its 95 % CI."""
    columns = []
    for arm, info in summary["arms"].items():
        cells = []
        for e in endpoints:
            est = info.get(e, {})
            cells.append(f"{num(est.get('estimate'))}\n{interval(est.get('ci'))}")
        columns.append((f"{arm}\nn = {_arm_n(info)}", cells))
    return columns


def difference_columns(summary: Mapping, endpoints: Sequence[str]) -> list[tuple[str, list[str]]]:
    """One column per arm compared with the reference: each endpoint's difference, its
    95 % CI and p-value."""
    by_arm: dict[str, dict[str, dict]] = {}
    for c in summary.get("comparisons", []):
        by_arm.setdefault(c["arm"], {})[c["endpoint"]] = c
    columns = []
    for arm, found in by_arm.items():
        cells = []
        for e in endpoints:
            c = found.get(e)
            if c is None:
                cells.append("n/a")
                continue
            diff = num(c.get("difference"), "+.1f")
            cells.append(f"{diff}\n{interval(c.get('ci'))}\n{p_value(c.get('p_value'))}")
        columns.append((arm, cells))
    return columns


def print_trial_summary(console: Console, summary: Mapping, endpoints: Sequence[str]) -> None:
    """A trial's summary (:func:`dermatwin.trials.statistics.summarise`): endpoints as
    rows, the estimate of every arm, then every arm's difference from the reference arm,
    as tables that fit ``console.width`` (split into groups of arms where all do not)."""
    if not summary.get("arms"):
        console.print("(no arms analysed)")
        return
    endpoints = list(endpoints)
    print_columns(
        console, "estimate (95 % CI)", "endpoint", endpoints, estimate_columns(summary, endpoints)
    )
    comparisons = summary.get("comparisons", [])
    if comparisons:
        kind = "paired difference" if summary.get("paired") else "difference"
        title = f"{kind} vs {comparisons[0]['reference']} (95 % CI, p)"
        print_columns(console, title, "endpoint", endpoints, difference_columns(summary, endpoints))
    console.print(
        "rates in % of patients, their differences in percentage points; "
        "n: patients analysed (fewer where a value is missing, see summary.json)"
    )


def _key_value_table(rows: Sequence[tuple[str, str]]) -> Table:
    table = _table(lines=False)
    table.show_header = False
    table.add_column("", overflow="fold")
    table.add_column("", justify="right", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def print_power(console: Console, result: Mapping) -> None:
    """``trial power``'s result (an estimate, or a search of n per arm) as a table."""
    endpoint, alpha = result["endpoint"], result["alpha"]
    if "target" in result:  # a search of n per arm
        console.print(f"power of {endpoint} by n per arm (alpha {alpha:g})", markup=False)
        table = _table(lines=False)
        table.add_column("n per arm", justify="right", overflow="fold")
        table.add_column("power", justify="right", overflow="fold")
        for n, pw in result.get("evaluated", []):
            table.add_row(str(n), num(pw, ".2f"))
        console.print(table)
        found, target = result.get("n_per_arm"), f"{result['target']:g}"
        console.print(
            f"smallest n per arm with power >= {target}: {found} "
            f"(power {num(result.get('power'), '.2f')})"
            if found is not None
            else f"power {target} not reached up to the largest n searched",
            markup=False,
        )
        return
    rows = [(f"n {arm}", str(n)) for arm, n in result.get("arms", {}).items()]
    rows += [
        ("power", num(result.get("power"), ".2f")),
        ("95 % CI", interval(result.get("ci"), ".2f")),
        ("replicates significant", f"{result.get('significant')} of {result.get('n')}"),
    ]
    console.print(f"power of {endpoint} (alpha {alpha:g})", markup=False)
    console.print(_key_value_table(rows))


def print_prediction(console: Console, result: Mapping) -> None:
    """``trial predict``'s result: per endpoint, each arm's predictive mean and 95 %
    interval, then each arm minus the reference with P(difference > 0)."""
    console.print(
        f"{result['trial']}: predicted with parameter set {result['parameter_set']} "
        f"({result['runs']} runs; 95 % intervals include {result['interval_includes']}); "
        "rates in % of patients",
        markup=False,
    )
    table = _table(lines=False)
    for col in ("endpoint", "arm", "n", "mean", "95 % interval"):
        table.add_column(col, justify="right" if col in ("n", "mean") else "left", overflow="fold")
    for r in result["arms"]:
        table.add_row(r["endpoint"], r["arm"], str(r["n"]), num(r["mean"]), interval(_lh(r)))
    console.print(table)
    if not result["differences"]:
        return
    table = _table(lines=False)
    for col in ("endpoint", "arm minus reference", "mean", "95 % interval", "P(> 0)"):
        justify = "right" if col in ("mean", "P(> 0)") else "left"
        table.add_column(col, justify=justify, overflow="fold")
    for r in result["differences"]:
        table.add_row(
            r["endpoint"],
            f"{r['arm']} - {r['reference']}",
            num(r["mean"], "+.1f"),
            interval(_lh(r)),
            num(r["p_above_zero"], ".2f"),
        )
    console.print(table)


def _lh(r: Mapping) -> tuple[float, float]:
    return (r["low"], r["high"])


def print_relapse(console: Console, relapse: Mapping) -> None:
    """``twin predict``'s relapse summary in words (days from the first visit)."""
    last = relapse.get("last_dose_day")
    if last is None:
        rows = [("relapse", "not assessed: the regimen has no dose")]
    else:
        p = relapse.get("probability_of_relapse")
        median = relapse.get("median_days_to_relapse")
        rows = [
            ("last dose", f"day {last:g}"),
            ("follow-up after it", f"{num(relapse.get('follow_up_days'), 'g')} days"),
            ("draws assessed", str(relapse.get("responders_at_last_dose", "n/a"))),
            ("probability of relapse", "n/a" if p is None else f"{100 * p:.0f} %"),
            (
                "median time to relapse",
                "not reached (under half relapse)" if median is None else f"{median:g} days",
            ),
        ]
    if relapse.get("failed_draws"):
        rows.append(("failed draws", str(relapse["failed_draws"])))
    console.print("relapse after the last dose")
    console.print(_key_value_table(rows))


def print_baseline(console: Console, baseline: Mapping) -> None:
    """Table 1 of a baseline-matched trial (``summary["baseline"]``): the targeted scores
    as rows (mean +- SD, or the category shares), one column per arm, then the target."""
    from dermatwin.trials.table1 import target_text

    targets = baseline["targets"]
    names = list(targets)
    columns = []
    for arm, entry in baseline["arms"].items():
        cells = []
        for name in names:
            e = entry.get(name, {})
            if "shares" in e:
                listed = [int(k) for k in targets[name]["shares"]]
                shares = {int(k): v for k, v in e["shares"].items()}
                cells.append(", ".join(f"{k}: {100 * (shares.get(k) or 0):.0f} %" for k in listed))
            elif e.get("mean") is not None:
                sd = "n/a" if e.get("sd") is None else f"{e['sd']:.3g}"
                cells.append(f"{e['mean']:.3g} \u00b1 {sd}")
            else:
                cells.append("n/a")
        columns.append((arm, cells))
    columns.append(("target", [target_text(targets[n]) for n in names]))
    print_columns(console, "baseline (Table 1; population.baseline)", "score", names, columns)
