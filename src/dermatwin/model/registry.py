"""Models by name: ``get_model("miyano2021")``; ``available_models()`` lists them."""

from __future__ import annotations

from collections.abc import Callable

from dermatwin._base.errors import ModelError
from dermatwin.model import skin
from dermatwin.model.reference import miyano2021, shmarov2022
from dermatwin.model.spec import Model

_BUILDERS: dict[str, Callable[[], Model]] = {
    "miyano2021": miyano2021.build,
    "shmarov2022": shmarov2022.build,
    "skin": lambda: skin.build(),
}


def available_models() -> list[str]:
    return sorted(_BUILDERS)


def get_model(name: str) -> Model:
    try:
        return _BUILDERS[name]()
    except KeyError:
        raise ModelError(
            f"unknown model {name!r}; allowed: {', '.join(available_models())}"
        ) from None
