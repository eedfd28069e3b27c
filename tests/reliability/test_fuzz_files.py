"""Mutated input files (trial, scenario, visits, regimen, constraints, parameter set): the
command exits 0, or exits 2 with one `error:` line naming the field or file; never a
traceback, a hang, runaway memory or a lost file (issue 12, "Must show")."""

from __future__ import annotations

import pytest
from fuzz_cases import FILE_KINDS, csv_mutation, text_mutation, yaml_mutation
from fuzz_settings import check, fuzz_settings
from hypothesis import given


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_yaml_level_mutations(fuzz_runner, kind):
    @fuzz_settings(2)
    @given(case=yaml_mutation(kind))
    def mutated(case):
        check(fuzz_runner, case)

    mutated()


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_byte_level_mutations(fuzz_runner, kind):
    @fuzz_settings(2)
    @given(case=text_mutation(kind))
    def mutated(case):
        check(fuzz_runner, case)

    mutated()


def test_visit_csv_mutations(fuzz_runner):
    @fuzz_settings(3)
    @given(case=csv_mutation())
    def mutated(case):
        check(fuzz_runner, case)

    mutated()
