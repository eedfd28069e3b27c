"""Plaque-level psoriasis: a patient as ``K`` plaques (body regions) of the Shmarov core.

Opt-in (a trial's ``population: {plaques: K}``); the skin model itself is unchanged. The
transform :func:`plaque_model` takes the built skin model and replicates the psoriasis
core (the ten Shmarov 2022 states ``SC .. GF``) ``K`` times, one copy per plaque. In each
copy the fast states (:data:`FAST_STATES`: IL-23, IL-17, TNF, the growth factor and
apoptotic cells, lost at about 36/day, i.e. within an hour) are taken at their
quasi-steady state, so a plaque adds 6 states (``SC``, ``TA``, ``D``, ``T``, ``DC`` and
its memory state), not 11: the solver's dense LU grows with the cube of the state count,
and this keeps a patient of 8 plaques within 3x of today's cost (benchmarks/skin.py
``--plaques``). One plaque follows the full core within 0.02 of ``PASI_index`` under a
UVB course (tests/model/skin/test_plaques.py). Each plaque has

* **shared systemic exposure**: every plaque's equations keep every coupling of the
  skin model (drug slots, placebo, MSC secretome, Treg and tolerance signals, MSC-made
  vessels), which read the patient's single drug, MSC and immune states;
* **plaque-specific sensitivity**: each plaque ``k`` multiplies the rates that set the
  IL-23/T-cell/IL-17 loop gain, and so how far a plaque sits from the core's
  bistability threshold (:data:`PLAQUE_RATES`: T recruitment by IL-23 ``t2``, IL-23
  production by dendritic cells ``il232``, IL-17 production by T cells ``il172``), by its
  own factor ``plaque_<rate>_p<k>`` (1 by default; the virtual population draws them
  log-normal around 1 with the within-patient sigma ``plaque_sigma``, assumed 0.2:
  lesions of one patient differ in severity and treatment response, but no per-lesion
  dispersion of these rates is published);
* **area weights** ``plaque_area_p<k>`` (summing to 1; drawn per patient from a
  symmetric Dirichlet, assumed concentration :data:`AREA_CONCENTRATION`);
* **a resident-memory state per plaque** ``trm_p<k>`` (tissue-resident memory T cells,
  dimensionless: 1 in a chronic plaque at the published plaque's T-cell level), formed
  while the plaque is lesional and lost with half-life ``trm_half_life``::

      dTRM/dt = ln2 / trm_half_life * (max(0, (T - T_h) / (T_p - T_h)) - TRM)

  It adds ``trm_dc_drive * TRM`` to the plaque's dendritic-cell activation (the core's
  own plaque trigger is such a DC stimulus, ``dc_stim``). A cleared plaque keeps its
  TRM for months, so once a drug's exposure is gone the drive pushes it back over the
  threshold: the plaque returns, sooner the more TRM is left. Resolved psoriatic lesions
  keep IL-17/IL-22-producing resident memory T-cell clones (Cheuk et al. 2014, J Immunol
  192:3111; Matos et al. 2017, J Clin Invest 127:4031) and relapse at the same sites;
  the half-life and drive are assumed (not calibrated; see docs/model.md).

States and outputs of other modules that read the core (vessels, wound, MSC homing by
extent, serum IL-17, the Treg/T ratio) read the area-weighted mean of the plaques (a
mean-field approximation: one dermis, one circulation).

**PASI** is area-weighted regional severity: per plaque the three PASI signs are graded
0-4 from the core's rescaled indices (0 healthy, 1 the published plaque, as in
``PASI_index``): erythema from the T-cell index, induration from the total epidermal
cells, scaling from the differentiated keratinocytes, each
``4 * min(max((index - v) / (1 - v), 0), 1)`` with the visibility edge
``v = pasi_sign_visible`` (assumed 0.125: half a grade, which a rater rounds to 0;
continuous above it, not a step)::

    PASI = pasi_plaque * sum_k area_k * (E_k + I_k + S_k) / 12

so a patient whose plaques are all at or above the published plaque has PASI
``pasi_plaque`` (one core gave ``pasi_plaque * PASI_index``, unbounded), and PASI-100
needs every plaque clear. ``PASI_index`` is the area-weighted mean of the plaques'
indices; ``pasi_erythema``, ``pasi_induration`` and
``pasi_scaling`` are the area-weighted grades (0-4); ``trm`` the area-weighted TRM. PGA
is graded from this PASI as without plaques (:mod:`dermatwin.disease.severity`).

>>> from dermatwin.model.reference import shmarov2022
>>> m = plaque_model(shmarov2022.build(), 2)
>>> [n for n in m.state_names if n.endswith("_p2")]
['SC_p2', 'TA_p2', 'D_p2', 'T_p2', 'DC_p2', 'trm_p2']
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache

import sympy as sp

from dermatwin._base.errors import ModelError
from dermatwin.model.reference import shmarov2022
from dermatwin.model.spec import Model, Output, Parameter, State

#: rates given a per-plaque factor (the IL-23 -> T -> IL-17 loop gain)
PLAQUE_RATES = ("t2", "il232", "il172")
#: most plaques a patient may have (each adds 6 states)
MAX_PLAQUES = 16
#: assumed within-patient log-normal sigma of the plaque factors
PLAQUE_SIGMA = 0.2
#: assumed concentration of the symmetric Dirichlet of the plaques' area shares
AREA_CONCENTRATION = 2.0
#: resident memory: assumed half-life (days) and DC drive at TRM = 1 (cells/mm2/day)
TRM_HALF_LIFE_DAYS = 180.0
TRM_DC_DRIVE = 200.0
#: core index below which a PASI sign is graded 0 (half a grade: it rounds to 0)
SIGN_VISIBLE = 0.125

_SOURCE_TRM = (
    "assumed: resident-memory T cells persist in resolved psoriatic lesions "
    "(Cheuk 2014 J Immunol 192:3111; Matos 2017 J Clin Invest 127:4031); value not calibrated"
)
#: core states with loss rates of about 36/day (the cytokines, apoptotic cells), taken at
#: their quasi-steady state in each plaque (minutes against the days of the rest)
FAST_STATES = ("A", "IL23", "IL17", "TNF", "GF")
#: the core's cell states (their sum is its ``totC``, the induration index)
CELL_STATES = ("SC", "TA", "D", "A", "T", "DC")


def plaque_state(name: str, k: int) -> str:
    """The name of core state ``name`` in plaque ``k`` (1-based)."""
    return f"{name}_p{k}"


def core_states(model: Model) -> tuple[str, ...]:
    """The psoriasis-core states of ``model`` (Shmarov names, ``_pso`` where renamed)."""
    names = []
    for name in shmarov2022.build().state_names:
        if name in model.state_names:
            names.append(name)
        elif f"{name}_pso" in model.state_names:
            names.append(f"{name}_pso")
        else:
            raise ModelError(f"plaque_model: model {model.name} has no psoriasis core state {name}")
    return tuple(names)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _copy_name(name: str, k: int) -> str:
    return plaque_state(name.removesuffix("_pso"), k)


def _par(name, value, unit, description, source, lower=0.0, upper=math.inf) -> Parameter:
    return Parameter(name, float(value), unit, description, source, lower, upper)


def plaque_model(model: Model, plaques: int) -> Model:
    """``model`` with its psoriasis core replaced by ``plaques`` plaques (module docstring).

    Raises :class:`ModelError` for a plaque count outside 1..:data:`MAX_PLAQUES`.
    """
    if isinstance(plaques, bool) or not isinstance(plaques, int):
        raise ModelError(f"plaques: {plaques!r}; allowed: a whole number 1-{MAX_PLAQUES}")
    if not 1 <= plaques <= MAX_PLAQUES:
        raise ModelError(f"plaques: {plaques}; allowed: a whole number 1-{MAX_PLAQUES}")
    core = core_states(model)
    missing = [r for r in PLAQUE_RATES if r not in model.parameter_names]
    if missing:
        raise ModelError(f"plaque_model: model {model.name} has no rates {missing}")
    ks = range(1, plaques + 1)
    area = {k: _sym(f"plaque_area_p{k}") for k in ks}
    factor = {(r, k): _sym(f"plaque_{r}_p{k}") for r in PLAQUE_RATES for k in ks}
    trm = {k: _sym(f"trm_p{k}") for k in ks}
    half_life = _sym("trm_half_life")
    drive = _sym("trm_dc_drive")

    def in_plaque(expr: sp.Expr, k: int) -> sp.Expr:
        mapping = {_sym(n): _sym(_copy_name(n, k)) for n in core}
        mapping |= {_sym(r): _sym(r) * factor[(r, k)] for r in PLAQUE_RATES}
        return expr.xreplace(mapping)

    rhs = dict(zip(model.state_names, model.rhs, strict=True))
    fast = [core[shmarov2022.build().state_names.index(n)] for n in FAST_STATES]
    slow = [n for n in core if n not in fast]
    qss = {k: _quasi_steady(rhs, fast, k, in_plaque) for k in ks}

    def local(expr: sp.Expr, k: int) -> sp.Expr:
        """``expr`` in plaque ``k``: its core states, fast ones at their quasi-steady state."""
        return in_plaque(expr, k).xreplace(qss[k])

    mean = {_sym(n): sp.Add(*(area[k] * local(_sym(n), k) for k in ks)) for n in core}
    states: list[State] = []
    equations: list[sp.Expr] = []
    for st in model.states:
        if st.name not in core:
            states.append(st)
            equations.append(rhs[st.name].xreplace(mean))
    lo_t, hi_t = shmarov2022.PASI_SCALE["T"]
    dc = core[shmarov2022.build().state_names.index("DC")]
    t_cells = core[shmarov2022.build().state_names.index("T")]
    for k in ks:
        for name in slow:
            st = next(s for s in model.states if s.name == name)
            states.append(
                replace(st, name=_copy_name(name, k), description=f"{st.description}, plaque {k}")
            )
            eq = local(rhs[name], k)
            if name == dc:
                eq = eq + drive * trm[k]
            equations.append(eq)
        lesional = (_sym(_copy_name(t_cells, k)) - lo_t) / (hi_t - lo_t)
        formation = sp.Piecewise((0, lesional <= 0), (lesional, True))
        states.append(
            State(
                f"trm_p{k}",
                "dimensionless",
                f"tissue-resident memory T cells of plaque {k} (1 = a chronic plaque's)",
                1.0,
                1.0,
                _SOURCE_TRM,
            )
        )
        equations.append(math.log(2.0) / half_life * (formation - trm[k]))

    parameters = list(model.parameters)
    parameters += [
        _par(
            "trm_half_life",
            TRM_HALF_LIFE_DAYS,
            "day",
            "half-life of resident-memory T cells in a cleared plaque",
            _SOURCE_TRM,
            lower=1e-6,
        ),
        _par(
            "trm_dc_drive",
            TRM_DC_DRIVE,
            "cell/mm2/day",
            "dendritic-cell activation by a chronic plaque's resident memory (TRM = 1)",
            _SOURCE_TRM,
        ),
    ]
    parameters.append(
        _par(
            "pasi_sign_visible",
            SIGN_VISIBLE,
            "dimensionless",
            "core index (0 healthy, 1 published plaque) below which a PASI sign grades 0",
            "assumed: half a PASI grade (0.5 of 4) rounds to 0",
            upper=0.99,
        )
    )
    for k in ks:
        parameters.append(
            _par(
                f"plaque_area_p{k}",
                1.0 / plaques,
                "dimensionless",
                f"share of the patient's psoriatic area in plaque {k} (shares sum to 1)",
                "assumed: drawn per patient (symmetric Dirichlet)",
                upper=1.0,
            )
        )
        for r in PLAQUE_RATES:
            parameters.append(
                _par(
                    f"plaque_{r}_p{k}",
                    1.0,
                    "dimensionless",
                    f"factor on {r} in plaque {k}",
                    "assumed: drawn per patient, log-normal around 1 (plaque_sigma)",
                )
            )

    outputs = _outputs(model, core, ks, area, local, mean, trm)
    return replace(
        model,
        name=f"{model.name}_plaques{plaques}",
        description=f"{model.description}; psoriasis as {plaques} plaques",
        states=tuple(states),
        parameters=tuple(parameters),
        rhs=tuple(equations),
        outputs=tuple(outputs),
    )


def _quasi_steady(rhs, fast, k, in_plaque) -> dict[sp.Symbol, sp.Expr]:
    """The fast core states of plaque ``k`` at their quasi-steady state: each equation is
    linear in its own state (``dx/dt = f0 - g x``), so ``x = f0 / g``; substituted until
    only slow states are left (a fast state may read another)."""
    out: dict[sp.Symbol, sp.Expr] = {}
    for name in fast:
        x = _sym(_copy_name(name, k))
        f = in_plaque(rhs[name], k)
        slope = sp.diff(f, x)
        if x in slope.free_symbols:
            raise ModelError(f"plaque_model: {name} is not linear in itself; cannot reduce it")
        out[x] = -f.xreplace({x: sp.S.Zero}) / slope
    for _ in range(len(out)):
        out = {x: e.xreplace(out) for x, e in out.items()}
    if any(set(out) & e.free_symbols for e in out.values()):
        raise ModelError("plaque_model: the fast core states read each other in a cycle")
    return out


def _grade(index: sp.Expr) -> sp.Expr:
    """A PASI sign grade 0-4 from a core index (0 healthy, 1 the published plaque): 0 up
    to the visibility edge, then linear to 4 at the published plaque."""
    edge = _sym("pasi_sign_visible")
    return 4 * sp.Min(sp.Max((index - edge) / (1 - edge), 0), 1)


def _outputs(model, core, ks, area, local, mean, trm) -> list[Output]:
    names = dict(zip(shmarov2022.build().state_names, core, strict=True))
    scale = shmarov2022.PASI_SCALE

    def index(key: str, expr: sp.Expr) -> sp.Expr:
        lo, hi = scale[key]
        return (expr - lo) / (hi - lo)

    cells = sp.Add(*(_sym(names[n]) for n in CELL_STATES))
    signs = {
        "erythema": index("T", _sym(names["T"])),
        "induration": index("totC", cells),
        "scaling": index("D", _sym(names["D"])),
    }
    grades = {s: {k: _grade(local(e, k)) for k in ks} for s, e in signs.items()}
    out: list[Output] = []
    for o in model.outputs:
        if o.name == "PASI_index":
            expr = sp.Add(*(area[k] * local(o.expression, k) for k in ks))
            out.append(
                replace(
                    o, expression=expr, description=o.description + "; area-weighted over plaques"
                )
            )
        elif o.name == "PASI":
            severity = sp.Add(*(area[k] * sum(grades[s][k] for s in grades) for k in ks)) / 12
            out.append(
                replace(
                    o,
                    expression=_sym("pasi_plaque") * severity,
                    description="PASI (0-72): pasi_plaque x area-weighted plaque severity "
                    "(erythema + induration + scaling, each 0-4) / 12",
                )
            )
        else:
            out.append(replace(o, expression=o.expression.xreplace(mean)))
    for s in grades:
        out.append(
            Output(
                f"pasi_{s}",
                "dimensionless",
                f"PASI {s} grade (0-4), area-weighted over plaques",
                sp.Add(*(area[k] * grades[s][k] for k in ks)),
            )
        )
    out.append(
        Output(
            "trm",
            "dimensionless",
            "resident-memory T cells, area-weighted over plaques (1 = chronic plaque)",
            sp.Add(*(area[k] * trm[k] for k in ks)),
        )
    )
    return out


@cache
def skin_plaques(plaques: int) -> Model:
    """The skin model (every module) with ``plaques`` plaques (built once per process)."""
    from dermatwin.model.skin import build

    return plaque_model(build(), plaques)
