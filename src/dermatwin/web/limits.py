"""What one shared web server accepts: upload size, patients per job, running and waiting
jobs (docs/web.md). A request beyond a limit is refused with one line, before any work.

>>> Limits().max_patients
2000
>>> Limits(max_running=0)
Traceback (most recent call last):
...
dermatwin.web.limits.WebError: max_running: 0; allowed: a whole number >= 1
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from dermatwin._base.errors import DermatwinError


class WebError(DermatwinError):
    """A request or a server setting the web application refuses."""


class LimitError(WebError):
    """A request beyond one of the server's :class:`Limits`."""


@dataclass(frozen=True)
class Limits:
    """Limits of one server (assumed defaults for a small shared machine)."""

    #: largest request body (bytes): a trial YAML is a few kB
    max_upload_bytes: int = 1 << 20
    #: patients in one job (all arms together)
    max_patients: int = 2000
    #: jobs running at once (each one thread driving its executor)
    max_running: int = 2
    #: jobs waiting for a free slot
    max_queued: int = 20
    #: patients x visits of one job (daily visits over years multiply the work)
    max_patient_visits: int = 200_000
    #: screening effort per job: baseline-matching pilot candidates, and the draw budget
    #: per patient (the defaults of a population)
    max_baseline_pilot: int = 2000
    max_draws_per_patient: int = 50
    #: twin fits: ensemble walkers and sampler steps (burn-in + kept; the fit may extend
    #: the kept steps up to 4 x until converged), twin plans: posterior draws per regimen
    #: (the CLI's default), validation jobs: posterior draws (one example trial per job)
    max_twin_walkers: int = 48
    max_twin_steps: int = 400
    max_plan_draws: int = 64
    max_validation_draws: int = 4

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WebError(f"{f.name}: {value!r}; allowed: a whole number >= 1")


def check_work(spec, patients: int, limits: Limits) -> None:
    """Refuse, in one line, a trial that would read a file of the server (a parameter set
    given as a path) or cost more than the limits allow (visits, screening effort)."""
    from dermatwin.params.parameter_set import shipped_sets

    allowed_sets = ("default", "none", *shipped_sets())
    if not isinstance(spec.parameter_set, str) or spec.parameter_set not in allowed_sets:
        raise LimitError(
            "parameter_set: a file or inline set; allowed on this server: "
            + ", ".join(allowed_sets)
        )
    visits = len(spec.visit_times())
    if patients * visits > limits.max_patient_visits:
        raise LimitError(
            f"visits: {patients} patients x {visits} visits; allowed on this server: up to "
            f"{limits.max_patient_visits} patient-visits per job (fewer visits or patients)"
        )
    population = spec.population_spec()
    if population.baseline is not None and population.baseline_pilot > limits.max_baseline_pilot:
        raise LimitError(
            f"population.baseline_pilot: {population.baseline_pilot}; allowed on this "
            f"server: up to {limits.max_baseline_pilot}"
        )
    if population.max_draws_per_patient > limits.max_draws_per_patient:
        raise LimitError(
            f"population.max_draws_per_patient: {population.max_draws_per_patient}; allowed "
            f"on this server: up to {limits.max_draws_per_patient}"
        )
