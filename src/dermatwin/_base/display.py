"""Short displays of dermatwin objects: a one-line ``__repr__`` and a small HTML table.

A model or a trial result holds thousands of numbers; the default dataclass repr printed
all of them (6-19 kB). These helpers keep what a user reads at a glance: a repr under
:data:`MAX_REPR` characters and an HTML table (Jupyter's ``_repr_html_``) under
:data:`MAX_HTML` bytes, every value shortened to :data:`MAX_CELL` characters.

>>> one_line("Model", "skin", [("states", 3), ("parameters", 40)])
'<Model skin: states=3, parameters=40>'
>>> "<td>3</td>" in html_table("Model skin", [("states", 3)])
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

#: longest repr (characters) and HTML table (characters), and longest shown value
MAX_REPR = 199
MAX_HTML = 4_900
MAX_CELL = 160


def shorten(value: object, limit: int = MAX_CELL) -> str:
    """``str(value)`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names(items: Sequence[str], limit: int = 6) -> str:
    """The first ``limit`` names and how many more (``a, b, c, ... (+12)``)."""
    shown = ", ".join(items[:limit])
    return shown + (f", ... (+{len(items) - limit})" if len(items) > limit else "")


def one_line(kind: str, name: str, fields: Iterable[tuple[str, object]]) -> str:
    """``<kind name: key=value, ...>``, cut to :data:`MAX_REPR` characters."""
    body = ", ".join(f"{k}={shorten(v, 60)}" for k, v in fields)
    text = f"<{kind} {shorten(name, 60)}: {body}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 4] + "...>"


def html_table(
    title: str,
    rows: Iterable[tuple[str, object]],
    header: Sequence[str] = (),
    table: Iterable[Sequence[object]] = (),
) -> str:
    """A key/value table titled ``title``, then (optionally) a second table with columns
    ``header``; rows are dropped past :data:`MAX_HTML` characters (a last row says so)."""
    parts = [f"<div><strong>{escape(shorten(title, 120))}</strong>", "<table>"]
    parts += [f"<tr><th>{escape(k)}</th><td>{escape(shorten(v))}</td></tr>" for k, v in rows]
    parts.append("</table>")
    if header:
        parts.append("<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
        rows_left = list(table)
        for i, row in enumerate(rows_left):
            cells = "".join(f"<td>{escape(shorten(c, 60))}</td>" for c in row)
            line = f"<tr>{cells}</tr>"
            if sum(map(len, parts)) + len(line) > MAX_HTML - 200:
                parts.append(
                    f'<tr><td colspan="{len(header)}">... {len(rows_left) - i} more</td></tr>'
                )
                break
            parts.append(line)
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


def parameter_set_repr(pset) -> str:
    """One line for a calibrated parameter set (name, version, number of values)."""
    return one_line(
        "ParameterSet",
        pset.name,
        [("version", pset.version), ("values", len(pset.values)), ("seed", pset.seed)],
    )


def parameter_set_html(pset) -> str:
    """A parameter set as a table: each fitted value with its unit and rows fitted to."""
    return html_table(
        f"ParameterSet {pset.name} v{pset.version}",
        [("description", pset.description or "-"), ("values", len(pset.values))],
        ("target", "value", "unit", "fitted to"),
        [(v.target, f"{v.value:.4g}", v.unit, names(list(v.fitted_to), 2)) for v in pset.values],
    )
