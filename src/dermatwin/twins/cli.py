"""``dermatwin twin fit``, ``dermatwin twin predict`` and ``dermatwin plan`` (typer).

Kept beside the twins package and registered on the main app by
:func:`register_twin_commands`; errors and outputs follow :mod:`dermatwin.cli` (one line
``error: ...``, exit 2, outputs moved into place only when complete).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dermatwin.cli_checks import SEED_MAX, input_file
from dermatwin.cli_common import DISCLAIMER, OverwriteOpt, output_folder, user_errors
from dermatwin.io.json_safe import dumps as json_dumps
from dermatwin.twins.limits import BURN, MAX_STEPS, MAX_WALKERS, STEPS, WALKERS


def _fit_table(twin) -> Table:
    patient = twin.record.patient
    # user text (patient id, regimen name) is shown as typed, never read as rich markup
    table = Table(title=escape(f"twin {patient.id or ''} ({patient.disease})"))
    for col in ("parameter", "unit", "prior median", "posterior median", "90 % interval", "R-hat"):
        table.add_column(col, overflow="fold")
    for _, r in twin.summary().iterrows():
        table.add_row(
            r["parameter"],
            r["unit"],
            f"{r['prior_median']:.4g}",
            f"{r['posterior_median']:.4g}",
            f"{r['q05']:.3g}-{r['q95']:.3g}",
            f"{r['rhat']:.3f}",
        )
    return table


def register_twin_commands(app: typer.Typer) -> None:
    twin_app = typer.Typer(help="Personal digital twins (fit, predict).", no_args_is_help=True)
    app.add_typer(twin_app, name="twin")

    @twin_app.command("fit")
    def twin_fit(
        visits: Annotated[
            Path,
            typer.Argument(callback=input_file, help="visit file, CSV or YAML (docs/twins.md)"),
        ],
        out: Annotated[
            Path | None, typer.Option("--out", help="twin folder [results/twin_<file name>]")
        ] = None,
        walkers: Annotated[
            int, typer.Option("--walkers", min=4, max=MAX_WALKERS, help="ensemble walkers")
        ] = WALKERS,
        burn: Annotated[
            int, typer.Option("--burn", min=0, max=MAX_STEPS, help="burn-in steps (discarded)")
        ] = BURN,
        steps: Annotated[
            int, typer.Option("--steps", min=10, max=MAX_STEPS, help="steps kept")
        ] = STEPS,
        seed: Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX, help="random seed")] = 0,
        moves: Annotated[
            Literal["de-t", "de", "stretch"],
            typer.Option("--moves", help="de-t (DE, then a fitted t proposal), de or stretch"),
        ] = "de-t",
        extend: Annotated[
            bool,
            typer.Option(
                "--extend/--no-extend", help="extend the kept steps until converged (4 x at most)"
            ),
        ] = True,
        parameter_set: Annotated[
            str, typer.Option("--parameter-set", help="calibrated set: default, none, NAME, FILE")
        ] = "default",
        as_json: Annotated[bool, typer.Option("--json", help="print diagnostics as JSON")] = False,
        overwrite: OverwriteOpt = False,
    ) -> None:
        """Fit a patient's twin: posterior of the patient parameters from the visits."""
        from dermatwin.twins.fit import FitSettings, TwinConvergenceWarning, fit_twin
        from dermatwin.twins.report import write_twin_report
        from dermatwin.twins.visits import load_visits

        with user_errors():
            record = load_visits(visits)
            settings = FitSettings(
                walkers=walkers,
                steps=steps,
                burn=burn,
                seed=seed,
                moves=moves,
                extend=extend,
                parameter_set=parameter_set,
            )
            out = out or Path("results") / f"twin_{visits.stem}"
            with output_folder(out, "twin fit", [visits], overwrite) as folder:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", TwinConvergenceWarning)
                    twin = fit_twin(record, settings, progress=True)
                for w in caught:  # one line on stderr, not a traceback-style warning
                    if issubclass(w.category, TwinConvergenceWarning):
                        typer.echo(f"warning: {w.message}", err=True)
                    else:
                        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                with folder.staging() as tmp:
                    twin.save(tmp)
                    twin.summary().to_csv(tmp / "parameters.csv", index=False)
                    write_twin_report(tmp / "report.html", twin)
        if as_json:
            print(json_dumps(twin.diagnostics))
            return
        console = Console()
        console.print(_fit_table(twin))
        meanings = twin.summary()[["parameter", "meaning"]].itertuples(index=False)
        console.print("; ".join(f"{name}: {meaning}" for name, meaning in meanings), markup=False)
        d = twin.diagnostics
        state = "converged" if d["converged"] else "NOT converged (run longer: --steps, --burn)"
        console.print(
            f"{state}: max R-hat {d['max_rhat']:.3f}, min ESS {d['min_ess_bulk']:.0f}, "
            f"{d['seconds']:.0f} s; written to {out}/"
        )
        console.print(DISCLAIMER)

    @twin_app.command("predict")
    def twin_predict(
        twin_dir: Annotated[Path, typer.Argument(help="twin folder from `dermatwin twin fit`")],
        regimen: Annotated[
            Path,
            typer.Option(
                "--regimen", callback=input_file, help="future regimen YAML (docs/twins.md)"
            ),
        ],
        out: Annotated[
            Path | None, typer.Option("--out", help="output folder [TWIN/predict_<regimen>]")
        ] = None,
        draws: Annotated[
            int, typer.Option("--draws", min=1, help="posterior draws simulated")
        ] = 200,
        as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
        overwrite: OverwriteOpt = False,
    ) -> None:
        """Posterior predictive scores of a regimen, response probabilities and relapse."""
        from dermatwin.cli_tables import print_relapse
        from dermatwin.twins.fit import load_twin
        from dermatwin.twins.predict import load_regimen, predict
        from dermatwin.twins.report import write_twin_report

        with user_errors():
            twin = load_twin(twin_dir)
            future = load_regimen(regimen)
            twin.draws(draws)  # a bad --draws is reported before --out is claimed
            out = out or twin_dir / f"predict_{regimen.stem}"
            with output_folder(out, "twin predict", [twin_dir, regimen], overwrite) as folder:
                prediction = predict(twin, future, n_draws=draws)
                summary = prediction.summary()
                with folder.staging() as tmp:
                    prediction.bands.to_csv(tmp / "bands.csv", index=False)
                    prediction.responders.to_csv(tmp / "responders.csv", index=False)
                    (tmp / "prediction.json").write_text(json_dumps(summary, indent=2))
                    write_twin_report(tmp / "report.html", twin, prediction)
        if as_json:
            print(json_dumps(summary))
            return
        console = Console()
        r = prediction.responders
        table = Table(title=escape(f"{future.name}: probability of response (weeks from now)"))
        table.add_column("endpoint", overflow="fold")
        weeks = [w for w in (4, 8, 12, 16, 24, 52) if w <= r["week"].max()]
        for w in weeks:
            table.add_column(f"wk {w}", justify="right")
        for ep in dict.fromkeys(r["endpoint"]):
            sub = r[r["endpoint"] == ep].set_index("week")["probability"]
            table.add_row(ep, *(f"{sub.loc[float(w)]:.2f}" for w in weeks))
        console.print(table)
        print_relapse(console, prediction.relapse)
        console.print(f"written to {out}/ (bands.csv, responders.csv, report.html)")
        console.print(DISCLAIMER)

    @app.command("plan")
    def plan_command(
        twin_dir: Annotated[Path, typer.Argument(help="twin folder from `dermatwin twin fit`")],
        goal: Annotated[
            str, typer.Option("--goal", help="e.g. EASI-75@16w (weeks from the last visit)")
        ] = "",
        constraints: Annotated[
            Path | None,
            typer.Option(
                "--constraints", callback=input_file, help="constraints YAML (docs/twins.md)"
            ),
        ] = None,
        out: Annotated[Path | None, typer.Option("--out", help="output folder [TWIN/plan]")] = None,
        draws: Annotated[
            int, typer.Option("--draws", min=1, help="posterior draws per regimen")
        ] = 64,
        top: Annotated[int, typer.Option("--top", min=1, help="regimens plotted")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="print the ranking as JSON")] = False,
        overwrite: OverwriteOpt = False,
    ) -> None:
        """Search regimens for a twin and rank them by goal probability and durability."""
        from dermatwin.twins.fit import load_twin
        from dermatwin.twins.plan import load_constraints, parse_goal, plan
        from dermatwin.twins.report import write_twin_report

        with user_errors():
            twin = load_twin(twin_dir)
            limits = load_constraints(constraints)
            # bad --goal and --draws are reported before --out is claimed
            target = parse_goal(goal, twin.record.patient.disease) if goal else ""
            twin.draws(draws)
            out = out or twin_dir / "plan"
            with output_folder(out, "plan", [twin_dir, constraints], overwrite) as folder:
                result = plan(
                    twin,
                    target,
                    limits,
                    n_draws=draws,
                    top=top,
                    progress=False if as_json else None,
                )
                with folder.staging() as tmp:
                    result.table.to_csv(tmp / "plan.csv", index=False)
                    ranking = result.table.to_dict(orient="records")
                    (tmp / "plan.json").write_text(
                        json_dumps({"goal": result.goal.text, "ranking": ranking}, indent=2)
                    )
                    write_twin_report(tmp / "report.html", twin, plan_result=result)
        if as_json:
            print(json_dumps(result.table.to_dict(orient="records")))
            return
        console = Console()
        table = Table(title=f"regimens ranked for {result.goal.text}")
        columns = ("rank", "regimen", "P(goal) ± SE", "P(best)", "durability (weeks)", "visits")
        for col in columns:
            table.add_column(col, overflow="fold")
        shown = result.table.head(10)
        shared = shown["rank"].duplicated(keep=False) | shown["rank"].isin(
            result.table["rank"].iloc[10:11]
        )
        # same goal probability as the row above within Monte-Carlo error
        near = shown["tie_group"].eq(shown["tie_group"].shift()) & ~shared
        for (_, r), tied, close in zip(shown.iterrows(), shared, near, strict=True):
            table.add_row(
                f"{r['rank']}=" if tied else str(r["rank"]),
                r["regimen"],
                f"{r['p_goal']:.2f} ± {r['p_goal_se']:.2f}" + (" ≈" if close else ""),
                f"{r['p_best']:.2f}",
                f"{r['durability_weeks']:.0f}",
                str(r["clinic_visits"]),
            )
        console.print(table)
        if near.any():
            console.print(
                "≈: P(goal) within Monte-Carlo error of the nearest row above without ≈; "
                "such rows are ordered by durability, then clinic visits"
            )
        if shared.any():
            console.print("=: tied (same P(goal) within Monte-Carlo error, durability, visits)")
        console.print(f"written to {out}/ (plan.csv, plan.json, report.html)")
        console.print(DISCLAIMER)
