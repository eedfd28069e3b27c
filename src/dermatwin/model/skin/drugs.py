"""Drug module: exposure compartments of standard therapies and their targets.

Placeholder: being written.
"""

from __future__ import annotations

from dermatwin.model.skin import register
from dermatwin.model.spec import ModelBuilder


@register("drugs")
def add(b: ModelBuilder) -> None:
    return None
