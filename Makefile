PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per install, each redone when pyproject.toml changes: `make run` installs only what
# running needs; `make test` and `make bench` add their extras; `make setup` installs all.
VENV_STAMP := $(VENV)/.created
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: setup run test lint kafka-fetch bench bench-quick screenshots clean

setup: $(TEST_STAMP) $(BENCH_STAMP)

$(VENV_STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@touch $@

$(RUN_STAMP): pyproject.toml | $(VENV_STAMP)
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

$(BENCH_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	@touch $@

run: $(RUN_STAMP)
	$(BIN)/regwatch run

lint: $(TEST_STAMP)
	$(BIN)/ruff check shared services tests
	$(BIN)/ruff format --check shared services tests
	$(BIN)/mypy

# PYTEST_WORKERS=0 runs the suite in one process (pytest-xdist's -n 0).
PYTEST_WORKERS ?= 2

test: $(TEST_STAMP) lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=20 $(PYTEST_ARGS)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --quick

# Every portal page in English and Chinese (desktop and phone) under var/screenshots/, taken
# with Debian's headless chromium (apt-get install chromium fonts-wqy-zenhei; .ci/run does).
screenshots: $(TEST_STAMP)
	$(BIN)/python -m tests.support.screenshots --out var/screenshots

kafka-fetch:
	scripts/kafka fetch

clean:
	rm -rf $(VENV) var .kafka
