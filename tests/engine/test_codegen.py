"""The kernel cache: a model whose equations were compiled before skips code generation."""

from __future__ import annotations

import pytest

from dermatwin.engine import codegen
from dermatwin.engine import kernel as kernel_mod
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
