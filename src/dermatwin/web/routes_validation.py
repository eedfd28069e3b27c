"""The validation page: the predicted-vs-observed table, coverage and plot of the shipped
parameter set, from a stored ``dermatwin validate --json`` result in the data folder
(``DATA/validation.json``), and small validation jobs of one reference trial each
(restricted: few posterior draws, no placebo nodes) run on the server.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from dermatwin._base.errors import DermatwinError
from dermatwin.web.app import error_page, page
from dermatwin.web.routes_twins import job_of
from dermatwin.web.tasks import check_validation, validation_dir, validation_trials

router = APIRouter()

#: the stored full validation of the data folder (`dermatwin validate --json > FILE`)
STORED = "validation.json"


def _result(path: Path) -> dict | None:
    """The validation result in ``path`` with its coverage sentences, or None."""
    from dermatwin.calibration.validate import coverage_lines

    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
        return {**result, "lines": coverage_lines(result)}
    except (ValueError, KeyError, TypeError) as err:
        raise DermatwinError(
            f"{path.name}: not a validation result (the JSON of dermatwin validate; "
            f"{type(err).__name__})"
        ) from None


def _plot(result: dict, path: Path) -> None:
    """The predicted-vs-observed plot beside its result (made once)."""
    from dermatwin.calibration.validate import plot

    if not path.is_file() or path.stat().st_mtime < path.with_suffix(".json").stat().st_mtime:
        plot(result, path)


def _page(request: Request, status_code: int = 200, error: str = "") -> Response:
    data = request.app.state.data
    runner = request.app.state.runner
    try:
        stored = _result(data / STORED)
    except DermatwinError as err:
        stored, error = None, error or str(err)
    return page(
        request,
        "validation.html",
        {
            "stored": stored,
            "jobs": request.app.state.table.all("validation"),
            "trials": validation_trials(runner.validation_trials),
            "max_draws": request.app.state.limits.max_validation_draws,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/validation")
async def validation(request: Request) -> Response:
    return _page(request)


@router.get("/validation/stored.png")
async def stored_plot(request: Request) -> Response:
    path = request.app.state.data / STORED
    try:
        result = _result(path)
    except DermatwinError as err:
        return error_page(request, str(err), 422)
    if result is None:
        return error_page(request, f"{STORED}: none stored in this data folder", 404)
    png = path.with_suffix(".png")
    _plot(result, png)
    return FileResponse(png, media_type="image/png")


@router.post("/validation")
async def submit(request: Request) -> Response:
    from dermatwin.web.limits import LimitError

    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    runner = request.app.state.runner
    try:
        job_request = check_validation(fields, runner.validation_trials, request.app.state.limits)

        def write(job: str) -> None:
            folder = validation_dir(request.app.state.data, job)
            folder.mkdir(parents=True)
            (folder / "request.json").write_text(json.dumps(job_request, indent=2))

        name = f"validation of {job_request['trial']} ({job_request['draws']} draws)"
        job = runner.submit_task("validation", name, 1, write)
    except LimitError as err:
        return _page(request, 429, str(err))
    except DermatwinError as err:
        return _page(request, 422, str(err))
    return RedirectResponse(f"/validation/{job}", status_code=303)


@router.get("/validation/{job}")
async def validation_job(request: Request, job: str) -> Response:
    found = job_of(request, job, "validation")
    if isinstance(found, Response):
        return found
    folder = validation_dir(request.app.state.data, found.id)
    try:
        result = _result(folder / "validation.json") if found.status == "done" else None
    except DermatwinError as err:
        return error_page(request, str(err), 422)
    return page(request, "validation_job.html", {"job": found, "result": result})


@router.get("/validation/{job}/plot.png")
async def job_plot(request: Request, job: str) -> Response:
    found = job_of(request, job, "validation")
    if isinstance(found, Response):
        return found
    path = validation_dir(request.app.state.data, found.id) / "validation.json"
    try:
        result = _result(path) if found.status == "done" else None
    except DermatwinError as err:
        return error_page(request, str(err), 422)
    if result is None:
        return error_page(request, f"validation {found.id}: {found.status}; no result yet", 409)
    png = path.with_suffix(".png")
    _plot(result, png)
    return FileResponse(png, media_type="image/png")
