# Campus — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_PY := $(VENV)/.installed
STAMP_JS := node_modules/.installed
VENDOR := src/campus/web/static/vendor/.built
PYTEST_ARGS ?=

.PHONY: demo test test-services lint bench assets install clean

demo: install assets
	$(BIN)/campus demo

test: install assets
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install assets
	$(PY) bench/seed.py
	$(PY) bench/http_baseline.py
	$(PY) bench/outbox.py
	$(PY) bench/workflow.py
	$(PY) bench/broadcast.py
	$(PY) bench/im.py
	$(PY) bench/demo_term.py
	$(PY) bench/timetabling.py --instances comp01..comp21 --seconds 300
	$(PY) bench/exams.py --seconds 300

install: $(STAMP_PY)
assets: $(VENDOR)

$(STAMP_PY): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR): $(STAMP_JS) scripts/build_assets.mjs
	npm run --silent build
	touch $@

clean:
	rm -rf $(VENV) node_modules src/campus/web/static/vendor var
