"""Reading the drug catalogue: one YAML file per drug (the file name is the drug's name).

The shipped files live in the package (``dermatwin/therapy/catalogue/*.yaml``, templates
in ``catalogue/templates/``). More folders of drug files can be added with the
environment variable :data:`CATALOGUE_PATH_VARIABLE` (folders separated by
``os.pathsep``), read when :mod:`dermatwin.therapy.drugs` is first imported; a drug name
given twice is an error, so an added file never silently replaces a shipped one.

Every problem is one :class:`~dermatwin.therapy.products.TherapyError` naming the file
and the field (see :mod:`dermatwin.therapy.catalogue_schema` for the fields).

>>> entries = load_catalogue([SHIPPED])
>>> entries["dupilumab"].slot, entries["uvb"].exposure_kind
('il4r', 'uvb_ladder')
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from dermatwin._base.yaml_files import one_line, read_mapping, short
from dermatwin.therapy.catalogue_schema import DrugData
from dermatwin.therapy.drug_entry import Drug
from dermatwin.therapy.products import TherapyError

#: the package's drug files
SHIPPED = Path(__file__).resolve().parent / "catalogue"
TEMPLATES = SHIPPED / "templates"
#: extra folders of drug files (os.pathsep-separated)
CATALOGUE_PATH_VARIABLE = "DERMATWIN_CATALOGUE_PATH"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")


def catalogue_folders() -> list[Path]:
    """The shipped folder, then those of :data:`CATALOGUE_PATH_VARIABLE` (if set)."""
    extra = os.environ.get(CATALOGUE_PATH_VARIABLE, "")
    folders = [SHIPPED]
    for part in extra.split(os.pathsep):
        if not part.strip():
            continue
        folder = Path(part)
        if not folder.is_dir():
            raise TherapyError(
                f"{CATALOGUE_PATH_VARIABLE}: {short(part)} is not a folder of drug files"
            )
        folders.append(folder)
    return folders


def _templates() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TEMPLATES.glob("*.yaml"))}


def read_drug(path: Path) -> tuple[DrugData, Drug]:
    """The validated data of one drug file and its catalogue entry."""
    name = path.stem
    if not _NAME.fullmatch(name):
        raise TherapyError(
            f"{path}: the file name is the drug's name; allowed: 1-60 letters, digits, _ or -"
        )
    data = read_mapping(path, TherapyError, "a drug (a mapping of fields)")
    template = data.get("template")
    if template is not None:
        templates = _templates()
        if not isinstance(template, str) or template not in templates:
            raise TherapyError(
                f"{path}: template: unknown template {short(template)}; "
                f"allowed: {', '.join(templates)}"
            )
        defaults = read_mapping(templates[template], TherapyError, "drug defaults")
        data = {**defaults, **data}
    try:
        parsed = DrugData.model_validate(data)
    except ValidationError as err:
        raise TherapyError(one_line(err, str(path))) from None
    return parsed, parsed.to_drug(name)


def load_catalogue(folders: Iterable[Path]) -> dict[str, Drug]:
    """Every drug of ``folders`` (``*.yaml``, not recursive), in listing order: by
    ``order``, then unnumbered drugs by name."""
    found: dict[str, tuple[Path, DrugData, Drug]] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            parsed, drug = read_drug(path)
            if drug.name in found:
                raise TherapyError(
                    f"{path}: drug {drug.name!r} is already defined in {found[drug.name][0]}"
                )
            found[drug.name] = (path, parsed, drug)

    def key(name: str) -> tuple:
        order = found[name][1].order
        return (order is None, order or 0, name)

    return {name: found[name][2] for name in sorted(found, key=key)}
