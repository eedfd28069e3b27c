"""User-facing errors: each carries one line that names the field and what is allowed.

The CLI prints ``error: <message>`` and exits non-zero for these; anything else is a bug.
"""


class DermatwinError(Exception):
    """Base class for errors caused by user input, shown as one line without traceback.

    The library names parameters, never command-line flags. ``parameter``: the argument
    (or setting) the message is about, when the message starts with its name; the command
    line puts the flag in its place (:func:`dermatwin.cli_common.in_flags`). It survives
    pickling (errors come back from worker processes).

    >>> err = DermatwinError("alpha: 1.5; allowed: between 0 and 1", parameter="alpha")
    >>> err.parameter, str(err)
    ('alpha', 'alpha: 1.5; allowed: between 0 and 1')
    >>> import pickle
    >>> pickle.loads(pickle.dumps(err)).parameter
    'alpha'
    """

    def __init__(self, *args: object, parameter: str | None = None) -> None:
        super().__init__(*args)
        self.parameter = parameter


class ModelError(DermatwinError):
    """A model definition or a model lookup is invalid."""


class ScenarioError(DermatwinError):
    """A scenario file (or its values) is invalid."""
