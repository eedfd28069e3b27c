"""Hypothesis strategies that turn valid inputs into fuzz cases (:class:`fuzz_harness.Case`).

Every generator starts from a small valid file or command line (the examples' files, cut
down to n = 2 per arm and a few weeks) and applies ONE mutation, so a failing case is
its own minimal reproducer. Classes (``Case.kind``):

- ``KIND/yaml``: a YAML-level mutation of a file of that kind (delete a key, replace a
  value by another type / string / huge / negative / NaN / inf / empty / nested garbage,
  insert an unknown key);
- ``KIND/text``: a byte-level mutation (empty, truncated, non-UTF-8, duplicate key, anchors,
  an alias bomb, deep nesting, non-string keys, a list at the top, 2 MiB of padding, a
  directory or a missing file instead of the file, CRLF, a BOM);
- ``visits/csv``: a CSV-level mutation of the visit file (columns shuffled, removed,
  duplicated; cells replaced by dates, text, huge, negative, NaN, inf, empty);
- ``args/COMMAND``: an option or argument of a command replaced or added;
- ``sql``: a query for ``results query`` over a stored tiny run;
- ``must-reject/...``: mutations invalid by construction (exit 0 there is "silent nonsense");
- ``data-loss/COMMAND``: ``--out`` pointed at a folder that is not the command's own.

Work size is bounded: a mutation that makes a trial, scenario, visit record or regimen
larger than a small bound is only loaded (``Case.guard``), and size options are drawn
from invalid or small values (never a valid but large amount of work).
"""

from __future__ import annotations

import copy
import math
import os
import re
from pathlib import Path

import yaml
from fuzz_harness import Case, Runner
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
CAL_SET = REPO / "src" / "dermatwin" / "params" / "sets" / "CAL-1.yaml"


def examples(n: int) -> int:
    """Hypothesis examples for a test: ``n``, or ``DERMATWIN_FUZZ_EXAMPLES`` if set."""
    return int(os.environ.get("DERMATWIN_FUZZ_EXAMPLES", n))


def dump(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, width=1000).encode()


# --------------------------------------------------------------------------------------
# valid bases (tiny)

#: kim2017_hucbmsc_ad.yaml cut down: 2 arms x 2 patients, 4 weeks, an MSC course and a
#: drug with start/stop, demographics given explicitly (so that ranges can be mutated)
TRIAL = {
    "name": "tiny",
    "disease": "AD",
    "seed": 4,
    "duration": "4 weeks",
    "visit_every": "2 weeks",
    "population": {
        "inclusion": {"EASI": {"min": 16}},
        "demographics": {"weight_range": [40, 160], "age_range": [18, 75]},
    },
    "background": [{"drug": "placebo"}],
    "arms": {
        "msc": {
            "n": 2,
            "regimen": [
                {
                    "msc": {
                        "source": "umbilical_cord_blood",
                        "origin": "allogeneic",
                        "amount": 2.5e7,
                        "unit": "cells",
                        "route": "SC",
                        "times": [0, 14],
                    }
                }
            ],
        },
        "dupilumab": {"n": 2, "regimen": [{"drug": "dupilumab", "start": 0, "stop": 28}]},
    },
    "endpoints": ["EASI-50@4w", "mean_pct_change:EASI@4w", "IGA01@4w"],
    "noise": {"EASI": 0.1},
}

#: tests/test_cli.py's small Shmarov scenario (120 days, two arms)
SCENARIO = {
    "model": "shmarov2022",
    "horizon": 120,
    "output_every": 2,
    "steady_state": False,
    "arms": {
        "stim": {
            "events": [{"time": 10, "set_parameter": "dc_stim", "value": 6000, "duration": 2}]
        },
        "control": {},
    },
    "outputs": ["PASI_index", "totC"],
    "endpoints": ["mean:PASI_index@120d"],
}


def _example(rel: str):
    return yaml.safe_load((EXAMPLES / rel).read_text())


def _constraints():
    data = _example("twins/constraints.yaml")
    # fewer candidate regimens keep `plan` cheap (as in tests/twins/test_twin_cli.py)
    data.update(
        max_infusions=1,
        allowed_sources=["umbilical_cord"],
        exclude_drugs=["lebrikizumab", "tralokinumab", "upadacitinib", "ciclosporin"],
    )
    return data


FIT = ["--walkers", "10", "--burn", "0", "--steps", "10", "--json"]

#: kind -> (file name, base data, argv, guard loader)
FILE_KINDS = {
    "trial": ("trial.yaml", TRIAL, ["trial", "run", "trial.yaml", "--out", "out", "--json"]),
    "scenario": (
        "scenario.yaml",
        SCENARIO,
        ["simulate", "scenario.yaml", "--out", "out", "--json"],
    ),
    "visits": (
        "visits.yaml",
        _example("twins/psoriasis_patient.yaml"),
        ["twin", "fit", "visits.yaml", "--out", "out", *FIT],
    ),
    "regimen": (
        "regimen.yaml",
        _example("twins/add_uc_msc.yaml"),
        ["twin", "predict", "{twin}", "--regimen", "regimen.yaml", "--out", "out", "--draws", "4"]
        + ["--json"],
    ),
    "constraints": (
        "constraints.yaml",
        _constraints(),
        ["plan", "{twin}", "--goal", "EASI-50@8w", "--constraints", "constraints.yaml"]
        + ["--out", "out", "--draws", "2", "--json"],
    ),
    "parameter_set": (
        "set.yaml",
        yaml.safe_load(CAL_SET.read_text()),
        ["trial", "run", "trial.yaml", "--out", "out", "--json"],
    ),
}
GUARDS = {"trial": "trial", "scenario": "scenario", "visits": "visits", "regimen": "regimen"}
GUARDS |= {"constraints": "constraints", "parameter_set": "trial"}


def file_case(kind: str, content: bytes | None, note: str, **kw) -> Case:
    """A case of ``kind`` whose file holds ``content`` (None: a folder in its place)."""
    name, _, argv = FILE_KINDS[kind]
    files = {name: content}
    if kind == "parameter_set":  # the tiny trial, calibrated with the mutated set
        files["trial.yaml"] = dump({**TRIAL, "parameter_set": name})
    sentinels = tuple(k for k, v in files.items() if v is not None)
    guard = (GUARDS[kind], "trial.yaml" if kind == "parameter_set" else name)
    names = (name, *kw.pop("names", ()))
    return Case(kind, list(argv), files, note, guard=guard, sentinels=sentinels, names=names, **kw)


# --------------------------------------------------------------------------------------
# YAML-level mutations

NASTY_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    10**12,
    -(10**9),
    1e308,
    -1e308,
    1e30,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "x",
    "14",
    "20250106",
    "2025-01-06",
    "1e308 days",
    "-3 weeks",
    [],
    {},
    [None],
    [[[[]]]],
    {"a": {"b": [1, {"c": None}]}},
    "a" * 300,
    0.5,
]
nasty = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(-5, 400), max_size=4),
)


def _paths(node, prefix=()):
    """Every (path to a node) below ``node``; a path is a tuple of keys and indices."""
    out = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _parent(data, path):
    for key in path[:-1]:
        data = data[key]
    return data


def _words(path) -> tuple[str, ...]:
    """Names an error about ``path`` might use: its keys, and its dotted path."""
    keys = [str(k) for k in path]
    return (*[k for k in keys if not k.isdigit()], ".".join(keys))


@st.composite
def yaml_mutation(draw, kind: str) -> Case:
    _, base, _ = FILE_KINDS[kind]
    data = copy.deepcopy(base)
    path = draw(st.sampled_from(_paths(data)))
    parent = _parent(data, path)
    op = draw(st.sampled_from(["delete", "replace", "replace", "unknown key"]))
    if op == "delete":
        del parent[path[-1]]
        note = f"deleted {'.'.join(map(str, path))}"
    elif op == "replace":
        value = draw(nasty)
        parent[path[-1]] = value
        note = f"{'.'.join(map(str, path))} = {value!r:.60}"
    else:
        target = data if not isinstance(parent, dict) else parent
        key = draw(st.sampled_from(["bogus", "N", "Name", "arms_", "x" * 200]))
        target[key] = draw(nasty)
        note = f"unknown key {key[:20]!r} beside {'.'.join(map(str, path))}"
        path = (*path[:-1], key)
    case = file_case(kind, dump(data), f"{kind}/yaml: {note}", names=_words(path))
    case.kind = f"{kind}/yaml"
    return case


# --------------------------------------------------------------------------------------
# byte-level mutations (any YAML kind)

_KEY_LINE = re.compile(rb"^( *)([A-Za-z_][A-Za-z0-9_]*):(.*)$", re.M)


def alias_bomb(levels: int = 9) -> bytes:
    """A ~700-byte YAML value whose expansion has 9**levels strings (billion laughs)."""
    lines = ['bomb0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"bomb{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


TEXT_OPS = (
    "empty",
    "truncate",
    "non-UTF-8",
    "duplicate key",
    "alias (small)",
    "alias bomb",
    "deep nesting",
    "non-string key",
    "top-level list",
    "2 MiB padding",
    "directory",
    "missing",
    "CRLF",
    "BOM",
)
#: invalid by construction whatever the file (an empty constraints file is allowed)
MUST_REJECT_TEXT = {
    "empty",
    "non-UTF-8",
    "duplicate key",
    "alias bomb",
    "deep nesting",
    "non-string key",
    "top-level list",
    "directory",
    "missing",
}


#: what an error about a byte-level mutation may name besides the file
OP_WORDS = {
    "alias bomb": ("bomb", "boom", "alias"),
    "deep nesting": ("deep", "nest"),
    "non-string key": ("key",),
    "duplicate key": ("duplicate",),
}


@st.composite
def text_mutation(draw, kind: str) -> Case:
    name, base, argv = FILE_KINDS[kind]
    text = dump(base)
    op = draw(st.sampled_from(TEXT_OPS))
    must = op in MUST_REJECT_TEXT and not (op == "empty" and kind == "constraints")
    content: bytes | None = text
    detail = ""
    if op == "empty":
        content = b""
    elif op == "truncate":
        cut = draw(st.integers(1, len(text) - 1))
        content, detail = text[:cut], f" at byte {cut}"
    elif op == "non-UTF-8":
        at = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from([b"\xff\xfe", b"\xe9", b"\xc3\x28", b"\x80"]))
        content, detail = text[:at] + junk + text[at:], f" {junk!r} at byte {at}"
    elif op == "duplicate key":
        lines = list(_KEY_LINE.finditer(text))
        m = draw(st.sampled_from(lines))
        value = draw(st.sampled_from([m.group(3), b" 400000", b" other", b" 2"]))
        dup = m.group(1) + m.group(2) + b":" + value
        content = text[: m.end()] + b"\n" + dup + text[m.end() :]
        detail = f" {m.group(2).decode()!r} (then{value.decode()!r:.30})"
    elif op == "alias (small)":  # an anchor on a value: valid YAML, same document
        m = draw(st.sampled_from(list(_KEY_LINE.finditer(text))))
        anchored = m.group(1) + m.group(2) + b": &anchor" + m.group(3)
        content, detail = text[: m.start()] + anchored + text[m.end() :], f" on {m.group(2)!r}"
    elif op == "alias bomb":
        content = text + alias_bomb() + b"boom: *a8\n"
    elif op == "deep nesting":
        depth = draw(st.sampled_from([100, 1000, 20000]))
        content, detail = text + b"deep: " + b"[" * depth + b"]" * depth + b"\n", f" {depth}"
    elif op == "non-string key":
        key = draw(st.sampled_from([b"1: x", b"? [a]\n: b", b"null: x", b"true: 1", b"3.5: y"]))
        content, detail = text + key + b"\n", f" {key!r}"
    elif op == "top-level list":
        content = b"- " + text.replace(b"\n", b"\n  ")
    elif op == "2 MiB padding":
        content = b"# " + b"x" * (2 * 2**20) + b"\n" + text
    elif op == "directory":
        content = None
    elif op == "CRLF":
        content = text.replace(b"\n", b"\r\n")
    elif op == "BOM":
        content = b"\xef\xbb\xbf" + text
    words = OP_WORDS.get(op, ())
    case = file_case(kind, content, f"{kind}/text: {op}{detail}", must_reject=must, names=words)
    if op == "missing":
        case.files.pop(name)
        case.sentinels = tuple(s for s in case.sentinels if s != name)
    case.kind = f"{kind}/text"
    return case


# --------------------------------------------------------------------------------------
# CSV-level mutations of the visit file

VISITS_CSV = (EXAMPLES / "twins" / "ad_patient.csv").read_bytes()
CSV_ARGV = ["twin", "fit", "visits.csv", "--out", "out", "--walkers", "8"]
CSV_ARGV += ["--burn", "0", "--steps", "10", "--json"]
CELLS = ["2025-01-06", "20250106", "abc", "1e300", "-5", "nan", "NaN", "inf", "", "1e9", "0"]


def _csv_case(content: bytes, note: str, must=False, names=()) -> Case:
    files = {"visits.csv": content}
    return Case(
        "visits/csv",
        list(CSV_ARGV),
        files,
        f"visits/csv: {note}",
        must_reject=must,
        names=("visits.csv", *names),
        guard=("visits", "visits.csv"),
        sentinels=("visits.csv",),
    )


@st.composite
def csv_mutation(draw) -> Case:
    text = VISITS_CSV.decode()
    head = [ln for ln in text.splitlines() if ln.startswith("#")]
    rows = [ln.split(",") for ln in text.splitlines() if ln and not ln.startswith("#")]
    header, body = rows[0], rows[1:]
    op = draw(st.sampled_from(["shuffle", "remove", "duplicate", "cell", "cell", "profile"]))
    must, names = False, ()
    if op == "shuffle":
        order = draw(st.permutations(range(len(header))))
        rows = [[r[i] for i in order] for r in rows]
        note = "columns shuffled"
    elif op in ("remove", "duplicate"):
        col = draw(st.integers(0, len(header) - 1))
        names = (header[col],)
        if op == "remove":
            rows = [r[:col] + r[col + 1 :] for r in rows]
        else:
            rows = [r + [r[col]] for r in rows]
            must = True  # two columns of the same name: which one is meant?
        note = f"column {header[col]!r} {op}d"
    elif op == "cell":
        row = draw(st.integers(0, len(body) - 1))
        col = draw(st.sampled_from([i for i, h in enumerate(header) if h not in ("note",)]))
        value = draw(
            st.one_of(st.sampled_from(CELLS), st.text(alphabet="0123456789-.eE", max_size=8))
        )
        rows[row + 1] = list(rows[row + 1])
        rows[row + 1][col] = value
        names = (header[col],)
        col_name = header[col]
        bad_day = col_name == "day" and value in (
            "20250106",
            "abc",
            "1e300",
            "-5",
            "nan",
            "NaN",
            "inf",
            "1e9",
        )
        bad_score = col_name in ("EASI", "SCORAD", "IGA", "pruritus_NRS") and value in (
            "abc",
            "1e300",
            "-5",
            "inf",
            "1e9",
        )
        must = bad_day or bad_score
        note = f"row {row + 1} {col_name} = {value!r}"
    else:
        line = draw(st.sampled_from(head))
        key = line[2:].split(":")[0]
        value = draw(st.sampled_from(["-5", "1e9", "nan", "", "abc", "[1, 2]"]))
        head = [f"# {key}: {value}" if h == line else h for h in head]
        names = (key,)
        must = key in ("age", "weight_kg") and value in ("-5", "1e9", "nan", "abc", "[1, 2]")
        note = f"profile {key}: {value!r}"
    content = "\n".join(head + [",".join(r) for r in rows]) + "\n"
    return _csv_case(content.encode(), note, must, names)


# --------------------------------------------------------------------------------------
# CLI arguments

INT_VALUES = ["-1", "0", "1", "2", str(-(10**12)), str(2**31), str(2**63), str(10**30)]
INT_VALUES += ["x", "", "1.5", "nan", "0x10"]
ints = st.one_of(st.sampled_from(INT_VALUES), st.integers(-1000, 1000).map(str))
#: sizes of work: invalid, tiny, or absurd (beyond int64) - never valid and large
work_ints = st.sampled_from(["-1", "0", "1", "2", "3", str(2**63), str(10**30), "x", "", "1e3"])
floats = st.one_of(
    st.sampled_from(["-1", "0", "0.5", "1", "2", "1e308", "nan", "inf", "-inf", "x", "", "1e-300"]),
    st.floats(-1e6, 1e6).map(repr),
)
texts = st.one_of(
    st.sampled_from(["", " ", "-", "--", "é", "a" * 300, "EASI-200@4w", "EASI-50@-4w"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30),
)
in_paths = st.sampled_from(["missing.yaml", "adir", "", ".", "afile.txt", "{dir}/no/such/x.yaml"])
out_files = st.sampled_from(["adir", "new/sub/x.xml", "", ".", "new.xml"])
executors = st.sampled_from(["serial", "", "Serial", "threads", "x"])
goals = st.one_of(
    st.sampled_from(["EASI-50@8w", "EASI-200@8w", "EASI-50@0w", "EASI-50@1e12w", "PASI-75@8w"]),
    texts,
)

ARG_FILES = {
    "trial.yaml": dump(TRIAL),
    "scenario.yaml": dump(SCENARIO),
    "visits.csv": VISITS_CSV,
    "regimen.yaml": (EXAMPLES / "twins" / "continue_dupilumab.yaml").read_bytes(),
    "constraints.yaml": dump(_constraints()),
    "adir": None,
    "afile.txt": b"a user's file\n",
}

#: command -> (valid argv, {option: values}); positional arguments are mutated too
COMMANDS = {
    "trial run": (
        ["trial", "run", "trial.yaml", "--out", "out", "--json"],
        {
            "--seed": ints,
            "--executor": executors,
            "--workers": work_ints,
            "--chunk-size": ints,
            "--chunk-timeout": floats,
            "--retries": work_ints,
            "--resume": None,
        },
    ),
    "trial power": (
        ["trial", "power", "trial.yaml", "--endpoint", "EASI-50@4w", "--replicates", "2", "--json"],
        {
            "--endpoint": goals,
            "--alpha": floats,
            "--replicates": work_ints,
            "--target": st.sampled_from(["1.5", "-0.1", "nan", "inf", "2", "x", ""]),
            "--n-max": work_ints,
            "--executor": executors,
            "--retries": work_ints,
        },
    ),
    "trial predict": (
        ["trial", "predict", "trial.yaml", "--placebo-nodes", "0", "--json"],
        {"--draws": work_ints, "--placebo-nodes": work_ints, "--set": texts},
    ),
    "sensitivity": (
        ["sensitivity", "scenario.yaml", "--output", "PASI_index@120d", "--n", "4"]
        + ["--out", "out", "--json"],
        {
            "--output": goals,
            "--method": texts,
            "--n": work_ints,
            "--parameters": texts,
            "--fold": floats,
            "--arm": texts,
            "--seed": ints,
        },
    ),
    "simulate": (["simulate", "scenario.yaml", "--out", "out", "--json"], {}),
    "results query": (
        ["results", "query", "{run}", "SELECT count(*) FROM endpoints"],
        {"--json": None},
    ),
    "export sbml": (["export", "sbml", "skin", "-o", "model.xml"], {"-o": out_files}),
    "calibrate": (
        ["calibrate", "--only", "nothing", "--out", "cal.yaml"],
        {"--only": texts, "--out": out_files},
    ),
    "validate": (
        ["validate", "--trial", "nothing", "--json"],
        {"--set": texts, "--trial": texts, "--draws": work_ints, "--workers": work_ints},
    ),
    "models": (["models", "--json"], {}),
    "twin fit": (
        ["twin", "fit", "visits.csv", "--out", "out", "--walkers", "8", "--burn", "0"]
        + ["--steps", "10", "--json"],
        {
            "--walkers": work_ints,
            "--burn": work_ints,
            "--steps": work_ints,
            "--seed": ints,
            "--moves": texts,
            "--parameter-set": texts,
        },
    ),
    "twin predict": (
        ["twin", "predict", "{twin}", "--regimen", "regimen.yaml", "--out", "out", "--draws", "4"]
        + ["--json"],
        {"--draws": work_ints, "--regimen": in_paths},
    ),
    "plan": (
        ["plan", "{twin}", "--goal", "EASI-50@8w", "--constraints", "constraints.yaml"]
        + ["--out", "out", "--draws", "2", "--json"],
        {"--goal": goals, "--draws": work_ints, "--top": ints, "--constraints": in_paths},
    ),
}
#: argv positions of each command's input path (mutated like a path option)
_POSITIONAL = {
    "trial run": 2,
    "trial power": 2,
    "trial predict": 2,
    "sensitivity": 1,
    "simulate": 1,
    "results query": 2,
}
_POSITIONAL |= {"export sbml": 2, "twin fit": 2, "twin predict": 2, "plan": 1}
#: invalid values of calibrate --only / validate --trial: random text is never valid
_NEVER_VALID = {("calibrate", "--only"), ("validate", "--trial")}


def _set_option(argv: list[str], flag: str, value: str | None) -> list[str]:
    if flag in argv:
        i = argv.index(flag)
        if value is None:
            return argv[:i] + argv[i + 1 :]  # a flag given: drop it
        return argv[: i + 1] + [value] + argv[i + 2 :]
    return argv + ([flag] if value is None else [flag, value])


@st.composite
def argument_mutation(draw, command: str | None = None) -> Case:
    command = command or draw(st.sampled_from(sorted(COMMANDS)))
    argv, options = COMMANDS[command]
    argv = list(argv)
    op = draw(st.sampled_from(["option", "option", "option", "positional", "unknown", "missing"]))
    names: tuple[str, ...] = ()
    if op == "option" and options:
        flag = draw(st.sampled_from(sorted(options)))
        values = options[flag]
        value = None if values is None else draw(values)
        if (command, flag) in _NEVER_VALID and value is not None:
            value = "zz" + value  # never a real target or trial name
        argv = _set_option(argv, flag, value)
        names = (flag, flag.lstrip("-"), flag.lstrip("-").replace("-", "_"), "option")
        if value and values is in_paths:
            names += (Path(value).name or value,)
        note = f"{flag} {value!r:.60}"
    elif op == "positional" and command in _POSITIONAL:
        i = _POSITIONAL[command]
        value = draw(in_paths if command != "export sbml" else texts)
        argv[i] = value
        names = (Path(value).name or value, "model", "folder", "file", "cannot read", "not a")
        note = f"argument {i} = {value!r:.60}"
    elif op == "unknown":
        extra = draw(st.sampled_from([["--bogus"], ["--bogus", "1"], ["extra-argument"], ["--"]]))
        argv = argv + extra
        names = ("bogus", "extra", "unexpected", "option", "argument")
        note = f"added {extra}"
    else:
        cut = draw(st.integers(0, max(0, len(argv) - 1)))
        dropped = argv[cut]
        argv = argv[:cut] + argv[cut + 1 :]
        # dropping a sub-command makes the next word an unknown command
        names = ("missing", dropped.lstrip("-"), "option", "argument", "requires", "command")
        note = f"dropped {dropped!r}"
    # an error about another (still valid or deliberately invalid) option also names it
    names += tuple(a.lstrip("-") for a in argv if a.startswith("--"))
    files = dict(ARG_FILES)
    inputs = ("trial.yaml", "scenario.yaml", "visits.csv", "regimen.yaml", "constraints.yaml")
    return Case(
        f"args/{command}",
        argv,
        files,
        f"args/{command}: {note}",
        names=names,
        sentinels=(*inputs, "afile.txt"),
    )


# --------------------------------------------------------------------------------------
# SQL for `results query`

SQL_OK = [
    "SELECT * FROM endpoints",
    "SELECT arm, avg(value) FROM trajectories WHERE variable = 'EASI' GROUP BY arm",
    "select count(*) from trajectories",
    "SELECT * FROM endpoints LIMIT 0",
    "SELECT 1/0",
    "SELECT 'inf'::DOUBLE, 'nan'::DOUBLE",
]
SQL_BAD = [
    "",
    " ",
    ";",
    "SELEC",
    "SELECT * FROM nosuch",
    "SELECT * FROM range(100000000)",
    "SELECT repeat('x', 100000000)",
    "SELECT * FROM trajectories a, trajectories b, trajectories c, trajectories d",
    "DROP VIEW endpoints",
    "PRAGMA database_list",
    "INSTALL httpfs",
    "SELECT * FROM read_text('/etc/hostname')",
]
#: must be refused (issue 12 item 11: read/write any file, attach databases)
SQL_MUST_REJECT = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY endpoints TO 'copied.csv'",
    "ATTACH 'other.db' AS other",
    "SELECT * FROM read_text('/etc/hostname')",
]


@st.composite
def sql_case(draw) -> Case:
    sql = draw(
        st.one_of(
            st.sampled_from(SQL_OK + SQL_BAD + SQL_MUST_REJECT),
            st.text(max_size=40),
            st.sampled_from(SQL_OK).map(lambda s: s + " WHERE"),
        )
    )
    as_json = draw(st.booleans())
    argv = ["results", "query", "{run}", sql] + (["--json"] if as_json else [])
    return Case(
        "sql",
        argv,
        {},
        f"sql: {sql!r:.80}",
        must_reject=sql in SQL_MUST_REJECT,
        names=("sql", "query", "SELECT", "table", "view"),
    )


# --------------------------------------------------------------------------------------
# must-reject: invalid by construction


def _trial_with(path: tuple, value) -> dict:
    data = copy.deepcopy(TRIAL)
    parent = _parent(data, path) if len(path) > 1 else data
    parent[path[-1]] = value
    return data


_MSC = ("arms", "msc", "regimen", 0, "msc")
_DRUG = ("arms", "dupilumab", "regimen", 0)
#: (field path, invalid value, words one of which the error must contain)
TRIAL_REJECTS = [
    (("arms", "msc", "n"), -1, "n"),
    (("arms", "msc", "n"), 0, "n"),
    (("arms", "msc", "n"), True, "n"),
    (("arms", "msc", "n"), 10**12, "n"),
    (("arms", "msc", "n"), "two", "n"),
    ((*_MSC, "times"), "14", "times"),
    ((*_MSC, "times"), [], "times"),
    ((*_MSC, "times"), ["x"], "times"),
    ((*_MSC, "times"), [-5], "times"),
    ((*_MSC, "times"), [0, 400], "times"),
    ((*_MSC, "amount"), 1e30, "amount"),
    ((*_MSC, "amount"), -1, "amount"),
    ((*_MSC, "amount"), math.nan, "amount"),
    ((*_MSC, "amount"), math.inf, "amount"),
    ((*_DRUG, "stop"), -7, "stop"),
    ((*_DRUG, "start"), 100, "start"),
    ((*_DRUG, "amount"), 1e9, "amount"),
    (("endpoints",), ["EASI-200@4w"], "EASI-200"),
    (("endpoints",), ["EASI-50@-1w"], "EASI-50@-1w"),
    (("endpoints",), [], "endpoints"),
    (("visits",), [-5], "visits"),
    (("visits",), [400], "visits"),
    (("visit_every",), 0, "visit_every"),
    (("visit_every",), -7, "visit_every"),
    (("duration",), 1e308, "duration"),
    (("duration",), "1e12 days", "duration"),
    (("duration",), 0, "duration"),
    (("duration",), math.nan, "duration"),
    (("population", "demographics", "weight_range"), [160, 40], "weight_range"),
    (("population", "demographics", "weight_range"), [-10, 10], "weight_range"),
    (("population", "demographics", "age_range"), [-5, 10], "age_range"),
    (("noise", "EASI"), math.nan, "noise"),
    (("noise", "EASI"), math.inf, "noise"),
    (("noise", "EASI"), -0.1, "noise"),
    (("seed",), -1, "seed"),
    (("seed",), True, "seed"),
    (("background",), 5, "background"),
    (("arms", "msc", "regimen"), 5, "regimen"),
    (("arms", "msc", "regimen"), [{"drug": "aspirin"}], "aspirin"),
    (("bogus",), 1, "bogus"),
]
SCENARIO_REJECTS = [
    (("parameters",), {"sc2": 1e300}, "sc2"),
    (("parameters",), {"sc2": -1.0}, "sc2"),
    (("parameters",), {"sc2": math.nan}, "sc2"),
    (("horizon",), 0, "horizon"),
    (("horizon",), 1e308, "horizon"),
    (("output_every",), 0, "output_every"),
    (("patients",), {"n": True}, "n"),
    (("patients",), {"n": 10**12}, "n"),
    (("arms", "stim", "events", 0, "time"), 400, "time"),
    (("arms", "stim", "events", 0, "value"), math.inf, "value"),
]
REGIMEN_REJECTS = [
    (("regimen", 0, "msc", "times"), "14", "times"),
    (("regimen", 0, "msc", "amount"), 1e30, "amount"),
    (("regimen", 1), {"drug": "dupilumab", "amount": 1e9}, "amount"),
    (("regimen", 1), {"drug": "dupilumab", "start": 30, "stop": 10}, "stop"),
    (("regimen", 1), {"drug": "dupilumab", "start": 400}, "start"),
    (("horizon",), 0, "horizon"),
    (("horizon",), "3 years", "horizon"),
]
CONSTRAINT_REJECTS = [
    (("exclude_drugs",), ["aspirin"], "aspirin"),
    (("allowed_sources",), ["moon"], "moon"),
    (("horizon",), "2 weeks", "horizon"),  # shorter than the goal (8 weeks)
    (("max_infusions",), -1, "max_infusions"),
    (("max_clinic_visits",), 1e9, "max_clinic_visits"),
]
VISIT_REJECTS = [
    (("visits", 1, "day"), 20250106, "day"),
    (("visits", 1, "day"), -5, "day"),
    (("visits", 1, "PASI"), 200, "PASI"),
    (("visits", 1, "PGA"), 9, "PGA"),
    (("patient", "weight_kg"), -5, "weight_kg"),
    (("patient", "age"), 1e9, "age"),
    (("treatments",), 5, "treatments"),
    (("treatments", 0, "msc", "times"), "14", "times"),
]
SET_REJECTS = [
    (("values", 0, "value"), 50.0, "value"),
    (("values", 0, "value"), math.nan, "value"),
    (("values", 0, "target"), "model.nothing", "target"),
    (("values", 0, "bounds"), [1.0, 0.01], "bounds"),
]
REJECTS = {
    "trial": TRIAL_REJECTS,
    "scenario": SCENARIO_REJECTS,
    "regimen": REGIMEN_REJECTS,
    "constraints": CONSTRAINT_REJECTS,
    "visits": VISIT_REJECTS,
    "parameter_set": SET_REJECTS,
}
ARG_REJECTS = [
    ("trial run", "--seed", "-1"),
    ("trial run", "--chunk-size", "0"),
    ("trial run", "--workers", "0"),
    ("trial run", "--retries", "-1"),
    ("trial power", "--n-max", "0"),
    ("trial power", "--replicates", "0"),
    ("trial power", "--alpha", "2"),
    ("trial power", "--target", "1.5"),
    ("trial power", "--seed", "-1"),
    ("trial predict", "--draws", "0"),
    ("trial predict", "--placebo-nodes", "-1"),
    ("validate", "--draws", "0"),
    ("validate", "--workers", "0"),
    ("sensitivity", "--n", "0"),
    ("sensitivity", "--fold", "0.5"),
    ("sensitivity", "--seed", "-1"),
    ("twin fit", "--walkers", "3"),
    ("twin fit", "--steps", "0"),
    ("twin fit", "--burn", "-1"),
    ("twin fit", "--moves", "x"),
    ("twin fit", "--seed", "-1"),
    ("twin predict", "--draws", "0"),
    ("plan", "--top", "-1"),
    ("plan", "--top", "0"),
    ("plan", "--draws", "0"),
    ("export sbml", "-o", "adir"),
    ("export sbml", "MODEL", "nomodel"),
]


def must_reject_file_case(kind: str, path: tuple, value, word: str) -> Case:
    _, base, _ = FILE_KINDS[kind]
    data = copy.deepcopy(base)
    parent = _parent(data, path)
    parent[path[-1]] = value
    note = f"{'.'.join(map(str, path))} = {value!r:.60}"
    case = file_case(
        kind, dump(data), f"must-reject/{kind}: {note}", must_reject=True, names=(word,)
    )
    case.names = (word,)  # the field itself, not merely the file
    case.kind = f"must-reject/{kind}"
    return case


def must_reject_arg_case(command: str, flag: str, value: str) -> Case:
    argv, _ = COMMANDS[command]
    argv = list(argv)
    if flag == "MODEL":
        argv[2] = value
        names = (value,)
    else:
        argv = _set_option(argv, flag, value)
        names = (flag, flag.lstrip("-"), flag.lstrip("-").replace("-", "_"))
    files = dict(ARG_FILES)
    return Case(
        f"must-reject/args/{command}",
        argv,
        files,
        f"must-reject/args: {command} {flag} {value}",
        must_reject=True,
        names=names,
        sentinels=("trial.yaml", "scenario.yaml", "visits.csv", "afile.txt"),
    )


def duplicate_n_case() -> Case:
    text = dump(TRIAL).replace(b"    n: 2\n", b"    n: 2\n    n: 400000\n", 1)
    note = "must-reject/trial: duplicate key n (2, then 400000)"
    case = file_case("trial", text, note, must_reject=True)
    case.names = ("'n'", "duplicate")
    case.kind = "must-reject/trial"
    return case


def all_must_reject_cases() -> list[Case]:
    """Every by-construction-invalid case (the probe runs them all; the test draws)."""
    cases = [must_reject_file_case(k, *r) for k, rows in REJECTS.items() for r in rows]
    cases += [must_reject_arg_case(*r) for r in ARG_REJECTS]
    cases.append(duplicate_n_case())
    for kind in FILE_KINDS:
        for op in sorted(
            MUST_REJECT_TEXT - {"empty"} if kind == "constraints" else MUST_REJECT_TEXT
        ):
            cases.append(_fixed_text_case(kind, op))
    for sql in SQL_MUST_REJECT:
        cases.append(
            Case(
                "must-reject/sql", ["results", "query", "{run}", sql], {}, f"sql {sql!r}", True, ()
            )
        )
    return cases


def _fixed_text_case(kind: str, op: str) -> Case:
    """``text_mutation`` with ``op`` and its first choices (deterministic)."""
    name, base, _ = FILE_KINDS[kind]
    text = dump(base)
    content: bytes | None = {
        "empty": b"",
        "non-UTF-8": text + b"# \xff\xfe\n",
        "duplicate key": text + text.splitlines(keepends=True)[0],
        "alias bomb": text + alias_bomb() + b"boom: *a8\n",
        "deep nesting": text + b"deep: " + b"[" * 20000 + b"]" * 20000 + b"\n",
        "non-string key": text + b"1: x\n",
        "top-level list": b"- a\n- b\n",
        "directory": None,
        "missing": b"",
    }[op]
    case = file_case(
        kind, content, f"must-reject/{kind}: {op}", must_reject=True, names=OP_WORDS.get(op, ())
    )
    if op == "missing":
        case.files.pop(name)
        case.sentinels = tuple(s for s in case.sentinels if s != name)
    case.kind = f"must-reject/{kind}"
    return case


@st.composite
def must_reject_mutation(draw) -> Case:
    """A random field of a random kind set to an invalid value, or a bad option."""
    source = draw(st.sampled_from(["file", "file", "args", "text"]))
    if source == "file":
        kind = draw(st.sampled_from(sorted(REJECTS)))
        return must_reject_file_case(kind, *draw(st.sampled_from(REJECTS[kind])))
    if source == "args":
        return must_reject_arg_case(*draw(st.sampled_from(ARG_REJECTS)))
    kind = draw(st.sampled_from(sorted(FILE_KINDS)))
    ops = sorted(MUST_REJECT_TEXT - ({"empty"} if kind == "constraints" else set()))
    return _fixed_text_case(kind, draw(st.sampled_from(ops)))


# --------------------------------------------------------------------------------------
# data loss: --out at a folder that is not the command's own

FOREIGN = {
    "foreign/keep.txt": b"a user's notes\n",
    "foreign/sub/data.csv": b"a,b\n1,2\n",
}
#: command -> (argv before --out, input files); the input files are sentinels too
WRITERS = {
    "simulate": (
        ["simulate", "inputs/scenario.yaml", "--json"],
        {"inputs/scenario.yaml": dump(SCENARIO)},
    ),
    "trial run": (
        ["trial", "run", "inputs/trial.yaml", "--json"],
        {"inputs/trial.yaml": dump(TRIAL)},
    ),
    "sensitivity": (
        [
            "sensitivity",
            "inputs/scenario.yaml",
            "--output",
            "PASI_index@120d",
            "--n",
            "4",
            "--json",
        ],
        {"inputs/scenario.yaml": dump(SCENARIO)},
    ),
    "twin fit": (
        ["twin", "fit", "inputs/visits.csv", *CSV_ARGV[5:]],
        {"inputs/visits.csv": VISITS_CSV},
    ),
    "twin predict": (
        ["twin", "predict", "{twin}", "--regimen", "inputs/regimen.yaml", "--draws", "4", "--json"],
        {"inputs/regimen.yaml": ARG_FILES["regimen.yaml"]},
    ),
    "plan": (
        ["plan", "{twin}", "--goal", "EASI-50@8w", "--constraints", "inputs/constraints.yaml"]
        + ["--draws", "2", "--json"],
        {"inputs/constraints.yaml": ARG_FILES["constraints.yaml"]},
    ),
}
#: --out target -> (the path given, extra sentinel files); the case runs in work/a/b
TARGETS = {
    "foreign folder": ("../../../foreign", {}),
    "working directory": (".", {"work/a/b/notes.txt": b"cwd file\n"}),
    "cwd ancestor": ("..", {"work/a/other.txt": b"ancestor file\n"}),
    "input file's folder": ("../../../inputs", {}),
    "home folder": ("{dir}/home", {"home/.profile": b"export X=1\n"}),
    "existing file": ("../../../afile.txt", {"afile.txt": b"not a folder\n"}),
}


def data_loss_case(command: str, target: str) -> Case:
    argv, inputs = WRITERS[command]
    out, extra = TARGETS[target]
    files = {**FOREIGN, **inputs, **extra}
    files = {k: v for k, v in files.items()}
    argv = [a.replace("inputs/", "../../../inputs/") for a in argv] + ["--out", out]
    return Case(
        f"data-loss/{command}",
        argv,
        files,
        f"data-loss/{command}: --out {target} ({out})",
        must_reject=True,
        names=("--out", "out", Path(out).name or out, "folder", "exists"),
        sentinels=tuple(files),
        cwd="work/a/b",
    )


data_loss_mutation = st.builds(
    data_loss_case, st.sampled_from(sorted(WRITERS)), st.sampled_from(sorted(TARGETS))
)


def make_runner(root) -> Runner:
    """A runner with the fixtures ``{run}`` (the tiny trial, run) and ``{twin}`` (fitted)."""
    runner = Runner(root)
    trial = Case("fixture", ["trial", "run", "trial.yaml", "--out", "run", "--json"])
    trial.files = {"trial.yaml": dump(TRIAL)}
    runner.make_fixture("run", trial, "run")
    fit = Case("fixture", [*CSV_ARGV[:3], "--out", "twin", *CSV_ARGV[5:]])
    fit.files = {"visits.csv": VISITS_CSV}
    runner.make_fixture("twin", fit, "twin")
    return runner


def concrete_cases() -> list[Case]:
    """The issue's concrete examples (items 1-10) that the generators do not already hold
    as must-reject cases: each must exit 0 or give one line (never a traceback)."""
    long_arm = copy.deepcopy(TRIAL)
    long_arm["arms"]["a" * 300] = long_arm["arms"].pop("msc")
    odd_arm = copy.deepcopy(TRIAL)
    odd_arm["arms"]["$x_{1}^ \\ / %"] = odd_arm["arms"].pop("msc")
    nan_noise = copy.deepcopy(TRIAL)
    nan_noise["noise"] = {"EASI": math.nan}
    cases = [
        Case(
            "concrete",
            ["trial", "run", "t.yaml", "--out", "out", "--json"],
            {"t.yaml": dump(d)},
            note,
            names=("arm", "t.yaml"),
            guard=("trial", "t.yaml"),
            sentinels=("t.yaml",),
        )
        for d, note in (
            (long_arm, "item 8: a 300-character arm name"),
            (odd_arm, "item 8: an arm name that breaks plot labels"),
        )
    ]
    cases.append(
        Case(
            "concrete",
            ["trial", "run", "t.yaml", "--out", "out", "--json"],
            {"t.yaml": dump(nan_noise)},
            "item 5/6: noise: {EASI: .nan}",
            must_reject=True,
            names=("noise",),
            guard=("trial", "t.yaml"),
        )
    )
    cases.append(
        Case(
            "concrete",
            [
                "trial",
                "run",
                "t.yaml",
                "--out",
                "out",
                "--json",
                "--executor",
                "dask",
                "--scheduler",
                "tcp://127.0.0.1:1",
            ],
            {"t.yaml": dump(TRIAL)},
            "item 8: a Dask scheduler that is not there",
            must_reject=True,
            names=("scheduler", "dask"),
        )
    )
    for sql in ("", "SELECT * FROM range(100000000)"):
        cases.append(
            Case(
                "concrete",
                ["results", "query", "{run}", sql],
                {},
                f"item 8/10: results query {sql!r}",
                names=("sql", "query"),
            )
        )
    return cases
