"""The old public import paths hand on the base layer's objects (the same objects)."""

from __future__ import annotations

import dermatwin
import dermatwin._base.atomic as atomic
import dermatwin._base.errors as errors
import dermatwin._base.yaml_files as yaml_files


def test_dermatwin_errors_is_the_base_errors():
    import dermatwin.errors as public

    for name in ("DermatwinError", "ModelError", "ScenarioError"):
        assert getattr(public, name) is getattr(errors, name) is getattr(dermatwin, name)


def test_io_paths_hand_on_the_base_objects():
    import dermatwin.io.atomic as old_atomic
    import dermatwin.io.yaml_files as old_yaml

    for name in old_yaml.__all__:
        assert getattr(old_yaml, name) is getattr(yaml_files, name), name
    for name in old_atomic.__all__:
        assert getattr(old_atomic, name) is getattr(atomic, name), name
