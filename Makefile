# layerlab: one entry point. `make demo` and `make test` set everything up on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test lint format release check-release bench mutation slides student-bundle lock clean system-deps

$(STAMP): pyproject.toml requirements-lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev]"
	@touch $(STAMP)

## demo: set up, then run the grading demo (release, sample submissions, grade, gradebook table)
demo: $(STAMP)
	$(BIN)/python -m autograder demo

## test: set up, lint, then run the whole test suite
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(JOBS) -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## release: regenerate assignments/ from solutions/ with nbgrader
release: $(STAMP)
	$(BIN)/python -m autograder release

bench: $(STAMP)
	$(BIN)/python benchmarks/grading_throughput.py

## mutation: hand catalog and machine-made mutants vs the hidden suites, three seeds each
mutation: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m autograder mutation-report

slides: $(STAMP)
	$(BIN)/python lectures/build_slides.py

student-bundle: $(STAMP)
	$(BIN)/python -m autograder student-bundle

lock: $(STAMP)
	$(BIN)/python -m pip freeze --all --exclude-editable | sed '1i # Full pinned set of the tested environment (pip install -c requirements-lock.txt). Regenerate with `make lock`.' > requirements-lock.txt

## system-deps: Debian packages the sandbox and browser tests use (needs root)
system-deps:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
	fi

clean:
	rm -rf $(VENV) submitted autograded feedback gradebook.db .pytest_cache .ruff_cache build *.egg-info
