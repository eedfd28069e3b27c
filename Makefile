# Quick start: `make demo` (main job) and `make test` (lint + the whole test suite).
# Both create the virtual environment on first use; nothing has to be installed by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= results/demo

.PHONY: setup demo test test-browser lint format docs bench serve clean

$(BIN)/.dermatwin-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python scripts/compile_kernels.py
	touch $@

# the virtual environment and the skin model's compiled solver (so `make demo` never sits
# silent while numba compiles)
setup: $(BIN)/.dermatwin-installed

# the command line is not echoed: the demo's output fits 80 columns (tests/test_cli_terminal.py)
demo: $(BIN)/.dermatwin-installed
	@echo "dermatwin trial run examples/trials/kim2017_hucbmsc_ad.yaml --out $(DEMO_OUT)"
	@$(BIN)/dermatwin trial run examples/trials/kim2017_hucbmsc_ad.yaml --out $(DEMO_OUT) --overwrite

# Debian's chromium for the web application's browser tests (tests/web/test_web_browser.py),
# installed when missing where apt-get can (as root); elsewhere those tests skip, saying why.
# Playwright's own browser download is not used.
CHROMIUM = command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
	|| echo "chromium could not be installed: the browser tests will skip"

test: $(BIN)/.dermatwin-installed
	@$(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# the browser tests alone, with their screenshots in results/browser
test-browser: $(BIN)/.dermatwin-installed
	@$(CHROMIUM)
	DERMATWIN_SCREENSHOTS=results/browser $(BIN)/python -m pytest tests/web/test_web_browser.py

# the web application on http://127.0.0.1:8000/ (docs/web.md)
serve: $(BIN)/.dermatwin-installed
	$(BIN)/dermatwin serve --data results/web

format: $(BIN)/.dermatwin-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(BIN)/.dermatwin-installed
	$(BIN)/python -m dermatwin.docs

bench: $(BIN)/.dermatwin-installed
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/skin.py

clean:
	rm -rf $(VENV) results .pytest_cache
