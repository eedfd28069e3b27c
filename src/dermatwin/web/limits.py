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

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WebError(f"{f.name}: {value!r}; allowed: a whole number >= 1")
