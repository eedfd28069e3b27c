"""The fuzz suite's session: one warm zygote and two tiny stored outputs to query and plan on.

``{run}`` is a tiny trial run (fuzz_cases.TRIAL), ``{twin}`` a tiny fitted twin of
examples/twins/ad_patient.csv; cases get copies of them, so a case cannot spoil the next.
"""

from __future__ import annotations

import pytest
from fuzz_cases import make_runner
from fuzz_harness import Runner


@pytest.fixture(scope="session")
def fuzz_runner(tmp_path_factory) -> Runner:
    return make_runner(tmp_path_factory.mktemp("fuzz"))
