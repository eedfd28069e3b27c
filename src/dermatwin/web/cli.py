"""``dermatwin serve``: the web application (docs/web.md). Registered on the main command
line by :mod:`dermatwin.cli`; the web stack is imported only when the command runs, so
``dermatwin --help`` stays light."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

import typer

from dermatwin.cli_common import DISCLAIMER, fail, user_errors

#: hosts that only this machine reaches: no access token needed
LOOPBACK = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
    data: Annotated[
        Path, typer.Option("--data", help="data folder: job table, trials, runs")
    ] = Path("dermatwin-data"),
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="DERMATWIN_TOKEN",
            help="access token every request must carry (required beyond 127.0.0.1)",
        ),
    ] = None,
    executor: Annotated[
        Literal["serial", "processes", "dask"],
        typer.Option("--executor", help="where each job's chunks run"),
    ] = "serial",
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="worker processes per job")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address")
    ] = None,
    max_jobs: Annotated[int, typer.Option("--max-jobs", min=1, help="jobs running at once")] = 2,
    max_queue: Annotated[int, typer.Option("--max-queue", min=1, help="jobs waiting")] = 20,
    max_patients: Annotated[
        int, typer.Option("--max-patients", min=1, help="patients per job")
    ] = 2000,
) -> None:
    """Start the web application: design trials, run them as background jobs, read their
    reports (research use only)."""
    if not is_loopback(host) and not token:
        fail(f"--host {host}: beyond 127.0.0.1 the server needs --token (or DERMATWIN_TOKEN)")
    if token is not None and len(token) < 16:
        fail("--token: at least 16 characters")
    import uvicorn

    from dermatwin.web.app import create_app
    from dermatwin.web.limits import Limits

    with user_errors():
        app = create_app(
            data,
            limits=Limits(max_running=max_jobs, max_queued=max_queue, max_patients=max_patients),
            token=token,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
        )
    typer.echo(f"dermatwin at http://{host}:{port}/ (data in {data}/); {DISCLAIMER}")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register_web_commands(app: typer.Typer) -> None:
    app.command("serve")(serve)
