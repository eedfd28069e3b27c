"""The one HTML layer of dermatwin's reports: jinja2 templates (package data, autoescaped),
one base layout with the research-use disclaimer on every page, inline CSS and figures
embedded as base64 PNG (a report is one file with no external resources).

>>> t = Table(["arm", "n"], [["a <b>", 3]], numeric={1})
>>> "a &lt;b&gt;" in render_string("{{ table(t) }}", t=t)
True
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from dermatwin._base.atomic import write_text_atomic
from dermatwin._base.disclaimer import DISCLAIMER  # re-exported

#: shown at the top and the foot of every page


def num(x, digits: int = 4) -> str:
    """A number for a table: ``digits`` significant digits, "n/a" for None/NaN/inf."""
    if x is None or isinstance(x, bool | str):
        return "n/a" if x is None else str(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v) or math.isinf(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:.0f}"
    if abs(v) < 0.01:
        return f"{v:.2e}"
    return f"{v:.{digits}g}"


def ci(interval) -> str:
    """``lo to hi``, or "n/a"."""
    if not interval or all(c is None for c in interval):
        return "n/a"
    return f"{num(interval[0])} to {num(interval[1])}"


def pvalue(p) -> str:
    """``< 0.001`` or three decimals; "n/a" when missing."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


@dataclass
class Table:
    """A table for :func:`render`: cells are text (escaped when drawn); ``numeric`` holds
    the indices of right-aligned columns; ``caption`` is shown above it."""

    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    numeric: set[int] = field(default_factory=set)
    caption: str | None = None

    def __post_init__(self) -> None:
        self.rows = [["" if c is None else str(c) for c in row] for row in self.rows]


@dataclass
class Image:
    """A PNG figure embedded in the page (``data`` base64) with its alt text and caption."""

    alt: str
    data: str
    caption: str | None = None


def png(fig, alt: str, caption: str | None = None, dpi: int = 100) -> Image:
    """A matplotlib figure as an embedded :class:`Image` (figure-level disclaimer text
    included, no timestamps in the PNG metadata so equal figures give equal bytes)."""
    fig.text(0.99, 0.005, DISCLAIMER, ha="right", va="bottom", fontsize=7, color="0.4")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return Image(alt, base64.b64encode(buf.getvalue()).decode("ascii"), caption)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dermatwin.report", "templates"),
        autoescape=True,  # every value is text unless a template marks it otherwise
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=num, ci=ci, p=pvalue)
    env.globals.update(disclaimer=DISCLAIMER)
    return env


_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The shared jinja2 environment (templates in ``dermatwin/report/templates``)."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


def render_string(source: str, **context) -> str:
    """Render a template given as text, with the layout's macros (``table``, ``figure``)."""
    env = environment()
    macros = env.get_template("macros.html.j2").module
    return env.from_string(source).render(table=macros.table, figure=macros.figure, **context)


def render(template: str, **context) -> str:
    """The page ``template`` (a file in the templates folder) rendered with ``context``."""
    return environment().get_template(template).render(**context)


def write_page(path: str | Path, template: str, **context) -> Path:
    """Render ``template`` and write it to ``path`` atomically; returns the path."""
    path = Path(path)
    write_text_atomic(path, render(template, **context))
    return path


__all__ = ["DISCLAIMER", "Image", "Markup", "Table", "ci", "num", "png", "pvalue", "render"]
