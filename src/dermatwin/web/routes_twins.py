"""The twin pages: upload a patient's visit file, fit the twin as a background job, read
the fit (parameters, R-hat and ESS, observed vs fitted), then rank regimens with the
planner (P(goal) with its Monte Carlo SE, P(best)) as a second job.

Ids from a request are checked and looked up in the job table (with their kind) before
any path is built; files are a fixed list of names.
"""

from __future__ import annotations

import json

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from dermatwin._base.errors import DermatwinError
from dermatwin.web.app import error_page, page
from dermatwin.web.job_table import Job, is_job_id
from dermatwin.web.tasks import (
    check_plan,
    check_twin,
    plan_dir,
    store_twin,
    twin_dir,
    upload_name,
)

router = APIRouter()

#: twin files offered (of the fit folder): name -> media type
TWIN_FILES = {
    "report.html": "text/html",
    "parameters.csv": "text/csv",
    "bands.csv": "text/csv",
    "diagnostics.json": "application/json",
    "twin.json": "application/json",
    "posterior.parquet": "application/vnd.apache.parquet",
    "fit.png": "image/png",
}
PLAN_FILES = {
    "report.html": "text/html",
    "plan.csv": "text/csv",
    "plan.json": "application/json",
    "plan.png": "image/png",
}
#: the form a visitor starts from: the CLI's default sampler settings
DEFAULT_FIT = {"walkers": "24", "burn": "80", "steps": "120", "seed": "0", "extend": "on"}


def job_of(request: Request, job: str, kind: str) -> Job | Response:
    found = request.app.state.table.get(job) if is_job_id(job) else None
    if found is None or found.kind != kind:
        return error_page(request, f"{kind} {job[:40]!r}: no such {kind}", 404)
    return found


def _twins_page(request: Request, status_code: int = 200, **context) -> Response:
    table = request.app.state.table
    return page(
        request,
        "twins.html",
        {
            "twins": table.all("twin"),
            "form": context.pop("form", DEFAULT_FIT),
            "error": context.pop("error", ""),
            "limits": request.app.state.limits,
        },
        status_code=status_code,
    )


@router.get("/twins")
async def twins(request: Request) -> Response:
    return _twins_page(request)


@router.post("/twins")
async def upload(request: Request) -> Response:
    from dermatwin.web.limits import LimitError

    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    file = form.get("visits")
    if file is None or isinstance(file, str) or not file.filename:
        error = "visits: choose a visit file (CSV or YAML, docs/twins.md) to upload"
        return _twins_page(request, 422, form=fields, error=error)
    content = await file.read()
    data, runner = request.app.state.data, request.app.state.runner
    try:
        record, settings, suffix = check_twin(
            data, content, file.filename, fields, request.app.state.limits
        )
        name = upload_name(file.filename)
        job = runner.submit_task(
            "twin",
            f"twin {record.patient.id or name}",
            settings.burn + settings.steps,
            lambda job: store_twin(twin_dir(data, job), content, suffix, name, settings),
        )
    except LimitError as err:
        return _twins_page(request, 429, form=fields, error=str(err))
    except DermatwinError as err:
        return _twins_page(request, 422, form=fields, error=str(err))
    return RedirectResponse(f"/twins/{job}", status_code=303)


def _table(path, columns: list[str] | None = None) -> dict:
    frame = pd.read_csv(path)
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    return {"columns": list(frame.columns), "rows": frame.to_dict(orient="records")}


@router.get("/twins/{job}")
async def twin(request: Request, job: str) -> Response:
    found = job_of(request, job, "twin")
    if isinstance(found, Response):
        return found
    folder = twin_dir(request.app.state.data, found.id) / "fit"
    context: dict = {"job": found, "files": list(TWIN_FILES)}
    if found.status == "done" and folder.is_dir():
        diagnostics = json.loads((folder / "diagnostics.json").read_text())
        context.update(
            fitted=True,
            parameters=_table(
                folder / "parameters.csv",
                ["parameter", "unit", "prior_median", "posterior_median", "q05", "q95"]
                + ["rhat", "ess_bulk"],
            ),
            diagnostics=diagnostics,
            has_figure=(folder / "fit.png").is_file(),
            plans=[
                j
                for j in request.app.state.table.all("plan")
                if _plan_twin(request, j.id) == found.id
            ],
            plan_form={"goal": "", "draws": str(min(32, request.app.state.limits.max_plan_draws))},
        )
    return page(request, "twin.html", context)


def _plan_twin(request: Request, job: str) -> str:
    path = plan_dir(request.app.state.data, job) / "request.json"
    return json.loads(path.read_text())["twin"] if path.is_file() else ""


@router.get("/twins/{job}/files/{name}")
async def twin_file(request: Request, job: str, name: str) -> Response:
    found = job_of(request, job, "twin")
    if isinstance(found, Response):
        return found
    return _file(
        request, found, twin_dir(request.app.state.data, found.id) / "fit", name, TWIN_FILES
    )


def _file(request: Request, found: Job, folder, name: str, allowed: dict) -> Response:
    if name not in allowed:
        return error_page(request, f"file {name[:40]!r}: allowed: {', '.join(allowed)}", 404)
    if found.status != "done":
        return error_page(request, f"{found.id}: {found.status}; files come once done", 409)
    path = folder / name
    if not path.is_file():
        return error_page(request, f"{found.id}: {name} is missing", 404)
    if name.endswith((".html", ".png")):  # shown in the browser, not downloaded
        return FileResponse(path, media_type=allowed[name])
    return FileResponse(path, media_type=allowed[name], filename=name)


@router.post("/twins/{job}/plan")
async def submit_plan(request: Request, job: str) -> Response:
    from dermatwin.web.limits import LimitError

    found = job_of(request, job, "twin")
    if isinstance(found, Response):
        return found
    if found.status != "done":
        return error_page(request, f"twin {found.id}: {found.status}; plan once fitted", 409)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    data = request.app.state.data
    try:
        plan_request = check_plan(data, found.id, fields, request.app.state.limits)

        def write(plan_job: str) -> None:
            folder = plan_dir(data, plan_job)
            folder.mkdir(parents=True)
            (folder / "request.json").write_text(json.dumps(plan_request, indent=2))

        goal = plan_request["goal"] or "the default goal"
        plan_job = request.app.state.runner.submit_task(
            "plan",
            f"plan for {found.name.removeprefix('twin ')}: {goal}",
            plan_request["regimens"],
            write,
        )
    except (LimitError, DermatwinError) as err:
        status = 429 if isinstance(err, LimitError) else 422
        return error_page(request, str(err), status)
    return RedirectResponse(f"/plans/{plan_job}", status_code=303)


@router.get("/plans/{job}")
async def plan(request: Request, job: str) -> Response:
    found = job_of(request, job, "plan")
    if isinstance(found, Response):
        return found
    folder = plan_dir(request.app.state.data, found.id)
    request_data = json.loads((folder / "request.json").read_text())
    context: dict = {
        "job": found,
        "plan": request_data,
        "files": list(PLAN_FILES),
    }
    if found.status == "done" and (folder / "out").is_dir():
        ranking = json.loads((folder / "out" / "plan.json").read_text())
        context.update(ranked=True, goal=ranking["goal"], ranking=ranking["ranking"])
    return page(request, "plan.html", context)


@router.get("/plans/{job}/files/{name}")
async def plan_file(request: Request, job: str, name: str) -> Response:
    found = job_of(request, job, "plan")
    if isinstance(found, Response):
        return found
    return _file(
        request, found, plan_dir(request.app.state.data, found.id) / "out", name, PLAN_FILES
    )
