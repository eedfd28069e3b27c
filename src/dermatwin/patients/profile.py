"""Patient profiles: who a (real or virtual) patient is, and what that implies for the model.

A :class:`Patient` holds the covariates a clinician records; :func:`covariate_parameters`
maps them to skin-model parameters through documented effects:

* ``flg_loss`` (AD): barrier formation ``k1`` x (1 - 0.3) when 1 (barrier module;
  PER-10, PER-12).
* ``hla_c0602`` (psoriasis): PASI at the plaque state x ``HLA_C0602_SEVERITY`` (PER-21:
  carriers have more severe disease; the size, 1.2, is assumed), and the response to
  IL-12/IL-23 p40 blockade ``p40_response`` (:data:`P40_RESPONSE`; LI2016: ustekinumab
  PASI-75 at week 12 17.9 points higher in carriers; no difference for TNF or IL-17
  blockers, so only the p40 slot carries it). Unknown carriage (None) leaves it at 1.
* ``age``: ``age_years`` of the ageing module (SCA-03).
* ``weight_kg``: the dose of cells/kg and mg/kg products.

Sex and Fitzpatrick type are recorded (and written to trial outputs) but change no
parameter: the reference data hold no effect size for them (Fitzpatrick type would
matter for UVB dosing, which follows the label ladder).

>>> p = Patient(disease="AD", baseline={"EASI": 24.0}, flg_loss=True)
>>> covariate_parameters(p)["flg_loss"]
1.0
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dermatwin._base.errors import DermatwinError
from dermatwin._base.yaml_files import read_text, read_yaml, short
from dermatwin.disease.scores import DISEASES, SCORES

Disease = Literal["AD", "psoriasis"]

#: score ranges (inclusive) and the scores of each disease: views of the disease registry
SCORE_RANGES: dict[str, tuple[float, float]] = {n: (s.low, s.high) for n, s in SCORES.items()}
DISEASE_SCORES: dict[str, tuple[str, ...]] = {d: s.scores for d, s in DISEASES.items()}
#: assumed: HLA-C*06:02 carriers have more severe disease (PER-21; no effect size given)
HLA_C0602_SEVERITY = 1.2
#: HLA-C*06:02 carrier prevalence in psoriasis (PER-21)
HLA_C0602_PREVALENCE_PSO = 0.508
#: carriers' minus non-carriers' ``p40_response`` (x the p40 inhibition): assumed, chosen
#: by hand (not fitted) so that ustekinumab PASI-75 at week 12 differs by about the 17.9
#: points of LI2016 on the same virtual patients (PHOENIX-1 population: 0.20 gave 15.7,
#: 0.24 gave 19.3 points)
P40_RESPONSE_SPREAD = 0.22
#: ``p40_response`` by carriage: weighted by the PER-21 prevalence its mean is exactly 1,
#: so the calibrated population's ustekinumab rates barely move
P40_RESPONSE = {
    True: 1.0 + P40_RESPONSE_SPREAD * (1.0 - HLA_C0602_PREVALENCE_PSO),
    False: 1.0 - P40_RESPONSE_SPREAD * HLA_C0602_PREVALENCE_PSO,
}


class PatientError(DermatwinError):
    """A patient profile or patient file is invalid."""


class PriorTherapy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    response: Literal["responder", "partial", "non_responder", "unknown"] = "unknown"


class Patient(BaseModel):
    """One patient's profile (covariates and baseline severity)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    disease: Disease
    age: float = Field(35.0, ge=0.0, le=120.0, description="years")
    sex: Literal["F", "M"] | None = None
    weight_kg: float = Field(70.0, gt=0.0, le=400.0)
    fitzpatrick: int | None = Field(None, ge=1, le=6)
    flg_loss: bool | None = None
    hla_c0602: bool | None = None
    baseline: dict[str, float] = Field(default_factory=dict)
    prior_therapies: tuple[PriorTherapy, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Patient:
        if self.disease == "AD" and self.hla_c0602 is not None:
            raise ValueError("hla_c0602 is a psoriasis covariate; leave it out for AD")
        if self.disease == "psoriasis" and self.flg_loss is not None:
            raise ValueError("flg_loss is an atopic dermatitis covariate; leave it out")
        allowed = DISEASE_SCORES[self.disease]
        for name, value in self.baseline.items():
            if name not in allowed:
                raise ValueError(
                    f"baseline score {short(name)} is not a {self.disease} score; allowed: "
                    + ", ".join(allowed)
                )
            lo, hi = SCORE_RANGES[name]
            if not lo <= value <= hi:
                raise ValueError(f"baseline {name} = {value} is outside {lo:g}-{hi:g}")
        return self


def covariate_parameters(patient: Patient, pasi_plaque: float | None = None) -> dict[str, float]:
    """Model parameter values implied by the patient's covariates (see the module table)."""
    out: dict[str, float] = {"age_years": float(patient.age)}
    if patient.disease == "AD":
        out["flg_loss"] = 1.0 if patient.flg_loss else 0.0
    else:
        if patient.hla_c0602 is not None:
            out["p40_response"] = P40_RESPONSE[patient.hla_c0602]
        if pasi_plaque is not None:
            out["pasi_plaque"] = pasi_plaque * (HLA_C0602_SEVERITY if patient.hla_c0602 else 1.0)
    return out


def _one_line(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(x) for x in first["loc"]) or "patient"
    return f"{where}: {loc}: {first['msg']}"


def load_patients(path: str | Path) -> list[Patient]:
    """Patients from a YAML file (a mapping or a list of mappings) or a CSV file (one row per
    patient; baseline scores in columns named ``baseline_<SCORE>``)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        text = read_text(path, PatientError)
        rows = list(csv.DictReader(text.splitlines()))
        records = []
        for row in rows:
            rec: dict = {"baseline": {}}
            for key, value in row.items():
                if value in ("", None):
                    continue
                if key.startswith("baseline_"):
                    rec["baseline"][key.removeprefix("baseline_")] = value
                else:
                    rec[key] = value
            records.append(rec)
        where = [f"{path}: line {i + 2}" for i in range(len(records))]
    else:
        data = read_yaml(path, PatientError)
        records = data if isinstance(data, list) else [data]
        where = [f"{path}: patient {i + 1}" for i in range(len(records))]
    patients = []
    for rec, loc in zip(records, where, strict=True):
        if not isinstance(rec, dict):
            raise PatientError(f"{loc}: expected a mapping of patient fields")
        try:
            patients.append(Patient.model_validate(rec))
        except ValidationError as err:
            raise PatientError(_one_line(err, loc)) from None
    return patients
