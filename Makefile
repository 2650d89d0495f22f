PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint kafka-fetch bench bench-quick screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

run: setup
	$(BIN)/regwatch run

lint: setup
	$(BIN)/ruff check shared services tests
	$(BIN)/ruff format --check shared services tests
	$(BIN)/mypy

# PYTEST_WORKERS=0 runs the suite in one process (pytest-xdist's -n 0).
PYTEST_WORKERS ?= 2

test: setup lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=20 $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench.run

bench-quick: setup
	$(BIN)/python -m bench.run --quick

# Every portal page in English and Chinese (desktop and phone) under var/screenshots/, taken
# with Debian's headless chromium (apt-get install chromium fonts-wqy-zenhei; .ci/run does).
screenshots: setup
	$(BIN)/python -m tests.support.screenshots --out var/screenshots

kafka-fetch:
	scripts/kafka fetch

clean:
	rm -rf $(VENV) var .kafka
