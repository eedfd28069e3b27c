"""Run manifests record the environment that bit-identical results depend on."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys

import llvmlite
import numba
import numpy
import pandas
import pyarrow
import pytest
import scipy
import sympy
from support import small_ad_trial

from dermatwin.io import environment as env_module
from dermatwin.io.environment import LIBRARIES, environment, git_state
from dermatwin.model.reference.miyano2021 import build as build_miyano
from dermatwin.trials.orchestration import trial_manifest
from dermatwin.trials.spec import TrialSpec

MODULES = {m.__name__: m for m in (numpy, scipy, sympy, numba, llvmlite, pandas, pyarrow)}


def test_environment_names_python_libraries_platform_and_commit():
    env = environment()
    assert set(env) == {
        "python",
        "python_implementation",
        *LIBRARIES,
        "system",
        "machine",
        "git_commit",
        "git_dirty",
    }
    assert env["python"] == platform.python_version()
    assert env["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert env["system"] == platform.system() and env["machine"] == platform.machine()
    for name in LIBRARIES:
        assert env[name] == MODULES[name].__version__, name
    json.dumps(env, allow_nan=False)


def test_library_version_without_importing_the_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "pyarrow")
    assert env_module.library_version("pyarrow") == pyarrow.__version__
    assert env_module.library_version("no-such-dermatwin-library") is None


@pytest.mark.skipif(
    env_module.PACKAGE_DIR.parent.name != "src" or shutil.which("git") is None,
    reason="dermatwin does not run from a git checkout here",
)
def test_commit_of_the_checkout_dermatwin_runs_from():
    checkout = env_module.PACKAGE_DIR.parents[1]
    head = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    commit, dirty = git_state()
    assert commit == head.stdout.strip() and len(commit) == 40
    assert isinstance(dirty, bool)


def test_no_commit_for_an_installed_copy_or_without_git(tmp_path, monkeypatch):
    # an installed copy inside some other repository (a venv in a project folder)
    (tmp_path / ".git").mkdir()
    installed = tmp_path / "lib" / "site-packages" / "dermatwin"
    installed.mkdir(parents=True)
    assert git_state(installed) == (None, None)
    # a src layout without .git (an unpacked sdist)
    unpacked = tmp_path / "sdist" / "src" / "dermatwin"
    unpacked.mkdir(parents=True)
    assert git_state(unpacked) == (None, None)

    def broken(*args, **kwargs):
        raise subprocess.TimeoutExpired("git", env_module.GIT_TIMEOUT_S)

    monkeypatch.setattr(env_module.subprocess, "run", broken)
    assert git_state() == (None, None)

    def missing(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(env_module.subprocess, "run", missing)
    env_module._environment.cache_clear()
    try:
        assert environment()["git_commit"] is None
    finally:
        env_module._environment.cache_clear()


def test_environment_is_taken_once_per_process(monkeypatch):
    first = environment()
    first["numpy"] = "changed by a caller"
    monkeypatch.setattr(env_module, "git_state", lambda: ("0" * 40, False))
    assert environment() == {**first, "numpy": numpy.__version__}


def test_trial_manifest_records_the_environment():
    spec = TrialSpec.model_validate(small_ad_trial(4))
    manifest = trial_manifest(spec, build_miyano(), 0)
    assert manifest["environment"] == environment()
    assert manifest["environment"]["numba"] == numba.__version__
    json.dumps(manifest, allow_nan=False)
