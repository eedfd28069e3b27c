"""The kernel cache: a model whose equations were compiled before skips code generation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dermatwin.engine import codegen
from dermatwin.engine import kernel as kernel_mod
from dermatwin.errors import DermatwinError
from dermatwin.model.spec import ModelBuilder


def decay(rate_expression: str = "k*x"):
    b = ModelBuilder("cache_probe", "test")
    x = b.state("x", unit="au", initial=10.0, description="x")
    k = b.parameter("k", 0.5, unit="1/day", source="assumed: test", description="rate", lower=0)
    b.ode(x, -eval(rate_expression, {"k": k, "x": x}))
    return b.build()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DERMATWIN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(kernel_mod, "_modules", {})
    return tmp_path


def test_warm_start_loads_the_kernel_without_generating_source(empty_cache, monkeypatch):
    tmp_path = empty_cache
    first = codegen.compile_model(decay())
    assert len(list(tmp_path.glob("k_cache_probe_*.py"))) == 1

    # as in a fresh worker process: nothing memoised, generation would fail loudly
    monkeypatch.setattr(kernel_mod, "_modules", {})
    monkeypatch.setattr(codegen, "generate_source", lambda model: pytest.fail("regenerated"))
    again = codegen.compile_model(decay())
    assert again is not first and again.__name__ == first.__name__

    # other equations are another kernel: generation runs (and here fails, as patched)
    with pytest.raises(pytest.fail.Exception, match="regenerated"):
        codegen.compile_model(decay("k*x*x"))


def test_a_missing_kernel_file_is_rebuilt(empty_cache, monkeypatch):
    tmp_path = empty_cache
    name = codegen.compile_model(decay()).__name__
    (tmp_path / f"{name.split('.')[-1]}.py").unlink()
    monkeypatch.setattr(kernel_mod, "_modules", {})
    rebuilt = codegen.compile_model(decay())
    assert rebuilt.__name__ == name
    assert (tmp_path / f"{name.split('.')[-1]}.py").is_file()


def kernel_file(folder, module) -> Path:
    return folder / f"{module.__name__.split('.')[-1]}.py"


def test_a_tampered_kernel_is_not_run_but_generated_again(empty_cache, monkeypatch):
    path = kernel_file(empty_cache, codegen.compile_model(decay()))
    good = path.read_text()
    path.write_text(good + "\nTAMPERED = True\n")
    monkeypatch.setattr(kernel_mod, "_modules", {})
    calls = []
    real = codegen.generate_source
    monkeypatch.setattr(codegen, "generate_source", lambda m: calls.append(m) or real(m))
    again = codegen.compile_model(decay())
    assert not hasattr(again, "TAMPERED") and calls
    assert path.read_text() == good


def test_a_kernel_file_swapped_with_its_checksum_mismatch_is_rejected(empty_cache, monkeypatch):
    """The checksum names the generated text: an edit that keeps the old checksum file
    (or deletes it) never runs."""
    path = kernel_file(empty_cache, codegen.compile_model(decay()))
    good = path.read_text()
    tampered = good.replace("AUTONOMOUS = True", "AUTONOMOUS = True\nTAMPERED = 1")
    assert tampered != good  # the edit really happened
    path.write_text(tampered)
    path.with_suffix(".sha256").unlink()
    monkeypatch.setattr(kernel_mod, "_modules", {})
    assert not hasattr(codegen.compile_model(decay()), "TAMPERED")
    assert path.read_text() == good


def test_a_cache_from_before_checksums_is_kept(empty_cache, monkeypatch):
    """A kernel file without a checksum file (an older version's cache) is checked against
    the generated text once and kept as it is (numba's cache stays valid)."""
    path = kernel_file(empty_cache, codegen.compile_model(decay()))
    path.with_suffix(".sha256").unlink()
    mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(kernel_mod, "_modules", {})
    codegen.compile_model(decay())
    assert path.stat().st_mtime_ns == mtime and path.with_suffix(".sha256").is_file()


def test_a_cache_writable_by_others_is_refused(empty_cache):
    (empty_cache / "__pycache__").mkdir()
    empty_cache.chmod(0o777)
    with pytest.raises(DermatwinError) as err:
        codegen.compile_model(decay())
    message = str(err.value)
    assert message.startswith(f"DERMATWIN_CACHE_DIR={empty_cache}")
    assert message.endswith("writable by others; use a private folder (chmod 700)")
    assert "\n" not in message
    assert not list(empty_cache.glob("k_*"))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the folder away")
def test_a_cache_owned_by_someone_else_is_refused(empty_cache):
    os.chown(empty_cache, 65534, -1)
    with pytest.raises(DermatwinError, match="owned by another user; use a folder of your own"):
        codegen.compile_model(decay())


def test_a_new_cache_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DERMATWIN_CACHE_DIR", str(tmp_path / "new" / "kernels"))
    monkeypatch.setattr(kernel_mod, "_modules", {})
    codegen.compile_model(decay())
    assert stat.S_IMODE((tmp_path / "new" / "kernels").stat().st_mode) & 0o077 == 0


def test_kernel_loads_keep_working_under_a_group_umask(empty_cache, monkeypatch):
    """With ``umask 002`` numba would make ``__pycache__`` 0775 (``os.makedirs``) and the
    next run would refuse its own cache: dermatwin makes it 0700 first."""
    old = os.umask(0o002)
    try:
        codegen.compile_model(decay())
        os.makedirs(empty_cache / "__pycache__", exist_ok=True)  # what numba does
        monkeypatch.setattr(kernel_mod, "_modules", {})
        codegen.compile_model(decay())  # a second run (a fresh process) loads it
    finally:
        os.umask(old)
    assert stat.S_IMODE((empty_cache / "__pycache__").stat().st_mode) == 0o700


def test_an_own_pycache_writable_by_others_is_tightened_and_purged(empty_cache):
    pycache = empty_cache / "__pycache__"
    pycache.mkdir()
    pycache.chmod(0o775)
    (pycache / "k_x.rhs-1.py312.nbi").write_bytes(b"index")
    (pycache / "k_x.rhs-1.py312.nbi").chmod(0o664)  # others could have written it
    (pycache / "k_x.rhs-1.py312.1.nbc").write_bytes(b"data")
    (pycache / "k_x.rhs-1.py312.1.nbc").chmod(0o600)
    codegen.compile_model(decay())
    assert stat.S_IMODE(pycache.stat().st_mode) == 0o700
    assert sorted(p.name for p in pycache.iterdir()) == ["k_x.rhs-1.py312.1.nbc"]


def test_rodas_cost_estimate_follows_the_lu_fill():
    # a diagonal Jacobian: no eliminations; a full one: the dense count 2n^3/3 + O(n^2)
    n = 20
    assert codegen.lu_flops(n, [(i, i) for i in range(n)]) == n * (n + 1)
    dense = codegen.lu_flops(n, [(i, j) for i in range(n) for j in range(n)])
    assert dense == n * (n + 1) + sum(2 * m * m for m in range(n))
    # a lower bidiagonal pattern fills nothing: one row per column to eliminate
    chain = codegen.lu_flops(n, [(i + 1, i) for i in range(n - 1)])
    assert chain == n * (n + 1) + sum(2 * (n - k - 1) for k in range(n - 1))
    # the same model functions cost relatively more Rodas4 work as the LU grows
    small = codegen.rodas_cost(n, 300, 500, chain)
    big = codegen.rodas_cost(n, 300, 500, dense)
    assert 1.0 < small < big


def test_generated_source_declares_the_rodas_cost():
    text = codegen.generate_source(decay())
    line = next(x for x in text.splitlines() if x.startswith("RODAS_COST = "))
    assert float(line.split("=")[1]) > 1.0
