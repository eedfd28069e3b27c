"""Sensitivity analysis finds the parameters that really drive an output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dermatwin.errors import ScenarioError
from dermatwin.scenario import Scenario
from dermatwin.sensitivity import run_sensitivity

SHMAROV = {"model": "shmarov2022", "horizon": 60, "steady_state": False}


def test_sobol_ranks_a_parameter_that_cannot_matter_last():
    """The PASI-index normaliser for T cells does not enter any equation, so its total
    index must be ~0, while the desquamation rate drives total cell numbers."""
    s = Scenario.model_validate(SHMAROV)
    r = run_sensitivity(
        s, "totC@60d", method="sobol", n=64, parameters=["desq", "sc2", "pasi_T_healthy"]
    )
    st = dict(zip(r.table["parameter"], r.table["ST"], strict=True))
    assert r.table["parameter"].iloc[0] in {"desq", "sc2"}
    assert st["pasi_T_healthy"] < 1e-6 < st["desq"]
    assert r.n_failed == 0 and r.n_simulations == 64 * (3 + 2)


def test_morris_on_miyano_dupilumab_response():
    s = Scenario.model_validate(
        {
            "model": "miyano2021",
            "horizon": "16 weeks",
            "arms": {"dupi": {"treatments": [{"intervention": "dupilumab"}]}},
        }
    )
    r = run_sensitivity(s, "pct_change:EASI@16w", method="morris", n=8)
    assert len(r.table) == 51
    assert r.table["mu_star"].iloc[0] >= r.table["mu_star"].iloc[-1]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"output": "EASI@16w"}, "unknown variable 'EASI'"),
        ({"output": "totC@90d"}, "horizon"),
        ({"output": "totC"}, "use VAR@TIME"),
        ({"output": "totC@10d", "method": "fast"}, "allowed: sobol, morris"),
        ({"output": "totC@10d", "parameters": ["uv_dose"]}, "zero or negative"),
        # the library names the parameter (the CLI says --n, --fold)
        ({"output": "totC@10d", "n": 1}, "^n: 1; allowed: >= 2$"),
        ({"output": "totC@10d", "fold": 1.0}, r"^fold: 1.0; allowed: a range factor > 1$"),
    ],
)
def test_bad_requests(kw, message):
    s = Scenario.model_validate(SHMAROV)
    with pytest.raises(ScenarioError, match=message):
        run_sensitivity(s, **{"n": 4, **kw})


def test_cli_writes_table_and_tornado(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("model: shmarov2022\nhorizon: 30\nsteady_state: false\n")
    out = tmp_path / "sens"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dermatwin.cli",
            "sensitivity",
            str(scenario),
            "--output",
            "totC@30d",
            "--method",
            "morris",
            "--n",
            "4",
            "--parameters",
            "sc2,desq",
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert {r["parameter"] for r in json.loads(proc.stdout)["indices"]} == {"sc2", "desq"}
    files = {"sensitivity.csv", "tornado.png", "sensitivity.json", ".dermatwin-output.json"}
    assert {p.name for p in out.iterdir()} == files
