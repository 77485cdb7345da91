# Each target bootstraps the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint bench loadtest screenshots messages clean fuzz-imports fuzz

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/pilotage demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Load test on a throwaway database (docs/reliability.md), e.g. LOADTEST_ARGS="--users 50 --duration 5m --engine postgresql".
loadtest: $(STAMP)
	$(BIN)/python scripts/loadtest.py $(LOADTEST_ARGS)

# Screenshots of the main screens from the demo data, in docs/screenshots/ (needs Debian's chromium).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py $(SCREENSHOTS_ARGS)

# Extract the interface strings, mirror the French catalogue, compile the .mo files (needs Debian's gettext) and list
# the English translations still missing in src/pilotage/locale/en/LC_MESSAGES/django.po.
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) pilotage.sqlite3* staticfiles

# Hostile import files and generated malformed rows: files tried, errors found, crashes (tests/test_hostile_imports.py).
fuzz-imports: $(STAMP)
	$(BIN)/python scripts/fuzz_imports.py

# Schemathesis against the live server's OpenAPI document, anonymous and with a token per role, on a throwaway
# database (docs/security.md, "Tests de robustesse de l'API"), e.g. FUZZ_ARGS="--max-examples 30".
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz_api.py --min-cases 5000 $(FUZZ_ARGS)
