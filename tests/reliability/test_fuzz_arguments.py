"""Mutated command lines (every option of every command) and SQL for `results query`."""

from __future__ import annotations

from fuzz_cases import argument_mutation, sql_case
from fuzz_settings import check, fuzz_settings
from hypothesis import given


def test_argument_mutations(fuzz_runner):
    @fuzz_settings(10)
    @given(case=argument_mutation())
    def mutated(case):
        check(fuzz_runner, case)

    mutated()


def test_sql_queries(fuzz_runner):
    @fuzz_settings(5)
    @given(case=sql_case())
    def query(case):
        check(fuzz_runner, case)

    query()
