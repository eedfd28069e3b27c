"""Inputs invalid by construction must be refused (exit 2, one line naming the field):
exit 0 there is silent nonsense. And `--out` at a folder that is not the command's own
earlier output (a foreign folder, `.`, an ancestor, the input's folder, the home folder,
a file) is refused with every file in it kept.

Every case runs (not a hypothesis sample): there are about two hundred and each is
refused in milliseconds."""

from __future__ import annotations

from fuzz_cases import TARGETS, WRITERS, all_must_reject_cases, data_loss_case
from fuzz_settings import check


def test_must_reject(fuzz_runner):
    cases = all_must_reject_cases()
    assert len(cases) > 100  # the generators did not come back empty
    for case in cases:
        check(fuzz_runner, case)


def test_out_never_loses_foreign_files(fuzz_runner):
    for command in sorted(WRITERS):
        for target in sorted(TARGETS):
            check(fuzz_runner, data_loss_case(command, target))
