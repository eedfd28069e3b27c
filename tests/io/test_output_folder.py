"""Output folders: claimed before any work, locked for the run, replaced atomically."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from dermatwin.io import output_folder
from dermatwin.io.output_folder import MARKER_NAME, OutputFolder, OutputFolderError, shown

SRC = Path(output_folder.__file__).resolve().parents[2]


def write_result(out: Path, text: str, *, overwrite: bool = False, **kw) -> None:
    with OutputFolder(out, command="test", overwrite=overwrite, **kw) as folder:
        with folder.staging() as tmp:
            (tmp / "result.txt").write_text(text)
            (tmp / "sub").mkdir()
            (tmp / "sub" / "part.txt").write_text(text)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_complete(out: Path, text: str) -> None:
    assert (out / "result.txt").read_text() == text
    assert (out / "sub" / "part.txt").read_text() == text
    assert json.loads((out / MARKER_NAME).read_text())["command"] == "test"


def refusal(out, **kw) -> str:
    with pytest.raises(OutputFolderError) as info:
        OutputFolder(out, command="test", **kw).check()
    message = str(info.value)
    assert "\n" not in message
    return message


def test_new_folder_gets_the_result_a_marker_and_shared_modes(tmp_path):
    out = tmp_path / "deep" / "out"
    old = os.umask(0o002)
    try:
        write_result(out, "one")
    finally:
        os.umask(old)
    assert_complete(out, "one")
    assert out.stat().st_mode & 0o777 == 0o775  # not mkdtemp's owner-only 0700
    marker = json.loads((out / MARKER_NAME).read_text())
    assert set(marker) == {"command", "dermatwin_version", "created", "entries"}
    assert marker["entries"] == ["result.txt", "sub"]  # what the run wrote, no token
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no lock or stage left


def test_earlier_output_needs_overwrite(tmp_path):
    out = tmp_path / "out"
    write_result(out, "one")
    before = snapshot(out)
    with pytest.raises(OutputFolderError, match="earlier dermatwin output; pass overwrite=True"):
        write_result(out, "two")
    assert snapshot(out) == before
    write_result(out, "two", overwrite=True)
    assert_complete(out, "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_legacy_output_is_recognised_and_an_empty_folder_is_used(tmp_path):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "manifest.json").write_text(json.dumps({"dermatwin_version": "0.1"}))
    assert "holds an earlier dermatwin output" in refusal(legacy)
    write_result(legacy, "new", overwrite=True)
    assert_complete(legacy, "new")
    assert not (legacy / "manifest.json").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    write_result(empty, "one")
    assert_complete(empty, "one")


@pytest.mark.parametrize("overwrite", [False, True])
def test_foreign_folder_keeps_every_file(tmp_path, overwrite):
    out = tmp_path / "mine"
    (out / "src").mkdir(parents=True)
    (out / "src" / "code.py").write_text("print('precious')")
    (out / "manifest.json").write_text('{"name": "not ours"}')  # no dermatwin_version
    before = snapshot(out)
    with pytest.raises(OutputFolderError) as info:
        write_result(out, "x", overwrite=overwrite)
    assert str(info.value) == (
        f"out {shown(out)}: exists and is not a dermatwin output folder (2 entries); "
        "choose another folder"
    )
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_forbidden_places_are_refused_even_with_overwrite(tmp_path, monkeypatch):
    home = tmp_path / "home"
    work = home / "project" / "trials"
    work.mkdir(parents=True)
    trial = work / "nested" / "trial.yaml"
    trial.parent.mkdir()
    trial.write_text("name: x\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    assert "is the root folder" in refusal("/", overwrite=True)
    assert "is your home folder" in refusal("~", overwrite=True)
    assert "is the working folder or holds it" in refusal(".", overwrite=True)
    assert "is the working folder or holds it" in refusal(home / "project", overwrite=True)
    assert "holds the input trial.yaml" in refusal(work / "nested", inputs=[trial])
    relative = refusal(Path("nested"), inputs=[Path("nested/trial.yaml")])
    assert "holds the input trial.yaml" in relative
    assert "inside dermatwin's own source" in refusal(SRC / "dermatwin" / "results")
    assert "is a file, not a folder" in refusal(trial, overwrite=True)
    assert "is a file, not a folder" in refusal(trial / "below")
    assert trial.read_text() == "name: x\n"


def test_unwritable_parent_is_one_line_before_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(output_folder.os, "access", lambda *a, **k: False)
    message = refusal(tmp_path / "out")
    assert message == f"out {shown(tmp_path / 'out')}: cannot write (Permission denied)"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_disk_full_or_read_only_keeps_the_earlier_result(tmp_path, code):
    out = tmp_path / "out"
    write_result(out, "one")
    with pytest.raises(OutputFolderError) as info:
        with OutputFolder(out, command="test", overwrite=True) as folder:
            with folder.staging() as tmp:
                (tmp / "result.txt").write_text("half")
                raise OSError(code, os.strerror(code))
    assert str(info.value) == f"out {shown(out)}: cannot write ({os.strerror(code)})"
    assert_complete(out, "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no partial folder


def test_other_errors_leave_the_earlier_result_and_no_stage(tmp_path):
    out = tmp_path / "out"
    write_result(out, "one")
    with pytest.raises(ZeroDivisionError):
        with OutputFolder(out, command="test", overwrite=True) as folder:
            with folder.staging() as tmp:
                (tmp / "result.txt").write_text("half")
                1 / 0  # noqa: B018
    assert_complete(out, "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_second_run_names_the_lock_holder_and_touches_nothing(tmp_path):
    out = tmp_path / "out"
    write_result(out, "one")
    started, release = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with OutputFolder(out, command="first", overwrite=True) as folder:
                with folder.staging() as tmp:
                    started.set()
                    release.wait(60)
                    (tmp / "result.txt").write_text("two")
                    (tmp / "sub").mkdir()
                    (tmp / "sub" / "part.txt").write_text("two")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(60)
        listing = sorted(p.name for p in tmp_path.iterdir())
        with pytest.raises(OutputFolderError) as info:
            write_result(out, "three", overwrite=True)
        assert sorted(p.name for p in tmp_path.iterdir()) == listing
    finally:
        release.set()
        thread.join()
    assert not errors
    message = str(info.value)
    holder = f"in use by another dermatwin run (pid {os.getpid()}"
    assert message.startswith(f"out {shown(out)}: {holder}")
    assert "first, started " in message and message.endswith("or choose another folder")
    assert (out / "result.txt").read_text() == "two"


def run_python(code: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, text=True, **kw)


def test_lock_held_by_another_process_then_freed_by_its_death(tmp_path):
    out = tmp_path / "out"
    holder = run_python(
        f"""
        import sys
        from dermatwin.io.output_folder import OutputFolder
        with OutputFolder({str(out)!r}, command="trial run"):
            print("locked", flush=True)
            sys.stdin.read()
        """,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputFolderError, match=f"pid {holder.pid} on .*, trial run, started"):
            write_result(out, "one")
        assert not out.exists()
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock, the lock file stays behind
        holder.wait()
    write_result(out, "one")
    assert_complete(out, "one")


KILL_AT = """
import os, signal
from pathlib import Path
from dermatwin.io import output_folder
out = Path({out!r})
if {fallback}:
    output_folder.exchange = lambda a, b: False
output_folder._swap_hook = lambda step: step == {step!r} and os.kill(os.getpid(), signal.SIGKILL)
with output_folder.OutputFolder(out, command="test", overwrite=True) as folder:
    with folder.staging() as tmp:
        (tmp / "result.txt").write_text("two")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "part.txt").write_text("two")
"""


@pytest.mark.parametrize(
    "fallback, step, left",
    [(False, "exchanged", "two"), (True, "moved-aside", "one")],
    ids=["exchange", "rename-fallback"],
)
def test_a_kill_during_the_swap_leaves_one_complete_result(tmp_path, fallback, step, left):
    out = tmp_path / "out"
    write_result(out, "one")
    proc = run_python(KILL_AT.format(out=str(out), fallback=fallback, step=step))
    assert proc.wait() == -signal.SIGKILL
    if fallback:  # killed between the two renames: the old result waits beside OUT
        assert not out.exists()
        (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith(".out.old-")]
        assert_complete(aside, "one")
    else:  # the exchange is one step: OUT is always one complete result
        assert_complete(out, "two")
    with OutputFolder(out, command="test", overwrite=True):  # the next run recovers
        pass
    assert_complete(out, left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_rename_fallback_replaces_an_earlier_result(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_result(out, "one")
    monkeypatch.setattr(output_folder, "exchange", lambda a, b: False)
    steps = []
    monkeypatch.setattr(output_folder, "_swap_hook", steps.append)
    write_result(out, "two", overwrite=True)
    assert steps == ["moved-aside"]
    assert_complete(out, "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert output_folder.exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# -- review findings: nothing beside or inside OUT that dermatwin did not make is touched


def test_a_user_file_named_like_the_old_lock_is_kept(tmp_path):
    """The lock has a name no user file has; ``.OUT.lock`` is the user's."""
    out = tmp_path / "out"
    (tmp_path / ".out.lock").write_text("mine\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / ".out2.lock").symlink_to(victim)
    write_result(out, "one")
    write_result(tmp_path / "out2", "one")
    assert (tmp_path / ".out.lock").read_text() == "mine\n"
    assert victim.read_text() == "precious\n" and (tmp_path / ".out2.lock").is_symlink()


@pytest.mark.parametrize("kind", ["symlink", "data", "folder"])
def test_a_lock_path_that_is_not_our_lock_is_refused_and_kept(tmp_path, kind):
    out = tmp_path / "out"
    lock = tmp_path / ".out.dermatwin-lock"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    if kind == "symlink":
        lock.symlink_to(victim)
        what = "is a symbolic link"
    elif kind == "data":
        lock.write_text("precious\n")
        what = "holds data"
    else:
        lock.mkdir()
        what = "exists"
    with pytest.raises(OutputFolderError) as info:
        write_result(out, "one")
    assert str(info.value) == (
        f"out {shown(out)}: {shown(lock)} {what}, not a dermatwin lock file; "
        "remove it or choose another folder"
    )
    assert victim.read_text() == "precious\n"
    assert os.path.lexists(lock) and not out.exists()
    if kind == "data":
        assert lock.read_text() == "precious\n"


def test_user_folders_named_like_leftovers_are_kept(tmp_path):
    """``.OUT.partial-*`` / ``.OUT.old-*`` are ours only when they hold our token: a user's
    folder of that name, or a symbolic link of that name to a folder, is left alone."""
    out = tmp_path / "out"
    thesis = tmp_path / ".out.partial-mythesis"
    thesis.mkdir()
    (thesis / "thesis.tex").write_text("years\n")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text(json.dumps({"dermatwin_version": "0.1"}))
    (foreign / MARKER_NAME).write_text(json.dumps({"dermatwin_version": "0.1"}))
    (foreign / "data.csv").write_text("1,2\n")
    link = tmp_path / ".out.old-abcd1234"
    link.symlink_to(foreign, target_is_directory=True)
    before = snapshot(tmp_path)
    write_result(out, "one")
    write_result(out, "two", overwrite=True)
    assert_complete(out, "two")
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out/")} == before
    assert link.is_symlink()


def test_discard_refuses_anything_but_a_real_folder(tmp_path):
    folder = OutputFolder(tmp_path / "out", command="test")
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    link = tmp_path / ".out.old-abcd1234"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(OutputFolderError, match="not a folder dermatwin made; left as it is"):
        folder.discard(link)
    assert (target / "manifest.json").read_text() == "{}" and link.is_symlink()


def test_leftovers_with_our_token_are_still_cleaned(tmp_path):
    out = tmp_path / "out"
    for name in (".out.partial-abcd1234", ".out.old-abcd1234"):
        leftover = tmp_path / name
        leftover.mkdir()
        (leftover / output_folder.STAGE_TOKEN).write_text("{}")
        (leftover / "half.txt").write_text("x")
    write_result(out, "one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_keeps_user_files_put_into_an_earlier_output(tmp_path):
    out = tmp_path / "out"
    write_result(out, "one")
    (out / "my_analysis.R").write_text("fit <- lm(y ~ x)\n")
    before = snapshot(out)
    with pytest.raises(OutputFolderError) as info:
        write_result(out, "two", overwrite=True)
    assert str(info.value) == (
        f"out {shown(out)}: holds 1 entry dermatwin did not write (my_analysis.R); "
        "move them out of it, or choose another folder"
    )
    assert snapshot(out) == before
    for name in ("a", "b", "c"):
        (out / name).mkdir()
    assert "holds 4 entries dermatwin did not write (a, b, c, ...)" in refusal(out, overwrite=True)


def test_a_legacy_output_with_other_files_is_refused(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "manifest.json").write_text(json.dumps({"dermatwin_version": "0.1"}))
    (proj / "important.csv").write_text("1,2\n")
    before = snapshot(proj)
    with pytest.raises(OutputFolderError, match=r"holds 1 entry dermatwin did not write \(imp"):
        write_result(proj, "new", overwrite=True)
    assert snapshot(proj) == before
    # a legacy output holding only what dermatwin writes (or its manifest lists) is ours
    (proj / "important.csv").unlink()
    (proj / "plot_MSC.png").write_bytes(b"png")
    (proj / "summary.json").write_text("{}")
    manifest = {"dermatwin_version": "0.1", "files": ["plot_MSC.png", "manifest.json"]}
    (proj / "manifest.json").write_text(json.dumps(manifest))
    write_result(proj, "new", overwrite=True)
    assert_complete(proj, "new")


def test_a_mount_point_is_refused_before_anything(tmp_path, monkeypatch):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(output_folder.os.path, "ismount", lambda p: Path(p) == mnt or real(p))
    message = refusal(mnt, overwrite=True)
    assert message == f"out {shown(mnt)}: is a mount point; give a folder inside it"


def test_a_swap_refused_by_the_file_system_keeps_both_results(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_result(out, "one")

    def busy(a, b):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(b))

    monkeypatch.setattr(output_folder, "exchange", busy)
    with pytest.raises(OutputFolderError) as info:
        write_result(out, "two", overwrite=True)
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith("out.result-")]
    assert str(info.value) == (
        f"out {shown(out)}: cannot be replaced (Device or resource busy); "
        f"the finished result is kept in {shown(kept)}"
    )
    assert_complete(out, "one")
    assert_complete(kept, "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", kept.name]
    monkeypatch.setattr(output_folder, "exchange", lambda a, b: False)
    real_rename = os.rename

    def cross_device(src, dst):
        if Path(dst) == out and Path(src).name.startswith(".out.partial-"):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_rename(src, dst)

    monkeypatch.setattr(output_folder.os, "rename", cross_device)
    with pytest.raises(OutputFolderError, match="cannot be replaced .Invalid cross-device link"):
        write_result(out, "three", overwrite=True)
    assert_complete(out, "one")  # set aside, then put back
    assert_complete(kept, "two")
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("out.result-")]) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
