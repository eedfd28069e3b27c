"""Glue a model's generated functions to the solver template and import the result.

``build_kernel(model_source, key)`` writes ``k_<key>.py`` (template with the model's
``rhs``/``jac``/``outputs`` spliced in) into the kernel cache directory and imports it.
One module file per model lets numba's on-disk cache (``cache=True``, kept in the
``__pycache__`` next to the file) be reused across processes: numba keys its cache on
the file's path and modification time, so the file is written only when absent and
always atomically (temp file + ``os.replace``), which is safe with concurrent processes.

Cache directory: ``$DERMATWIN_CACHE_DIR`` if set, else ``~/.cache/dermatwin/kernels``.
Callers should put :data:`KERNEL_TEMPLATE_VERSION` and a hash of what determines the
model source into ``key`` so that a changed template or model gets a new file.

Trust: importing a cached kernel runs its code, and numba's cache files beside it are
pickles (loading one can run code too). Trust therefore rests on the folder's ownership
and permissions: the cache folder must belong to the current user and be writable by
nobody else, else a one-line :class:`KernelCacheError` (a folder you give in
``DERMATWIN_CACHE_DIR`` is never changed: fix it with ``chmod 700``); the folder is
created ``0700``. Its ``__pycache__`` (numba's cache) is created ``0700`` by dermatwin
before numba would create it under the umask (``0775`` with ``umask 002``); an existing
one of the current user that others could write is tightened to ``0700`` (and the files
in it that others could have written are deleted: numba compiles them again), and one
of another user is refused.

The kernel checksum is recorded beside the kernel, not recomputed from the model each
time (that would cost the code generation the cache exists to save): each kernel file
has a ``k_<key>.sha256`` beside it holding the SHA-256 of the source the generator
made, written in the same private folder. A kernel file that does not match it
(edited, damaged, cut short) is not imported but generated again, and the bytes that
were checked are the bytes executed (no second read). So the checksum catches damage
and a file swapped without its checksum; against someone who can write both files, the
folder's permissions are the protection, as they are for numba's files (rewriting a
rejected kernel file also makes numba discard its stale cache entries: they are keyed
by the file's modification time).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import logging
import os
import re
import stat
import sys
import tempfile
import threading
import types
from pathlib import Path

from dermatwin._base.errors import DermatwinError
from dermatwin._base.verbosity import quiet

__all__ = [
    "KERNEL_TEMPLATE_VERSION",
    "KernelCacheError",
    "build_kernel",
    "kernel_cache_dir",
    "load_kernel",
]

_log = logging.getLogger(__name__)


class KernelCacheError(DermatwinError):
    """The kernel cache folder cannot be trusted or used (one line, names the folder)."""


_TEMPLATE_PATH = Path(__file__).with_name("_kernel_template.py")
_TEMPLATE = _TEMPLATE_PATH.read_text(encoding="utf-8")
_MODEL_LINE = (  # the template's import of the stub model, replaced by the model's source
    "from dermatwin.engine._kernel_stub import (  # model-functions\n"
    "    AUTONOMOUS,\n    JAC_COL,\n    JAC_PTR,\n    LU_NNZ,\n    RODAS_COST,\n"
    "    RODAS_COST_SPARSE,\n    SPARSE_PATTERN,\n    jac,\n    lu_sparse_factor,\n"
    "    lu_sparse_solve,\n    outputs,\n    rhs,\n)"
)
_PACKAGE = "dermatwin_kernels"

#: Hash of the solver template text; include it in ``key``.
KERNEL_TEMPLATE_VERSION = hashlib.sha256(_TEMPLATE.encode("utf-8")).hexdigest()[:16]

_modules: dict[str, types.ModuleType] = {}
_lock = threading.Lock()


def kernel_cache_dir() -> Path:
    """Directory holding the generated kernel modules (created on demand)."""
    env = os.environ.get("DERMATWIN_CACHE_DIR")
    base = Path(env) if env else Path.home() / ".cache" / "dermatwin" / "kernels"
    return base.expanduser()


def _label(directory: Path) -> str:
    env = os.environ.get("DERMATWIN_CACHE_DIR")
    return f"DERMATWIN_CACHE_DIR={env}" if env else f"kernel cache {directory}"


def private_cache_dir() -> Path:
    """The kernel cache folder, created owner-only if absent, after checking that no one
    but the current user can put code into it (else :class:`KernelCacheError`)."""
    directory = kernel_cache_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise KernelCacheError(
            f"{_label(directory)}: cannot create the folder ({err.strerror})"
        ) from None
    _check_private(directory, _label(directory))
    _private_pycache(directory / "__pycache__", f"{_label(directory)} (its __pycache__)")
    return directory


def _private_pycache(pycache: Path, label: str) -> None:
    """numba's cache folder (pickles), made ``0700`` here before numba makes it under the
    umask; one of ours that others could write is tightened and purged of the files they
    could have written; one of another user is refused."""
    try:
        pycache.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        if not os.path.lexists(pycache):
            return  # a read-only cache: numba cannot write here either (it uses its own)
    info = os.lstat(pycache)
    _check_own_folder(info, label)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        try:
            os.chmod(pycache, 0o700)  # our own folder, made by numba under a loose umask
        except OSError:
            raise KernelCacheError(
                f"{label}: writable by others; use a private folder (chmod 700)"
            ) from None
        with os.scandir(pycache) as entries:
            entries = list(entries)
        for entry in entries:
            mine = entry.stat(follow_symlinks=False)
            foreign = hasattr(os, "getuid") and mine.st_uid != os.getuid()
            if foreign or mine.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or entry.is_symlink():
                _log.warning("kernel cache: %s may be written by others; deleting it", entry.path)
                try:
                    os.unlink(entry.path)
                except OSError:
                    raise KernelCacheError(
                        f"{label}: holds {entry.name}, which others may have written and "
                        "which cannot be deleted; delete it or use a private folder"
                    ) from None


def _check_private(folder: Path, label: str) -> None:
    info = folder.stat()
    _check_own_folder(info, label)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KernelCacheError(f"{label}: writable by others; use a private folder (chmod 700)")


def _check_own_folder(info: os.stat_result, label: str) -> None:
    """``info`` is a folder of the current user (else :class:`KernelCacheError`)."""
    if not stat.S_ISDIR(info.st_mode):
        raise KernelCacheError(f"{label}: not a folder; give a private folder")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise KernelCacheError(
            f"{label}: owned by another user; use a folder of your own (mkdir -m 700)"
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_verified(path: Path) -> str | None:
    """The kernel file's text if it matches its recorded SHA-256 (and only the current
    user could have written it), else None: the caller generates it again."""
    try:
        info = path.stat()
        data = path.read_bytes()
        recorded = path.with_suffix(".sha256").read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    planted = hasattr(os, "getuid") and info.st_uid != os.getuid()
    if planted or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        _log.warning("kernel cache: %s may be written by others; generating it again", path)
        return None
    if hashlib.sha256(data).hexdigest() != recorded:
        _log.warning("kernel cache: %s does not match its checksum; generating it again", path)
        return None
    return data.decode("utf-8")


def _template_names() -> set[str]:
    """Top-level names the template defines (model sources must not redefine them)."""
    return _defined_names(_TEMPLATE)


def _defined_names(source: str) -> set[str]:
    defined = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return defined


_RESERVED = _template_names()


def _check_model_source(model_source: str) -> None:
    defined = _defined_names(model_source)
    missing = {"rhs", "jac", "outputs"} - defined
    if missing:
        raise ValueError(f"model source does not define {sorted(missing)}")
    clash = defined & _RESERVED
    if clash:
        raise ValueError(f"model source redefines kernel template names {sorted(clash)}")


_NO_SPARSE_PATTERN = """

RODAS_COST_SPARSE = RODAS_COST
SPARSE_PATTERN = False
LU_NNZ = 1
JAC_PTR = np.zeros(2, dtype=np.int64)
JAC_COL = np.zeros(1, dtype=np.int64)


@njit(cache=True)
def lu_sparse_factor(jm, fac, v):
    return False


@njit(cache=True)
def lu_sparse_solve(v, b):
    pass
"""


def kernel_source(model_source: str) -> str:
    """The full kernel module text for ``model_source``."""
    if _TEMPLATE.count(_MODEL_LINE) != 1:  # pragma: no cover - guards template edits
        raise RuntimeError("kernel template must contain the model-functions line once")
    source = model_source.strip("\n")
    if "AUTONOMOUS" not in _defined_names(model_source):
        # a hand-written rhs may use t: keep the finite-difference df/dt
        source = "AUTONOMOUS = False\n" + source
    if "RODAS_COST" not in _defined_names(model_source):
        # the cost-aware stiffness switch's default, measured on a 17-state model
        source = "RODAS_COST = 6.0\n" + source
    if "SPARSE_PATTERN" not in _defined_names(model_source):
        # no declared Jacobian pattern (a hand-written model): the dense LU only
        source += _NO_SPARSE_PATTERN
    return _TEMPLATE.replace(_MODEL_LINE, source)


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds exactly that text.

    Leaving an identical file untouched keeps its mtime, which numba's cache index
    checks. The file appears atomically and only once even when several processes race
    (hard link of a complete temp file, which fails if the name exists). A different
    file under the same key (a key not derived from the content) is replaced atomically.
    """
    try:
        if path.read_text(encoding="utf-8") == text:
            return
        exists = True
    except FileNotFoundError:
        exists = False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if not exists:
            try:
                os.link(tmp, path)
                return
            except FileExistsError:  # another process was first
                if path.read_text(encoding="utf-8") == text:
                    return
            except OSError:  # no hard links on this file system
                pass
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _parent_package(directory: Path) -> None:
    """Register ``dermatwin_kernels`` as a package whose path includes ``directory``.

    This makes ``import dermatwin_kernels.k_<key>`` (e.g. by pickle) find the modules.
    """
    pkg = sys.modules.get(_PACKAGE)
    if pkg is None:
        pkg = types.ModuleType(_PACKAGE)
        pkg.__path__ = []
        sys.modules[_PACKAGE] = pkg
    if str(directory) not in pkg.__path__:
        pkg.__path__.append(str(directory))


def build_kernel(model_source: str, key: str) -> types.ModuleType:
    """Kernel module for a model: the solver template with ``model_source`` spliced in.

    ``model_source`` is self-contained Python (its own ``math``/``numpy``/``numba``
    imports) defining the numba functions ``rhs(t, y, p, dy)``, ``jac(t, y, p, J)`` and
    ``outputs(t, y, p, out)``. ``key`` names the file ``k_<key>.py`` (characters other
    than letters, digits and ``_`` become ``_``) and must change whenever the source or
    template does. Modules are memoised per key for the life of the process. Numba
    compiles each entry point on its first call, or loads it from the disk cache.
    """
    safe = _safe_key(key)
    with _lock:
        mod = _modules.get(safe)
        if mod is not None:
            return mod
        _check_model_source(model_source)
        text = kernel_source(model_source)
        path = private_cache_dir() / f"k_{safe}.py"
        _write_once(path, text)
        _write_once(path.with_suffix(".sha256"), _sha256(text) + "\n")
        return _import(safe, text)


def load_kernel(key: str) -> types.ModuleType | None:
    """The kernel module already built under ``key`` (this or an earlier process), or
    None when there is none or its file does not match its checksum."""
    safe = _safe_key(key)
    with _lock:
        mod = _modules.get(safe)
        if mod is not None:
            return mod
        text = _read_verified(private_cache_dir() / f"k_{safe}.py")
        return None if text is None else _import(safe, text)


def _safe_key(key: str) -> str:
    safe = re.sub(r"\W", "_", key, flags=re.ASCII)
    if not safe:
        raise ValueError("kernel key must not be empty")
    return safe


def compile_notice(safe: str, directory: Path) -> bool:
    """One line on stderr, on a terminal, when numba has no disk cache of kernel
    ``k_<safe>`` yet: its first call then compiles for a minute or two, which would
    otherwise look like a hang (not under ``-q``). Returns whether it printed."""
    if quiet() or not sys.stderr.isatty():
        return False
    if any((directory / "__pycache__").glob(f"k_{safe}.*.nbi")):
        return False
    model = safe.rsplit("_", 1)[0]
    print(
        f"dermatwin: compiling the {model} model's solver (first run only, 1-2 minutes)...",
        file=sys.stderr,
        flush=True,
    )
    return True


def _import(safe: str, text: str) -> types.ModuleType:
    """Import ``text`` as the module of file ``k_<safe>.py``: the checked text is executed,
    not the file read again, so a file swapped meanwhile is never run."""
    directory = kernel_cache_dir()
    compile_notice(safe, directory)  # once per process and kernel: modules are memoised
    _parent_package(directory)
    name = f"{_PACKAGE}.k_{safe}"
    path = directory / f"k_{safe}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        # the code's file name is the cached file: numba keys its disk cache on it
        exec(compile(text, str(path), "exec"), mod.__dict__)  # noqa: S102
    except BaseException:
        del sys.modules[name]
        raise
    _modules[safe] = mod
    return mod
