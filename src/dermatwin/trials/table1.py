"""Table 1 of a baseline-matched trial: the achieved baseline per arm beside its targets.

A trial with ``population.baseline`` (:mod:`dermatwin.patients.baseline`) records each
patient's observed scores at the first visit (with the trial's measurement noise, as a
published Table 1 reports them) in the endpoint table as ``baseline_SCORE`` columns, and
its ``summary.json`` gets ``baseline``: per arm, mean and SD of each continuous score
and the shares of the ordinal grade's categories, and the targets. Trials without
``baseline`` have neither (their outputs are as before).

>>> import pandas as pd
>>> t = pd.DataFrame({"arm": ["a", "a", "a"], "baseline_EASI": [20.0, 30.0, 40.0],
...                   "baseline_IGA": [3.0, 4.0, 4.0]})
>>> s = baseline_summary(t, ["a"], {"EASI": {"mean": 32.0, "sd": 15.3}})
>>> s["arms"]["a"]["EASI"]
{'n': 3, 'mean': 30.0, 'sd': 10.0}
>>> s["arms"]["a"]["IGA"]["shares"][4]
0.6667
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from dermatwin.disease.scores import ORDINALS

PREFIX = "baseline_"


def baseline_columns(scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``baseline_SCORE`` columns from observed scores (patients x visits; first visit)."""
    return {f"{PREFIX}{name}": np.asarray(values)[:, 0] for name, values in scores.items()}


def baseline_summary(table: pd.DataFrame, arms: Sequence[str], targets: Mapping) -> dict:
    """Per arm: ``{SCORE: {n, mean, sd}}`` (SD with ddof 1) and ``{GRADE: {n, shares}}``
    (shares of categories 0-4, rounded to 4 decimals), from the ``baseline_*`` columns;
    ``targets`` as given (the resolved ``population.baseline``)."""
    names = [c[len(PREFIX) :] for c in table.columns if c.startswith(PREFIX)]
    out: dict = {"targets": {k: dict(v) for k, v in targets.items()}, "arms": {}}
    for arm in arms:
        rows = table[table["arm"].astype(str) == arm]
        entry: dict = {}
        for name in names:
            x = rows[PREFIX + name].to_numpy(dtype=np.float64)
            x = x[np.isfinite(x)]
            if name in ORDINALS:
                shares = {
                    k: round(float(np.mean(np.isclose(x, k))), 4) if x.size else None
                    for k in range(5)
                }
                entry[name] = {"n": int(x.size), "shares": shares}
            else:
                entry[name] = {
                    "n": int(x.size),
                    "mean": float(x.mean()) if x.size else None,
                    "sd": float(x.std(ddof=1)) if x.size > 1 else None,
                }
        out["arms"][arm] = entry
    return out


def target_text(target: Mapping) -> str:
    """``32 +- 15.3`` or ``3: 49 %, 4: 51 %`` (the report's and terminal's target)."""
    if "shares" in target:
        return ", ".join(f"{k}: {100 * v:.0f} %" for k, v in target["shares"].items())
    return f"{target['mean']:g} \u00b1 {target['sd']:g}"
