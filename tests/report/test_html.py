"""The shared HTML layer: autoescaped templates, the disclaimer on every page, no external
resources."""

from __future__ import annotations

import re

from dermatwin.report.html import DISCLAIMER, Table, render_string


def test_table_cells_are_escaped():
    out = render_string("{{ table(t) }}", t=Table(["arm <i>"], [["<b>x</b>"]]))
    assert "<b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "arm &lt;i&gt;" in out


def test_every_page_has_the_disclaimer_and_no_external_resource():
    from importlib.resources import files

    templates = [
        p.name
        for p in files("dermatwin.report").joinpath("templates").iterdir()
        if p.name.endswith(".html.j2") and p.name not in {"base.html.j2", "macros.html.j2"}
    ]
    assert {"trial.html.j2", "twin.html.j2"} <= set(templates)
    for p in files("dermatwin.report").joinpath("templates").iterdir():
        text = p.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z]", text), p.name  # no link, font or script
        assert "<script" not in text and "@import" not in text, p.name
    page = render_string('{% extends "base.html.j2" %}', title="t <x>")
    assert page.count(DISCLAIMER) == 2 and "t &lt;x&gt;" in page
    for name in ("trial.html.j2", "twin.html.j2"):  # every page is built on that layout
        text = files("dermatwin.report").joinpath("templates", name).read_text(encoding="utf-8")
        assert text.lstrip().startswith('{% extends "base.html.j2" %}'), name
