"""Output folders that never lose a user's files: claim, lock, then replace atomically.

Every command that writes a folder (``simulate``, ``sensitivity``, ``trial run``,
``twin fit``, ``twin predict``, ``plan``) writes it through :class:`OutputFolder`:

1. **Claim**, before any work: ``OUT`` may be missing, an empty folder, or an earlier
   dermatwin output (it holds :data:`MARKER_NAME`, or a legacy ``manifest.json`` /
   ``twin.json`` with a ``dermatwin_version`` key), the last only with ``overwrite``.
   Refused always: any other folder, a file, ``/``, the home folder, the working folder
   and its ancestors, a folder holding an input of the command, dermatwin's own source.
2. **Lock**: an exclusive ``flock`` on ``.OUT.lock`` beside ``OUT`` for the whole run; a
   second run into the same ``OUT`` is refused with a line naming the holder. The kernel
   drops the lock when its process dies, so a killed run leaves no stale lock.
3. **Swap**: the finished staging folder and ``OUT`` trade places in one
   ``renameat2(RENAME_EXCHANGE)``, so one complete result exists at every instant; the
   old result (now at the staging path) is deleted afterwards. Without the exchange,
   ``OUT`` is renamed aside to ``.OUT.old-*`` first, and the next run puts it back if a
   kill came before the new result was in place.

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
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dermatwin._version import __version__
from dermatwin.errors import DermatwinError

#: written into every output folder (last, just before the swap: a folder holding it is
#: a complete result)
MARKER_NAME = ".dermatwin-output.json"
#: outputs of versions before the marker: one of these files with a "dermatwin_version"
LEGACY_FILES = ("manifest.json", "twin.json")
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


def is_dermatwin_output(folder: Path, *, legacy: bool = True) -> bool:
    """Whether ``folder`` is a complete dermatwin output: it holds the marker, or (with
    ``legacy``) a manifest of a version before the marker. A staging folder may hold a
    manifest before it is complete; only the marker says it is."""
    for name in (MARKER_NAME, *LEGACY_FILES) if legacy else (MARKER_NAME,):
        path = Path(folder) / name
        try:
            if not path.is_file() or path.stat().st_size > LEGACY_MAX_BYTES:
                continue
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "dermatwin_version" in data:
            return True
    return False


def write_error(out: Path | str, err: OSError, hint: str = "") -> OutputFolderError:
    """The one-line error for a file system that cannot take the output."""
    reason = err.strerror or type(err).__name__
    return OutputFolderError(f"--out {shown(out)}: cannot write ({reason}){hint}")


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
        self.lock_path = self.parent / f".{self.path.name}.lock"
        self._lock_fd: int | None = None

    # -- claim -----------------------------------------------------------------------

    def _fail(self, text: str) -> OutputFolderError:
        return OutputFolderError(f"--out {shown(self.given)}: {text}")

    def check(self) -> None:
        """Raise :class:`OutputFolderError` unless ``out`` may be written (no side effects)."""
        p = self.path
        if p.parent == p:
            raise self._fail("is the root folder; choose another --out")
        for source in self.inputs:
            if _within(source, p):
                raise self._fail(f"holds the input {shown(source.name)}; choose another --out")
        home = Path.home().resolve()
        if _within(home, p):
            raise self._fail("is your home folder or holds it; choose another --out")
        cwd = Path.cwd().resolve()
        if _within(cwd, p):
            raise self._fail("is the working folder or holds it; choose another --out")
        if _within(p, _source_root()):
            raise self._fail("is inside dermatwin's own source; choose another --out")
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
        if not p.is_dir():
            raise self._fail("is a file, not a folder; choose another --out")
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
                f"exists and is not a dermatwin output folder ({counted}); choose another --out"
            )
        if not self.overwrite:
            raise self._fail(
                "holds an earlier dermatwin output; add --overwrite to replace it, "
                "or choose another --out"
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

    def _lock(self) -> None:
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                os.close(fd)
                raise self._fail(
                    f"in use by another dermatwin run ({holder}); wait for it to finish "
                    "or choose another --out"
                ) from None
            # its last holder may have removed the file between our open and our lock
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "started": _now(),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        # removed while still held: a run that opened the old file sees it is gone
        # (the samestat check) and opens a new one, so no two runs ever both hold it
        try:
            self.lock_path.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- staging and swap ------------------------------------------------------------

    def _siblings(self, kind: str) -> list[Path]:
        """Our leftovers beside OUT: ``.OUT.partial-XXXXXXXX`` or ``.OUT.old-XXXXXXXX``."""
        pattern = re.compile(re.escape(f".{self.path.name}.{kind}-") + r"[a-z0-9_]{8}")
        with os.scandir(self.parent) as it:
            return sorted(Path(e.path) for e in it if pattern.fullmatch(e.name) and e.is_dir())

    def _recover(self) -> None:
        """Undo what a killed run left: put a result set aside back, delete leftovers."""
        olds = self._siblings("old")
        if not os.path.lexists(self.path):
            complete = [o for o in olds if is_dermatwin_output(o)]
            if complete:
                newest = max(complete, key=lambda o: o.stat().st_mtime)
                os.rename(newest, self.path)
                olds.remove(newest)
        for leftover in olds + self._siblings("partial"):
            self.discard(leftover)

    def discard(self, folder: Path) -> None:
        """Delete one of our own folders, first making it unrecognisable as a result (a
        kill midway leaves no half-deleted folder that looks complete)."""
        folder = Path(folder)
        if not folder.name.startswith(f".{self.path.name}.old-"):
            aside = self.parent / f".{self.path.name}.old-{secrets.token_hex(4)}"
            os.rename(folder, aside)
            folder = aside
        for name in (MARKER_NAME, *LEGACY_FILES):
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A new folder beside OUT, moved to OUT when the block ends without an error
        (deleted otherwise); a full or read-only file system is one line."""
        with write_errors(self.given):
            stage = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.partial-", dir=self.parent))
            try:
                os.chmod(stage, folder_mode())  # mkdtemp makes it owner-only
                yield stage
                self.commit(stage)
            except BaseException:
                if stage.exists():
                    shutil.rmtree(stage, ignore_errors=True)
                raise

    def commit(self, stage: Path) -> None:
        """Mark ``stage`` complete and put it at OUT; the earlier result is deleted."""
        self._check_existing()  # something else may have appeared at OUT meanwhile
        marker = {"command": self.command, "dermatwin_version": __version__, "created": _now()}
        (stage / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n")
        _fsync(stage)
        if not os.path.lexists(self.path):
            os.rename(stage, self.path)
        elif exchange(stage, self.path):
            _step("exchanged")
            self.discard(stage)  # the earlier result, now at the staging path
        else:
            aside = self.parent / f".{self.path.name}.old-{secrets.token_hex(4)}"
            os.rename(self.path, aside)
            _step("moved-aside")  # a kill here: the next run moves ``aside`` back
            os.rename(stage, self.path)
            self.discard(aside)
        _fsync(self.parent)


def _source_root() -> Path:
    """dermatwin's own source: the package folder, or ``src/`` of a checkout."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent
    if checkout.name == "src" and (checkout.parent / "pyproject.toml").is_file():
        return checkout
    return package


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


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
