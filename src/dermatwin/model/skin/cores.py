"""The two published cores, merged into one builder without changing an equation.

The atopic dermatitis core is Miyano 2021 and the psoriasis core is Shmarov 2022, taken
from their reference implementations (:mod:`dermatwin.model.reference`), so there is one
copy of each equation. Names that clash are given the suffix ``_pso`` in the psoriasis
core (its IL-17 becomes ``IL17_pso``). The two cores share no state: they are coupled
only through mechanism modules.
"""

from __future__ import annotations

from dermatwin.model.reference import miyano2021, shmarov2022
from dermatwin.model.spec import ModelBuilder

PSORIASIS_SUFFIX = "_pso"


def psoriasis_renames() -> dict[str, str]:
    """Psoriasis-core names that clash with the AD core, mapped to their new names."""
    ad = miyano2021.build()
    pso = shmarov2022.build()
    taken = {*ad.state_names, *ad.parameter_names, *ad.output_names}
    names = [*pso.state_names, *pso.parameter_names, *pso.output_names]
    return {n: n + PSORIASIS_SUFFIX for n in names if n in taken}


def merged_cores() -> ModelBuilder:
    b = ModelBuilder.extend(
        miyano2021.build(),
        "skin",
        "dermatwin integrated skin model (AD and psoriasis cores plus MSC mechanisms)",
    )
    b.merge(shmarov2022.build(), rename=psoriasis_renames())
    return b
