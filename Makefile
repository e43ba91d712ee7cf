# Quick start: `make serve` and `make test` (README). Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: serve test test-fast lint typecheck pytest bench bench-budget bench-seed compat docs fuzz lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

serve: $(STAMP)
	$(BIN)/b24local serve

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The whole pytest suite: in-process servers, live ones, the CLI and the client libraries.
pytest: $(TEST_STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

# The in-process part of the suite, without what runs b24local as a process or a client library
# (the `live` marker, tests/conftest.py).
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not live"

bench: $(TEST_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/state.py
	$(BIN)/python bench/seed.py
	$(BIN)/python bench/journal_cost.py

# Server CPU per worst-shaped request (at most the body limit) against 0.2 s (docs/performance.md).
bench-budget: $(TEST_STAMP)
	$(BIN)/python bench/budget.py

# Seeding and exporting 100,000 leads on SQLite and PostgreSQL (docs/performance.md, "Issue 16").
bench-seed: $(TEST_STAMP)
	$(BIN)/python bench/seed.py

# docs/compatibility.md from the client tests. Failing client tests (pytest exit 1) are what the
# matrix shows as ❌, so the document is written anyway; any other pytest failure stops here.
compat: $(TEST_STAMP)
	@mkdir -p build && rm -f build/compat.json
	@status=0; B24LOCAL_COMPAT_OUT=build/compat.json $(BIN)/python -m pytest -q tests/clients || status=$$?; \
	if [ $$status -gt 1 ]; then echo "make compat: pytest exited $$status; docs/compatibility.md not written" >&2; exit $$status; fi; \
	if [ $$status -eq 1 ]; then echo "make compat: some client tests failed; they are marked in the matrix" >&2; fi
	$(BIN)/python tools/compat.py build/compat.json docs/compatibility.md

# docs/methods.md (the methods and their coverage of the official list) and the official list the server
# ships (src/b24local/methods/official_methods.txt), both from ../shared/b24-docs/methods.tsv.
docs: $(STAMP)
	$(BIN)/python tools/methods_doc.py

# The long fuzz run (docs/reliability.md, "Fuzzing"): FUZZ_COUNT in-process requests on SQLite
# (B24LOCAL_TEST_BACKENDS=postgres or sqlite,postgres for PostgreSQL) and a twentieth of that over raw
# sockets; prints one summary line per part. `make test` runs the same test with 3,000.
FUZZ_COUNT ?= 100000
FUZZ_SEED ?= 14
fuzz: $(TEST_STAMP)
	B24LOCAL_FUZZ_COUNT=$(FUZZ_COUNT) B24LOCAL_FUZZ_SEED=$(FUZZ_SEED) \
	B24LOCAL_TEST_BACKENDS=$${B24LOCAL_TEST_BACKENDS:-sqlite} \
	$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/fuzz

# Re-pin constraints.txt to what is installed now (run after changing dependencies).
lock: $(TEST_STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^b24local' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
