"""Plot labels are shown literally: a '$' in a title or unit must not fail at draw time."""

from __future__ import annotations

import numpy as np
import xarray as xr

from dermatwin.report import plots


def test_mathtext_in_labels_is_drawn_literally(tmp_path):
    ds = xr.Dataset(
        {"EASI": (("patient", "time"), np.ones((2, 3)), {"unit": "$\\frac"})},
        coords={"time": [0.0, 1.0, 2.0]},
    )
    path = plots.plot_trajectories(ds, ["EASI"], tmp_path / "p.png", title="arm $\\frac{$\nx")
    assert path.stat().st_size > 0


def test_plain_is_one_line_with_escaped_dollars():
    assert plots.plain("a $b$\nc") == "a \\$b\\$ c"
