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
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import threading
import types
from pathlib import Path

__all__ = ["KERNEL_TEMPLATE_VERSION", "build_kernel", "kernel_cache_dir", "load_kernel"]

_TEMPLATE_PATH = Path(__file__).with_name("_kernel_template.py")
_TEMPLATE = _TEMPLATE_PATH.read_text(encoding="utf-8")
_MODEL_LINE = (
    "from dermatwin.engine._kernel_stub import AUTONOMOUS, jac, outputs, rhs  # model-functions"
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


def kernel_source(model_source: str) -> str:
    """The full kernel module text for ``model_source``."""
    if _TEMPLATE.count(_MODEL_LINE) != 1:  # pragma: no cover - guards template edits
        raise RuntimeError("kernel template must contain the model-functions line once")
    source = model_source.strip("\n")
    if "AUTONOMOUS" not in _defined_names(model_source):
        # a hand-written rhs may use t: keep the finite-difference df/dt
        source = "AUTONOMOUS = False\n" + source
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
        _write_once(kernel_cache_dir() / f"k_{safe}.py", kernel_source(model_source))
        return _import(safe)


def load_kernel(key: str) -> types.ModuleType | None:
    """The kernel module already built under ``key`` (this or an earlier process), or None."""
    safe = _safe_key(key)
    with _lock:
        mod = _modules.get(safe)
        if mod is not None:
            return mod
        if not (kernel_cache_dir() / f"k_{safe}.py").is_file():
            return None
        return _import(safe)


def _safe_key(key: str) -> str:
    safe = re.sub(r"\W", "_", key, flags=re.ASCII)
    if not safe:
        raise ValueError("kernel key must not be empty")
    return safe


def _import(safe: str) -> types.ModuleType:
    directory = kernel_cache_dir()
    _parent_package(directory)
    name = f"{_PACKAGE}.k_{safe}"
    spec = importlib.util.spec_from_file_location(name, directory / f"k_{safe}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    _modules[safe] = mod
    return mod
