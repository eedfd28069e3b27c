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
  analyses, see ``failures.csv``).
* **ADQS** (basic data structure, one row per subject, score and visit): ``STUDYID``,
  ``USUBJID``, ``TRTP``, ``PARAMCD`` (the score's name, at most 8 characters), ``PARAM``
  (name and unit), ``AVISIT`` (``Baseline``, ``Week 4``, ``Day 3``), ``AVISITN`` (weeks),
  ``ADY`` (study day, day 0 = randomisation), ``AVAL``, ``BASE``, ``CHG``, ``PCHG``
  (% change), ``ABLFL`` (``Y`` on the baseline record).

These are "ADaM-like": the variable names and structures follow ADaM, but there is no
define.xml, no controlled terminology beyond the names above, and the values are
simulated (research use only).

>>> sorted(PARAMCD)[:3]
['EASI', 'IGA', 'PASI']
"""

from __future__ import annotations

import json
import re
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


class ExportError(DermatwinError):
    """A folder that is not a finished trial run (one line naming what is missing)."""


def _flag(values) -> list[str]:
    return ["Y" if bool(v) else "N" for v in values]


def _studyid(manifest: dict) -> str:
    name = str(manifest.get("trial", "DERMATWIN"))
    study = re.sub(r"[\W_]+", "-", name.upper(), flags=re.ASCII).strip("-")
    return study[:40].strip("-") or "TRIAL"


def read_run(run: str | Path) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The manifest, endpoint table, trajectories and failures of a finished run."""
    folder = Path(run)
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        raise ExportError(
            f"run: {folder} holds no finished trial run (missing {', '.join(missing)}); "
            "allowed: a folder written by `dermatwin trial run`"
        )
    manifest = json.loads((folder / "manifest.json").read_text())
    endpoints = pd.read_parquet(folder / "endpoints.parquet")
    trajectories = pd.read_parquet(folder / "trajectories.parquet")
    fail_path = folder / "failures.csv"
    failures = (
        pd.read_csv(fail_path)
        if fail_path.is_file() and fail_path.stat().st_size
        else pd.DataFrame(columns=["arm", "patient", "status"])
    )
    return manifest, endpoints, trajectories, failures


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
    return out


def _visit(day: float) -> str:
    if day == 0:
        return "Baseline"
    weeks = day / 7.0
    return f"Week {weeks:g}" if float(weeks).is_integer() else f"Day {day:g}"


def adqs(manifest: dict, trajectories: pd.DataFrame) -> pd.DataFrame:
    """The basic-data-structure table of every recorded score (see the module docstring)."""
    study = _studyid(manifest)
    t = trajectories.sort_values(["arm", "patient", "variable", "time"], kind="stable")
    t = t.reset_index(drop=True)
    base = t[t["time"] == 0.0].set_index(["arm", "patient", "variable"])["value"]
    keys = pd.MultiIndex.from_frame(t[["arm", "patient", "variable"]])
    baseline = base.reindex(keys).to_numpy()
    value = t["value"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pchg = np.where(baseline != 0, 100.0 * (value - baseline) / baseline, np.nan)
    units = {n: s.unit for n, s in SCORES.items()}
    return pd.DataFrame(
        {
            "STUDYID": study,
            "USUBJID": _usubjid(study, t["arm"], t["patient"]).to_numpy(),
            "TRTP": t["arm"].astype(str).to_numpy(),
            "PARAMCD": t["variable"].map(lambda v: PARAMCD.get(v, str(v)[:8].upper())),
            "PARAM": t["variable"].map(lambda v: f"{v} ({units.get(v, 'score')})"),
            "AVISIT": t["time"].map(_visit),
            "AVISITN": (t["time"] / 7.0).round(4),
            "ADY": t["time"].to_numpy(),
            "AVAL": value,
            "BASE": baseline,
            "CHG": value - baseline,
            "PCHG": pchg,
            "ABLFL": np.where(t["time"].to_numpy() == 0.0, "Y", ""),
        }
    )


def adam_tables(run: str | Path) -> dict[str, pd.DataFrame]:
    """``{"adsl": ..., "adqs": ...}`` of a finished run folder."""
    manifest, endpoints, trajectories, failures = read_run(run)
    return {"adsl": adsl(manifest, endpoints, failures), "adqs": adqs(manifest, trajectories)}
