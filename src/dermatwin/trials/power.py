"""Power by simulation: repeat a virtual trial with new seeds and count significant results.

Replicate ``r`` of a trial with seed ``s`` runs with seed ``s + r``, so the estimate is
reproducible. The p-value is that of the comparison of each arm with the reference arm
(:func:`dermatwin.trials.statistics.summarise`); power is the share of replicates where
every such comparison on the endpoint is significant at ``alpha``.
"""

from __future__ import annotations

from dermatwin.model.skin import build
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialError, TrialSpec
from dermatwin.trials.statistics import power_from_replicates, search_n_per_arm


def _p_values(spec: TrialSpec, endpoint: str, replicates: int) -> list[float]:
    if endpoint not in spec.endpoints:
        raise TrialError(
            f"--endpoint {endpoint!r} is not an endpoint of the trial; allowed: "
            + ", ".join(spec.endpoints)
        )
    if replicates < 2:
        raise TrialError(f"--replicates must be >= 2, got {replicates}")
    model = build()
    out = []
    for r in range(replicates):
        result = run_trial(spec, model=model, seed=spec.seed + r)
        ps = [c["p_value"] for c in result.summary["comparisons"] if c["endpoint"] == endpoint]
        if not ps:
            raise TrialError(f"--endpoint {endpoint!r}: the trial has no arm to compare with")
        out.append(max(p if p is not None else 1.0 for p in ps))
    return out


def estimate_power(spec: TrialSpec, endpoint: str, *, alpha: float, replicates: int) -> dict:
    if not 0 < alpha < 1:
        raise TrialError(f"--alpha must be between 0 and 1, got {alpha}")
    result = power_from_replicates(_p_values(spec, endpoint, replicates), alpha)
    return {"endpoint": endpoint, "alpha": alpha, "arms": spec.arm_sizes(), **result}


def _with_n(spec: TrialSpec, n: int) -> TrialSpec:
    arms = {k: a.model_copy(update={"n": n, "allocation": None}) for k, a in spec.arms.items()}
    return spec.model_copy(update={"arms": arms, "n_total": None})


def search_sample_size(
    spec: TrialSpec, endpoint: str, target: float, *, alpha: float, replicates: int, n_max: int
) -> dict:
    """Smallest n per arm (equal allocation) reaching ``target`` power, by bisection."""
    if not 0 < target < 1:
        raise TrialError(f"--target must be a power between 0 and 1, got {target}")

    def power_at(n: int) -> float:
        return estimate_power(_with_n(spec, n), endpoint, alpha=alpha, replicates=replicates)[
            "power"
        ]

    found = search_n_per_arm(power_at, target, 2, n_max)
    return {"endpoint": endpoint, "alpha": alpha, "target": target, **found}
