"""The integrated dermatwin skin model: one model for atopic dermatitis and psoriasis.

Built by merging the two published cores (Miyano 2021 AD, Shmarov 2022 psoriasis, see
:mod:`dermatwin.model.skin.cores`) and adding one module per mechanism of MSC therapy.
Each module is a function ``add(b: ModelBuilder) -> None`` that declares its own states
and parameters and couples to the rest only through

* ``b.signal(name)`` / ``b.add_signal(name, expr)``: named coupling signals (e.g. the MSC
  secretome) that resolve to 0 when no module feeds them, and
* ``b.scale_parameter(name, factor)``: a factor on an existing rate that is exactly 1
  when the coupling module's states are at zero (no cells given, no drug).

So with the new modules left out, or with no MSC given, the AD part is Miyano 2021 and
the psoriasis part is Shmarov 2022, equation for equation.

>>> from dermatwin.model.skin import build
>>> m = build(modules=())
>>> len(m.states)
24
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from dermatwin._base.errors import ModelError
from dermatwin.model.skin import cores
from dermatwin.model.spec import Model, ModelBuilder

#: mechanism modules by name (filled by :func:`register`)
MODULES: dict[str, Callable[[ModelBuilder], None]] = {}

#: the order modules are added in; ``scale_parameter`` couplings compose in any order, but
#: a module that writes new equations with a core rate sees only factors added before it
BUILD_ORDER = (
    "keratinocytes",
    "barrier",
    "immune",
    "macrophages",
    "cytokines",
    "vasculature",
    "dermis",
    "ageing",
    "drugs",
    "msc",
    "tolerance",
    "scores",
    # last: its per-patient log-normal parameter comes after every earlier one, so adding
    # it left the other parameters' random draws unchanged
    "microbiome",
)


def register(name: str):
    """Decorator adding a mechanism module to :data:`MODULES`."""

    def wrap(fn: Callable[[ModelBuilder], None]):
        MODULES[name] = fn
        return fn

    return wrap


def parameter_table(b: ModelBuilder) -> Callable[..., object]:
    """``par(name, value, unit, source, description, lower=0, upper=inf)``: the positional
    form of :meth:`ModelBuilder.parameter` the modules declare their parameter tables with
    (rates and amounts are non-negative unless a module says otherwise)."""

    def par(name, value, unit, source, description, lower=0.0, upper=float("inf")):
        return b.parameter(
            name, value, unit=unit, source=source, description=description, lower=lower, upper=upper
        )

    return par


def _load_modules() -> None:
    # importing the module files registers them; kept here so registration order is fixed
    from dermatwin.model.skin import modules  # noqa: F401


@cache
def build(modules: Sequence[str] | None = None) -> Model:
    """The skin model with the given mechanism modules (default: all registered)."""
    _load_modules()
    names = tuple(MODULES) if modules is None else tuple(modules)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise ModelError(f"unknown skin modules {unknown}; allowed: {', '.join(MODULES)}")
    b = cores.merged_cores()
    order = [*BUILD_ORDER, *(n for n in MODULES if n not in BUILD_ORDER)]
    for name in order:  # build order, whatever order the caller gave
        if name in names:
            MODULES[name](b)
    return b.build()
