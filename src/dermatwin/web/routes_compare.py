"""The comparison page: pick two or more finished trial runs, see their endpoint tables
side by side with each run's difference from the first (:mod:`dermatwin.web.compare`)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dermatwin.web.app import page
from dermatwin.web.compare import MAX_COMPARED, side_by_side
from dermatwin.web.job_table import is_job_id

router = APIRouter()


@router.get("/compare")
async def compare(request: Request) -> Response:
    table = request.app.state.table
    finished = [j for j in table.all("trial") if j.status == "done"]
    picked = request.query_params.getlist("run")
    context: dict = {"finished": finished, "picked": picked, "error": "", "runs": []}
    if picked:
        known = {j.id: j for j in finished}
        bad = [p for p in picked if not is_job_id(p) or p not in known]
        if bad:
            context["error"] = f"run {bad[0][:40]!r}: no finished trial run of this server"
        elif not 2 <= len(set(picked)) <= MAX_COMPARED:
            context["error"] = f"run: {len(set(picked))} picked; allowed: 2 to {MAX_COMPARED} runs"
        else:
            runs = [known[p] for p in dict.fromkeys(picked)]
            out = request.app.state.runner.out
            summaries = [json.loads((out(j.id) / "summary.json").read_text()) for j in runs]
            context.update(runs=runs, rows=side_by_side(summaries))
    status = 422 if context["error"] else 200
    return page(request, "compare.html", context, status_code=status)
