"""The disease layer: one registry read everywhere, importing nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from dermatwin.disease import DISEASES, ORDINALS, SCORES, TWIN_ERROR, ceiling, grade, trial_noise

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dermatwin" / "disease"


def test_disease_imports_nothing_of_dermatwin_above_it():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("dermatwin"):
                    assert name.startswith("dermatwin.disease"), f"{path.name} imports {name}"


def test_every_list_of_scores_is_a_view_of_the_registry():
    from dermatwin.patients.profile import DISEASE_SCORES, SCORE_RANGES
    from dermatwin.trials.run import TRAJECTORY_SCORES
    from dermatwin.trials.spec import PRIMARY_SCORE
    from dermatwin.twins.likelihood import ERROR_MODEL, FITTED, ORDINAL, OUTPUTS

    for disease, reg in DISEASES.items():
        assert DISEASE_SCORES[disease] == TRAJECTORY_SCORES[disease] == reg.scores
        assert PRIMARY_SCORE[disease] == reg.primary
        assert FITTED[disease] == reg.twin_fitted and OUTPUTS[disease] == reg.twin_outputs
        assert ORDINALS[reg.ordinal].source == reg.primary
    assert SCORE_RANGES == {n: (s.low, s.high) for n, s in SCORES.items()}
    assert ERROR_MODEL is TWIN_ERROR
    assert ORDINAL == {
        "IGA": ("EASI", ORDINALS["IGA"].edges),
        "PGA": ("PASI", ORDINALS["PGA"].edges),
    }


def test_ranges_ceilings_and_grades():
    assert (SCORES["EASI"].high, SCORES["SCORAD"].high, SCORES["PASI"].high) == (72, 103, 72)
    assert SCORES["pruritus_NRS"].high == 10 and SCORES["IGA"].high == SCORES["PGA"].high == 4
    # noise is capped at a clinical scale's top, not at TEWL's plausibility range
    assert ceiling("EASI") == 72 and ceiling("TEWL") is None and ceiling("IGA") is None
    assert grade("IGA", [0.05, 0.5, 5.0, 15.0, 30.0]).tolist() == [0, 1, 2, 3, 4]
    # a calibrated IGA 1 edge moves the grade of an EASI of 1.5 from 2 to 1
    assert grade("IGA", [1.5]).tolist() == [2]
    assert grade("IGA", [1.5], {"iga1_easi": 2.0}).tolist() == [1]


def test_trial_noise_is_mean_preserving_and_capped():
    rng = np.random.default_rng(0)
    values = np.full(200_000, 10.0)
    noisy = trial_noise(values, 0.3, rng, None)
    assert abs(noisy.mean() - 10.0) < 0.05
    assert trial_noise(np.full(1000, 70.0), 0.5, rng, 72.0).max() == 72.0
