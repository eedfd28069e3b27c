"""Paired effects: two regimens on the same virtual patients (for calibration and design).

With ``paired: true`` (:mod:`dermatwin.trials.spec`) every arm of a trial holds the same
virtual patients (same candidates, parameters, steady states and measurement noise), so
the difference between two arms is the effect of the regimens alone: common random
numbers, without the sampling noise of two different virtual populations. A calibration
objective built on :func:`paired_effect` is therefore smooth in the values it fits.

Usage (compiles the skin model on first use)::

    from dermatwin.trials import paired_effect
    spec = load_trial("examples/trials/kim2017_hucbmsc_ad.yaml")
    effect = paired_effect(spec, "high_dose", "placebo", "EASI-50@12w")
    effect["difference"], effect["ci"], effect["pairs"]
"""

from __future__ import annotations

from dermatwin.model.spec import Model
from dermatwin.trials.spec import TrialError, TrialSpec


def paired_spec(spec: TrialSpec, arms: list[str] | None = None, n: int | None = None) -> TrialSpec:
    """``spec`` with ``paired: true``, only ``arms`` (default all, in the spec's order) and,
    when given, ``n`` patients per arm. Its patients are those of the full paired trial
    (a paired arm's patients do not depend on which other arms run)."""
    chosen = [a for a in spec.arms if arms is None or a in arms]
    sizes = spec.arm_sizes()
    update = {
        "paired": True,
        "arms": {
            a: spec.arms[a].model_copy(update={"n": n or sizes[a], "allocation": None})
            for a in chosen
        },
        "n_total": None,
        # rows of arms left out would no longer resolve; a paired run predicts no rows
        "reference_rows": {},
    }
    if spec.reference_arm is not None and spec.reference_arm not in chosen:
        update["reference_arm"] = None
    # every field stays valid: arms named by the spec, each with n, no n_total
    return spec.model_copy(update=update)


def paired_effect(
    spec: TrialSpec,
    arm: str,
    reference_arm: str | None = None,
    endpoint: str | None = None,
    *,
    n: int | None = None,
    model: Model | None = None,
) -> dict:
    """The effect of ``arm`` minus ``reference_arm`` (default: the trial's reference) on
    ``endpoint`` (default: the first), both arms given to the same virtual patients.

    Runs only these two arms of the paired trial (``n`` patients each if given, else the
    arms' sizes; a smaller arm's patients are the first of the larger one's). Returns the
    paired comparison of :func:`dermatwin.trials.statistics.summarise`: ``difference``
    (percentage points for responder endpoints, the endpoint's unit for means), ``ci``
    (95 %), ``p_value``, ``method``, ``pairs`` and ``pairs_excluded``, plus ``estimates``
    (each arm's own estimate).
    """
    from dermatwin.trials.run import run_trial

    reference_arm = reference_arm or spec.reference()
    endpoint = endpoint or spec.endpoints[0]
    for label, name in (("arm", arm), ("reference_arm", reference_arm)):
        if name not in spec.arms:
            raise TrialError(f"{label}: {name!r} is not an arm; allowed: {', '.join(spec.arms)}")
    if arm == reference_arm:
        raise TrialError(f"arm: {arm!r} is the reference arm; allowed: another arm")
    if endpoint not in spec.endpoints:
        raise TrialError(
            f"endpoint: {endpoint!r} is not an endpoint of the trial; allowed: "
            + ", ".join(spec.endpoints)
        )
    two = paired_spec(spec, [arm, reference_arm], n).model_copy(
        update={"reference_arm": reference_arm}
    )
    result = run_trial(two, model=model)
    (comparison,) = (
        c for c in result.summary["comparisons"] if c["arm"] == arm and c["endpoint"] == endpoint
    )
    arms = result.summary["arms"]
    estimates = {a: arms[a][endpoint]["estimate"] for a in (arm, reference_arm)}
    return {**comparison, "estimates": estimates}
