"""The quickstart notebook runs top to bottom (nbclient, a fresh kernel) and shows what
it says: a treated patient improves, the trial's active arms beat placebo, a twin predicts."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebooks" / "quickstart.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_quickstart_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit the notebook without outputs"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}  # the kernel inherits the test kernel cache
    # run from the notebook's own folder, as Jupyter does (it finds examples/ above it)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.km_kwargs = {"env": env}
    client.execute()
    texts = [_text(c) for c in nb.cells if c.cell_type == "code"]
    assert "research use only" in nb.cells[0].source.lower()
    found = re.search(r"EASI ([\d.]+) at baseline, ([\d.]+) at week 16", texts[1])
    baseline, week16 = float(found[1]), float(found[2])
    assert week16 < 0.5 * baseline  # dupilumab halves the typical patient's EASI
    lines = [line.split() for line in texts[3].splitlines() if "EASI-75 at week 16" in line]
    share = {words[0]: float(words[-1]) for words in lines}
    assert share["dupilumab"] > share["placebo"] and share["dupilumab_qw"] > share["placebo"]
    assert "<Twin AD-001" in texts[4]
    assert "P(EASI-75 by week 16" in texts[5]
