# Two commands do all set-up on a fresh machine:
#   make demo   -> creates .venv, installs geoplan, runs the scorecard + map on the embedded city
#   make test   -> creates .venv, installs geoplan[dev], runs ruff, mypy and pytest
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.geoplan-installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

.PHONY: demo test lint browser-deps bench
demo: $(STAMP)
	$(BIN)/geoplan check --osm demo --targets anyang-2023 --out maps/demo --map maps/demo.html

browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftoppm >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk poppler-utils >/dev/null; \
	else echo "note: chromium/chromedriver/fonts-noto-cjk/poppler-utils missing; browser and PDF-render tests are skipped"; fi

LINT_DIRS = $(wildcard geoplan tests bench scenarios)
# numpydoc Parameters / Returns sections ([tool.numpydoc_validation]) on every module of the
# package; Typer commands document their parameters in their typer.Option help (shown by --help)
# and say so with "# numpydoc ignore=PR01" on their def line
NUMPYDOC_FILES = $(wildcard geoplan/*.py geoplan/*/*.py geoplan/*/*/*.py)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/mypy
	$(BIN)/python -m numpydoc lint $(NUMPYDOC_FILES)

# both cores (pytest-xdist): each worker loads its own session cities; 4 min instead of 7.5 here
test: $(STAMP) browser-deps lint
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	@command -v osmium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq osmium-tool >/dev/null; } || \
	  echo "note: osmium-tool missing; its baseline column stays empty"
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/run.py
