"""Every CLI argument: a bad value is one line ``error: ...`` naming the flag, exit 2,
before any work; usage errors (missing argument, unknown option, text for a number) too.

The cases run ``dermatwin.cli.main`` in-process (what the installed ``dermatwin`` script
runs); one subprocess test checks the real entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dermatwin.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TRIAL = str(EXAMPLES / "trials" / "solo1_dupilumab_ad.yaml")
SCENARIO = str(EXAMPLES / "scenarios" / "miyano2021_typical_patient.yaml")
VISITS = str(EXAMPLES / "twins" / "ad_patient.csv")
REGIMEN = str(EXAMPLES / "twins" / "continue_dupilumab.yaml")


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``dermatwin ARGS``."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def assert_one_line(args: list[str], capsys, *words: str) -> str:
    code, out, err = run_main(args, capsys)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


POWER = ["trial", "power", TRIAL, "--endpoint", "EASI-75@16w"]
SENS = ["sensitivity", SCENARIO, "--output", "EASI@16w"]
FIT = ["twin", "fit", VISITS]

#: (arguments, words the one-line error must contain): each rejected while parsing
BAD_OPTIONS = {
    "trial run --seed -1": (["trial", "run", TRIAL, "--seed", "-1"], "--seed"),
    "trial run --seed 2**32": (["trial", "run", TRIAL, "--seed", str(2**32)], "--seed"),
    "trial run --workers 0": (["trial", "run", TRIAL, "--workers", "0"], "--workers"),
    "trial run --chunk-size 0": (["trial", "run", TRIAL, "--chunk-size", "0"], "--chunk-size"),
    "trial run --retries -1": (["trial", "run", TRIAL, "--retries", "-1"], "--retries"),
    "trial run --executor x": (["trial", "run", TRIAL, "--executor", "gpu"], "--executor"),
    "power --n-max 0": ([*POWER, "--target", "0.8", "--n-max", "0"], "--n-max"),
    "power --replicates 0": ([*POWER, "--replicates", "0"], "--replicates"),
    "power --alpha 2": ([*POWER, "--alpha", "2"], "--alpha", "between 0 and 1"),
    "power --alpha nan": ([*POWER, "--alpha", "nan"], "--alpha"),
    "power --target 1.5": ([*POWER, "--target", "1.5"], "--target", "between 0 and 1"),
    "power --workers 0": ([*POWER, "--workers", "0"], "--workers"),
    "sensitivity --n 0": ([*SENS, "--n", "0"], "--n"),
    "sensitivity --fold 0.5": ([*SENS, "--fold", "0.5"], "--fold", "> 1"),
    "sensitivity --seed -1": ([*SENS, "--seed", "-1"], "--seed"),
    "sensitivity --method x": ([*SENS, "--method", "fast"], "--method", "sobol"),
    "twin fit --walkers 3": ([*FIT, "--walkers", "3"], "--walkers"),
    "twin fit --steps 0": ([*FIT, "--steps", "0"], "--steps"),
    "twin fit --burn -1": ([*FIT, "--burn", "-1"], "--burn"),
    "twin fit --seed -1": ([*FIT, "--seed", "-1"], "--seed"),
    "twin fit --moves x": ([*FIT, "--moves", "x"], "--moves", "stretch"),
    "twin fit --walkers huge": ([*FIT, "--walkers", "10000000"], "--walkers"),
    "twin predict --draws 0": (
        ["twin", "predict", "TWIN", "--regimen", REGIMEN, "--draws", "0"],
        "--draws",
    ),
    "plan --draws 0": (["plan", "TWIN", "--draws", "0"], "--draws"),
    "plan --top -1": (["plan", "TWIN", "--top", "-1"], "--top"),
    "plan --top 0": (["plan", "TWIN", "--top", "0"], "--top"),
    "calibrate --workers 0": (["calibrate", "--workers", "0"], "--workers"),
    "calibrate --workers -1": (["calibrate", "--workers", "-1"], "--workers"),
    "calibrate --workers huge": (["calibrate", "--workers", "100000"], "--workers", "per CPU"),
    "calibrate-placebo --workers 0": (["calibrate-placebo", "--workers", "0"], "--workers"),
    "calibrate-placebo --workers huge": (
        ["calibrate-placebo", "--workers", "100000"],
        "--workers",
        "per CPU",
    ),
    "validate --workers huge": (["validate", "--workers", "100000"], "--workers", "per CPU"),
    # usage errors: typer's boxed messages become one line
    "text for a number": ([*FIT, "--seed", "x"], "--seed"),
    "unknown option": ([*FIT, "--sed", "1"], "--sed"),
    "missing argument": (["twin", "fit"], "Missing argument"),
    "missing option": (["trial", "power", TRIAL], "--endpoint"),
    "unknown command": (["simulte"], "simulte"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_option_is_one_line(case, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written: results/ must not appear
    args, *words = BAD_OPTIONS[case]
    assert_one_line(args, capsys, *words)
    assert list(tmp_path.iterdir()) == []


def test_help_still_exits_0(capsys):
    for args in ([], ["--help"], ["twin"], ["twin", "fit", "--help"]):
        code, out, err = run_main(args, capsys)
        assert code == 0 and "Usage" in out and not err, (args, code, err)
    code, out, _ = run_main(["version"], capsys)
    assert code == 0 and out.strip()


def test_file_arguments_missing_or_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.yaml"
    folder = tmp_path / "folder"
    folder.mkdir()
    too_long = tmp_path / ("y" * 300 + ".yaml")  # a name the file system refuses
    for path in (missing, folder, too_long):
        commands = [
            ["simulate", path],
            [*SENS[:1], path, *SENS[2:]],
            ["trial", "run", path],
            ["trial", "power", path, "--endpoint", "EASI-75@16w"],
            ["twin", "fit", path],
            ["twin", "predict", path, "--regimen", REGIMEN],
            ["plan", path],
            ["validate", "--set", path],
        ]
        for args in commands:
            assert_one_line(args, capsys, path.name[-20:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_export_sbml_output_folder_and_unknown_model(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    assert_one_line(["export", "sbml", "miyano2021", "-o", folder], capsys, "-o/--output", "folder")
    assert_one_line(["export", "sbml", "nomodel", "-o", tmp_path / "x.xml"], capsys, "nomodel")
    assert list(folder.iterdir()) == [] and not (tmp_path / "x.xml").exists()


def test_real_entry_point_usage_error_is_one_line():
    cmd = [sys.executable, "-m", "dermatwin.cli", "trial", "run", TRIAL, "--seed", "-1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "--seed" in proc.stderr and not proc.stdout


def test_export_sbml_dosing_flags(tmp_path, capsys):
    out = tmp_path / "x.xml"
    base = ["export", "sbml", "-o", out]
    cases = [
        (["miyano2021", "--regimen", REGIMEN], "--regimen", "only for the skin model"),
        (["shmarov2022", "--set", "CAL-4"], "--set", "only for the skin model"),
        (["skin", "--regimen", REGIMEN, "--trial", TRIAL], "--regimen, --trial"),
        (["skin", "--arm", "placebo"], "--arm", "--trial"),
        (["skin", "--trial", TRIAL, "--arm", "nope"], "arm 'nope'", "allowed: dupilumab"),
        (["skin", "--set", "nope"], "--set: unknown set 'nope'", "allowed: default"),
        (["skin", "--regimen", VISITS], "ad_patient.csv", "TIME"),  # visits, not doses
        (["skin", "--weight", "0"], "--weight"),
    ]
    for args, *words in cases:
        assert_one_line([*base[:2], args[0], *base[2:], *args[1:]], capsys, *words)
    assert not out.exists()
