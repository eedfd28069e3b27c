"""Categorical severity scores assigned from continuous ones: IGA from EASI, PGA from PASI.

IGA (validated IGA for AD, 0-4) uses the EASI severity strata of Chopra et al. 2017 (Br J
Dermatol 177:1316): clear 0, almost clear 0.1-1.0, mild 1.1-7.0, moderate 7.1-21.0,
severe above 21.0 (the strata's "very severe" above 50 is IGA 4 too). PGA (static PGA
for psoriasis, 0-4) has no published PASI strata in the reference data; its edges are
assumed (PGA 0/1 at PASI <= 3, about PASI-85 from a baseline of 20, consistent with
ERASURE's IGA 0/1 65 % vs PASI-75 82 %) and are among the score-mapping values the
calibration may refit.

>>> iga_from_easi([0.05, 0.5, 5.0, 15.0, 30.0]).tolist()
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import numpy as np

#: upper EASI edges of IGA 0, 1, 2, 3 (Chopra 2017 strata)
IGA_EASI_EDGES = (0.1, 1.0, 7.0, 21.0)
#: upper PASI edges of PGA 0, 1, 2, 3 (assumed; see module docstring)
PGA_PASI_EDGES = (0.5, 3.0, 10.0, 20.0)


def _category(values, edges) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    # a value equal to an edge belongs to the lower category
    return np.searchsorted(np.asarray(edges), values, side="left").astype(np.int64)


def _edges(edges: tuple[float, ...], almost_clear: float | None) -> tuple[float, ...]:
    if almost_clear is None:
        return edges
    return (min(edges[0], almost_clear), almost_clear, *edges[2:])


def iga_from_easi(easi, iga1_easi: float | None = None) -> np.ndarray:
    """IGA 0-4; ``iga1_easi`` moves the upper EASI edge of IGA 1 (calibration)."""
    return _category(easi, _edges(IGA_EASI_EDGES, iga1_easi))


def pga_from_pasi(pasi, pga1_pasi: float | None = None) -> np.ndarray:
    """PGA 0-4; ``pga1_pasi`` moves the upper PASI edge of PGA 1 (calibration)."""
    return _category(pasi, _edges(PGA_PASI_EDGES, pga1_pasi))
