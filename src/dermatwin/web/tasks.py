"""Background work of the web server besides trial runs: a twin fit, a twin plan and a
small validation (docs/web.md). Each kind has a ``check_*`` that refuses bad input in the
command line's one-line message before anything is written, and a ``run_*`` that a job
thread calls with ``advance()`` (one unit of progress done; it raises to cancel).

Folders of the data folder (named by job id only): ``twins/ID/`` holds the uploaded visits
(``visits.csv`` or ``visits.yaml``, never the upload's own name), ``request.json`` (the
fit settings) and, once fitted, ``fit/`` (the ``dermatwin twin fit`` folder plus
``bands.csv`` and ``fit.png``); ``plans/ID/`` holds ``request.json`` and ``out/``
(``plan.csv``, ``plan.json``, ``report.html``, ``plan.png``); ``validations/ID/`` holds
``request.json`` and ``validation.json`` (the ``dermatwin validate --json`` result).
Results are written to a staging folder and swapped into place when complete
(:func:`_publish`: an earlier result is replaced whole, never deleted first).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dermatwin.io.json_safe import dumps as json_dumps
from dermatwin.io.output_folder import exchange
from dermatwin.web.limits import LimitError, Limits, WebError

#: what a visit upload may be called (the CLI reads CSV and YAML visit files)
VISIT_SUFFIXES = (".csv", ".yaml", ".yml")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def twin_dir(data: Path, job: str) -> Path:
    return data / "twins" / job


def plan_dir(data: Path, job: str) -> Path:
    return data / "plans" / job


def validation_dir(data: Path, job: str) -> Path:
    return data / "validations" / job


def job_dir(data: Path, kind: str, job: str) -> Path:
    """The folder of a twin, plan or validation job."""
    return {"twin": twin_dir, "plan": plan_dir, "validation": validation_dir}[kind](data, job)


def upload_name(filename: str) -> str:
    """The name an upload is shown under in messages (never a path of the server).

    >>> upload_name("C:\\\\data\\\\my patient.csv"), upload_name("../../.bashrc")
    ('my_patient.csv', 'bashrc')
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE.sub("_", base).lstrip(".")[:80] or "visits.csv"


def _number(form: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = str(form.get(name, "") or default).strip()
    if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
        raise LimitError(f"{name}: {raw[:40]!r}; allowed on this server: {low} to {high}")
    return int(raw)


def _stage(final: Path) -> Path:
    """An empty staging folder beside ``final`` (renamed onto it by :func:`_publish`)."""
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _publish(tmp: Path, final: Path) -> None:
    """Put the finished ``tmp`` at ``final`` so that an interruption never leaves no
    result there: an earlier result trades places with ``tmp`` in one atomic exchange
    (:func:`dermatwin.io.output_folder.exchange`) and is deleted afterwards; where the
    file system cannot exchange, it is renamed aside to ``.NAME.old``, ``tmp`` renamed in
    (the earlier result put back if that fails) and then deleted (there, only a kill
    between the two renames leaves the earlier result at ``.NAME.old`` alone)."""
    if not os.path.lexists(final):
        os.rename(tmp, final)
    elif exchange(tmp, final):
        shutil.rmtree(tmp)  # the earlier result, now at the staging path
    else:
        aside = final.with_name(f".{final.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(aside, final)
            raise
        shutil.rmtree(aside)


def _save_png(image, path: Path) -> None:
    path.write_bytes(base64.b64decode(image.data))


# -- twin fit --------------------------------------------------------------------------


def check_twin(data: Path, content: bytes, filename: str, form: Mapping[str, Any], limits: Limits):
    """The visit record and fit settings of an upload, or a one-line error (the visit
    file's messages are those of ``dermatwin twin fit``)."""
    from dermatwin.twins.fit import FitSettings
    from dermatwin.twins.limits import BURN, STEPS, WALKERS
    from dermatwin.twins.prior import AD_PARAMETERS, PSORIASIS_PARAMETERS
    from dermatwin.twins.visits import load_visits

    name = upload_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in VISIT_SUFFIXES:
        raise WebError(f"visits: {name!r}; allowed: a {', '.join(VISIT_SUFFIXES)} visit file")
    # every twin has at most this many parameters and the sampler needs 2 walkers each:
    # a smaller number is refused here, not after the job has started
    most = max(len(AD_PARAMETERS), len(PSORIASIS_PARAMETERS)) + 1  # + MSC responsiveness
    walkers = _number(form, "walkers", WALKERS, 2 * most, limits.max_twin_walkers)
    burn = _number(form, "burn", BURN, 0, limits.max_twin_steps)
    steps = _number(form, "steps", STEPS, 10, limits.max_twin_steps)
    if burn + steps > limits.max_twin_steps:
        raise LimitError(
            f"burn + steps: {burn + steps}; allowed on this server: up to "
            f"{limits.max_twin_steps} sampler steps"
        )
    settings = FitSettings(
        walkers=walkers,
        burn=burn,
        steps=steps,
        seed=_number(form, "seed", 0, 0, 2**32 - 1),
        extend=bool(form.get("extend")),
    )
    scratch = data / ".uploads"
    scratch.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        path = Path(tmp) / name  # the CLI's messages name the file as the user named it
        path.write_bytes(content)
        record = load_visits(path)
    return record, settings, suffix.replace(".yml", ".yaml")


def store_twin(folder: Path, content: bytes, suffix: str, name: str, settings) -> None:
    folder.mkdir(parents=True)
    (folder / f"visits{suffix}").write_bytes(content)
    request = {"source": name, "settings": dataclasses.asdict(settings)}
    (folder / "request.json").write_text(json.dumps(request, indent=2))


def load_record(folder: Path):
    from dermatwin.twins.visits import load_visits

    request = json.loads((folder / "request.json").read_text())
    path = next(
        folder / f"visits{s}" for s in (".csv", ".yaml") if (folder / f"visits{s}").exists()
    )
    return dataclasses.replace(load_visits(path), source=request["source"]), request


def run_twin(data: Path, job: str, advance: Callable[[], None]) -> str:
    """Fit the twin of job ``job``; the job's closing message."""
    from dermatwin.twins.fit import FitSettings, TwinConvergenceWarning, fit_twin
    from dermatwin.twins.fitted import fitted_bands
    from dermatwin.twins.report import fit_figure, write_twin_report

    folder = twin_dir(data, job)
    record, request = load_record(folder)
    settings = FitSettings(**request["settings"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TwinConvergenceWarning)
        twin = fit_twin(record, settings, on_step=advance)
    final = folder / "fit"
    tmp = _stage(final)
    twin.save(tmp)
    twin.summary().to_csv(tmp / "parameters.csv", index=False)
    bands = fitted_bands(twin)
    bands.to_csv(tmp / "bands.csv", index=False)
    if not bands.empty:
        _save_png(fit_figure(bands, twin), tmp / "fit.png")
    write_twin_report(tmp / "report.html", twin, fit_bands=bands)
    _publish(tmp, final)
    found = [str(w.message) for w in caught if issubclass(w.category, TwinConvergenceWarning)]
    d = twin.diagnostics
    state = "converged" if d["converged"] else "NOT converged"
    return "; ".join(
        [f"{state}: max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}", *found]
    )[:300]


# -- plan ------------------------------------------------------------------------------

#: the constraint fields the plan form offers (the rest of docs/twins.md's YAML: upload)
CONSTRAINT_FIELDS = ("max_infusions", "max_clinic_visits", "exclude_drugs", "allowed_sources")
CONSTRAINT_FLAGS = ("no_systemic_steroids", "no_liposuction")


def constraints_of(form: Mapping[str, Any]) -> dict:
    """The constraints mapping (as the YAML of ``dermatwin plan --constraints`` reads) of
    the plan form's fields; empty fields are left out."""
    out: dict[str, Any] = {}
    for name in CONSTRAINT_FIELDS:
        raw = str(form.get(name, "")).strip()
        if not raw:
            continue
        if name in ("exclude_drugs", "allowed_sources"):
            out[name] = [t.strip() for t in raw.split(",") if t.strip()]
        else:
            out[name] = int(raw) if re.fullmatch(r"\d+", raw) else raw
    for name in CONSTRAINT_FLAGS:
        if form.get(name):
            out[name] = True
    return out


def check_plan(data: Path, twin_job: str, form: Mapping[str, Any], limits: Limits) -> dict:
    """The plan request (goal, draws, constraints) for the fitted twin of ``twin_job``,
    or a one-line error (the messages of ``dermatwin plan``); also its candidate count."""
    import yaml

    from dermatwin.twins.fit import load_twin
    from dermatwin.twins.plan import candidates, load_constraints, parse_goal

    twin = load_twin(twin_dir(data, twin_job) / "fit")
    goal = str(form.get("goal", "")).strip()
    disease = twin.record.patient.disease
    target = parse_goal(goal, disease).text if goal else ""
    draws = _number(form, "draws", min(32, limits.max_plan_draws), 2, limits.max_plan_draws)
    mapping = constraints_of(form)
    scratch = data / ".uploads"
    scratch.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        path = Path(tmp) / "constraints.yaml"
        path.write_text(yaml.safe_dump(mapping))
        constraints = load_constraints(path)
    grid = candidates(disease, constraints)
    if not grid:
        raise WebError("constraints: no candidate regimen is left; relax the constraints")
    return {
        "twin": twin_job,
        "goal": target,
        "draws": draws,
        "constraints": mapping,
        "regimens": len(grid),
    }


def run_plan(data: Path, job: str, advance: Callable[[], None]) -> str:
    from dermatwin.twins.fit import load_twin
    from dermatwin.twins.plan import Constraints, plan
    from dermatwin.twins.report import plan_figure, write_twin_report

    folder = plan_dir(data, job)
    request = json.loads((folder / "request.json").read_text())
    twin = load_twin(twin_dir(data, request["twin"]) / "fit")
    constraints = Constraints.model_validate(request["constraints"])
    result = plan(
        twin,
        request["goal"],
        constraints,
        n_draws=request["draws"],
        on_regimen=lambda _: advance(),
    )
    final = folder / "out"
    tmp = _stage(final)
    result.table.to_csv(tmp / "plan.csv", index=False)
    ranking = result.table.to_dict(orient="records")
    (tmp / "plan.json").write_text(
        json_dumps({"goal": result.goal.text, "ranking": ranking}, indent=2)
    )
    _save_png(plan_figure(result, twin), tmp / "plan.png")
    write_twin_report(tmp / "report.html", twin, plan_result=result)
    _publish(tmp, final)
    best = result.table.iloc[0]
    return f"best for {result.goal.text}: {best['regimen']} (P(best) {best['p_best']:.2f})"[:300]


# -- validation ------------------------------------------------------------------------


@cache
def validation_trials(directory: Path) -> tuple[str, ...]:
    """The example trials with reference rows (what a validation job may run; read once
    per folder: they ship with the package)."""
    from dermatwin.calibration.validate import reference_trials

    return tuple(sorted(reference_trials(directory)))


def check_validation(form: Mapping[str, Any], directory: Path, limits: Limits) -> dict:
    trial = str(form.get("trial", "")).strip()
    allowed = validation_trials(directory)
    if trial not in allowed:
        raise WebError(f"trial: {trial[:40]!r}; allowed: {', '.join(allowed)}")
    draws = _number(form, "draws", 1, 1, limits.max_validation_draws)
    return {"trial": trial, "draws": draws, "placebo_nodes": 0}


def run_validation(data: Path, job: str, directory: Path, advance: Callable[[], None]) -> str:
    from dermatwin.calibration.validate import summary, validate

    folder = validation_dir(data, job)
    request = json.loads((folder / "request.json").read_text())
    pset, rows = validate(
        "default",
        directory,
        trials=[request["trial"]],
        placebo_nodes=request["placebo_nodes"],
        draws=request["draws"],
    )
    advance()
    result = summary(pset, rows)
    tmp = folder / ".validation.json.partial"
    tmp.write_text(json_dumps(result, indent=2))
    tmp.replace(folder / "validation.json")
    inside = sum(r["inside"] for r in result["rows"])
    return f"{inside} of {len(result['rows'])} rows inside their 95 % interval"
