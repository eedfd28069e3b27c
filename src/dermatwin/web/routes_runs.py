"""The run pages: the list of jobs, one job's progress (server-sent events, or its JSON),
cancel and resume, its report and downloads.

A job id from a request is checked (:func:`dermatwin.web.job_table.is_job_id`) and looked
up in the job table before any path is built from it, and downloads are a fixed list of
names: no request reaches a file outside the data folder.
"""

from __future__ import annotations

import asyncio
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from dermatwin._base.errors import DermatwinError
from dermatwin.web.app import error_page, page
from dermatwin.web.job_table import Job, is_job_id

router = APIRouter()

#: file name offered -> (file of the output folder, media type)
DOWNLOADS = {
    "summary.json": ("summary.json", "application/json"),
    "manifest.json": ("manifest.json", "application/json"),
    "endpoints.parquet": ("endpoints.parquet", "application/vnd.apache.parquet"),
    "trajectories.parquet": ("trajectories.parquet", "application/vnd.apache.parquet"),
    "failures.csv": ("failures.csv", "text/csv"),
    "endpoints.csv": ("endpoints.parquet", "text/csv"),  # converted on the way out
    "report.html": ("report.html", "text/html"),
}


def _job(request: Request, job: str, trial_only: bool = False) -> Job | Response:
    """The job ``job`` (any kind, or only a trial run), or the error page."""
    found = request.app.state.table.get(job) if is_job_id(job) else None
    if found is None or (trial_only and found.kind != "trial"):
        return error_page(request, f"run {job[:40]!r}: no such run", 404)
    return found


@router.get("/runs")
async def runs(request: Request) -> Response:
    return page(request, "runs.html", {"jobs": request.app.state.table.all()})


@router.get("/runs/{job}")
async def run(request: Request, job: str) -> Response:
    found = _job(request, job)
    if isinstance(found, Response):
        return found
    if found.kind != "trial":  # cancel and resume of any job come back here
        return RedirectResponse(found.url, status_code=303)
    return page(request, "run.html", {"job": found, "downloads": list(DOWNLOADS)})


def job_state(job: Job) -> dict:
    """What a page shows of a job's progress (the JSON of ``/api/runs/ID`` and of each
    server-sent event)."""
    from dataclasses import asdict

    screening = job.kind == "trial" and job.status == "running" and job.chunks_done == 0
    return {
        **asdict(job),
        "percent": job.percent,
        "units": job.units,
        "active": job.active,
        "screening": screening,
    }


@router.get("/api/runs/{job}")
async def run_json(request: Request, job: str) -> Response:
    """The job as JSON (for scripts, the load check and browsers without EventSource)."""
    found = _job(request, job)
    if isinstance(found, Response):
        return found
    return JSONResponse(job_state(found))


#: seconds between two looks at the job table while a job's event stream is open
EVENT_EVERY = 0.25


@router.get("/runs/{job}/events")
async def events(request: Request, job: str) -> Response:
    """Server-sent events: one ``progress`` event (the job's state as JSON) now and at
    each change, until the job has ended (its last event) or the browser leaves."""
    found = _job(request, job)
    if isinstance(found, Response):
        return found
    table = request.app.state.table

    async def stream():
        last = None
        while True:
            state = job_state(table.get(found.id))
            text = json.dumps(state)
            if text != last:
                yield f"event: progress\ndata: {text}\n\n"
                last = text
            if not state["active"] or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_EVERY)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.post("/runs/{job}/cancel")
async def cancel(request: Request, job: str) -> Response:
    return _act(request, job, "cancel")


@router.post("/runs/{job}/resume")
async def resume(request: Request, job: str) -> Response:
    return _act(request, job, "resume")


def _act(request: Request, job: str, action: str) -> Response:
    found = _job(request, job)
    if isinstance(found, Response):
        return found
    try:
        getattr(request.app.state.runner, action)(found.id)
    except DermatwinError as err:
        return error_page(request, str(err), 409)
    return RedirectResponse(f"/runs/{found.id}", status_code=303)


@router.get("/runs/{job}/trial.yaml")
async def trial_yaml(request: Request, job: str) -> Response:
    found = _job(request, job, trial_only=True)
    if isinstance(found, Response):
        return found
    path = request.app.state.runner.trial_file(found.id)
    return FileResponse(path, media_type="application/yaml", filename=f"{found.id}.yaml")


@router.get("/runs/{job}/files/{name}")
async def download(request: Request, job: str, name: str) -> Response:
    found = _job(request, job, trial_only=True)
    if isinstance(found, Response):
        return found
    if name not in DOWNLOADS:
        return error_page(request, f"file {name[:40]!r}: allowed: {', '.join(DOWNLOADS)}", 404)
    if found.status != "done":
        return error_page(request, f"run {found.id}: {found.status}; files come once done", 409)
    stored, media = DOWNLOADS[name]
    path = request.app.state.runner.out(found.id) / stored
    if not path.is_file():
        return error_page(request, f"run {found.id}: {name} is missing", 404)
    if name == "endpoints.csv":
        import pandas as pd

        buffer = io.StringIO()
        pd.read_parquet(path).to_csv(buffer, index=False)
        return Response(
            buffer.getvalue(),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if name == "report.html":  # shown in the browser, not downloaded
        return FileResponse(path, media_type=media)
    return FileResponse(path, media_type=media, filename=name)
