# Itaku — `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
# make test runs the suite in parallel workers, one per core (pytest-xdist);
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

.PHONY: run test lint scaleout install install-dev translations extract-messages clean

run: install translations  ## install, migrate, load demo data and serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo ""
	@echo "Itaku: http://$(HOST):$(PORT)/  (stop with Ctrl+C)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev translations  ## run the whole suite (PostgreSQL too when ITAKU_TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

scaleout: install-dev translations  ## two app servers behind nginx on one PostgreSQL, and the checks that they act as one
	$(BIN)/python scripts/scaleout.py $(SCALEOUT_ARGS)

lint: install-dev  ## style and likely-bug checks (ruff), and the one-way imports (lint-imports: .importlinter)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Itaku needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

translations: install  ## compile the message catalogues (.po → .mo)
	$(BIN)/pybabel compile -d translations

extract-messages: install  ## refresh translations/messages.pot and the English catalogue after changing texts
	$(BIN)/pybabel extract --ignore-dirs=".*" -F babel.cfg -k _l -o translations/messages.pot app.py core vendors contracts cloud social assurance incidents templates
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache
