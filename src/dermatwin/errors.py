"""User-facing errors (public path): the classes live in :mod:`dermatwin._base.errors`.

Kept so that ``from dermatwin.errors import DermatwinError`` keeps working; code inside
dermatwin imports from ``dermatwin._base.errors``.
"""

from dermatwin._base.errors import DermatwinError, ModelError, ScenarioError

__all__ = ["DermatwinError", "ModelError", "ScenarioError"]
