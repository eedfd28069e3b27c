"""Kept for import compatibility: the IGA/PGA mapping lives in :mod:`dermatwin.disease.severity`."""

from dermatwin.disease.severity import (  # noqa: F401
    IGA_EASI_EDGES,
    PGA_PASI_EDGES,
    _category,
    _edges,
    iga_from_easi,
    pga_from_pasi,
)
