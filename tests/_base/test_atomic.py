"""Crash-safe writers: whole files only, and the permissions any new file would get."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from dermatwin._base.atomic import write_parquet_atomic, write_text_atomic


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after)."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize(
    ("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)], ids=["022", "002", "077"]
)
def test_files_get_the_mode_the_umask_allows(tmp_path, umask, mask, mode):
    umask(mask)
    text = write_text_atomic(tmp_path / "report.html", "<html></html>")
    table = write_parquet_atomic(pd.DataFrame({"x": [1, 2]}), tmp_path / "t" / "x.parquet")
    assert stat.S_IMODE(text.stat().st_mode) == mode
    assert stat.S_IMODE(table.stat().st_mode) == mode


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    from dermatwin._base.atomic import write_atomic

    (tmp_path / "old.txt").write_text("previous")
    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "old.txt", broken)
    assert [p.name for p in tmp_path.iterdir()] == ["old.txt"]
    assert (tmp_path / "old.txt").read_text() == "previous"
