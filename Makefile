# Quick start: `make demo` and `make test`. Both create .venv and install the project on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo chat playground test lint serve clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tandem needs Python 3.11 or newer (found %s)." % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tandem demo

chat: $(STAMP)
	$(BIN)/tandem chat

playground: $(STAMP)
	$(BIN)/tandem playground

# mypy checks the files pyproject.toml lists ([tool.mypy] files: bot, storage, adapters, tandem).
MYPY := $(BIN)/mypy

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MYPY)
	@if [ -z "$$TANDEM_TEST_POSTGRES_URL" ]; then \
		echo "NOTE: TANDEM_TEST_POSTGRES_URL is not set: the PostgreSQL runs are SKIPPED; tests run on SQLite only."; \
	fi
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

serve: $(STAMP)
	$(BIN)/tandem serve

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .hypothesis
