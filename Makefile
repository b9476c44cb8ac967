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
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e ".[dev,cluster]"
	@touch $(STAMP)

## demo: set up, then run the grading demo (release, sample submissions, grade, gradebook table)
demo: $(STAMP)
	@$(MAKE) --no-print-directory system-deps SYSTEM_DEPS_OPTIONAL=1
	$(BIN)/python -m autograder demo

## test: set up (system packages too when root), lint, then run the whole test suite
# Without root and without the system packages, the tests that need them are skipped, loudly.
NEEDS_BWRAP := tests/test_feedback.py::test_execution_happens_in_the_sandbox_and_survives_hostile_cells
test: $(STAMP) lint
	@$(MAKE) --no-print-directory system-deps SYSTEM_DEPS_OPTIONAL=1
	@skip=""; args=""; \
	if ! bwrap --unshare-pid --unshare-net --ro-bind / / true >/dev/null 2>&1; then \
	  skip="$$skip\n  - every test marked 'bubblewrap not usable' (tests/test_sandbox.py, tests/test_hostile_*.py) and $(NEEDS_BWRAP)"; \
	  args="$$args --deselect $(NEEDS_BWRAP)"; \
	fi; \
	if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  skip="$$skip\n  - the browser tests (tests/browser/)"; export LAYERLAB_SKIP_BROWSER=1; \
	fi; \
	if [ -n "$$skip" ]; then \
	  printf '\n%s\n' "**********************************************************************"; \
	  printf '%b\n' "SKIPPED for want of system packages (run \`sudo make system-deps\` first):$$skip"; \
	  printf '%s\n\n' "**********************************************************************"; \
	fi; \
	$(BIN)/python -m pytest -n $(JOBS) -q $$args; status=$$?; \
	if [ -n "$$skip" ]; then printf '%b\n' "\nREMINDER: tests were SKIPPED:$$skip\nRun \`sudo make system-deps\`, then \`make test\` again."; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## release: regenerate assignments/ from solutions/ with nbgrader
release: $(STAMP)
	$(BIN)/python -m autograder release

## bench: class throughput vs plain nbgrader (PLAN=targets|full|quick), then the per-part profile,
## then (with perf, as root) a fast a1 class run's CPU by process role
PLAN ?= targets
bench: $(STAMP)
	@$(MAKE) --no-print-directory system-deps SYSTEM_DEPS_OPTIONAL=1
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/grading_throughput.py --plan $(PLAN)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/profile_submission.py
	@if command -v perf >/dev/null && [ "$$(id -u)" = 0 ]; then \
		OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/class_run_cpu.py; \
	else echo "class_run_cpu.py skipped: it needs perf (Debian: linux-perf) and root"; fi

## mutation: hand catalog and machine-made mutants vs the hidden suites (three seeds each), and
## the hand catalog vs the notebooks' visible checks
mutation: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m autograder mutation-report
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m autograder visible-report

slides: $(STAMP)
	$(BIN)/python lectures/build_slides.py

student-bundle: $(STAMP)
	$(BIN)/python -m autograder student-bundle

lock: $(STAMP)
	$(BIN)/python -m pip freeze --all --exclude-editable | sed '1i # Full pinned set of the tested environment (pip install -c requirements-lock.txt). Regenerate with `make lock`.' > requirements-lock.txt

## system-deps: Debian packages the sandbox and browser tests use (installs them as root)
system-deps:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	test -x /usr/bin/chromedriver || missing="$$missing chromium-driver"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
	else \
	  echo "MISSING system packages:$$missing. Install them with \`sudo make system-deps\` (or \`sudo apt-get install$$missing\`)."; \
	  test "$(SYSTEM_DEPS_OPTIONAL)" = 1; \
	fi

clean:
	rm -rf $(VENV) submitted autograded feedback gradebook.db .pytest_cache .ruff_cache build *.egg-info
