"""The command line: real runs in a subprocess, one-line errors, no partial outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SMALL = """
model: shmarov2022
horizon: 120
output_every: 2
steady_state: false
arms:
  stim:
    events: [{time: 10, set_parameter: dc_stim, value: 6000, duration: 2}]
  control: {}
outputs: [PASI_index, totC]
endpoints: [mean:PASI_index@120d]
"""


def dermatwin(*args, cwd=None):
    cmd = [sys.executable, "-m", "dermatwin.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=os.environ.copy())


def test_simulate_writes_all_outputs(tmp_path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL)
    out = tmp_path / "out"
    proc = dermatwin("simulate", scenario, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["arms"]["stim"]["endpoints"]["mean:PASI_index@120d"]["estimate"] > 0.9
    assert abs(summary["arms"]["control"]["endpoints"]["mean:PASI_index@120d"]["estimate"]) < 1e-3
    files = {p.name for p in out.iterdir()}
    assert {
        "trajectories.parquet",
        "trajectories.nc",
        "summary.json",
        "manifest.json",
        "plot_stim.png",
        "plot_control.png",
    } <= files
    frame = pd.read_parquet(out / "trajectories.parquet")
    assert list(frame.columns) == ["arm", "patient", "time", "variable", "value"]
    assert set(frame["variable"]) == {"PASI_index", "totC"}
    assert len(frame) == 2 * 61 * 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"] == "shmarov2022" and len(manifest["model_hash"]) == 16
    assert "not a medical device" in manifest["disclaimer"]
    assert manifest["environment"]["pandas"] == pd.__version__  # the run's environment
    assert manifest["environment"]["python"].startswith("{}.{}.".format(*sys.version_info))


def _strict_json(text: str):
    """json.loads refusing NaN / Infinity, as every non-Python JSON reader does."""

    def refuse(name):
        raise ValueError(f"invalid JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_simulate_json_is_strict_and_names_the_step_limit(tmp_path):
    """A patient that runs out of steps (here while equilibrating) is MAX_STEPS, not
    NON_FINITE; its missing estimates are null in the printed and the written JSON."""
    scenario = tmp_path / "steps.yaml"
    text = SMALL.replace("steady_state: false", "steady_state: true")
    scenario.write_text(text + "solver: {max_steps: 20}\n")
    out = tmp_path / "out"
    proc = dermatwin("simulate", scenario, "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = _strict_json(proc.stdout)
    assert summary == _strict_json((out / "summary.json").read_text())
    for arm in summary["arms"].values():
        assert arm["status"] == {"MAX_STEPS": arm["patients"]}
        endpoint = arm["endpoints"]["mean:PASI_index@120d"]
        assert endpoint["estimate"] is None and endpoint["n"] == 0
        assert endpoint["excluded"] == arm["patients"]


BAD = {
    "unknown model": ("model: shmarov2021", "allowed: miyano2021, shmarov2022"),
    "unknown drug": (
        "arms: {a: {treatments: [{intervention: aspirin}]}}",
        "unknown intervention 'aspirin'",
    ),
    "negative dose": (
        "arms: {a: {events: [{time: 1, bolus: T, amount: -5}]}}",
        "'arms.a.events.0.amount'",
    ),
    "dose outside horizon": (
        "arms: {a: {events: [{time: 199, bolus: T, amount: 5}]}}",
        "outside [0, horizon=120.0]",
    ),
    "NaN parameter": ("parameters: {sc2: .nan}", "parameter sc2 must be a finite number"),
    "missing field": ("horizon: null", "scenario field 'horizon'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path, case):
    line, expected = BAD[case]
    text = SMALL.replace("model: shmarov2022", line) if line.startswith("model") else SMALL
    if line.startswith("arms"):
        text = text.split("arms:")[0] + line + "\n"
    elif line.startswith("parameters"):
        text = SMALL + line + "\n"
    elif line.startswith("horizon"):
        text = SMALL.replace("horizon: 120", line)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    out = tmp_path / "out"
    proc = dermatwin("simulate", scenario, "--out", out)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists() and list(tmp_path.iterdir()) == [scenario]


def test_models_and_export(tmp_path):
    proc = dermatwin("models", "--json")
    assert proc.returncode == 0
    names = [m["name"] for m in json.loads(proc.stdout)]
    assert names == ["miyano2021", "shmarov2022", "skin"]
    target = tmp_path / "m.xml"
    proc = dermatwin("export", "sbml", "miyano2021", "-o", target)
    assert proc.returncode == 0, proc.stderr
    assert "<sbml" in target.read_text()
    proc = dermatwin("export", "sbml", "nomodel", "-o", tmp_path / "x.xml")
    assert proc.returncode == 2 and "unknown model 'nomodel'" in proc.stderr
    assert not (tmp_path / "x.xml").exists()


def test_examples_are_valid(examples_dir: Path):
    from dermatwin.scenario import load_scenario

    files = sorted((examples_dir / "scenarios").glob("*.yaml"))
    assert len(files) >= 3
    for f in files:
        load_scenario(f)


@pytest.mark.parametrize("name", ["miyano2021_typical_patient.yaml", "shmarov2022_plaque_uvb.yaml"])
def test_examples_run(examples_dir: Path, name):
    """Every bundled example runs to completion (the cohort one runs in test_miyano2021)."""
    from dermatwin.run import run_scenario
    from dermatwin.scenario import load_scenario

    result = run_scenario(load_scenario(examples_dir / "scenarios" / name))
    summary = result.summary()
    for arm in summary["arms"].values():
        assert arm["status"] == {"OK": arm["patients"]}
    if name.startswith("shmarov"):
        pasi = summary["arms"]["uvb"]["endpoints"]
        assert pasi["mean:PASI_index@299d"]["estimate"] > 0.99  # plaque before UVB
        assert pasi["mean:PASI_index@600d"]["estimate"] < 0.5  # UVB course cleared it
    else:
        easi = {
            k: v["endpoints"]["mean_pct_change:EASI@16w"]["estimate"]
            for k, v in summary["arms"].items()
        }
        assert easi["dupilumab"] < easi["tralokinumab"] < easi["placebo"] < 0
