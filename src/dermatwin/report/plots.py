"""PNG plots of trajectories (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from dermatwin._base.disclaimer import DISCLAIMER  # noqa: F401  (re-exported)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

TIME_UNITS = {"day": 1.0, "week": 7.0}


def plain(text: str) -> str:
    """``text`` shown literally by matplotlib: ``$`` would start mathtext (and a bad
    formula fails only when the figure is drawn, after the whole run); one line."""
    return " ".join(str(text).split()).replace("$", r"\$")


def plot_trajectories(
    ds: xr.Dataset,
    variables: list[str],
    path: str | Path,
    *,
    time_unit: str | None = None,
    title: str | None = None,
) -> Path:
    """One panel per variable: every patient (thin lines) or mean with a 5-95 % band."""
    unit = time_unit or ds.attrs.get("display_time_unit", "day")
    t = ds["time"].values / TIME_UNITS[unit]
    fig, axes = plt.subplots(len(variables), 1, figsize=(7, 2.6 * len(variables)), squeeze=False)
    for ax, name in zip(axes[:, 0], variables, strict=True):
        values = ds[name].values
        if values.shape[0] <= 20:
            ax.plot(t, values.T, lw=1.2)
        else:
            lo, mid, hi = np.nanpercentile(values, [5, 50, 95], axis=0)
            ax.fill_between(t, lo, hi, alpha=0.3, label="5-95 %")
            ax.plot(t, mid, lw=1.8, label="median")
            ax.legend(loc="best", fontsize=8)
        ax.set_ylabel(plain(f"{name} ({ds[name].attrs.get('unit', '')})"))
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(f"time ({unit}s)")
    fig.suptitle(plain(title or ds.attrs.get("model", "")), fontsize=11)
    return save_figure(fig, path)


def save_figure(fig, path: str | Path) -> Path:
    """``fig`` as a PNG at ``path`` (110 dpi) with the research-use line at its foot;
    the figure is closed."""
    fig.text(0.99, 0.005, DISCLAIMER, ha="right", va="bottom", fontsize=7, color="0.4")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
