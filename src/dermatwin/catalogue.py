"""What dermatwin knows, as tables: the drug catalogue, MSC products, model parameters.

Each helper returns a :class:`pandas.DataFrame` (one row per drug, product or
parameter) with units and the sources behind every value. Values come with the shipped
calibrated parameter set applied (``parameter_set="default"``, as trials, twins and
scenarios use them); ``parameter_set="none"`` shows the uncalibrated priors.

>>> drugs = drug_catalogue()
>>> drugs.set_index("name").loc["dupilumab", ["route", "unit", "schedule"]].tolist()[:2]
['SC', 'mg']
>>> sorted(msc_products()["source"].unique())[:2]
['adipose', 'bone_marrow']
>>> model_parameters("miyano2021").columns.tolist()[:4]
['name', 'value', 'unit', 'source']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from dermatwin.params.parameter_set import ParameterSet

#: default route and unit of an MSC course written without them (trial and twin YAML)
MSC_DEFAULT_ROUTE = "SC"
MSC_DEFAULT_UNIT = "cells"


def _set(parameter_set: str | Path | ParameterSet) -> ParameterSet:
    from dermatwin.run import resolve_parameter_set

    return resolve_parameter_set(parameter_set)


def drug_catalogue(parameter_set: str | Path | ParameterSet = "default") -> pd.DataFrame:
    """One row per drug of the catalogue (:mod:`dermatwin.therapy.drugs`).

    Columns: ``name``, ``diseases``, ``drug_class``, ``slot`` (the model slot the drug
    occupies), ``targets``, ``route``, ``dose`` and ``unit`` (the labelled dose),
    ``schedule`` (the label), ``exposure`` (``first_order`` or ``on_off``),
    ``half_life_days``, ``emax``, ``occupancy``, ``hill`` (after ``parameter_set``),
    ``calibrated`` (fields the set replaced) and ``source`` (the label's source).
    """
    import pandas as pd

    from dermatwin.params.parameter_set import calibrated_drug
    from dermatwin.therapy.drugs import CATALOGUE

    pset = _set(parameter_set)
    rows = []
    for entry in CATALOGUE.values():
        drug = calibrated_drug(entry, pset)
        rows.append(
            {
                "name": drug.name,
                "diseases": ", ".join(drug.diseases),
                "drug_class": drug.drug_class,
                "slot": drug.slot or "",
                "targets": ", ".join(drug.targets),
                "route": drug.route,
                "dose": float(drug.label.dose),
                "unit": drug.unit,
                "schedule": drug.label.text,
                "exposure": drug.exposure,
                "half_life_days": drug.half_life_days,
                "emax": float(drug.emax),
                "occupancy": float(drug.occupancy),
                "hill": float(drug.hill),
                "calibrated": ", ".join(sorted(pset.drug_overrides(drug.name))),
                "source": drug.label.source,
            }
        )
    return pd.DataFrame(rows)


def msc_products(parameter_set: str | Path | ParameterSet = "default") -> pd.DataFrame:
    """One row per MSC source and origin (:mod:`dermatwin.therapy.products`), for a
    product of the reference donor age and passage, fresh, at the default viability.

    Columns: ``source``, ``origin``, ``route`` and ``unit`` (defaults of an MSC course;
    the amount is always given), ``donor_age`` (years), ``passage``, ``state``,
    ``viability`` (viable fraction at release), ``potency`` (multiplier on secretome
    production, times the set's MSC potency scale), ``clearance_factor`` (multiplier on
    viable-cell death: persistence), ``allogeneic``, ``age_dependent`` (whether donor age
    changes potency), ``growth_factors`` (growth factors per unit potency: the wound
    model's; 1.5 for iPSC-derived MSC, assumed), ``source_ids`` (the evidence for the
    source's factors) and ``growth_factors_source``.
    """
    import pandas as pd

    from dermatwin.therapy.products import SOURCE_FACTORS, MSCProduct, msc_parameters

    scale = _set(parameter_set).msc_potency_scale()
    rows = []
    for source, factors in SOURCE_FACTORS.items():
        for origin in ("autologous", "allogeneic"):
            product = MSCProduct(source=source, origin=origin)
            values = msc_parameters(product)
            rows.append(
                {
                    "source": source,
                    "origin": origin,
                    "route": MSC_DEFAULT_ROUTE,
                    "unit": MSC_DEFAULT_UNIT,
                    "donor_age": float(product.donor_age),
                    "passage": int(product.passage),
                    "state": product.state,
                    "viability": float(product.viability),
                    "potency": values["msc_potency"] * scale,
                    "clearance_factor": values["msc_clearance_factor"],
                    "allogeneic": bool(values["msc_allogeneic"]),
                    "age_dependent": factors.age_dependent,
                    "growth_factors": factors.growth_factors,
                    "source_ids": factors.source,
                    "growth_factors_source": factors.growth_factors_source,
                }
            )
    return pd.DataFrame(rows)


def model_parameters(
    model_name: str, parameter_set: str | Path | ParameterSet = "default"
) -> pd.DataFrame:
    """One row per parameter of the model ``model_name`` (see ``available_models()``):
    ``name``, ``value`` (after ``parameter_set``: calibrated values apply to the skin
    model only), ``unit``, ``source``, ``lower``, ``upper`` (bounds; infinite where
    open), ``varies`` (whether it varies between virtual patients), ``calibrated`` and
    ``description``. An unknown name raises a one-line ModelError."""
    import pandas as pd

    from dermatwin.model.registry import get_model
    from dermatwin.run import calibrated_model

    pset = _set(parameter_set)
    base = get_model(model_name)
    model = calibrated_model(base, pset)
    rows = [
        {
            "name": p.name,
            "value": p.value,
            "unit": p.unit,
            "source": p.source,
            "lower": p.lower,
            "upper": p.upper,
            "varies": p.lognormal is not None,
            "calibrated": p.value != q.value,
            "description": p.description,
        }
        for p, q in zip(model.parameters, base.parameters, strict=True)
    ]
    return pd.DataFrame(rows)
