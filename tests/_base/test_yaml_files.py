"""The one YAML reader of user files: every bad file is one line naming the file (and the
line where known), read in bounded time and memory (issue 12: items 6, 8, 10)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dermatwin._base.errors import DermatwinError
from dermatwin._base.yaml_files import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    Number,
    StrictModel,
    Whole,
    one_line,
    read_mapping,
    read_yaml,
)


class ProbeError(DermatwinError):
    pass


# a 671-byte alias bomb of the kind: 9**7 strings once expanded
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip([None, "a", "b", "c", "d", "e", "f"], "abcdefg", strict=True)
)

CASES = {
    "duplicate key": ("arms:\n  a:\n    n: 4\n    n: 400000\n", "line 4: duplicate key 'n'"),
    "duplicate top key": ("n: 4\nm: 1\nn: 5\n", "line 3: duplicate key 'n'"),
    "int key": ("1: x\n", "line 1: key '1' is read as a number"),
    "list key": ("? [a]\n: b\n", "line 1: a key is a list"),
    "null key": ("null: x\n", "key 'null' is read as null"),
    "bool key": ("on: x\n", "key 'on' is read as a boolean"),
    "nested list": ("a: " + "[" * 5000 + "]" * 5000 + "\n", f"deeper than {MAX_DEPTH}"),
    "nested map": ("".join("  " * i + f"k{i}:\n" for i in range(200)), "deeper than"),
    "alias bomb": (BOMB, "more than 100000 values"),
    "alias cycle": ("a: &a [*a]\n", "cycle"),
    "invalid": ("a: [1, 2\n", "line 2: not valid YAML"),
    "control char": ("a: \x07\n", "not valid YAML"),
    "undefined alias": ("a: *nope\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_yaml_is_one_line(tmp_path, case):
    text, expected = CASES[case]
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(ProbeError) as info:
        read_yaml(path, ProbeError)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message, message
    assert "\n" not in message and len(message) < 300


def test_alias_bomb_is_small_on_disk():
    assert len(BOMB) < 700


def test_not_utf8(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"name: ok\ndisease: \xff\xfe\n")
    with pytest.raises(ProbeError, match=r"f.yaml line 2: not UTF-8 text \(byte 0xff\)"):
        read_yaml(path, ProbeError)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(ProbeError, match="is a folder; expected a file"):
        read_yaml(tmp_path, ProbeError)
    with pytest.raises(ProbeError, match="cannot read"):
        read_yaml(tmp_path / "nope.yaml", ProbeError)


def test_file_over_the_size_cap(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# pad\n" * (MAX_FILE_BYTES // 6 + 10) + "a: 1\n")
    with pytest.raises(ProbeError, match="allowed: up to 1 MiB"):
        read_yaml(path, ProbeError)


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ProbeError, match="expected a trial"):
        read_mapping(path, ProbeError, "a trial")
    path.write_text("")
    assert read_mapping(path, ProbeError, "x", empty_ok=True) == {}


def test_valid_yaml_reads_as_before(tmp_path):
    path = tmp_path / "f.yaml"
    text = "base: &b {x: 1}\nc:\n  <<: *b\n  y: [1, 2.5, '3']\nd: *b\n"
    path.write_text(text)
    assert read_yaml(path, ProbeError) == {
        "base": {"x": 1},
        "c": {"x": 1, "y": [1, 2.5, "3"]},
        "d": {"x": 1},
    }


class Inner(StrictModel):
    count: Whole = 1
    level: Number = 0.0


class Outer(StrictModel):
    inner: Inner | list[Inner] = Inner()
    items: list[Inner] = []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"inner": {"count": True}}, "where: inner.count: expected a whole number, got True"),
        ({"items": [{"level": float("nan")}]}, "where: items.0.level: Input should be a finite"),
        ({"items": [{"level": True}]}, "where: items.0.level: expected a number, got true"),
        ({"items": [{"colour": 1}]}, "where: items.0: unknown field 'colour'; allowed: count"),
        ({"items": 5}, "where: items: expected a list"),
        ({"items": [{"level": "x" * 10_000}]}, "where: items.0.level: Input should be a valid"),
    ],
)
def test_one_line_names_the_field_without_internals(data, expected):
    with pytest.raises(ValidationError) as info:
        Outer.model_validate(data)
    message = one_line(info.value, "where")
    assert message.startswith(expected), message
    assert "\n" not in message and len(message) < 300
    for jargon in ("function-", "constrained-", "list[", "Inner", "[type="):
        assert jargon not in message
