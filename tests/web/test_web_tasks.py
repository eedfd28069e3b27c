"""A web job's result is replaced so that an interruption never leaves no result."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dermatwin.web import tasks


def _results(tmp_path: Path) -> tuple[Path, Path]:
    """An earlier result at ``out`` and a finished new one staged beside it."""
    final = tmp_path / "out"
    final.mkdir()
    (final / "result.json").write_text("old")
    stage = tasks._stage(final)
    (stage / "result.json").write_text("new")
    return stage, final


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "aside"])
def test_a_result_is_replaced_whole(tmp_path, monkeypatch, exchange):
    if not exchange:  # a file system without renameat2(RENAME_EXCHANGE)
        monkeypatch.setattr(tasks, "exchange", lambda a, b: False)
    stage, final = _results(tmp_path)
    tasks._publish(stage, final)
    assert (final / "result.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the old one is gone


def test_an_interrupted_replacement_keeps_the_old_result(tmp_path, monkeypatch):
    """Without the exchange: the new result's rename fails (a kill, a full disk) after
    the old one was moved aside; the old one is back (it used to be deleted first)."""
    monkeypatch.setattr(tasks, "exchange", lambda a, b: False)
    stage, final = _results(tmp_path)
    rename = os.rename

    def interrupted(src, dst):
        if Path(src) == stage:
            raise OSError(28, "No space left on device")
        rename(src, dst)

    monkeypatch.setattr(os, "rename", interrupted)
    with pytest.raises(OSError, match="No space left"):
        tasks._publish(stage, final)
    assert (final / "result.json").read_text() == "old"


def test_deleting_the_old_result_comes_after_the_new_one_is_in_place(tmp_path, monkeypatch):
    """An interruption while the old result is deleted leaves the new one in place."""
    stage, final = _results(tmp_path)

    def killed(path, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        tasks._publish(stage, final)
    assert (final / "result.json").read_text() == "new"
