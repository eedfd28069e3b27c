"""User-facing errors: each carries one line that names the field and what is allowed.

The CLI prints ``error: <message>`` and exits non-zero for these; anything else is a bug.
"""


class DermatwinError(Exception):
    """Base class for errors caused by user input, shown as one line without traceback."""


class ModelError(DermatwinError):
    """A model definition or a model lookup is invalid."""


class ScenarioError(DermatwinError):
    """A scenario file (or its values) is invalid."""
