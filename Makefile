# painpoints — `make demo` and `make test` work on a fresh clone: they create .venv and install.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

export HF_HUB_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = 120

.PHONY: install browser demo test test-fast lint format bench sentiment samples clean

install: $(STAMP)

# torch 2.13.0 first: it is the CPU build available offline; an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet torch==2.13.0
	$(PY) -m pip install --quiet --quiet -e '.[dev]'
	touch $(STAMP)

# Debian chromium + chromium-driver: the report test opens the HTML report in headless Chromium.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Debian packages chromium chromium-driver (for the report test)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

demo: $(STAMP)
	$(VENV)/bin/painpoints demo

test: $(STAMP) browser
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# ruff (lint + format check), mypy on the packages, import-linter (layer contracts in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The quick benchmark set (quality + speed vs BERTopic, label grounding, embedding, incremental, 100k scale, sentiment,
# feedback type, areas, pain precision, social sentiment; ~55 min on 2 cores) on ../shared/data (or $$PAINPOINTS_DATA); rewrites the tables of benchmarks/RESULTS.md.
bench: $(STAMP)
	$(PY) -m pip install --quiet --quiet -e '.[dev,bench]'
	$(PY) -m benchmarks

sentiment: $(STAMP)
	$(PY) -m pip install --quiet --quiet -e '.[dev,bench]'
	$(PY) -m benchmarks.train_sentiment

samples: $(STAMP)
	$(PY) scripts/build_samples.py

clean:
	rm -rf $(VENV) .pytest_cache painpoints-demo.duckdb
