"""Power by simulation: repeat a virtual trial with new seeds and count significant results.

Replicate ``r`` of a trial with seed ``s`` runs with seed ``s + r``, so the estimate is
reproducible. The p-value is that of the comparison of each arm with the reference arm
(:func:`dermatwin.trials.statistics.summarise`); power is the share of replicates where
every such comparison on the endpoint is significant at ``alpha``.
"""

from __future__ import annotations

from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialError, TrialSpec
from dermatwin.trials.statistics import power_from_replicates, search_n_per_arm


def replicate_p_value(spec: TrialSpec, endpoint: str, seed: int) -> float:
    """The largest p-value (over the arms compared with the reference) of one replicate."""
    from dermatwin.trials.worker import trial_model_cached

    result = run_trial(spec, model=trial_model_cached(spec), seed=seed)
    ps = [c["p_value"] for c in result.summary["comparisons"] if c["endpoint"] == endpoint]
    if not ps:
        raise TrialError(
            f"endpoint {endpoint!r}: the trial has no arm to compare with", parameter="endpoint"
        )
    return max(p if p is not None else 1.0 for p in ps)


def _p_values(
    spec: TrialSpec, endpoint: str, replicates: int, executor=None, progress=False
) -> list[float]:
    from dermatwin.execution.base import ExecutionError
    from dermatwin.execution.progress import progress_bar
    from dermatwin.execution.serial import SerialExecutor
    from dermatwin.execution.tasks import run_tasks

    if endpoint not in spec.endpoints:
        raise TrialError(
            f"endpoint {endpoint!r}: not an endpoint of the trial; allowed: "
            + ", ".join(spec.endpoints),
            parameter="endpoint",
        )
    if replicates < 2:
        raise TrialError(f"replicates: {replicates}; allowed: >= 2", parameter="replicates")
    executor = executor or SerialExecutor()
    out: dict[int, float] = {}

    def on_failure(r, err):
        if isinstance(err, TrialError):
            raise err
        raise ExecutionError(f"power replicate {r} (seed {spec.seed + r}) failed: {err}")

    tasks = {r: (spec, endpoint, spec.seed + r) for r in range(replicates)}
    with progress_bar("replicates", replicates, unit="trials", enabled=progress) as advance:

        def on_result(r, p):
            out[r] = p
            advance(1)

        run_tasks(executor, replicate_p_value, tasks, on_result=on_result, on_failure=on_failure)
    return [out[r] for r in range(replicates)]


def estimate_power(
    spec: TrialSpec,
    endpoint: str,
    *,
    alpha: float,
    replicates: int,
    executor=None,
    progress: bool | None = False,
) -> dict:
    """Share of ``replicates`` simulated trials where every comparison is significant;
    replicates run as tasks on ``executor`` (serial by default)."""
    if not 0 < alpha < 1:
        raise TrialError(f"alpha: {alpha}; allowed: between 0 and 1", parameter="alpha")
    ps = _p_values(spec, endpoint, replicates, executor, progress)
    result = power_from_replicates(ps, alpha)
    return {"endpoint": endpoint, "alpha": alpha, "arms": spec.arm_sizes(), **result}


def _with_n(spec: TrialSpec, n: int) -> TrialSpec:
    arms = {k: a.model_copy(update={"n": n, "allocation": None}) for k, a in spec.arms.items()}
    return spec.model_copy(update={"arms": arms, "n_total": None})


def search_sample_size(
    spec: TrialSpec,
    endpoint: str,
    target: float,
    *,
    alpha: float,
    replicates: int,
    n_max: int,
    executor=None,
    progress: bool | None = False,
) -> dict:
    """Smallest n per arm (equal allocation) reaching ``target`` power, by bisection."""
    if not 0 < target < 1:
        raise TrialError(f"target: {target}; allowed: a power between 0 and 1", parameter="target")

    def power_at(n: int) -> float:
        return estimate_power(
            _with_n(spec, n),
            endpoint,
            alpha=alpha,
            replicates=replicates,
            executor=executor,
            progress=progress,
        )["power"]

    found = search_n_per_arm(power_at, target, 2, n_max)
    return {"endpoint": endpoint, "alpha": alpha, "target": target, **found}
