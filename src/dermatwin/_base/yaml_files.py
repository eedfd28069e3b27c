"""Reading user YAML files and turning validation errors into one line.

Every user-facing YAML file (trials, scenarios, parameter sets, patients, twin regimens
and constraints) is read by :func:`read_yaml` / :func:`read_mapping`, so every bad file
gives one line of the caller's error class, naming the file and (where known) the line,
before any work starts. The reader refuses, with these limits (documented in
``docs/trials.md``):

- a missing file, a folder, a file over :data:`MAX_FILE_BYTES` (1 MiB) and bytes that
  are not UTF-8;
- invalid YAML;
- duplicate keys at any depth (YAML would silently keep the last: ``n: 4`` then
  ``n: 400000`` must not start a 400,000-patient run);
- keys that are not plain strings (``1: x``, ``[a]: b``, ``null: x``, ``on: x``);
- nesting deeper than :data:`MAX_DEPTH` and documents that, with anchors and aliases
  expanded, hold more than :data:`MAX_NODES` values (a few hundred bytes of aliases can
  otherwise expand to gigabytes);
- (:func:`read_mapping`) a top-level value that is not a mapping.

:func:`one_line` does the same for the first pydantic validation error: the field path
without pydantic's internal union/validator names, and no echoed value over ~40 characters.

>>> from dermatwin._base.errors import ScenarioError
>>> read_mapping("missing.yaml", ScenarioError, "a trial")
Traceback (most recent call last):
...
dermatwin._base.errors.ScenarioError: missing.yaml: cannot read (No such file or directory)
>>> parse_yaml("n: 4\\nn: 400000\\n", ScenarioError, "t.yaml")
Traceback (most recent call last):
...
dermatwin._base.errors.ScenarioError: t.yaml line 2: duplicate key 'n'
"""

from __future__ import annotations

import operator
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dermatwin._base.errors import DermatwinError

#: largest YAML file read (bytes); user files are a few kB
MAX_FILE_BYTES = 1 << 20
#: deepest nesting of mappings and lists (user files need fewer than 10 levels)
MAX_DEPTH = 50
#: most values (scalars, lists, mappings) in a document with aliases expanded
MAX_NODES = 100_000
#: longest echo of a user value in a message
MAX_ECHO = 40

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_KEY_KINDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


class _Refused(Exception):
    """Raised inside the loader; turned into the caller's error class with the file name."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Loader(yaml.SafeLoader):
    """A safe loader that bounds nesting and alias expansion and rejects duplicate and
    non-string keys (pure Python, so that nothing recurses in C)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 (PyYAML's signature)
        # the composer recurses once per level: refuse before Python's recursion limit
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark.line + 1,
                    f"nested deeper than {MAX_DEPTH} levels; allowed: up to {MAX_DEPTH}",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for key, _ in node.value:
                if isinstance(key, ScalarNode) and key.tag == _MERGE_TAG:
                    continue
                name = _key_name(key)
                if name in seen:
                    raise _Refused(_line(key), f"duplicate key {short(name)}")
                seen.add(name)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


def _key_name(key: Node) -> str:
    if isinstance(key, ScalarNode) and key.tag == _STR_TAG:
        return key.value
    if isinstance(key, ScalarNode):
        kind = _KEY_KINDS.get(key.tag, "not a name")
        raise _Refused(
            _line(key),
            f"key {short(key.value)} is read as {kind}; keys must be names (quote it)",
        )
    kind = "a list" if isinstance(key, SequenceNode) else "a mapping"
    raise _Refused(_line(key), f"a key is {kind}; keys must be names")


def _check_expansion(root: Node) -> None:
    """Refuse documents whose aliases expand beyond MAX_NODES values or MAX_DEPTH levels
    (aliases share nodes, so the composed graph is small while the values are not)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused(_line(node), "an alias refers to its own anchor (a cycle)")
        if depth > MAX_DEPTH:
            raise _Refused(
                _line(node),
                f"aliases expand deeper than {MAX_DEPTH} levels; allowed: up to {MAX_DEPTH}",
            )
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise _Refused(
                    _line(node),
                    f"more than {MAX_NODES} values (anchors and aliases expanded); "
                    f"allowed: up to {MAX_NODES}",
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(root, 1)


def short(value: Any, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` cut to about ``limit`` characters, on one line."""
    text = repr(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_yaml(text: str, error: type[DermatwinError], where: str) -> Any:
    """The value of the YAML document ``text``; problems are one ``error`` naming ``where``
    (a file name) and the line."""
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except _Refused as err:
        at = f" line {err.line}" if err.line else ""
        raise error(f"{where}{at}: {err}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f" line {mark.line + 1}" if mark else ""
        problem = (err.problem or err.context or "invalid syntax").replace("\n", " ")
        raise error(f"{where}{at}: not valid YAML ({problem[:80]})") from None
    except yaml.YAMLError as err:
        # e.g. a reader error (a control character): position only, no echo of the text
        at = f" (position {err.position})" if isinstance(err, yaml.reader.ReaderError) else ""
        raise error(f"{where}: not valid YAML{at}") from None
    except RecursionError:  # a last guard; the depth check should refuse first
        raise error(f"{where}: nested too deeply; allowed: up to {MAX_DEPTH} levels") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text(path: str | Path, error: type[DermatwinError]) -> str:
    """The UTF-8 text of a user file of at most :data:`MAX_FILE_BYTES` bytes."""
    path = Path(path)
    try:
        if path.is_dir():
            raise error(f"{path}: is a folder; expected a file")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise error(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; allowed: up to 1 MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise error(f"{path} line {line}: not UTF-8 text (byte {data[err.start]:#04x})") from None


def read_yaml(path: str | Path, error: type[DermatwinError]) -> Any:
    """The YAML value in ``path`` (any type; see the module docstring for what is refused)."""
    return parse_yaml(read_text(path, error), error, str(path))


def read_mapping(
    path: str | Path, error: type[DermatwinError], what: str, *, empty_ok: bool = False
) -> dict:
    """The YAML mapping in ``path``; ``what`` names the expected content in the message."""
    data = read_yaml(path, error)
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected {what} (a mapping of fields)")
    return data


#: pydantic location parts that name a union member or a validator, not a field
_TYPE_WORDS = {"str", "int", "float", "bool", "list", "dict", "tuple", "none", "json-or-python"}
_MESSAGES = {
    "missing": "required field is missing",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
}


def _is_field(part: Any) -> bool:
    if isinstance(part, int):
        return True
    text = str(part)
    # union members and validators appear as e.g. 'function-after[_check(), DrugItem]',
    # 'list[float]', 'constrained-float' or a member model's class name
    if not re.fullmatch(r"[A-Za-z0-9_ .+()\-]*", text) or "[" in text:
        return False
    return text not in _TYPE_WORDS and not text.startswith(("function-", "constrained-"))


def _model_names() -> set[str]:
    """Class names of every pydantic model (a union of models puts the member's name in
    the location: ``inner.Inner.count``)."""
    names, todo = set(), [BaseModel]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__name__ not in names:
                names.add(sub.__name__)
                todo.append(sub)
    return names


def field_path(loc: tuple) -> str:
    """``arms.a.regimen.0.amount`` from a pydantic location, without union/validator tags."""
    models = _model_names()
    return ".".join(str(x) for x in loc if _is_field(x) and x not in models)


def message_of(error: dict) -> str:
    """The message of one pydantic error dict, on one line, without pydantic jargon."""
    if error["type"] in _MESSAGES:
        return _MESSAGES[error["type"]]
    if error["type"] == "extra_forbidden":
        return "unknown field"
    msg = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if error["type"].startswith("union_tag"):
        msg = "not a known kind of item"
    if error["type"] in ("too_short", "too_long"):  # "List should have at least 1 item ..."
        bound = "min_length" if error["type"] == "too_short" else "max_length"
        word = "at least" if error["type"] == "too_short" else "at most"
        limit = (error.get("ctx") or {}).get(bound)
        if limit is not None:
            msg = f"needs {word} {limit} item{'s' if limit != 1 else ''}"
    # pydantic puts the expected type and a value echo in some messages; keep one line
    msg = re.sub(r"\[type=.*", "", msg).replace("\n", " ").strip()
    return msg if len(msg) <= 300 else msg[:297] + "..."


def one_line(err: ValidationError, where: str) -> str:
    """``where: field.path: message`` of the first validation error (one line, no pydantic
    internals, echoed values cut to ~40 characters)."""
    errors = err.errors()
    first = errors[0]
    loc = field_path(first["loc"])
    return f"{where}: {loc + ': ' if loc else ''}{message_of(first)}"


def validation_message(err: ValidationError) -> str:
    """``field.path: message`` of the first error (for re-raising inside a validator)."""
    first = err.errors()[0]
    loc = field_path(first["loc"])
    return f"{loc + ': ' if loc else ''}{message_of(first)}"


class StrictModel(BaseModel):
    """Base of every model users write: an unknown field is one line naming the field and
    the allowed fields (pydantic's own message names neither)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if not isinstance(key, str):
                    raise ValueError(f"key {short(key)} is not a name")
                if key not in cls.model_fields:
                    raise ValueError(
                        f"unknown field {short(key)}; allowed: {', '.join(cls.model_fields)}"
                    )
        return data


def _number(value: Any) -> Any:
    # YAML reads yes/no/on/off/true/false as booleans, which pydantic would take as 1 and 0
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


def whole_number(value: Any) -> int:
    """``value`` as an int if it is a whole number given as one (not a bool, float or
    string); else a ValueError naming it."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # int and numpy integers, not floats or strings
        except TypeError:
            pass
    raise ValueError(f"expected a whole number, got {short(value)}")


#: a finite number (booleans refused)
Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
#: a whole number given as an integer (booleans, floats and strings refused)
Whole = Annotated[int, BeforeValidator(whole_number)]


#: arm names end up in plot labels, tables and file names: short, plain characters
ARM_NAME = re.compile(r"[A-Za-z0-9 _+.()-]{1,40}")
ARM_NAME_RULE = "1-40 letters, digits, spaces or _-+.()"


def check_arm_names(names: Any) -> None:
    """A ValueError naming the first arm name that breaks :data:`ARM_NAME`."""
    for name in names:
        if not ARM_NAME.fullmatch(name):
            raise ValueError(f"arm name {short(name)}: allowed: {ARM_NAME_RULE}")
