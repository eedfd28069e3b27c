"""Former home of the crash-safe writers: they live in :mod:`dermatwin._base.atomic`.

Kept for code outside dermatwin (and branches not yet rebased) that imports this path;
code inside dermatwin imports from ``dermatwin._base.atomic``.
"""

from dermatwin._base.atomic import (
    create_temp,
    fsync_dir,
    write_atomic,
    write_parquet_atomic,
    write_text_atomic,
)

__all__ = [
    "create_temp",
    "fsync_dir",
    "write_atomic",
    "write_parquet_atomic",
    "write_text_atomic",
]
