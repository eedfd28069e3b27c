"""Named random streams (dermatwin._base.rng) are today's streams, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin._base.rng import rng_stream
from dermatwin.patients.sampling import patient_rng


@pytest.mark.parametrize(
    "keys",
    [(0,), (1, 0, 2), (2021, 3_000_017, 999), (np.int64(7), np.uint32(1_000_003), 12), (5, 11)],
)
def test_a_stream_is_the_seed_sequence_of_its_keys(keys):
    seed, *rest = keys
    old = np.random.default_rng(np.random.SeedSequence([int(k) for k in keys]))
    assert (rng_stream(seed, *rest).random(8) == old.random(8)).all()


def test_a_bare_seed_is_default_rng_of_the_seed():
    """``np.random.default_rng(seed)`` (the bootstrap) is the stream ``(seed,)``."""
    assert (rng_stream(42).random(4) == np.random.default_rng(42).random(4)).all()


def test_a_patient_stream_is_seed_stream_index():
    before = np.random.default_rng(np.random.SeedSequence([9, 2, 17])).standard_normal(5)
    assert (patient_rng(9, 17, 2).standard_normal(5) == before).all()


def test_keys_separate_streams():
    assert rng_stream(1, 0, 2).random() != rng_stream(1, 2, 0).random()
