"""The ``dermatwin`` command line (typer).

Every command turns bad input into one line ``error: ...`` on stderr and exit code 2;
outputs are written to a staging folder and swapped into place only when complete; an
existing ``--out`` is replaced only if it is an earlier dermatwin output and ``--overwrite``
is given (:mod:`dermatwin.io.output_folder`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from dermatwin._base.verbosity import notice
from dermatwin._version import __version__
from dermatwin.cli_checks import SEED_MAX, above, between, input_file, worker_count
from dermatwin.cli_common import (
    DISCLAIMER,
    OverwriteOpt,
    err_console,
    fail,
    output_folder,
    user_errors,
)
from dermatwin.io.json_safe import dumps as json_dumps

try:  # typer >= 0.2x runs on its own copy of click
    from typer._click.exceptions import NoArgsIsHelpError
except ImportError:  # pragma: no cover - older typer on click itself
    from click.exceptions import NoArgsIsHelpError

app = typer.Typer(
    name="dermatwin",
    help="In-silico trials and digital twins of stem-cell therapy in skin disease. "
    "Research use only; not a medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export models to standard formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")
import_app = typer.Typer(help="Import models from standard formats.", no_args_is_help=True)
app.add_typer(import_app, name="import")
trial_app = typer.Typer(help="Virtual clinical trials.", no_args_is_help=True)
app.add_typer(trial_app, name="trial")
results_app = typer.Typer(help="Query stored results with SQL (DuckDB).", no_args_is_help=True)
app.add_typer(results_app, name="results")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "-v", "--verbose", count=True, help="log more (-v information, -vv debugging)"
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="no progress bars or notices; errors only")
    ] = False,
) -> None:
    # the commands import what they need when they run: --help and --version import no
    # numerical library (tests/test_imports.py)
    from dermatwin._base.verbosity import set_verbosity

    if quiet and verbose:
        fail("-q/--quiet and -v/--verbose exclude each other; give one")
    set_verbosity(-1 if quiet else verbose)


def _write_simulation(spec, result, summary, tmp: Path) -> None:
    """The files of a scenario run in ``tmp``."""
    import pandas as pd

    from dermatwin.io.environment import environment
    from dermatwin.io.results import to_long_frame, write_netcdf
    from dermatwin.report.plots import plot_trajectories

    combined = result.combined()
    write_netcdf(combined, tmp / "trajectories.nc")
    frames = []
    for arm, ds in result.arms.items():
        frame = to_long_frame(ds, spec.outputs or None)
        frame.insert(0, "arm", arm)
        frames.append(frame)
    pd.concat(frames, ignore_index=True).to_parquet(tmp / "trajectories.parquet", index=False)
    plot_vars = spec.outputs or list(result.model.output_names) or [result.model.state_names[0]]
    for arm, ds in result.arms.items():
        plot_trajectories(ds, plot_vars, tmp / f"plot_{arm}.png", title=f"{spec.model}: {arm}")
    manifest = {
        "dermatwin_version": __version__,
        "model": result.model.name,
        "model_hash": result.model.content_hash,
        "seed": spec.patients.seed,
        "scenario": spec.model_dump(mode="json"),
        "files": sorted(p.name for p in tmp.iterdir()) + ["manifest.json", "summary.json"],
        "disclaimer": DISCLAIMER,
        "environment": environment(),
    }
    (tmp / "summary.json").write_text(json_dumps(summary, indent=2))
    (tmp / "manifest.json").write_text(json_dumps(manifest, indent=2))


ParameterSetOpt = Annotated[
    str, typer.Option("--parameter-set", help="calibrated set: default, none, NAME, FILE")
]


@app.command()
def simulate(
    scenario: Annotated[
        Path, typer.Argument(callback=input_file, help="scenario YAML file (docs/scenarios.md)")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder [results/<scenario name>]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    overwrite: OverwriteOpt = False,
    parameter_set: ParameterSetOpt = "default",
) -> None:
    """Simulate a scenario: trajectories (Parquet, NetCDF), summary JSON and a PNG plot."""
    from dermatwin.run import resolve_parameter_set, run_scenario
    from dermatwin.scenario import load_scenario

    out = out or Path("results") / scenario.stem
    with user_errors():
        spec = load_scenario(scenario)
        parameter_set = resolve_parameter_set(parameter_set)  # a bad name: before any file
        with output_folder(out, "simulate", [scenario], overwrite) as folder:
            result = run_scenario(spec, parameter_set=parameter_set)
            summary = result.summary()
            with folder.staging() as tmp:
                _write_simulation(spec, result, summary, tmp)
    if as_json:
        print(json_dumps(summary))
        return
    from dermatwin.cli_tables import print_columns

    console = Console()
    console.print(f"{spec.model}: {spec.description or scenario.stem}", markup=False)
    eps = spec.endpoints
    columns = [
        (f"{arm}\nn = {a['patients']}", [f"{a['endpoints'][e]['estimate']:.1f}" for e in eps])
        for arm, a in summary["arms"].items()
    ]
    # endpoints as rows, arms as columns (split into several tables if they do not fit)
    print_columns(console, "estimate", "endpoint", eps, columns)
    if summary["excluded_at_baseline"]:
        console.print(f"excluded at baseline: {summary['excluded_at_baseline']} patients")
    console.print(f"outputs written to {out}/ (trajectories.parquet, trajectories.nc, plots)")
    console.print(DISCLAIMER)


@app.command()
def sensitivity(
    scenario: Annotated[
        Path, typer.Argument(callback=input_file, help="scenario YAML file (docs/scenarios.md)")
    ],
    output: Annotated[
        str, typer.Option("--output", help="VAR@TIME or pct_change:VAR@TIME, e.g. EASI@16w")
    ],
    method: Annotated[
        Literal["sobol", "morris"], typer.Option("--method", help="sobol or morris")
    ] = "sobol",
    n: Annotated[
        int, typer.Option("--n", min=2, help="base samples (Sobol) or trajectories")
    ] = 256,
    parameters: Annotated[
        str | None, typer.Option("--parameters", help="comma-separated [model priors]")
    ] = None,
    fold: Annotated[
        float,
        typer.Option(
            "--fold", callback=above(1.0), help="range: value / fold .. value * fold (> 1)"
        ),
    ] = 2.0,
    arm: Annotated[str | None, typer.Option("--arm", help="arm to analyse [first]")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX)] = 0,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder [results/<scenario>_sensitivity]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the indices as JSON")] = False,
    overwrite: OverwriteOpt = False,
    parameter_set: ParameterSetOpt = "default",
) -> None:
    """Rank parameters by influence on an output (SALib Sobol or Morris); tornado plot."""
    from dermatwin.run import resolve_parameter_set
    from dermatwin.scenario import load_scenario
    from dermatwin.sensitivity import run_sensitivity, tornado_plot

    names = [p.strip() for p in parameters.split(",") if p.strip()] if parameters else None
    out = out or Path("results") / f"{scenario.stem}_sensitivity"
    with user_errors():
        spec = load_scenario(scenario)
        parameter_set = resolve_parameter_set(parameter_set)  # a bad name: before any file
        with output_folder(out, "sensitivity", [scenario], overwrite) as folder:
            result = run_sensitivity(
                spec,
                output,
                method=method,
                n=n,
                parameters=names,
                fold=fold,
                arm=arm,
                seed=seed,
                parameter_set=parameter_set,
                progress=False if as_json else None,
            )
            with folder.staging() as tmp:
                result.table.to_csv(tmp / "sensitivity.csv", index=False)
                tornado_plot(result, tmp / "tornado.png")
                (tmp / "sensitivity.json").write_text(json_dumps(result.to_dict(), indent=2))
    if as_json:
        print(json_dumps(result.to_dict()))
        return
    table = Table(title=f"{result.method} sensitivity of {result.output}")
    for col in result.table.columns:
        table.add_column(col, justify="left" if col == "parameter" else "right", overflow="fold")
    for row in result.table.head(20).itertuples(index=False):
        table.add_row(row[0], *(f"{v:.3g}" for v in row[1:]))
    Console().print(table)
    if result.n_failed:
        Console().print(f"{result.n_failed} of {result.n_simulations} simulations failed")
    Console().print(f"written to {out}/ (sensitivity.csv, tornado.png)")
    Console().print(DISCLAIMER)


ExecutorOpt = Annotated[
    Literal["serial", "processes", "dask"],
    typer.Option("--executor", help="where chunks run: serial, processes or dask"),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="local worker processes [CPU count]")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address [a local cluster]"),
]
RetriesOpt = Annotated[
    int, typer.Option("--retries", min=0, max=100, help="attempts after a task fails")
]
#: the options of commands that rerun a trial over what a new trial does not know
DrawsOpt = Annotated[
    int,
    typer.Option(
        "--draws", min=1, max=1000, help="posterior draws, for a set that carries them (reruns)"
    ),
]
PlaceboNodesOpt = Annotated[
    int,
    typer.Option(
        "--placebo-nodes",
        min=0,
        max=50,
        help="trial-level placebo values per trial (reruns; 0: none; with draws: on/off)",
    ),
]
RerunWorkersOpt = Annotated[
    int, typer.Option("--workers", callback=worker_count, help="worker processes for the reruns")
]
CalibrationWorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        callback=worker_count,
        help="worker processes for the grid points (the same result for any number)",
    ),
]


@trial_app.command("run")
def trial_run(
    trial: Annotated[
        Path, typer.Argument(callback=input_file, help="trial YAML file (docs/trials.md)")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder [results/<trial file name>]")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print arm estimates as JSON")] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, max=SEED_MAX, help="override the trial's seed")
    ] = None,
    executor: ExecutorOpt = "serial",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", min=1, help="patients per chunk [trial's chunk_size]"),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue an interrupted run into the same --out")
    ] = False,
    chunk_timeout: Annotated[
        float | None,
        typer.Option("--chunk-timeout", help="seconds before a slow chunk is run again"),
    ] = None,
    retries: RetriesOpt = 2,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run a virtual trial: trajectories and endpoints (Parquet), estimates with 95 % CIs,
    comparisons, a manifest and an HTML report. Chunks are streamed to OUT (docs/scale.md)."""
    from dermatwin.execution import get_executor
    from dermatwin.trials.scars import is_scar_trial
    from dermatwin.trials.spec import TrialError, load_trial
    from dermatwin.trials.streaming import run_trial_to
    from dermatwin.trials.wounds import is_wound_trial

    with user_errors():
        if is_scar_trial(trial):
            return _scar_trial_run(trial, out, as_json, seed, overwrite)
        if is_wound_trial(trial):
            return _wound_trial_run(trial, out, as_json, seed, overwrite)
        spec = load_trial(trial)
        if chunk_size is not None:  # >= 1: checked by the option
            spec = spec.model_copy(update={"chunk_size": chunk_size})
        if chunk_timeout is not None and not chunk_timeout > 0:
            raise TrialError(f"--chunk-timeout must be > 0 seconds, got {chunk_timeout}")
        out = out or Path("results") / trial.stem
        with get_executor(executor, workers=workers, scheduler=scheduler, retries=retries) as ex:
            result = run_trial_to(
                spec,
                out,
                executor=ex,
                seed=seed,
                resume=resume,
                timeout=chunk_timeout,
                progress=False if as_json else None,
                overwrite=overwrite,
                inputs=[trial],
            )
    if as_json:
        print(json_dumps(result.summary))
        return
    from dermatwin.cli_tables import print_baseline, print_trial_summary

    console = Console()
    console.print(f"{spec.name} (seed {result.spec.seed})", markup=False)
    if "baseline" in result.summary:
        print_baseline(console, result.summary["baseline"])
    print_trial_summary(console, result.summary, spec.endpoints)
    if len(result.failures):
        console.print(f"{len(result.failures)} patients failed (failures.csv)")
    for chunk in result.manifest["chunks"]["failed"]:
        lo, hi = chunk["patients"]
        console.print(f"chunk {chunk['chunk']} failed: arm {chunk['arm']}, patients {lo}-{hi}")
    console.print(f"outputs written to {out}/ (report.html, summary.json, Parquet files)")
    console.print(DISCLAIMER)


def _wound_trial_run(
    trial: Path, out: Path | None, as_json: bool, seed: int | None, overwrite: bool
) -> None:
    """`trial run` of a wound trial (docs/trials.md, "Wound trials")."""
    from dermatwin.trials.wounds import load_wound_trial, run_wound_trial, write_wound_trial

    _condition_trial_run(
        trial, out, as_json, seed, overwrite, load_wound_trial, run_wound_trial, write_wound_trial
    )


def _scar_trial_run(
    trial: Path, out: Path | None, as_json: bool, seed: int | None, overwrite: bool
) -> None:
    """`trial run` of a mature-scar trial (docs/trials.md, "Wound trials")."""
    from dermatwin.trials.scars import load_scar_trial, run_scar_trial, write_scar_trial

    _condition_trial_run(
        trial, out, as_json, seed, overwrite, load_scar_trial, run_scar_trial, write_scar_trial
    )


def _condition_trial_run(trial, out, as_json, seed, overwrite, load, run, write) -> None:
    """A wound or scar trial: in memory, then summary.json, endpoints.csv and
    trajectories.csv into OUT (``load``, ``run``, ``write``: the condition's functions)."""
    from dermatwin.cli_tables import print_trial_summary

    spec = load(trial)
    if seed is not None:
        spec = spec.model_copy(update={"seed": seed})
    out = out or Path("results") / trial.stem
    with output_folder(out, "trial run", [trial], overwrite) as folder:
        result = run(spec)
        with folder.staging() as tmp:
            write(result, Path(tmp))
    if as_json:
        print(json_dumps(result.summary))
        return
    console = Console()
    console.print(f"{spec.name} (seed {spec.seed})", markup=False)
    print_trial_summary(console, result.summary, spec.endpoints)
    console.print(f"outputs written to {out}/ (summary.json, endpoints.csv, trajectories.csv)")
    console.print(DISCLAIMER)


@trial_app.command("export")
def trial_export(
    run: Annotated[Path, typer.Argument(help="folder of a finished `dermatwin trial run`")],
    out: Annotated[Path, typer.Option("--out", help="folder for adsl.csv and adqs.csv")],
    overwrite: OverwriteOpt = False,
) -> None:
    """Export a finished run as ADaM-like tables: ADSL (one row per subject) and ADQS
    (one row per subject, score and visit), as CSV."""
    from dermatwin.trials.adam import read_run, write_adam

    with user_errors():
        read_run(run)  # a folder that is no run: one line, nothing written
        with output_folder(out, "trial export", [run], overwrite) as folder:
            with folder.staging() as tmp:
                rows = write_adam(run, tmp)
    console = Console()
    sizes = ", ".join(f"{n}.csv ({k} rows)" for n, k in rows.items())
    console.print(f"written to {out}/: {sizes}")
    console.print(DISCLAIMER)


@trial_app.command("predict")
def trial_predict(
    trial: Annotated[Path, typer.Argument(callback=input_file, help="trial YAML file")],
    parameter_set: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="parameter set: default, none, a name or a YAML path (default: the trial's)",
        ),
    ] = None,
    draws: DrawsOpt = 8,
    placebo_nodes: PlaceboNodesOpt = 5,
    workers: RerunWorkersOpt = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Predict what the trial will show: each arm's endpoints and each arm minus the
    reference, with 95 % predictive intervals over the set's posterior draws, the
    trial's own placebo response and sampling at the arm sizes."""
    from dermatwin.calibration.predictive import predict_trial
    from dermatwin.trials.spec import load_trial

    with user_errors():
        spec = load_trial(trial)
        result = predict_trial(
            spec,
            parameter_set,
            draws=draws,
            placebo_nodes=placebo_nodes,
            workers=workers,
            progress=False if as_json else None,
        )
    if as_json:
        print(json_dumps(result))
        return
    from dermatwin.cli_tables import print_prediction

    console = Console()
    print_prediction(console, result)
    console.print(DISCLAIMER)


@trial_app.command("power")
def trial_power(
    trial: Annotated[Path, typer.Argument(callback=input_file, help="trial YAML file")],
    endpoint: Annotated[str, typer.Option("--endpoint", help="endpoint, e.g. EASI-50@12w")],
    alpha: Annotated[
        float,
        typer.Option("--alpha", callback=between(0.0, 1.0), help="two-sided significance level"),
    ] = 0.05,
    replicates: Annotated[int, typer.Option("--replicates", min=1, help="trials simulated")] = 100,
    target: Annotated[
        float | None,
        typer.Option(
            "--target", callback=between(0.0, 1.0), help="search n per arm for this power"
        ),
    ] = None,
    n_max: Annotated[int, typer.Option("--n-max", min=2, help="largest n per arm searched")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    executor: ExecutorOpt = "serial",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    retries: RetriesOpt = 2,
) -> None:
    """Estimate power by repeating the trial with new seeds; optionally search n per arm."""
    from dermatwin.execution import get_executor
    from dermatwin.trials.power import estimate_power, search_sample_size
    from dermatwin.trials.spec import load_trial

    progress = False if as_json else None
    with user_errors():
        spec = load_trial(trial)
        with get_executor(executor, workers=workers, scheduler=scheduler, retries=retries) as ex:
            if target is None:
                result = estimate_power(
                    spec,
                    endpoint,
                    alpha=alpha,
                    replicates=replicates,
                    executor=ex,
                    progress=progress,
                )
            else:
                result = search_sample_size(
                    spec,
                    endpoint,
                    target,
                    alpha=alpha,
                    replicates=replicates,
                    n_max=n_max,
                    executor=ex,
                    progress=progress,
                )
    if as_json:
        print(json_dumps(result))
        return
    from dermatwin.cli_tables import print_power

    console = Console()
    print_power(console, result)
    console.print(DISCLAIMER)


@results_app.command("query")
def results_query(
    folder: Annotated[Path, typer.Argument(help="a trial's output folder")],
    sql: Annotated[str, typer.Argument(help="SQL over the views trajectories and endpoints")],
    as_json: Annotated[bool, typer.Option("--json", help="print rows as JSON records")] = False,
    limit: Annotated[
        int, typer.Option("--limit", help="rows to print at most (1 to 1,000,000)")
    ] = 10_000,
) -> None:
    """Run one read-only DuckDB SELECT over stored trial results, e.g.
    "SELECT arm, avg(value) FROM trajectories WHERE variable = 'EASI' GROUP BY arm"."""
    from dermatwin.results.query import query_results

    with user_errors():
        frame = query_results(folder, sql, limit=limit)
    if frame.attrs.get("truncated"):  # on stderr: stdout stays valid JSON or a table
        notice(f"note: the query has more rows; showing the first {limit:,} (--limit)")
    if as_json:
        finite = frame.replace([float("inf"), float("-inf")], float("nan"))  # JSON: no inf
        records = finite.astype(object).where(finite.notna(), None).to_dict(orient="records")
        print(json.dumps(records, default=str, allow_nan=False))
        return
    table = Table()
    for col in frame.columns:
        justify = "right" if frame[col].dtype.kind in "iuf" else "left"
        table.add_column(str(col), justify=justify, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)
    if frame.empty:
        Console().print("(no rows)")


@export_app.command("sbml")
def export_sbml(
    model: Annotated[str, typer.Argument(help="model name (see `dermatwin models`)")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="file to write [MODEL.xml]")
    ] = None,
    regimen: Annotated[
        Path | None,
        typer.Option(
            "--regimen",
            callback=input_file,
            help="skin model: a regimen's doses as SBML events (YAML as for `twin predict`, "
            "or NONMEM-style dosing records CSV)",
        ),
    ] = None,
    trial: Annotated[
        Path | None,
        typer.Option(
            "--trial", callback=input_file, help="skin model: a trial arm's doses as SBML events"
        ),
    ] = None,
    arm: Annotated[str | None, typer.Option("--arm", help="with --trial: the arm [first]")] = None,
    parameter_set: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="skin model: parameter set: default, none, a name or a YAML path "
            "[default; with --trial the trial's]",
        ),
    ] = None,
    weight: Annotated[
        float,
        typer.Option("--weight", callback=above(0.0), help="body weight (kg) for per-kg doses"),
    ] = 70.0,
) -> None:
    """Export a model to SBML Level 3 (units, rate rules, outputs as assignment rules);
    with --regimen or --trial, the skin model with those doses as SBML events."""
    from dermatwin._base.atomic import write_text_atomic
    from dermatwin.model.registry import available_models

    if model not in available_models():
        fail(f"MODEL: unknown model {model!r}; allowed: {', '.join(available_models())}")
    if regimen is not None and trial is not None:
        fail("--regimen, --trial: give one of them (a regimen file or a trial arm)")
    if arm is not None and trial is None:
        fail("--arm: give --trial TRIAL.yaml too (the arm is one of its arms)")
    if model != "skin":
        for flag, value in (("--regimen", regimen), ("--trial", trial), ("--set", parameter_set)):
            if value is not None:
                fail(f"{flag}: only for the skin model (regimens dose it); got MODEL {model}")
    output = output or Path(f"{model}.xml")
    if output.is_dir():
        fail(f"-o/--output: {output} is a folder; give a file name, e.g. MODEL.xml")
    if parameter_set is not None:
        from dermatwin.errors import DermatwinError
        from dermatwin.run import resolve_parameter_set

        try:
            resolve_parameter_set(parameter_set)  # a bad name: before any work
        except DermatwinError as err:
            fail(f"--set: {str(err).removeprefix('parameter_set: ')}")
    with user_errors({"path": "--regimen", "weight_kg": "--weight"}):
        text = _sbml_text(model, regimen, trial, arm, parameter_set, weight)
    try:
        write_text_atomic(output, text)
    except OSError as err:
        fail(f"-o/--output: cannot write {output} ({err.strerror})")
    typer.echo(f"wrote {output}")


def _sbml_text(
    model: str,
    regimen: Path | None,
    trial: Path | None,
    arm: str | None,
    parameter_set: str | None,
    weight: float,
) -> str:
    """The SBML of ``export sbml`` (library errors pass up; the caller words them)."""
    from dermatwin.io.sbml import to_sbml
    from dermatwin.model.registry import get_model
    from dermatwin.trials import sbml_dosing

    if trial is not None:
        from dermatwin.trials.spec import load_trial

        spec = load_trial(trial)
        if parameter_set is not None:
            spec = spec.model_copy(update={"parameter_set": parameter_set})
        return sbml_dosing.arm_dosing(spec, arm or next(iter(spec.arms)), weight_kg=weight).sbml()
    if regimen is not None:
        from dermatwin.twins.predict import check_regimen, load_regimen

        future = load_regimen(regimen)
        check_regimen(future, weight)
        labelled = [(f"regimen[{i}]", item) for i, item in enumerate(future.regimen)]
        return sbml_dosing.regimen_dosing(
            labelled,
            horizon_days=future.horizon,
            weight_kg=weight,
            parameter_set=parameter_set or "default",
        ).sbml()
    if model == "skin":
        return to_sbml(sbml_dosing.calibrated_skin(parameter_set or "default"))
    return to_sbml(get_model(model))


@import_app.command("sbml")
def import_sbml(
    path: Annotated[Path, typer.Argument(callback=input_file, help="SBML Level 2 or 3 file")],
    time_unit: Annotated[
        str | None,
        typer.Option("--time-unit", help="the file's time unit: s, h, day, week, year [its own]"),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option("--simulate", callback=above(0.0), help="simulate this many days"),
    ] = None,
    points: Annotated[
        int, typer.Option("--points", min=2, max=100_000, help="output times with --simulate")
    ] = 11,
    out: Annotated[
        Path | None, typer.Option("--out", help="with --simulate: write the trajectory CSV here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an existing file at --out")
    ] = False,
) -> None:
    """Import an SBML model (states, parameters, rules, reactions, timed events) and
    optionally simulate it with dermatwin's engine (time in days)."""
    import numpy as np

    from dermatwin._base.atomic import write_text_atomic
    from dermatwin.io.sbml import read_sbml

    if out is not None and days is None:
        fail("--out: give --simulate DAYS too (the CSV is the simulated trajectory)")
    if out is not None and out.is_dir():
        fail(f"--out: {out} is a folder; give a file name, e.g. trajectory.csv")
    if out is not None and out.exists() and not overwrite:
        fail(f"--out: {out} exists; give --overwrite to replace it")
    with user_errors({"time_unit": "--time-unit", "path": "PATH"}):
        imported = read_sbml(path, time_unit=time_unit)
    model = imported.model
    info: dict = {
        "model": model.name,
        "description": model.description,
        "days_per_time_unit": imported.days_per_time_unit,
        "states": list(model.state_names),
        "parameters": len(model.parameters),
        "outputs": list(model.output_names),
        "events": [
            {"day": e.time, "kind": e.kind.name, "target": e.target, "value": e.value}
            for e in imported.events
        ],
    }
    if days is not None:
        from dermatwin.engine.simulate import simulate as run

        times = np.linspace(0.0, days, points)
        with user_errors():
            ds = run(model, times, events=list(imported.events))
        names = [*model.state_names, *model.output_names]
        frame = ds[names].isel(patient=0).to_dataframe()[names].reset_index()
        info["status"] = int(ds["status"].values[0])
        info["final"] = {k: float(v) for k, v in frame.iloc[-1].items() if k != "time"}
        if out is not None:
            try:
                write_text_atomic(out, frame.to_csv(index=False))
            except OSError as err:
                fail(f"--out: cannot write {out} ({err.strerror})")
            info["trajectory"] = str(out)
    if as_json:
        print(json_dumps(info))
        return
    console = Console()
    table = Table(title=f"imported {path.name} (research use only)")
    table.add_column("item")
    table.add_column("value", overflow="fold")
    table.add_row("model", f"{model.name}: {model.description}")
    table.add_row("time", f"{imported.days_per_time_unit:g} day per model time unit")
    table.add_row("states", ", ".join(model.state_names))
    table.add_row("parameters", str(len(model.parameters)))
    table.add_row("outputs", ", ".join(model.output_names) or "-")
    table.add_row("events", str(len(imported.events)))
    for name, value in info.get("final", {}).items():
        table.add_row(f"{name} at day {days:g}", f"{value:.6g}")
    console.print(table)
    if out is not None:
        console.print(f"wrote {out}", markup=False)


@app.command()
def calibrate(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="refit only this target (repeatable), keep the others"),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="where to write the fitted parameter set")
    ] = Path("results/calibration/CAL-5.yaml"),
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="shipped values must lie in the refit's 95 % CrI; exit 1 if not"
        ),
    ] = False,
    draws: Annotated[
        int, typer.Option("--draws", min=1, max=10_000, help="posterior draws per value")
    ] = 64,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            min=0,
            max=SEED_MAX,
            help="replace every example trial's seed (other patients)",
        ),
    ] = None,
    patients: Annotated[
        int | None,
        typer.Option(
            "--patients",
            min=10,
            max=100_000,
            help="virtual patients per arm of the unpaired steps (default 1000; 4000 for "
            "the rare-response step)",
        ),
    ] = None,
    petab: Annotated[
        Path | None,
        typer.Option("--petab", help="only write the calibration problem as PEtab tables here"),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an earlier dermatwin output in --petab")
    ] = False,
    workers: CalibrationWorkersOpt = 1,
) -> None:
    """Fit the open values (placebo, drug effects, the host-carried MSC effect, score
    mapping) to the reference clinical rows as grid posteriors: a point (the mode),
    draws and a 95 % credible interval per value."""
    if petab is not None:
        from dermatwin.calibration.problem import calibration_problem, write_petab

        with user_errors(flags={"out": "--petab"}):  # the folder is named by --petab here
            with output_folder(petab, "calibrate --petab", [], overwrite) as folder:
                problems = calibration_problem()
                with folder.staging() as tmp:
                    write_petab(problems, tmp)
        typer.echo(f"wrote {petab} ({sum(len(p.terms) for p in problems)} measurements)")
        return
    from dermatwin.calibration.posterior import calibrate_posterior, check_against
    from dermatwin.params.parameter_set import load_parameter_set, write_parameter_set

    with user_errors(flags={"path": "--out"}):
        pset = calibrate_posterior(
            only,
            log=notice,
            seed=seed,
            draws=draws,
            patients=patients,
            progress=None,
            workers=workers,
        )
        write_parameter_set(pset, out)
        shipped = load_parameter_set("default")
    typer.echo(f"wrote {out}")
    _posterior_table(pset, only)
    if check:
        differ = check_against(shipped, pset, full=not only)
        if differ:
            typer.echo("differs from the shipped set: " + "; ".join(differ))
            raise typer.Exit(1)
        typer.echo(
            f"reproduces the shipped set {shipped.name} within the posterior spread "
            f"({len(pset.values)} values)"
        )


def _posterior_table(pset, only: list[str] | None) -> None:
    columns = ("value", "point", "mean", "SD", "95 % CrI", "eff. nodes", "interp. error")
    table = Table(title=f"posterior, {pset.n_draws} draws per value")
    for col in columns:
        table.add_column(col, justify="left" if col == "value" else "right", overflow="fold")
    for v in pset.values:
        p = v.posterior
        if p is None or (only and v.target not in only and not _same_step(v, only, pset)):
            continue
        table.add_row(
            v.target,
            f"{v.value:.4g}",
            f"{p.mean:.4g}",
            f"{p.sd:.2g}",
            f"{p.low:.4g} to {p.high:.4g}",
            f"{p.effective_grid_points:.1f}" if p.effective_grid_points is not None else "",
            f"{p.interpolation_error:.2f}" if p.interpolation_error is not None else "",
        )
    Console().print(table)


def _same_step(value, only: list[str], pset) -> bool:
    """Whether ``value`` was refitted with a target named in ``only`` (same rows)."""
    return any(v.fitted_to == value.fitted_to for v in pset.values if v.target in only)


@app.command("calibrate-placebo")
def calibrate_placebo(
    out: Annotated[
        Path, typer.Option("--out", help="where to write the fitted placebo models (YAML)")
    ] = Path("results/calibration/placebo_effects.yaml"),
    workers: CalibrationWorkersOpt = 1,
) -> None:
    """Fit the trial-level placebo random effect of each disease (mu, tau) to the placebo
    arms of the example trials, with the shipped parameter set (takes minutes)."""
    from dermatwin.calibration.placebo import TARGETS, fit_placebo, write_placebo_models
    from dermatwin.calibration.validate import reference_trials
    from dermatwin.calibration.workers import worker_pool
    from dermatwin.params.parameter_set import load_parameter_set

    with user_errors():
        specs, pset = reference_trials(), load_parameter_set("default")
        with worker_pool(workers) as pool:  # started once for both diseases
            models = [fit_placebo(specs, pset, d, notice, workers=pool or 1) for d in TARGETS]
        write_placebo_models(models, out)
    for m in models:
        lo, hi = m.tau_ci
        typer.echo(
            f"{m.disease}: {m.target} on the {m.scale} scale, mu {m.mu:.3f} (SE "
            f"{m.mu_se:.3f}), tau {m.tau:.2f} (95 % profile CI {lo:.2f} to {hi:.2f}), "
            f"{len(m.rows)} placebo arms"
        )
    typer.echo(f"wrote {out}")


@app.command()
def validate(
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    parameter_set: Annotated[
        str, typer.Option("--set", help="parameter set: default, none, a name or a YAML path")
    ] = "default",
    trial: Annotated[
        list[str] | None, typer.Option("--trial", help="only this example trial (repeatable)")
    ] = None,
    doc: Annotated[
        Path | None, typer.Option("--doc", help="also write this Markdown page and its plot")
    ] = None,
    placebo_nodes: PlaceboNodesOpt = 5,
    draws: DrawsOpt = 8,
    cross: Annotated[
        bool,
        typer.Option(
            "--cross",
            help="also predict every row with its own trial left out (needs a set with draws)",
        ),
    ] = False,
    workers: RerunWorkersOpt = 1,
) -> None:
    """Simulate every clinical row an example trial expresses: observed, predicted, 95 %
    predictive interval (sampling + trial-level placebo + the set's posterior draws), and
    whether the row was used for fitting; with --cross, leave-one-trial-out."""
    from dermatwin.calibration.validate import (
        coverage_lines,
        cross_validate,
        summary,
        validate,
        write_validation_doc,
    )
    from dermatwin.params.parameter_set import load_parameter_set

    with user_errors():
        options = dict(
            trials=trial,
            placebo_nodes=placebo_nodes,
            draws=draws,
            workers=workers,
            progress=False if as_json else None,
        )
        pset = load_parameter_set(parameter_set)
        if cross:
            pset, rows, left_rows, freed = cross_validate(pset, **options)
            result = summary(pset, rows, (left_rows, freed))
        else:
            pset, rows = validate(pset, **options)
            result = summary(pset, rows)
        if doc is not None:
            write_validation_doc(pset, result, doc)
    if as_json:
        print(json_dumps(result))
        return
    table = Table(title=f"validation, parameter set {pset.name}")
    for col in ("row", "endpoint", "observed", "predicted", "95 % interval", "inside", "fitted"):
        table.add_column(
            col,
            justify="right" if col in ("observed", "predicted") else "left",
            overflow="fold",
        )
    for r in result["rows"]:
        lo, hi = r["interval"]
        table.add_row(
            r["row"],
            r["endpoint"],
            f"{r['observed']:g}",
            f"{r['predicted']:.1f}",
            f"{lo:.1f} to {hi:.1f}",
            "yes" if r["inside"] else "no",
            "yes" if r["fitted"] else "",
        )
    Console().print(table)
    for line in coverage_lines(result):
        typer.echo(line)
    typer.echo(DISCLAIMER)


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """List the available models with their states and sources."""
    from dermatwin.model.registry import available_models, get_model

    info = []
    for name in available_models():
        m = get_model(name)
        info.append(
            {
                "name": name,
                "description": m.description,
                "states": list(m.state_names),
                "outputs": list(m.output_names),
                "parameters": len(m.parameters),
                "interventions": sorted(m.interventions),
                "sources": list(m.references),
            }
        )
    if as_json:
        print(json.dumps(info, indent=2))
        return
    table = Table(title="dermatwin models")
    for col in ("model", "states", "outputs", "interventions", "sources"):
        table.add_column(col, overflow="fold")
    for m in info:
        table.add_row(
            f"{m['name']}\n{m['description']}",
            ", ".join(m["states"]),
            ", ".join(m["outputs"]),
            ", ".join(m["interventions"]) or "-",
            ", ".join(m["sources"]),
        )
    Console().print(table)


def _print_catalogue(
    frame, columns: list[str], title: str, as_json: bool, multiline: bool = False
) -> None:
    """``frame`` as JSON records (every column) or as a table of ``columns`` that folds
    long cells to fit the terminal."""
    if as_json:
        print(json_dumps(frame.to_dict(orient="records")))
        return
    from dermatwin.cli_tables import _table

    console = Console()
    console.print(title, markup=False)
    table = _table(lines=multiline)
    cells = [
        [f"{v:g}" if isinstance(v, float) else str(v) for v in row]
        for row in frame[columns].itertuples(index=False)
    ]
    for j, col in enumerate(columns):
        # short fields at their own width on one line; the last (longest text) folds
        width = max(len(col), *(len(line) for row in cells for line in row[j].splitlines()))
        last = j == len(columns) - 1
        table.add_column(col, overflow="fold", min_width=None if last else width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


@app.command()
def drugs(
    as_json: Annotated[bool, typer.Option("--json", help="every column, as JSON")] = False,
    parameter_set: ParameterSetOpt = "default",
) -> None:
    """List the drug catalogue: diseases, model slot, route, labelled dose and schedule."""
    import pandas as pd

    from dermatwin.catalogue import drug_catalogue

    with user_errors():
        frame = drug_catalogue(parameter_set)
    if not as_json:  # two lines a cell: drug and diseases, dose and route
        rows = frame.itertuples(index=False)
        frame = pd.DataFrame(
            {
                "drug": [f"{r.name}\n{r.diseases}" for r in rows],
                "dose": [f"{d:g} {u}" for d, u in zip(frame["dose"], frame["unit"], strict=True)],
                "schedule": frame["schedule"],
            }
        )
        frame["dose"] = frame["dose"] + "\n" + drug_catalogue(parameter_set)["route"]
    columns = ["drug", "dose", "schedule"]
    _print_catalogue(frame, columns, "drug catalogue (--json: every field)", as_json, True)


@app.command()
def products(
    as_json: Annotated[bool, typer.Option("--json", help="every column, as JSON")] = False,
    parameter_set: ParameterSetOpt = "default",
) -> None:
    """List the MSC products: source, origin, potency and clearance (persistence)."""
    from dermatwin.catalogue import msc_products

    with user_errors():
        frame = msc_products(parameter_set)
    columns = ["source", "origin", "route", "viability", "potency", "clearance_factor"]
    _print_catalogue(frame, columns, "MSC products (--json: every field)", as_json)


@app.command()
def version() -> None:
    """Print the dermatwin version."""
    typer.echo(__version__)


# personal twins and planning live beside their package (dermatwin.twins.cli)
from dermatwin.twins.cli import register_twin_commands  # noqa: E402

register_twin_commands(app)

# the web application's command (dermatwin.web.cli; the web stack loads when it runs)
from dermatwin.web.cli import register_web_commands  # noqa: E402

register_web_commands(app)


def _usage_line(err: Exception) -> str:
    """A usage error (missing argument, unknown option, bad number) as one line naming the
    command, instead of typer's multi-line box."""
    text = " ".join(err.format_message().split()).replace("Value error, ", "")
    text = re.sub(r"'([^']{37})[^']{4,}'", r"'\1...'", text)  # echoed values: 40 characters
    if len(text) > 300:
        text = text[:297] + "..."
    ctx = getattr(err, "ctx", None)
    if ctx is not None:
        text += f" (see '{ctx.command_path} --help')"
    return text


def main(argv: list[str] | None = None) -> None:
    """The ``dermatwin`` entry point: every error is one line ``error: ...`` (exit 2)."""
    try:
        code = app(args=argv, prog_name="dermatwin", standalone_mode=False)
    except NoArgsIsHelpError as err:  # the help is printed; asking for it is no error
        if err.format_message().strip():
            typer.echo(err.format_message())
        code = 0
    except typer.TyperException as err:  # usage errors (typer's own click exceptions)
        err_console.print(
            f"error: {_usage_line(err)}", markup=False, highlight=False, soft_wrap=True
        )
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        code = 130
    if code == 130:  # typer turns Ctrl-C into exit code 130
        err_console.print("error: interrupted (a trial run continues with --resume)")
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
