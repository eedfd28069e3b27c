"""Saving trajectories: long-format Parquet (patient, time, variable, value) and NetCDF.

>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset({"EASI": (("patient", "time"), np.ones((2, 3)))},
...                 coords={"patient": [0, 1], "time": [0.0, 7.0, 14.0]})
>>> to_long_frame(ds).shape
(6, 4)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr


def trajectory_variables(ds: xr.Dataset) -> list[str]:
    """Data variables that are (patient, time) trajectories."""
    return [name for name, da in ds.data_vars.items() if da.dims == ("patient", "time")]


def to_long_frame(ds: xr.Dataset, variables: list[str] | None = None) -> pd.DataFrame:
    """One row per (patient, time, variable)."""
    names = variables or trajectory_variables(ds)
    frame = ds[names].to_dataframe().reset_index()
    long = frame.melt(id_vars=["patient", "time"], value_vars=names, var_name="variable")
    return long[["patient", "time", "variable", "value"]]


def write_parquet(ds: xr.Dataset, path: str | Path) -> Path:
    """Trajectories (long format) plus per-patient status in Parquet files."""
    path = Path(path)
    to_long_frame(ds).to_parquet(path, index=False)
    return path


def write_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """The whole Dataset (states, outputs, parameters, status) as NetCDF."""
    path = Path(path)
    # xarray asks dask which scheduler is current even for in-memory data; a distributed
    # client that made itself the default and is gone (closed, lost) would make the write
    # fail, so the write runs on dask's synchronous scheduler whatever the global setting
    try:
        import dask
    except ImportError:  # pragma: no cover - dask is a dependency
        ds.to_netcdf(path)
        return path
    with dask.config.set(scheduler="synchronous"):
        ds.to_netcdf(path)
    return path


def read_netcdf(path: str | Path) -> xr.Dataset:
    with xr.open_dataset(path) as ds:
        return ds.load()
