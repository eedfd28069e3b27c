"""The trial designer pages: the form (with its YAML preview) and the YAML upload; a
valid trial is queued as a job and the browser goes to its run page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dermatwin._base.errors import DermatwinError
from dermatwin.web.app import page
from dermatwin.web.designer import (
    DEFAULT_ARMS,
    MAX_FORM_ARMS,
    arm_rows,
    check,
    spec_from_upload,
    to_yaml,
    trial_mapping,
)

router = APIRouter()

#: the form a visitor starts from (a small trial that runs in seconds)
DEFAULT_FORM = {
    "name": "my trial",
    "disease": "AD",
    "duration": "12 weeks",
    "seed": "0",
    "endpoints": "EASI-75@12w\nmean_pct_change:EASI@12w",
    "inclusion_score": "EASI",
    "inclusion_min": "16",
    "placebo_background": "on",
    "arm0_name": "dupilumab",
    "arm0_n": "10",
    "arm0_kind": "drug",
    "arm0_drug": "dupilumab",
    "arm1_name": "placebo",
    "arm1_n": "10",
    "arm1_kind": "none",
    "arm2_name": "",
    "arm2_n": "",
}


def _choices() -> dict[str, Any]:
    from typing import get_args

    from dermatwin.disease.scores import DISEASES
    from dermatwin.patients.profile import DISEASE_SCORES
    from dermatwin.therapy.drugs import CATALOGUE
    from dermatwin.therapy.products import Route, Source

    return {
        "diseases": list(DISEASES),
        "scores": sorted({s for scores in DISEASE_SCORES.values() for s in scores}),
        "drugs": [(name, ", ".join(d.diseases)) for name, d in sorted(CATALOGUE.items())],
        "sources": list(get_args(Source)),
        "routes": list(get_args(Route)),
        "origins": ["allogeneic", "autologous"],
        "units": ["cells", "cells/kg"],
        "states": ["fresh", "thawed"],
    }


def _designer(request: Request, form: dict, status_code: int = 200, **context) -> HTMLResponse:
    rows = max(DEFAULT_ARMS, max((i for i, _ in arm_rows(form)), default=0) + 1)
    if context.pop("more", False):
        rows += 1
    trial = trial_mapping(form)
    return page(
        request,
        "designer.html",
        {
            "form": form,
            "rows": range(min(rows, MAX_FORM_ARMS)),
            "yaml_text": context.pop("yaml_text", None) or to_yaml(trial),
            "errors": context.pop("errors", {}),
            **_choices(),
            **context,
        },
        status_code=status_code,
    )


def _fields(form) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.get("/designer")
async def designer(request: Request) -> Response:
    return _designer(request, dict(DEFAULT_FORM))


@router.post("/designer/preview")
async def preview(request: Request) -> Response:
    """The YAML of the form and its first problem (htmx swaps it in as the form changes)."""
    form = _fields(await request.form())
    result = check(trial_mapping(form), arm_rows(form))
    problem = result[1] if isinstance(result, tuple) else ""
    return page(
        request,
        "_preview.html",
        {"yaml_text": to_yaml(trial_mapping(form)), "problem": problem},
    )


@router.post("/designer")
async def submit_form(request: Request) -> Response:
    form = _fields(await request.form())
    if "add_arm" in form:
        return _designer(request, form, more=True)
    trial = trial_mapping(form)
    result = check(trial, arm_rows(form))
    if isinstance(result, tuple):
        field, message = result
        errors = {field or "form": message}
        return _designer(request, form, status_code=422, errors=errors)
    return _queue(request, result, to_yaml(trial), form)


@router.post("/upload")
async def upload(request: Request) -> Response:
    form = await request.form()
    file = form.get("trial")
    if file is None or isinstance(file, str) or not file.filename:
        return _designer(
            request,
            dict(DEFAULT_FORM),
            status_code=422,
            errors={"upload": "trial: choose a trial YAML file to upload"},
        )
    data = await file.read()
    # shown in messages only: the upload is never stored under its own name
    name = (file.filename.replace("\\", "/").rsplit("/", 1)[-1] or "trial.yaml")[:100]
    try:
        spec, text = spec_from_upload(data, name)
    except DermatwinError as err:
        return _designer(request, dict(DEFAULT_FORM), status_code=422, errors={"upload": str(err)})
    return _queue(request, spec, text, dict(DEFAULT_FORM), upload=True)


def _queue(request: Request, spec, yaml_text: str, form: dict, upload: bool = False) -> Response:
    from dermatwin.web.limits import LimitError

    try:
        job = request.app.state.runner.submit(spec, yaml_text)
    except LimitError as err:
        where = "upload" if upload else "form"
        return _designer(
            request, form, status_code=429, errors={where: str(err)}, yaml_text=yaml_text
        )
    return RedirectResponse(f"/runs/{job}", status_code=303)
