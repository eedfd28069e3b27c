"""The CLI never loses a user's files: --out is claimed, locked and replaced atomically.

In-process (CliRunner). Refusals are checked with the work itself forbidden (a
monkeypatched model, fit or simulation that fails the test), so they prove the check
runs before any patient is screened.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from support import small_ad_trial
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.io.output_folder import MARKER_NAME, shown

SPEC = small_ad_trial(4, name="outputs", seed=5, chunk_size=6)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def one_line_error(res, text: str) -> None:
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert text in res.stderr, res.stderr


@pytest.fixture
def trial(tmp_path) -> Path:
    path = tmp_path / "trials" / "trial.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(SPEC))
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Any simulation, fit or screening fails the test: refusals come before work."""

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    for module, name in [
        ("dermatwin.trials.streaming", "trial_model_cached"),
        ("dermatwin.run", "run_scenario"),
        ("dermatwin.sensitivity", "run_sensitivity"),
        ("dermatwin.twins.fit", "fit_twin"),
        ("dermatwin.twins.predict", "predict"),
        ("dermatwin.twins.plan", "plan"),
    ]:
        monkeypatch.setattr(importlib.import_module(module), name, forbidden)
    # a twin folder and a regimen are read before the claim: stand-ins suffice
    fit = importlib.import_module("dermatwin.twins.fit")
    patient = SimpleNamespace(disease="AD")
    twin = SimpleNamespace(draws=lambda n: None, record=SimpleNamespace(patient=patient))
    monkeypatch.setattr(fit, "load_twin", lambda folder: twin)
    predict = importlib.import_module("dermatwin.twins.predict")
    monkeypatch.setattr(predict, "load_regimen", lambda path: object())


@pytest.fixture
def foreign(tmp_path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "analysis.py").write_text("print('years of work')\n")
    (folder / "notes.txt").write_text("keep me\n")
    return folder


def commands(tmp_path, trial, examples_dir, out):
    scenario = examples_dir / "scenarios" / "skin_ageing.yaml"
    twins = examples_dir / "twins"
    return {
        "simulate": ["simulate", scenario, "--out", out],
        "sensitivity": ["sensitivity", scenario, "--output", "EASI@16w", "--out", out],
        "trial run": ["trial", "run", trial, "--out", out],
        "twin fit": ["twin", "fit", twins / "ad_patient.csv", "--out", out],
        "twin predict": ["twin", "predict", tmp_path, "--regimen", trial, "--out", out],
        "plan": ["plan", tmp_path, "--goal", "EASI-50@8w", "--out", out],
    }


@pytest.mark.parametrize(
    "command", ["simulate", "sensitivity", "trial run", "twin fit", "twin predict", "plan"]
)
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_a_foreign_folder_keeps_every_file(
    tmp_path, trial, foreign, examples_dir, no_work, command, overwrite
):
    before = snapshot(foreign)
    args = commands(tmp_path / "twin", trial, examples_dir, foreign)[command]
    res = invoke(*args, *overwrite)
    one_line_error(
        res,
        f"--out {shown(foreign)}: exists and is not a dermatwin output folder (2 entries); "
        "choose another folder",
    )
    assert snapshot(foreign) == before
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["project", "trials"]


def test_places_that_are_never_an_output(tmp_path, trial, no_work, monkeypatch):
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    (home / "thesis.tex").write_text("\\section{}\n")
    (tmp_path / "notes.txt").write_text("a file\n")
    monkeypatch.setenv("HOME", str(home))
    before = snapshot(tmp_path)
    run = ["trial", "run", trial, "--overwrite", "--out"]
    one_line_error(invoke(*run, trial.parent), "holds the input trial.yaml")
    one_line_error(invoke(*run, tmp_path), "holds the input trial.yaml")
    one_line_error(invoke(*run, tmp_path / "notes.txt"), "is a file, not a folder")
    one_line_error(invoke(*run, home), f"--out {shown(home)}: is your home folder")
    one_line_error(invoke(*run, "/"), "--out /: is the root folder")
    monkeypatch.chdir(home / "work")
    one_line_error(invoke(*run, "."), "--out .: is the working folder or holds it")
    one_line_error(invoke(*run, "./sub/.."), "is the working folder or holds it")
    one_line_error(invoke(*run, ".."), "--out ..: is your home folder or holds it")
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "notes.txt", "trials"]


def test_rerun_needs_overwrite_and_replaces_the_result(tmp_path, trial):
    out = tmp_path / "out"
    first = invoke("trial", "run", trial, "--out", out, "--json")
    assert first.exit_code == 0, first.output
    assert json.loads((out / MARKER_NAME).read_text())["command"] == "trial run"
    before = snapshot(out)
    again = invoke("trial", "run", trial, "--out", out, "--json", "--seed", "9")
    one_line_error(again, "holds an earlier dermatwin output; pass --overwrite to replace it")
    assert snapshot(out) == before
    replaced = invoke("trial", "run", trial, "--out", out, "--json", "--seed", "9", "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "trials"]


def test_a_second_run_into_a_running_out_is_refused(tmp_path, trial):
    from dermatwin.trials.spec import load_trial
    from dermatwin.trials.streaming import run_trial_to, staging_folder

    out = tmp_path / "out"
    in_run, release = threading.Event(), threading.Event()
    results, errors = [], []

    def pause(chunk):
        in_run.set()
        release.wait(120)

    def first():
        try:
            results.append(run_trial_to(load_trial(trial), out, on_chunk=pause, inputs=[trial]))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert in_run.wait(300)
        stage = snapshot(staging_folder(out))
        second = invoke("trial", "run", trial, "--out", out, "--resume", "--overwrite")
        one_line_error(second, f"in use by another dermatwin run (pid {os.getpid()} on ")
        assert "trial run, started " in second.stderr
        assert snapshot(staging_folder(out)) == stage and not out.exists()
    finally:
        release.set()
        thread.join()
    assert not errors and results
    fresh = invoke("trial", "run", trial, "--out", tmp_path / "fresh", "--json")
    assert json.loads(fresh.stdout) == json.loads((out / "summary.json").read_text())


def test_disk_full_keeps_the_earlier_result_and_resume_finishes(tmp_path, trial, monkeypatch):
    import dermatwin.trials.output

    out = tmp_path / "out"
    first = invoke("trial", "run", trial, "--out", out, "--json")
    assert first.exit_code == 0, first.output
    before = snapshot(out)
    write_report = dermatwin.trials.output.write_html_report

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(dermatwin.trials.output, "write_html_report", full)
    rerun = ["trial", "run", trial, "--out", out, "--json", "--overwrite"]
    one_line_error(
        invoke(*rerun),
        f"--out {shown(out)}: cannot write (No space left on device); "
        "once it can, --resume continues the run",
    )
    assert snapshot(out) == before
    monkeypatch.setattr(dermatwin.trials.output, "write_html_report", write_report)
    resumed = invoke(*rerun, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == first.stdout


@pytest.mark.parametrize("resume", [[], ["--resume"]], ids=["fresh", "resume"])
@pytest.mark.parametrize("kind", ["folder", "file", "symlink"])
def test_a_staging_path_dermatwin_did_not_make_is_kept(
    tmp_path, trial, no_work, monkeypatch, kind, resume
):
    """``.OUT.partial`` is resumed or deleted only when it holds dermatwin's token: a user's
    folder, file or link of that name is a one-line error naming it, before any work."""
    monkeypatch.chdir(tmp_path)
    stage = tmp_path / ".res.partial"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.txt").write_text("precious\n")
    if kind == "folder":
        stage.mkdir()
        (stage / "thesis.txt").write_text("precious\n")
        (stage / "chunks.jsonl").write_text('{"header": {}}\n')
    elif kind == "file":
        stage.write_text("precious\n")
    else:
        stage.symlink_to(victim, target_is_directory=True)
    before = snapshot(tmp_path)
    res = invoke("trial", "run", trial, "--out", "res", *resume)
    one_line_error(
        res,
        "--out res: .res.partial exists and dermatwin did not make it; move it away "
        "or choose another folder",
    )
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".res.partial", "trials", "victim"]
