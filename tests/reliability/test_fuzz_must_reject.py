"""Inputs invalid by construction must be refused (exit 2, one line naming the field):
exit 0 there is silent nonsense. And `--out` at a folder that is not the command's own
earlier output (a foreign folder, `.`, an ancestor, the input's folder, the home folder,
a file) is refused with every file in it kept."""

from __future__ import annotations

from fuzz_cases import data_loss_mutation, must_reject_mutation
from fuzz_settings import check, fuzz_settings
from hypothesis import given


def test_must_reject(fuzz_runner):
    @fuzz_settings(12)
    @given(case=must_reject_mutation())
    def invalid(case):
        check(fuzz_runner, case)

    invalid()


def test_out_never_loses_foreign_files(fuzz_runner):
    @fuzz_settings(3)
    @given(case=data_loss_mutation)
    def foreign(case):
        check(fuzz_runner, case)

    foreign()
