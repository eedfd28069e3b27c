"""Output folders that never lose a user's files: claim, lock, then replace atomically.

Every command that writes a folder (``simulate``, ``sensitivity``, ``trial run``,
``twin fit``, ``twin predict``, ``plan``) writes it through :class:`OutputFolder`:

1. **Claim**, before any work: ``OUT`` may be missing, an empty folder, or an earlier
   dermatwin output (it holds :data:`MARKER_NAME`, or a legacy ``manifest.json`` /
   ``twin.json`` with a ``dermatwin_version`` key), the last only with ``overwrite`` and
   only if it holds nothing else: the marker lists the entries the run wrote, and a
   legacy folder may hold only :data:`LEGACY_OUTPUT_NAMES` (or its manifest's
   ``files``); a file the user put into an earlier output is never deleted.
   Refused always: any other folder, a file, a mount point, ``/``, the home folder, the
   working folder and its ancestors, a folder holding an input of the command,
   dermatwin's own source.
2. **Lock**: an exclusive ``flock`` on ``.OUT.dermatwin-lock`` beside ``OUT`` for the
   whole run; a second run into the same ``OUT`` is refused with a line naming the
   holder. The kernel drops the lock when its process dies, so a killed run leaves no
   stale lock. The lock file is never followed through a symbolic link, and a file
   there that is not our lock (not a regular file of this user, or holding anything
   but a lock record) is refused, never truncated or deleted.
3. **Swap**: the finished staging folder and ``OUT`` trade places in one
   ``renameat2(RENAME_EXCHANGE)``, so one complete result exists at every instant; the
   old result (now at the staging path) is deleted afterwards. Without the exchange,
   ``OUT`` is renamed aside to ``.OUT.old-*`` first, and the next run puts it back if a
   kill came before the new result was in place. A swap the file system refuses
   (``EBUSY``, ``EXDEV``) is one line, and the finished result is kept beside ``OUT``.

Folders dermatwin makes beside ``OUT`` (staging folders, results set aside) hold the
token file :data:`STAGE_TOKEN` (or the marker); only a real folder (not a symbolic
link) holding one is ever deleted or resumed, whatever its name.

Usage::

    with OutputFolder(out, command="simulate", inputs=[scenario], overwrite=False) as folder:
        result = compute()                  # after the claim: a refused OUT costs nothing
        with folder.staging() as tmp:       # moved to OUT when the block ends normally
            write(result, tmp)
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dermatwin._base.atomic import fsync_dir
from dermatwin._base.errors import DermatwinError
from dermatwin._version import __version__

#: written into every output folder (last, just before the swap: a folder holding it is
#: a complete result)
MARKER_NAME = ".dermatwin-output.json"
#: written into every folder dermatwin creates beside OUT (staging folders, results set
#: aside) and removed when the folder becomes OUT: leftovers are recognised by it
STAGE_TOKEN = ".dermatwin-stage"
#: the lock file beside OUT is ``.OUT`` + this (a name no user file has)
LOCK_SUFFIX = ".dermatwin-lock"
#: outputs of versions before the marker: one of these files with a "dermatwin_version"
LEGACY_FILES = ("manifest.json", "twin.json")
#: every name a command of a version before the marker wrote at the top of its output
#: (``simulate``'s plots are listed in its manifest's ``files``)
LEGACY_OUTPUT_NAMES = frozenset(
    {
        *LEGACY_FILES,
        # trial run
        "summary.json",
        "report.html",
        "trajectories.parquet",
        "endpoints.parquet",
        "failures.csv",
        "chunks.jsonl",
        "endpoints",
        "trajectories",
        "population",
        # simulate, sensitivity
        "trajectories.nc",
        "sensitivity.csv",
        "sensitivity.json",
        "tornado.png",
        # twin fit, twin predict, plan
        "posterior.parquet",
        "diagnostics.json",
        "parameters.csv",
        "bands.csv",
        "responders.csv",
        "prediction.json",
        "plan.csv",
        "plan.json",
    }
)
#: names of entries dermatwin did not write that a refusal lists at most
SHOWN_NAMES = 3
#: a legacy file larger than this is not read (it is not one of ours)
LEGACY_MAX_BYTES = 16 * 2**20
#: errors of a file system that cannot take the output (full, read-only, no permission)
WRITE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENAMETOOLONG,
    }
)
#: longest path echoed in a message (the tail is kept: it names the folder)
SHOWN_MAX_CHARS = 100

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: test hook: called with "exchanged" or "moved-aside" during a swap (to kill the process)
_swap_hook: Callable[[str], None] | None = None


class OutputFolderError(DermatwinError):
    """An output folder that may not (or cannot) be written; one line naming it."""


def folder_mode() -> int:
    """Permissions of a new folder under the process umask (``0o777 & ~umask``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o777 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read the umask by setting it back at once
    os.umask(mask)
    return 0o777 & ~mask


def shown(path: Path | str) -> str:
    """``path`` as the user typed it, its tail only when long."""
    text = str(path)
    return text if len(text) <= SHOWN_MAX_CHARS else "..." + text[-(SHOWN_MAX_CHARS - 3) :]


def _real_dir(path: Path) -> bool:
    """Whether ``path`` is a folder itself (a symbolic link to one is not)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file itself (a symbolic link to one is not)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _read_json(path: Path) -> object | None:
    """The JSON in a regular file of at most :data:`LEGACY_MAX_BYTES` (never followed
    through a symbolic link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > LEGACY_MAX_BYTES:
                return None
            return json.loads(fh.read(LEGACY_MAX_BYTES + 1))
        except (OSError, ValueError):
            return None


def _manifest(folder: Path, name: str) -> dict | None:
    data = _read_json(Path(folder) / name)
    return data if isinstance(data, dict) and "dermatwin_version" in data else None


def is_dermatwin_output(folder: Path, *, legacy: bool = True) -> bool:
    """Whether ``folder`` (a real folder, not a symbolic link) is a complete dermatwin
    output: it holds the marker, or (with ``legacy``) a manifest of a version before the
    marker. A staging folder may hold a manifest before it is complete; only the marker
    says it is."""
    if not _real_dir(folder):
        return False
    names = (MARKER_NAME, *LEGACY_FILES) if legacy else (MARKER_NAME,)
    return any(_manifest(folder, name) is not None for name in names)


def is_own_folder(folder: Path) -> bool:
    """Whether dermatwin made ``folder``: a real folder (not a symbolic link) holding the
    :data:`STAGE_TOKEN` or the marker as regular files. Only such a folder beside OUT is
    deleted or resumed."""
    folder = Path(folder)
    return _real_dir(folder) and (
        _regular_file(folder / STAGE_TOKEN) or _manifest(folder, MARKER_NAME) is not None
    )


def mark_own(folder: Path) -> None:
    """Put the :data:`STAGE_TOKEN` into ``folder`` (a folder dermatwin just made)."""
    try:
        fd = os.open(
            Path(folder) / STAGE_TOKEN,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o666,
        )
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps({"dermatwin_stage": True, "pid": os.getpid(), "created": _now()}))


def _unmark(folder: Path) -> None:
    try:
        (Path(folder) / STAGE_TOKEN).unlink(missing_ok=True)
    except OSError:
        pass


def foreign_entries(folder: Path) -> list[str]:
    """Entries of the dermatwin output ``folder`` that no dermatwin run wrote there: not
    listed in its marker (or, for an output of a version before the marker, neither a
    known output name nor in its manifest's ``files``)."""
    names = os.listdir(folder)
    marker = _manifest(folder, MARKER_NAME)
    listed = marker.get("entries") if marker else None
    if isinstance(listed, list):
        allowed = {e for e in listed if isinstance(e, str)}
    else:
        allowed = set(LEGACY_OUTPUT_NAMES)
        files = (_manifest(folder, "manifest.json") or {}).get("files")
        if isinstance(files, list):
            allowed |= {f for f in files if isinstance(f, str)}
    allowed |= {MARKER_NAME, STAGE_TOKEN}
    return sorted(n for n in names if n not in allowed)


def _short_name(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def write_error(out: Path | str, err: OSError, hint: str = "") -> OutputFolderError:
    """The one-line error for a file system that cannot take the output."""
    reason = err.strerror or type(err).__name__
    return OutputFolderError(f"out {shown(out)}: cannot write ({reason}){hint}", parameter="out")


@contextmanager
def write_errors(out: Path | str, hint: str = "") -> Iterator[None]:
    """Turn a full, read-only or forbidden file system into one line naming ``out``
    (``hint``: appended, e.g. how to continue)."""
    try:
        yield
    except OSError as err:
        if err.errno in WRITE_ERRNOS:
            raise write_error(out, err, hint) from None
        raise


@functools.cache
def _renameat2():
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` atomically; False where the system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # a file system (or kernel) without RENAME_EXCHANGE
    raise OSError(code, os.strerror(code), str(b))


def _step(name: str) -> None:
    if _swap_hook is not None:
        _swap_hook(name)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class OutputFolder:
    """The output folder ``out`` of one run of ``command`` (see the module docstring).

    ``inputs``: files or folders the command reads (an ``out`` holding one is refused).
    ``overwrite``: an earlier dermatwin output at ``out`` may be replaced.
    """

    def __init__(
        self,
        out: Path | str,
        *,
        command: str,
        inputs: Sequence[Path | str] = (),
        overwrite: bool = False,
    ) -> None:
        self.given = Path(out)
        self.path = Path(out).expanduser().resolve()
        self.command = command
        self.inputs = [Path(p).expanduser().resolve() for p in inputs]
        self.overwrite = overwrite
        self.parent = self.path.parent
        self.lock_path = self.parent / f".{self.path.name}{LOCK_SUFFIX}"
        self._lock_fd: int | None = None

    # -- claim -----------------------------------------------------------------------

    def _fail(self, text: str) -> OutputFolderError:
        return OutputFolderError(f"out {shown(self.given)}: {text}", parameter="out")

    def beside(self, path: Path) -> str:
        """``path`` (a sibling of OUT) as the user would type it, for messages."""
        return shown(self.given.parent / Path(path).name)

    def check(self) -> None:
        """Raise :class:`OutputFolderError` unless ``out`` may be written (no side effects)."""
        p = self.path
        if p.parent == p:
            raise self._fail("is the root folder; choose another folder")
        for source in self.inputs:
            if _within(source, p):
                raise self._fail(f"holds the input {shown(source.name)}; choose another folder")
        home = Path.home().resolve()
        if _within(home, p):
            raise self._fail("is your home folder or holds it; choose another folder")
        cwd = Path.cwd().resolve()
        if _within(cwd, p):
            raise self._fail("is the working folder or holds it; choose another folder")
        if _within(p, _source_root()):
            raise self._fail("is inside dermatwin's own source; choose another folder")
        self._check_existing()
        ancestor = p.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise self._fail(f"{shown(ancestor)} is a file, not a folder")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise write_error(self.given, OSError(errno.EACCES, os.strerror(errno.EACCES)))

    def _check_existing(self) -> None:
        p = self.path
        if not os.path.lexists(p):
            return
        if os.path.ismount(p):  # cannot be swapped (EBUSY), found only after the run
            raise self._fail("is a mount point; give a folder inside it")
        if not p.is_dir():
            raise self._fail("is a file, not a folder; choose another folder")
        try:
            with os.scandir(p) as it:
                entries = sum(1 for _ in it)
        except OSError as err:
            raise self._fail(f"cannot be read ({err.strerror})") from None
        if entries == 0:
            return
        if not is_dermatwin_output(p):
            counted = f"{entries} {'entry' if entries == 1 else 'entries'}"
            raise self._fail(
                f"exists and is not a dermatwin output folder ({counted}); choose another folder"
            )
        if not self.overwrite:
            raise self._fail(
                "holds an earlier dermatwin output; pass overwrite=True to replace it, "
                "or choose another folder"
            )
        foreign = foreign_entries(p)
        if foreign:
            names = ", ".join(_short_name(n) for n in foreign[:SHOWN_NAMES])
            more = ", ..." if len(foreign) > SHOWN_NAMES else ""
            counted = f"{len(foreign)} {'entry' if len(foreign) == 1 else 'entries'}"
            raise self._fail(
                f"holds {counted} dermatwin did not write ({names}{more}); "
                "move them out of it, or choose another folder"
            )

    # -- lock ------------------------------------------------------------------------

    def __enter__(self) -> OutputFolder:
        self.check()  # before the lock file exists: a refused OUT touches nothing
        with write_errors(self.given):
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
        try:
            self._recover()
            self._check_existing()  # a run that just finished may have written OUT
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._unlock()

    def _not_our_lock(self, what: str) -> OutputFolderError:
        return self._fail(
            f"{self.beside(self.lock_path)} {what}, not a dermatwin lock file; "
            "remove it or choose another folder"
        )

    def _open_lock(self) -> int:
        """The lock file, opened (created if absent) without following a symbolic link;
        refused unless it is a regular file of this user."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(self.lock_path, flags, 0o666)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise self._not_our_lock("is a symbolic link") from None
            if err.errno in (errno.EISDIR, errno.ENXIO, errno.ENODEV):
                raise self._not_our_lock("exists") from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise self._not_our_lock("exists")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            os.close(fd)
            raise self._not_our_lock("belongs to another user")
        return fd

    def _lock(self) -> None:
        while True:
            fd = self._open_lock()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise self._fail(
                    f"in use by another dermatwin run ({holder}); wait for it to finish "
                    "or choose another folder"
                ) from None
            # its last holder may have removed the file between our open and our lock
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(self.lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        # empty (new, or caught between a holder's truncate and write) or a record left
        # by a killed run: ours to rewrite; anything else is a user's file
        if os.fstat(fd).st_size and not _is_lock_record(os.pread(fd, 4097, 0)):
            os.close(fd)
            raise self._not_our_lock("holds data")
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "started": _now(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        # removed while still held: a run that opened the old file sees it is gone
        # (the samestat check) and opens a new one, so no two runs ever both hold it;
        # only our own file is removed (not one put in its place meanwhile)
        try:
            if os.path.samestat(os.fstat(self._lock_fd), os.lstat(self.lock_path)):
                self.lock_path.unlink()
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- staging and swap ------------------------------------------------------------

    def _siblings(self, kind: str) -> list[Path]:
        """Our leftovers beside OUT: real folders ``.OUT.partial-XXXXXXXX`` or
        ``.OUT.old-XXXXXXXX`` that hold our token (or marker); a name alone proves
        nothing."""
        pattern = re.compile(re.escape(f".{self.path.name}.{kind}-") + r"[a-z0-9_]{8}")
        with os.scandir(self.parent) as it:
            found = [
                Path(e.path)
                for e in it
                if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
            ]
        return sorted(f for f in found if is_own_folder(f))

    def _recover(self) -> None:
        """Undo what a killed run left: put a result set aside back, delete leftovers."""
        olds = self._siblings("old")
        if not os.path.lexists(self.path):
            complete = [o for o in olds if is_dermatwin_output(o)]
            if complete:
                newest = max(complete, key=lambda o: o.lstat().st_mtime)
                os.rename(newest, self.path)
                _unmark(self.path)
                olds.remove(newest)
        for leftover in olds + self._siblings("partial"):
            self.discard(leftover)

    def discard(self, folder: Path) -> None:
        """Delete one of our own folders, first making it unrecognisable as a result (a
        kill midway leaves no half-deleted folder that looks complete, and the token
        lets the next run finish the job). Anything but a real folder is refused."""
        folder = Path(folder)
        if not _real_dir(folder):
            raise OutputFolderError(
                f"{self.beside(folder)}: not a folder dermatwin made; left as it is"
            )
        if not folder.name.startswith(f".{self.path.name}.old-"):
            aside = self.parent / f".{self.path.name}.old-{secrets.token_hex(4)}"
            os.rename(folder, aside)
            folder = aside
        mark_own(folder)
        for name in (MARKER_NAME, *LEGACY_FILES):
            try:
                (folder / name).unlink(missing_ok=True)
            except OSError:
                pass
        shutil.rmtree(folder, ignore_errors=True)

    def new_stage(self, stage: Path) -> Path:
        """Create the folder ``stage`` beside OUT (absent) with the normal permissions
        and our token."""
        stage = Path(stage)
        stage.mkdir(mode=0o700)
        os.chmod(stage, folder_mode())
        mark_own(stage)
        return stage

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A new folder beside OUT, moved to OUT when the block ends without an error
        (deleted otherwise); a full or read-only file system is one line."""
        with write_errors(self.given):
            stage = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.partial-", dir=self.parent))
            try:
                os.chmod(stage, folder_mode())  # mkdtemp makes it owner-only
                mark_own(stage)
                yield stage
                self.commit(stage)
            except BaseException:
                if is_own_folder(stage):
                    shutil.rmtree(stage, ignore_errors=True)
                raise

    def commit(self, stage: Path) -> None:
        """Mark ``stage`` complete and put it at OUT; the earlier result is deleted. A
        swap the file system refuses (OUT became a mount point, ...) is one line, and
        the finished result is kept beside OUT under a name the next run leaves alone."""
        self._check_existing()  # something else may have appeared at OUT meanwhile
        entries = sorted(n for n in os.listdir(stage) if n not in (MARKER_NAME, STAGE_TOKEN))
        marker = {
            "command": self.command,
            "dermatwin_version": __version__,
            "created": _now(),
            "entries": entries,
        }
        (stage / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n")
        _unmark(stage)  # the marker says it is ours from now on
        fsync_dir(stage)
        try:
            self._swap(stage)
        except OSError as err:
            if err.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            kept = self.parent / f"{self.path.name}.result-{secrets.token_hex(4)}"
            os.rename(stage, kept)
            raise self._fail(
                f"cannot be replaced ({err.strerror}); the finished result is kept in "
                f"{self.beside(kept)}"
            ) from None
        fsync_dir(self.parent)

    def _swap(self, stage: Path) -> None:
        if not os.path.lexists(self.path):
            os.rename(stage, self.path)
        elif exchange(stage, self.path):
            _step("exchanged")
            self.discard(stage)  # the earlier result, now at the staging path
        else:
            aside = self.parent / f".{self.path.name}.old-{secrets.token_hex(4)}"
            mark_own(self.path)  # set aside, the next run recognises it
            try:
                os.rename(self.path, aside)
            except OSError:
                _unmark(self.path)
                raise
            _step("moved-aside")  # a kill here: the next run moves ``aside`` back
            try:
                os.rename(stage, self.path)
            except OSError:
                os.rename(aside, self.path)
                _unmark(self.path)
                raise
            self.discard(aside)


def _source_root() -> Path:
    """dermatwin's own source: the package folder, or ``src/`` of a checkout."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent
    if checkout.name == "src" and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    return package


def _is_lock_record(data: bytes) -> bool:
    try:
        info = json.loads(data)
    except ValueError:
        return False
    return isinstance(info, dict) and {"pid", "host", "command", "started"} <= set(info)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0))
        return (
            f"pid {info['pid']} on {info['host']}, {shown(info['command'])}, "
            f"started {info['started']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")
