"""Write a trial result to a folder: Parquet tables, JSON summary and manifest, HTML report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dermatwin.io.json_safe import dumps as json_dumps
from dermatwin.report.plots import DISCLAIMER
from dermatwin.trials.report import write_html_report
from dermatwin.trials.run import TrialResult
from dermatwin.trials.spec import PRIMARY_SCORE


def write_trial(
    result: TrialResult,
    folder: Path,
    *,
    report_trajectories: pd.DataFrame | None = None,
    notes: Sequence[str] = (),
) -> list[Path]:
    """Files of one trial run in ``folder`` (callers make the folder atomic).

    ``report_trajectories``: given when the trajectories were streamed to disk already
    (``trajectories.parquet`` exists) and the report draws on these rows instead.
    """
    folder = Path(folder)
    if report_trajectories is None:
        result.trajectories.to_parquet(folder / "trajectories.parquet", index=False)
        report_trajectories = result.trajectories
    result.endpoints.to_parquet(folder / "endpoints.parquet", index=False)
    result.failures.to_csv(folder / "failures.csv", index=False)
    (folder / "summary.json").write_text(json_dumps(result.summary, indent=2))
    manifest = {
        **result.manifest,
        "spec": json.loads(result.spec.model_dump_json()),
        "disclaimer": DISCLAIMER,
    }
    (folder / "manifest.json").write_text(json_dumps(manifest, indent=2))
    write_html_report(
        folder / "report.html",
        title=f"Virtual trial: {result.spec.name}",
        summary=result.summary,
        endpoints=result.endpoints,
        kinds=result.kinds(),
        trajectories=report_trajectories,
        manifest=result.manifest,
        notes=([result.spec.description] if result.spec.description else []) + list(notes),
        primary=PRIMARY_SCORE[result.spec.disease],
        failures=result.failures,
        withdrawal=result.spec.withdrawal.at if result.spec.withdrawal else None,
    )
    return sorted(folder.iterdir())
