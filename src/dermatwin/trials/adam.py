"""ADaM-like tables of a finished trial run: one row per subject, one per subject and visit.

Statisticians and data managers read trial results as CDISC ADaM datasets. A run folder
of ``dermatwin trial run`` (``manifest.json``, ``endpoints.parquet``,
``trajectories.parquet``, ``failures.csv``) becomes two tables, written as CSV by
``dermatwin trial export RUN --out DIR``:

* **ADSL** (subject level): ``STUDYID``, ``USUBJID`` (``STUDYID-ARM-patient``; a paired
  trial's arms hold the same virtual patients, but each arm's record is its own subject),
  ``SUBJID``, ``ARM`` (= ``TRT01P`` = ``TRT01A``), ``AGE`` (``AGEU`` YEARS), ``SEX``,
  ``WEIGHTBL`` (kg), ``FLGLOSS`` / ``HLAC0602`` (Y/N, where the disease has them),
  ``CANDID`` (the virtual candidate index: the patient's random stream), ``SIMFL``
  (``Y``: the simulation completed; ``N``: a numerical failure, excluded from the
  analyses, see ``failures.csv``); in a trial with a rescue rule ``RESCFL`` (Y/N: rescued
  during the trial) and ``RESCDY`` (study day of the rescue visit; empty if never).
* **ADQS** (basic data structure, one row per subject, score and visit): ``STUDYID``,
  ``USUBJID``, ``TRTP``, ``PARAMCD`` (the score's name, at most 8 characters), ``PARAM``
  (name and unit), ``AVISIT`` (``Baseline``, ``Week 4``, ``Day 3``), ``AVISITN`` (weeks),
  ``ADY`` (study day, day 0 = randomisation), ``AVAL``, ``BASE``, ``CHG``, ``PCHG``
  (% change), ``ABLFL`` (``Y`` on the baseline record); in a trial with a rescue rule
  ``AFTRESFL`` (``Y`` on a record after the subject's rescue visit: the value at the rescue
  visit itself is measured before the rescue therapy starts).

ADQS is computed by DuckDB over ``trajectories.parquet`` and, by :func:`write_adam`,
copied straight to CSV: the trajectory table is never held in memory whole.

These are "ADaM-like": the variable names and structures follow ADaM, but there is no
define.xml, no controlled terminology beyond the names above, and the values are
simulated (research use only).

>>> sorted(PARAMCD)[:3]
['EASI', 'IGA', 'PASI']
"""

from __future__ import annotations

import json
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from dermatwin._base.errors import DermatwinError
from dermatwin.disease.scores import SCORES

#: ADaM parameter codes (at most 8 characters) of the scores a trial records
PARAMCD = {
    "EASI": "EASI",
    "SCORAD": "SCORAD",
    "IGA": "IGA",
    "pruritus_NRS": "PRURNRS",
    "TEWL": "TEWL",
    "skin_infection_rate": "SKINFRT",
    "PASI": "PASI",
    "PGA": "PGA",
}
RUN_FILES = ("manifest.json", "endpoints.parquet", "trajectories.parquet")
#: the endpoint-table column of the rescue visit's day (trials with a rescue rule)
RESCUE_DAY = "rescue_day"


class ExportError(DermatwinError):
    """A folder that is not a finished trial run (one line naming what is missing)."""


def _flag(values) -> list[str]:
    return ["Y" if bool(v) else "N" for v in values]


def _studyid(manifest: dict) -> str:
    name = str(manifest.get("trial", "DERMATWIN"))
    study = re.sub(r"[\W_]+", "-", name.upper(), flags=re.ASCII).strip("-")
    return study[:40].strip("-") or "TRIAL"


def read_run(run: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The manifest, endpoint table and failures of a finished run (the trajectories are
    read by :func:`adqs` / :func:`write_adam` as a stream)."""
    folder = Path(run)
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        raise ExportError(
            f"run: {folder} holds no finished trial run (missing {', '.join(missing)}); "
            "allowed: a folder written by `dermatwin trial run`"
        )
    manifest = json.loads((folder / "manifest.json").read_text())
    endpoints = pd.read_parquet(folder / "endpoints.parquet")
    fail_path = folder / "failures.csv"
    failures = (
        pd.read_csv(fail_path)
        if fail_path.is_file() and fail_path.stat().st_size
        else pd.DataFrame(columns=["arm", "patient", "status"])
    )
    return manifest, endpoints, failures


def _usubjid(study: str, arm, patient) -> pd.Series:
    return (
        study
        + "-"
        + pd.Series(arm).astype(str).str.upper()
        + "-"
        + pd.Series(patient).astype(int).map("{:05d}".format)
    )


def adsl(manifest: dict, endpoints: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """The subject-level table (see the module docstring)."""
    study = _studyid(manifest)
    keys = endpoints[["arm", "patient"]].reset_index(drop=True)
    failed = set(zip(failures["arm"].astype(str), failures["patient"].astype(int), strict=True))
    out = pd.DataFrame(
        {
            "STUDYID": study,
            "USUBJID": _usubjid(study, keys["arm"], keys["patient"]),
            "SUBJID": keys["patient"].astype(int).map("{:05d}".format),
            "ARM": keys["arm"].astype(str),
            "TRT01P": keys["arm"].astype(str),
            "TRT01A": keys["arm"].astype(str),
        }
    )
    if "age" in endpoints:
        out["AGE"] = np.floor(endpoints["age"].to_numpy()).astype(int)
        out["AGEU"] = "YEARS"
    if "sex" in endpoints:
        out["SEX"] = endpoints["sex"].astype(str).to_numpy()
    if "weight_kg" in endpoints:
        out["WEIGHTBL"] = endpoints["weight_kg"].round(1).to_numpy()
    for column, name in (("flg_loss", "FLGLOSS"), ("hla_c0602", "HLAC0602")):
        if column in endpoints:
            out[name] = _flag(endpoints[column].to_numpy())
    if "candidate" in endpoints:
        out["CANDID"] = endpoints["candidate"].astype(int).to_numpy()
    pairs = zip(keys["arm"].astype(str), keys["patient"].astype(int), strict=True)
    out["SIMFL"] = ["N" if pair in failed else "Y" for pair in pairs]
    if RESCUE_DAY in endpoints:
        day = endpoints[RESCUE_DAY].to_numpy(dtype=np.float64)
        out["RESCFL"] = _flag(np.isfinite(day))
        out["RESCDY"] = day
    return out


def _case(column: str, mapping: dict[str, str], default: str) -> str:
    """A SQL ``CASE`` mapping the text ``column`` through ``mapping`` (else ``default``)."""
    quote = lambda text: "'" + text.replace("'", "''") + "'"  # noqa: E731
    whens = " ".join(f"WHEN {quote(k)} THEN {quote(v)}" for k, v in mapping.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _adqs_sql(study: str, rescue: bool) -> str:
    """The ADQS query over the views ``traj`` (trajectories) and ``subj`` (endpoints)."""
    units = {n: f"{n} ({s.unit})" for n, s in SCORES.items()}
    paramcd = _case("variable", PARAMCD, "upper(left(variable, 8))")
    param = _case("variable", units, "variable || ' (score)'")
    weeks = "time / 7.0"
    visit = (
        "CASE WHEN time = 0 THEN 'Baseline' "
        f"WHEN {weeks} = floor({weeks}) THEN 'Week ' || CAST(CAST({weeks} AS BIGINT) AS VARCHAR) "
        "WHEN time = floor(time) THEN 'Day ' || CAST(CAST(time AS BIGINT) AS VARCHAR) "
        "ELSE 'Day ' || CAST(time AS VARCHAR) END"
    )
    usubjid = f"'{study}-' || upper(CAST(arm AS VARCHAR)) || '-' || printf('%05d', patient)"
    after = ", CASE WHEN time > s.rescue_day THEN 'Y' END AS AFTRESFL" if rescue else ""
    join = "LEFT JOIN subj s USING (arm, patient)" if rescue else ""
    return f"""
        WITH t AS (
            SELECT CAST(arm AS VARCHAR) AS arm, patient, variable, time,
                   CASE WHEN isnan(value) THEN NULL ELSE value END AS value
            FROM traj
        ), b AS (
            SELECT *, max(CASE WHEN time = 0 THEN value END)
                OVER (PARTITION BY arm, patient, variable) AS base
            FROM t
        )
        SELECT '{study}' AS STUDYID, {usubjid} AS USUBJID, arm AS TRTP,
               {paramcd} AS PARAMCD, {param} AS PARAM, {visit} AS AVISIT,
               round({weeks}, 4) AS AVISITN, time AS ADY, value AS AVAL, base AS BASE,
               value - base AS CHG,
               CASE WHEN base <> 0 THEN 100.0 * (value - base) / base END AS PCHG,
               CASE WHEN time = 0 THEN 'Y' END AS ABLFL{after}
        FROM b {join}
        ORDER BY arm, patient, variable, time
    """


@contextmanager
def _adqs_relation(run: Path, manifest: dict, endpoints: pd.DataFrame):
    """A DuckDB connection and the ADQS query over the run's trajectories, read as an
    Arrow dataset (streamed in batches; nothing in SQL names a file)."""
    import duckdb
    import pyarrow.dataset as ds

    # a sort larger than memory spills to a private temporary folder, not the cwd
    spill = tempfile.TemporaryDirectory(prefix="dermatwin-adam-")
    con = duckdb.connect(config={"temp_directory": spill.name})
    try:
        con.register("traj", ds.dataset(run / "trajectories.parquet"))
        rescue = RESCUE_DAY in endpoints
        if rescue:
            con.register("subj", endpoints[["arm", "patient", RESCUE_DAY]].astype({"arm": str}))
        yield con, _adqs_sql(_studyid(manifest), rescue)
    finally:
        con.close()
        spill.cleanup()


def adqs(run: str | Path) -> pd.DataFrame:
    """The basic-data-structure table of every recorded score (see the module docstring)."""
    manifest, endpoints, _ = read_run(run)
    with _adqs_relation(Path(run), manifest, endpoints) as (con, sql):
        return con.sql(sql).df()


def adam_tables(run: str | Path) -> dict[str, pd.DataFrame]:
    """``{"adsl": ..., "adqs": ...}`` of a finished run folder, in memory."""
    manifest, endpoints, failures = read_run(run)
    return {"adsl": adsl(manifest, endpoints, failures), "adqs": adqs(run)}


def write_adam(run: str | Path, out: str | Path) -> dict[str, int]:
    """Write ``adsl.csv`` and ``adqs.csv`` of a finished run into the folder ``out``;
    ADQS goes from the Parquet file to the CSV through DuckDB in bounded memory. Returns
    the rows per table."""
    run, out = Path(run), Path(out)
    manifest, endpoints, failures = read_run(run)
    subjects = adsl(manifest, endpoints, failures)
    subjects.to_csv(out / "adsl.csv", index=False)
    target = str(out / "adqs.csv").replace("'", "''")
    with _adqs_relation(run, manifest, endpoints) as (con, sql):
        con.execute(f"COPY ({sql}) TO '{target}' (HEADER, DELIMITER ',')")
        rows = con.execute("SELECT count(*) FROM traj").fetchone()[0]  # one row each
    return {"adsl": len(subjects), "adqs": int(rows)}
