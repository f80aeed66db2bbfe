# Course commands. Everything runs from this folder with the project's own virtual environment.
# The system's Python 3.11 where there is one: grading shows the interpreter read-only to each
# submission's sandbox, and /usr is there anyway (docs/grading.md).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11 /usr/bin/python3) python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# test files run side by side, a whole file per worker (pytest.ini lists the longest first)
TEST_WORKERS ?= 2
SIGNS_SOURCE ?= $(CURDIR)/../shared/datasets/signs
DIGITS_SOURCE ?= $(CURDIR)/../shared/datasets/sign-language-digits-6to9
PRETRAINED_SOURCE ?= $(CURDIR)/../shared/datasets/pretrained
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3

PRETRAINED := datasets/resnet50.h5
ASSIGNMENTS := $(patsubst source/%/,%,$(wildcard source/*/))

.PHONY: demo test lint install protect sandbox-tools browser-tools data model pretrained release autograde grade-audit \
	references figures clean

## demo: install, fetch data, generate the release, and grade the sample submissions in a copy of
## the course (build/demo/; course/demo.py): the real class is never touched
demo: data release
	$(BIN)/python -m course.demo

## test: install, link the data (the pretrained model too, when the data folder has the recorded
## build), build the pretrained model if it is not there, run all tests (including the full
## instructor notebooks under nbval), with a throwaway PostgreSQL server for the shared-gradebook
## tests and a throwaway Redis for the task-queue tests (.ci/postgres, .ci/redis: installed with
## apt if missing, started, stopped and deleted afterwards)
test: install data model lint
	.ci/postgres start
	.ci/redis start
	COURSE_TEST_POSTGRES_URL="$$(.ci/postgres url)" COURSE_TEST_BROKER_URL="$$(.ci/redis url)" \
		$(BIN)/python -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile \
		--no-loadscope-reorder; status=$$?; .ci/postgres stop; .ci/redis stop; exit $$status

## lint: ruff over the whole tree (its rules: pyproject.toml); make test runs it first
lint: install
	$(BIN)/ruff check --quiet .

install: $(VENV)/.installed sandbox-tools browser-tools protect
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

## protect: the course folder closed to every other account of this machine (chmod 700; to all
## but its group where `python -m course.hub setup --grader` shared it, setgid): on a hub where
## students have shell accounts, none of them reads source/, hidden/, .git, the gradebook or a
## classmate's folder (course.grade warns when they can; docs/instructor.md)
protect:
	@if [ -g "$(CURDIR)" ]; then chmod o-rwx "$(CURDIR)"; else chmod 700 "$(CURDIR)"; fi

## sandbox-tools: bubblewrap (and util-linux's setpriv and prlimit) for grading's per-submission
## sandbox (course/sandbox/), from Debian's packages; needs root, as grading does
sandbox-tools:
	@if command -v bwrap >/dev/null && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq bubblewrap util-linux >/dev/null; \
	else echo "note: bubblewrap is missing and this is not root: grading will refuse to run (docs/grading.md)"; fi

## browser-tools: what the browser tests drive (tests/test_pages.py): Debian's chromium
## and chromium-driver (Selenium is given both: nothing downloads a browser), npm's
## configurable-http-proxy (JupyterHub's proxy) and axe-core, pinned, into node_modules/
AXE_CORE := 4.14.1
browser-tools:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v npm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver npm >/dev/null; \
	else echo "note: chromium, chromium-driver or npm is missing and this is not root: the browser tests will fail"; fi
	@if ! command -v configurable-http-proxy >/dev/null && command -v npm >/dev/null; then \
		npm install --global --silent --no-audit --no-fund configurable-http-proxy@4.6.3; fi
	@if [ ! -e node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --no-save --no-package-lock axe-core@$(AXE_CORE); fi

data: install
	$(BIN)/python -m course.authoring.data --source "$(SIGNS_SOURCE)" --digits-source "$(DIGITS_SOURCE)" \
		--pretrained-source "$(PRETRAINED_SOURCE)"

## model: the pretrained resnet50.h5 in datasets/: the one `make data` linked, else built here
model: data
	@if [ -e $(PRETRAINED) ]; then echo "pretrained model: $(PRETRAINED) is there"; \
	else $(MAKE) --no-print-directory pretrained; fi

## pretrained: train resnet50.h5 for the notebook into datasets/ from scratch, replacing what is
## there (the recipe; 12-14 minutes on a 2-core AVX-512 CPU, about 46 on a 2-core AVX2 one; on a
## hub it goes into the shared data folder: docs/instructor.md)
pretrained: data
	$(BIN)/python -m course.authoring.pretrained --out $(PRETRAINED)

## release: source/ -> release/ (student versions, no solutions or hidden tests) and gradebook.db,
## for every assignment
release: install
	for name in $(ASSIGNMENTS); do \
		$(BIN)/nbgrader generate_assignment $$name --force --log-level=WARN || exit 1; done

## autograde: grade exactly what is in submitted/ (one job per core, each kernel sandboxed:
## docs/grading.md); the release must have been generated (`make release`)
autograde: install data
	$(BIN)/python -m course.grade

## grade-audit: grade the mistake catalog, the correct variants and the hostile submissions through
## nbgrader in build/grade-audit/ (about 10 minutes; `make test` runs it too, tests/test_grading.py)
grade-audit: install data model
	$(BIN)/python -m course.audit

## references: recompute hidden/ASSIGNMENT/references.npz from each instructor solution, then
## each cataloged mistake's signature beside it (signatures.npz: which mistake a failed cell
## shows, course/hidden/signatures.py)
references: install
	$(BIN)/python -m course.authoring.references
	$(BIN)/python -m course.audit --signatures

figures: install
	$(BIN)/python -m course.authoring.figures

clean:
	rm -rf autograded feedback reports gradebook.db build .pytest_cache
