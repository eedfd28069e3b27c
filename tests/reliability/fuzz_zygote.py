"""Preloaded by the fuzz harness's zygote (forkserver): warm what every case would redo.

Importing this module imports the CLI and the libraries its commands import lazily, and
builds the skin model once (several seconds of sympy), so that each forked case starts
warm. It must not run a compiled kernel: numba's GNU OpenMP pool would then be started in
the zygote, and OpenMP is not fork-safe.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")


def _warm() -> None:
    import matplotlib.pyplot  # noqa: F401

    import dermatwin.cli  # noqa: F401
    import dermatwin.io.sbml  # noqa: F401
    import dermatwin.results.query  # noqa: F401
    import dermatwin.run  # noqa: F401
    import dermatwin.scenario  # noqa: F401
    import dermatwin.trials.power  # noqa: F401
    import dermatwin.trials.report  # noqa: F401
    import dermatwin.trials.streaming  # noqa: F401
    import dermatwin.twins.fit  # noqa: F401
    import dermatwin.twins.plan  # noqa: F401
    import dermatwin.twins.predict  # noqa: F401
    import dermatwin.twins.report  # noqa: F401
    from dermatwin.model.skin import build

    build()


try:
    _warm()
except Exception:  # noqa: BLE001 - a cold zygote is slower, not wrong
    pass
