"""The software environment a result depends on, recorded in run manifests.

Results are bit-identical only under the same Python, numerical libraries (numpy, scipy,
sympy writes the kernels' code, numba/llvmlite compile it, pandas/pyarrow store the
results) and machine architecture; :func:`environment` records them, with the git commit
when dermatwin runs from a git checkout, so two manifests show why two results differ.
It is metadata: no hash and no ``--resume`` check reads it.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

#: distributions whose versions can change results, in the order manifests list them
LIBRARIES = ("numpy", "scipy", "sympy", "numba", "llvmlite", "pandas", "pyarrow")
#: seconds allowed to each git call (a hung or slow git must not delay a run)
GIT_TIMEOUT_S = 2.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def library_version(name: str) -> str | None:
    """Version of ``name``: the imported module's when loaded, else the installed one."""
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(checkout: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def git_state(package_dir: Path = PACKAGE_DIR) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout whose ``src/dermatwin`` is ``package_dir``.

    ``(None, None)`` for an installed copy (even one inside some other repository, e.g.
    a virtual environment in a project folder), without git, or when git fails.
    ``dirty``: tracked files differ from the commit (untracked files are not counted).
    """
    checkout = package_dir.parents[1]
    if package_dir.parent.name != "src" or not (checkout / ".git").exists():
        return None, None
    head = _git(checkout, "rev-parse", "HEAD")
    if head is None:
        return None, None
    status = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    return head.strip(), (None if status is None else bool(status.strip()))


def environment() -> dict[str, str | bool | None]:
    """Python, library versions, platform and git commit, as one flat JSON-ready dict.

    Taken once per process (a power analysis runs thousands of trials) and so at the
    first run, the closest to when the running code was imported.
    """
    return dict(_environment())


@cache
def _environment() -> dict[str, str | bool | None]:
    commit, dirty = git_state()
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        **{name: library_version(name) for name in LIBRARIES},
        "system": platform.system(),
        "machine": platform.machine(),
        "git_commit": commit,
        "git_dirty": dirty,
    }
