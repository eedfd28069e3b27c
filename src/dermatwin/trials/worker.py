"""Per-process state of a trial worker: each process builds or loads a trial's model once.

It lives with the trials (not in :mod:`dermatwin.execution`, which runs any task and knows
nothing of trials): the cache is keyed by the trial spec."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dermatwin.model.spec import Model
    from dermatwin.trials.spec import TrialSpec

_MODELS: dict[str, Model] = {}


def spec_key(spec: TrialSpec) -> str:
    """The SHA-256 of the spec's JSON: the key of this cache and the ``spec_sha256`` of
    the run manifests (:func:`dermatwin.trials.orchestration.trial_manifest`)."""
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


def trial_model_cached(spec: TrialSpec) -> Model:
    """``trial_model(spec)``, built (or loaded from the kernel cache) once per process."""
    from dermatwin.trials.run import trial_model

    key = spec_key(spec)
    if key not in _MODELS:
        _MODELS.clear()  # one trial at a time per worker: keep memory bounded
        _MODELS[key] = trial_model(spec)
    return _MODELS[key]
