"""Shared checks for skin-model modules: a module must not change the cores' equations."""

from __future__ import annotations

import numpy as np
import sympy as sp

from dermatwin.model.skin import build


def core_point(model, seed: int, **overrides: float) -> dict[sp.Symbol, float]:
    """Symbol values: default parameters, module states at their initial values, random
    core states (0.1-2 x their scale), then ``overrides``."""
    core = build(modules=())
    rng = np.random.default_rng(seed)
    values = {
        sp.Symbol(n, real=True): float(v)
        for n, v in zip(model.parameter_names, model.default_parameters(), strict=True)
    }
    for st in model.states:
        values[sp.Symbol(st.name, real=True)] = st.initial
    for st in core.states:
        values[sp.Symbol(st.name, real=True)] = float(rng.uniform(0.1, 2.0)) * max(st.scale, 1.0)
    values.update({sp.Symbol(k, real=True): v for k, v in overrides.items()})
    return values


def assert_core_equations_unchanged(model, values) -> None:
    """Every core right-hand side of ``model`` equals the bare cores' at ``values``."""
    core = build(modules=())
    for k, name in enumerate(core.state_names):
        ref = float(core.rhs[k].xreplace(values))
        got = float(model.rhs[model.state_index(name)].xreplace(values))
        assert abs(got - ref) <= 1e-12 * max(1.0, abs(ref)), name
