"""Global -v/--verbose and -q/--quiet (issue 15): log level, notices, progress bars."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from dermatwin._base.verbosity import notice, quiet, set_verbosity, verbosity
from dermatwin.cli import main
from dermatwin.engine import kernel


@pytest.fixture(autouse=True)
def _reset():
    yield
    set_verbosity(0)


def run(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.mark.parametrize(
    ("flags", "level"), [([], 0), (["-q"], -1), (["--quiet"], -1), (["-v"], 1), (["-vv"], 2)]
)
def test_flags_set_the_level_and_keep_json_valid(flags, level, capsys):
    set_verbosity(1 if level != 1 else 0)  # a level left by an earlier call is replaced
    code, out, err = run([*flags, "models", "--json"], capsys)
    assert code == 0 and verbosity() == level
    assert json.loads(out)[0]["name"] == "miyano2021"
    want = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG}[level]
    assert logging.getLogger("dermatwin").getEffectiveLevel() == want


def test_verbose_shows_information_and_quiet_hides_warnings(capsys):
    run(["-v", "version"], capsys)
    logging.getLogger("dermatwin.engine.kernel").info("loaded kernel k_x")
    assert "dermatwin: INFO: loaded kernel k_x" in capsys.readouterr().err
    run(["-q", "version"], capsys)
    logging.getLogger("dermatwin.engine.kernel").warning("a warning")
    logging.getLogger("dermatwin.engine.kernel").error("an error")
    err = capsys.readouterr().err
    assert "a warning" not in err and "dermatwin: ERROR: an error" in err


def test_quiet_hides_notices_and_the_compile_notice(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    set_verbosity(-1)
    assert quiet()
    notice("chunk 3: recomputing")
    assert not kernel.compile_notice("skin_abc", tmp_path)
    assert capsys.readouterr() == ("", "")
    set_verbosity(0)
    notice("chunk 3: recomputing")
    assert kernel.compile_notice("skin_abc", tmp_path)
    err = capsys.readouterr().err
    assert "chunk 3: recomputing" in err and "compiling the skin model" in err


def test_quiet_and_verbose_together_is_one_line(capsys):
    code, out, err = run(["-q", "-v", "models"], capsys)
    assert code == 2 and out == ""
    assert err.strip() == "error: -q/--quiet and -v/--verbose exclude each other; give one"
