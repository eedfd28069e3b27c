"""The web application: :func:`create_app` over one data folder (docs/web.md).

Server-rendered pages (jinja2 templates, htmx for the live parts, both served from this
package: no CDN), trials run as background jobs (:mod:`dermatwin.web.runner`) and the
safety of a shared server (:mod:`dermatwin.web.limits`, :mod:`dermatwin.web.security`).
Every page shows the research-use disclaimer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dermatwin._base.disclaimer import DISCLAIMER
from dermatwin._version import __version__
from dermatwin.web.job_table import JobTable
from dermatwin.web.limits import Limits, WebError
from dermatwin.web.runner import JobRunner
from dermatwin.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    TOKEN_COOKIE,
    BodyLimit,
    csrf_ok,
    csrf_token,
    server_secret,
    token_ok,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(disclaimer=DISCLAIMER, version=__version__)
templates.env.filters["utc"] = lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


def create_app(
    data: Path,
    *,
    limits: Limits | None = None,
    token: str | None = None,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_hook: Callable[[str, str], None] | None = None,
    validation_trials: Path | None = None,
) -> FastAPI:
    """The application serving the data folder ``data`` (made if missing).

    ``token``: required from every request when given. ``executor``, ``workers`` and
    ``scheduler`` choose where each job's chunks run (:func:`dermatwin.execution.get_executor`).
    ``chunk_hook(job, chunk)`` runs after each recorded chunk (fault-injection tests).
    ``validation_trials``: the folder of trials a validation job may run (default the
    shipped reference trials).
    """
    from dermatwin.web.routes_compare import router as compare
    from dermatwin.web.routes_designer import router as designer
    from dermatwin.web.routes_runs import router as runs
    from dermatwin.web.routes_twins import router as twins
    from dermatwin.web.routes_validation import router as validation

    data = Path(data)
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WebError(f"data folder {data}: cannot create ({err.strerror})") from None
    limits = limits or Limits()
    table = JobTable(data / "jobs.sqlite")
    runner = JobRunner(
        data,
        table,
        limits,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        chunk_hook=chunk_hook,
        validation_trials=validation_trials,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner.shutdown(wait=True)
        table.close()

    app = FastAPI(
        title="dermatwin",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.data, app.state.limits = data, limits
    app.state.table, app.state.runner = table, runner
    app.state.secret, app.state.token = server_secret(data), token
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(designer)
    app.include_router(runs)
    app.include_router(twins)
    app.include_router(validation)
    app.include_router(compare)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token and not token_ok(token, request.headers, request.cookies):
            if request.url.path == "/login" and request.method == "POST":
                await request.body()
                form = await request.form()
                if token_ok(token, {"authorization": f"Bearer {form.get('token', '')}"}, {}):
                    response = RedirectResponse("/", status_code=303)
                    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
                    return response
            return page(request, "login.html", {}, status_code=401)
        nonce = request.cookies.get(CSRF_COOKIE)
        if request.method == "POST" and request.url.path != "/login":
            await request.body()  # kept: the endpoint reads the same body again
            form = await request.form()
            sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
            if not csrf_ok(app.state.secret, nonce, sent):
                return PlainTextResponse(
                    "CSRF token missing or wrong; reload the page and submit again\n",
                    status_code=403,
                )
        if not nonce:
            nonce = secrets.token_hex(16)
            request.state.csrf_nonce = nonce
        response = await call_next(request)
        if not request.cookies.get(CSRF_COOKIE):
            response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/designer", status_code=303)

    @app.post("/login", include_in_schema=False)
    async def login() -> Response:  # reached with a valid token only: nothing to do
        return RedirectResponse("/", status_code=303)

    app.add_middleware(BodyLimit, max_bytes=limits.max_upload_bytes)
    return app


def page(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    """A page (template ``name``) with the CSRF token of this browser."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", "")
    context = {"csrf": csrf_token(request.app.state.secret, nonce), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, message: str, status_code: int) -> HTMLResponse:
    return page(request, "error.html", {"message": message}, status_code=status_code)
