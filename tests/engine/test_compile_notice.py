"""The one-line notice before a kernel compiles (issue 15: a first run sat silent ~97 s)."""

from __future__ import annotations

import io
import sys

from dermatwin.engine.kernel import compile_notice


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_notice_on_a_terminal_only_when_numba_has_no_cache(tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert compile_notice("skin_04a3230754707e23", tmp_path)
    assert terminal.getvalue() == (
        "dermatwin: compiling the skin model's solver (first run only, 1-2 minutes)...\n"
    )
    # numba's index of a compiled entry point: the kernel loads from the cache, silently
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "k_skin_04a3230754707e23.solve_batch-1118.py311.nbi").touch()
    assert not compile_notice("skin_04a3230754707e23", tmp_path)
    assert compile_notice("miyano2021_005d3f16e7b2cc19", tmp_path)  # another kernel
    assert terminal.getvalue().count("\n") == 2
    # in pipes, logs and tests (stderr not a terminal): nothing
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not compile_notice("shmarov2022_4a1bad201d08b520", tmp_path)
