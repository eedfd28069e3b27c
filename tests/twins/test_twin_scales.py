"""Predicted visits stay within the scores' scales (a pruritus NRS is 0-10)."""

from __future__ import annotations

import numpy as np

from dermatwin.twins.predict import add_noise


def test_predictive_noise_is_capped_at_the_scale_maximum():
    samples = {"pruritus_NRS": np.full((400, 20), 9.5), "EASI": np.full((400, 20), 70.0)}
    noisy = add_noise(samples, seed=0)
    assert noisy["pruritus_NRS"].max() == 10.0 and noisy["EASI"].max() == 72.0
    assert noisy["pruritus_NRS"].min() >= 0.0
    # the cap only clips: below the top the t-distributed error is unchanged
    assert (noisy["pruritus_NRS"] < 9.0).any()
    # TEWL's range is a plausibility check, not a scale: no cap
    tewl = add_noise({"TEWL": np.full((400, 20), 190.0)}, seed=0)["TEWL"]
    assert tewl.max() > 200.0
