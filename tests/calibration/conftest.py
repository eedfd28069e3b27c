"""Fixtures shared by the calibration tests."""

import pytest


@pytest.fixture(scope="session")
def pool():
    """Two spawned worker processes, shared by the tests that compare a run in workers
    with one in this process (each worker starts once, as in ``calibrate_posterior``)."""
    from dermatwin.execution.processes import ProcessExecutor

    with ProcessExecutor(2) as ex:
        yield ex
