# Fashion-MNIST CNN course. Two commands do all the set-up:
#   make lab    create .venv, install, fetch the data, open JupyterLab at notebooks/00
#   make test   create .venv, install the dev tools, run every test and notebook
# notebooks/ holds the exercise versions students open; solutions/ the solution versions, the
# source of both: edit solutions/, then `make exercises` writes notebooks/ from it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS ?= $(wildcard solutions/[0-9][0-9]_*.ipynb)

# Notebooks run with notebooks/ as their working folder: make relative data and work paths absolute.
ifdef FMNIST_DATA_DIR
override FMNIST_DATA_DIR := $(abspath $(FMNIST_DATA_DIR))
export FMNIST_DATA_DIR
endif
ifdef FMNIST_WORK_DIR
override FMNIST_WORK_DIR := $(abspath $(FMNIST_WORK_DIR))
export FMNIST_WORK_DIR
endif

# Jupyter refuses to start as root (containers, some cloud shells) unless told it may.
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help kernel lab deploy demo test stacks lint format execute times exercises data student assignment autograde formgrader grades feedback classroom classroom-remove badges bench mutation clean distclean

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt -e .
	touch $@

$(VENV)/.installed-deploy: requirements.txt requirements-deploy.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-deploy.txt -e .
	touch $@ $(VENV)/.installed

$(VENV)/.installed-dev: requirements.txt requirements-deploy.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.txt -e .
	touch $@ $(VENV)/.installed $(VENV)/.installed-deploy

# A named kernel, for Jupyter or VS Code started outside the course's environment.
KERNEL_NAME := fmnist-course
KERNEL_DISPLAY_NAME := Fashion-MNIST course (.venv)

kernel: $(VENV)/.installed  ## Register .venv as the Jupyter kernel "Fashion-MNIST course (.venv)".
	$(BIN)/python -m ipykernel install --user --name $(KERNEL_NAME) --display-name "$(KERNEL_DISPLAY_NAME)"

lab: kernel  ## Install, make sure the dataset is here, open JupyterLab at the first notebook.
	$(BIN)/python -m fmnist_utils download
	$(BIN)/jupyter lab notebooks/00_getting_started.ipynb $(LAB_FLAGS)

deploy: $(VENV)/.installed-deploy  ## Install notebook 06's optional extra (ONNX, LiteRT, Gradio).

demo: $(VENV)/.installed-deploy  ## Serve the trained model's web demo on 127.0.0.1:7860 or the next free port (Ctrl+C stops).
	$(BIN)/python -m fmnist_utils.demo $(DEMO_FLAGS)

data: $(VENV)/.installed  ## Download (or verify) the dataset; FMNIST_DATA_DIR=DIR to choose where.
	$(BIN)/python -m fmnist_utils download

exercises: $(VENV)/.installed  ## Write notebooks/ (the exercise versions) from solutions/.
	$(BIN)/python tools/student.py --exercises

STUDENT_DIR ?= student
student: $(VENV)/.installed  ## Handouts without solution links in student/ (FORCE=1 overwrites).
	$(BIN)/python tools/student.py solutions $(STUDENT_DIR) $(if $(FORCE),--force)

# nbgrader: one course folder, one assignment holding the notebooks named by NOTEBOOKS (solutions/).
# course/nbgrader_config.py (written once by make assignment, from tools/nbgrader_course.py) holds
# the course's settings, so that the Formgrader grades exactly as these targets do.
COURSE_DIR ?= course
ASSIGNMENT ?= fmnist
GRADING_TIMEOUT ?= 3600
# nbgrader runs `alembic` from PATH: the venv's bin comes first, so nothing needs activating.
# Grading re-runs every submission: in quick mode unless FMNIST_QUICK=0 is given. Each submission
# keeps what its notebooks write (models, logs) in its own folder, autograded/STUDENT/ASSIGNMENT/
# fmnist_work/ (a relative FMNIST_WORK_DIR is read from the notebook's folder): no submission
# reads a model another one trained, and nothing is written into notebooks/.
GRADING_ENV = PATH="$(abspath $(BIN)):$$PATH" FMNIST_QUICK=$${FMNIST_QUICK:-1} FMNIST_WORK_DIR=fmnist_work
NBGRADER = cd "$(COURSE_DIR)" && $(GRADING_ENV) "$(abspath $(BIN))/nbgrader"

assignment: $(VENV)/.installed-dev  ## nbgrader: release handouts in course/release/ (ASSIGNMENT=, NOTEBOOKS=, DUEDATE=).
	rm -rf "$(COURSE_DIR)/source/$(ASSIGNMENT)"  # Made from solutions/ each time: edit those.
	mkdir -p "$(COURSE_DIR)/source/$(ASSIGNMENT)"
	cp $(NOTEBOOKS) "$(COURSE_DIR)/source/$(ASSIGNMENT)/"
	$(BIN)/python -m tools.nbgrader_course "$(COURSE_DIR)"
	$(NBGRADER) generate_assignment $(ASSIGNMENT) --force
	$(if $(DUEDATE),$(NBGRADER) db assignment add $(ASSIGNMENT) --duedate="$(DUEDATE)")

autograde: $(VENV)/.installed-dev  ## nbgrader: grade new and resubmitted work (STUDENT=id for one, FORCE=1 regrades all).
	$(NBGRADER) autograde $(ASSIGNMENT) $(if $(STUDENT),--student="$(STUDENT)") $(if $(FORCE),--force) \
		--Execute.timeout=$(GRADING_TIMEOUT)

formgrader: $(VENV)/.installed-dev  ## nbgrader: JupyterLab on course/ for grading by hand (Nbgrader > Formgrader).
	cd "$(COURSE_DIR)" && $(GRADING_ENV) "$(abspath $(BIN))/jupyter" lab --ServerApp.root_dir=. $(LAB_FLAGS)

feedback: $(VENV)/.installed-dev  ## nbgrader: HTML feedback per student in course/feedback/ (no hidden test in it).
	$(NBGRADER) generate_feedback $(ASSIGNMENT) $(if $(STUDENT),--student="$(STUDENT)") --force

grades: $(VENV)/.installed-dev  ## nbgrader: course/grades.csv (totals) and course/grades_by_exercise.csv.
	$(NBGRADER) export --to grades.csv
	cd "$(COURSE_DIR)" && $(GRADING_ENV) PYTHONPATH="$(CURDIR)" "$(abspath $(BIN))/nbgrader" export \
		--exporter=tools.nbgrader_course.ExerciseGradesExport --to grades_by_exercise.csv

# A JupyterHub classroom on this machine (tools/classroom.py; INSTRUCTORS.md, docs/classroom.md):
# run as root. It needs only the system's Python 3.10+ and npm, and builds its own environment.
# NOTEBOOKS= chooses the assignment's notebooks (all by default); CLASSROOM_FLAGS= passes more
# (--students ada ben, --mem-limit 4G, --full: see python3 -m tools.classroom setup --help).
CLASSROOM_PREFIX ?= /srv/fmnist-classroom
STUDENTS ?= 3
PORT ?= 8000
IP ?= 127.0.0.1
classroom:  ## JupyterHub on 127.0.0.1:PORT for an instructor and STUDENTS students (as root; Ctrl+C stops it).
	$(PYTHON) -m tools.classroom setup --prefix "$(CLASSROOM_PREFIX)" --count $(STUDENTS) \
		--notebooks $(NOTEBOOKS) $(CLASSROOM_FLAGS)
	$(PYTHON) -m tools.classroom start --prefix "$(CLASSROOM_PREFIX)" --port $(PORT) --ip $(IP)

classroom-remove:  ## Delete the classroom's accounts, homes and CLASSROOM_PREFIX (as root).
	$(PYTHON) -m tools.classroom remove --prefix "$(CLASSROOM_PREFIX)"

badges: $(VENV)/.installed  ## Rewrite the Colab/Binder badges and install URLs from pyproject.toml's address.
	$(BIN)/python tools/badges.py $(if $(BRANCH),--branch $(BRANCH))
	$(BIN)/python tools/student.py --exercises

test: $(VENV)/.installed-dev  ## Lint, package tests, every notebook under nbval (FMNIST_QUICK=1 for quick mode).
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=1800 tests $(NOTEBOOKS)

stacks: $(VENV)/.installed-dev  ## The same suite on the lowest declared versions: Colab's TensorFlow and Keras (nox).
	$(BIN)/nox -s lowest

lint: $(VENV)/.installed-dev  ## Ruff, lint and format check.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev  ## Let ruff fix what it can and format the code and notebooks.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every run time the course states is measured by tools/run_times.py into docs/run_times.json,
# then written into the texts between <!-- time:NN:MODE --> markers (tests/test_run_times.py).
execute: $(VENV)/.installed-dev  ## Run the solutions in full mode, saving their outputs and run times, then write notebooks/ (NOTEBOOKS=... for some).
	$(BIN)/python tools/run_times.py measure --mode full --inplace $(NOTEBOOKS)
	$(BIN)/python tools/student.py --exercises

times: $(VENV)/.installed-dev  ## Measure the quick-mode run times (outputs are not saved) and write them into the texts.
	$(BIN)/python tools/run_times.py measure --mode quick $(NOTEBOOKS)
	$(BIN)/python tools/student.py --exercises

bench: $(VENV)/.installed  ## Run the benchmarks; they print their figures.
	$(BIN)/python benchmarks/data_loading.py
	$(BIN)/python benchmarks/baseline_training.py
	$(BIN)/python benchmarks/training_profile.py
	$(BIN)/python benchmarks/model_comparison.py

# Mutation testing takes about 1.5 hours on 2 cores: not part of `make test`. Its summary,
# with the date and the commit, goes to benchmarks/results/mutation.md (git add -f: results/ is ignored).
mutation: $(VENV)/.installed-dev  ## Mutation testing of the package (mutmut); writes benchmarks/results/mutation.md.
	rm -rf mutants
	start=$$(date +%s); $(BIN)/mutmut run --max-children $$(nproc) && \
	$(BIN)/python benchmarks/mutation_report.py --seconds $$(( $$(date +%s) - start ))

clean:  ## Remove caches (keeps .venv and the data).
	rm -rf .pytest_cache .ruff_cache build *.egg-info mutants
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean  ## Also remove .venv.
	rm -rf $(VENV)
