"""Result files: NetCDF writing does not depend on dask's global scheduler setting."""

from __future__ import annotations

import dask
import numpy as np
import xarray as xr

from dermatwin.io.results import read_netcdf, write_netcdf


def test_netcdf_is_written_whatever_dask_scheduler_is_set(tmp_path):
    """A distributed client that made itself dask's default and is gone (closed, or its
    scheduler lost) leaves ``scheduler: dask.distributed`` behind; writing must not ask
    for it (it did: "Requested dask.distributed scheduler but no Client active")."""
    ds = xr.Dataset({"EASI": (("patient", "time"), np.arange(6.0).reshape(2, 3))})
    with dask.config.set(scheduler="dask.distributed"):
        path = write_netcdf(ds, tmp_path / "t.nc")
    assert np.array_equal(read_netcdf(path)["EASI"].values, ds["EASI"].values)
