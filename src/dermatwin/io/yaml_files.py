"""Reading user YAML files and turning validation errors into one line.

Every user-facing file (trials, parameter sets, twin regimens and constraints) is read
by :func:`read_mapping`, so a missing file, bad YAML or a non-mapping gives the same
one-line error, of the caller's error class; :func:`one_line` does the same for the
first pydantic validation error.

>>> from dermatwin.errors import ScenarioError
>>> read_mapping("missing.yaml", ScenarioError, "a trial")
Traceback (most recent call last):
...
dermatwin.errors.ScenarioError: missing.yaml: cannot read (No such file or directory)
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from dermatwin.errors import DermatwinError


def read_mapping(
    path: str | Path, error: type[DermatwinError], what: str, *, empty_ok: bool = False
) -> dict:
    """The YAML mapping in ``path``; ``what`` names the expected content in the message."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise error(f"{path}: not valid YAML ({err.__class__.__name__})") from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected {what} (a mapping of fields)")
    return data


def one_line(err: ValidationError, where: str) -> str:
    """``where: field.path: message`` of the first validation error."""
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    return f"{where}: {loc + ': ' if loc else ''}{msg}"
