# Two commands do all the set-up (see README.md):
#   make lab    create .venv if needed with what a learner needs ([lab] extra), write the student
#               editions, open JupyterLab on them
#   (make lab-ko: the same in Korean, 한국어판; see "The Korean edition" below)
#   make test   create .venv if needed with what teachers and CI need ([lab,test,hub]), then run
#               every test (unit tests + nbval + browser + hub)
#
# PyTorch: a CPU build by default on every machine (the notebooks train on the CPU). Choose with
# TORCH=cpu | cuda | '<pip requirement>', e.g.
#   make lab TORCH=cuda
# (only used when .venv has no torch yet; see tools/install_torch.py).
# The Python that builds .venv: PYTHON=python3.12 (tools/check_python.py checks it first).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# What is installed: the learner's environment, then (for every other target) the teachers' and CI's.
LAB_STAMP := $(VENV)/.coursekit-lab
ALL_STAMP := $(VENV)/.coursekit-all
KO_STAMP  := $(VENV)/.coursekit-ko
BOOK_STAMP := $(VENV)/.coursekit-book
TORCH  ?=
PYTEST_ARGS ?=

export COURSEKIT_TORCH := $(TORCH)
# Reproducible, quiet numerics for tests and notebooks.
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED  ?= 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# JupyterLab refuses to start as root ("Running as root is not recommended. Use --allow-root
# to bypass."), and root is how many containers run (Docker images, some hubs, CI runners).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
ROOT_NOTE  := echo "make: running as root (as in many containers): starting JupyterLab with --allow-root"
# ipykernel's upper bound (the hang it avoids) is in pyproject.toml's [lab] extra, for every route.
# JupyterHub's proxy for the hub test (npm package; .ci/run and `make hub-test` install it here).
CHP    := .ci-tools/node_modules/.bin/configurable-http-proxy

# The interpreter's version is checked before anything is made; a venv that cannot run pip (Debian and
# Ubuntu without python3-venv: `python3 -m venv` fails after writing .venv/bin/python) is removed, so
# the next `make` starts afresh instead of running pip in a venv without pip.
define MAKE_VENV
if ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found: install Python >= 3.11, or say which one: make lab PYTHON=python3.12" >&2; exit 1; }; \
	$(PYTHON) tools/check_python.py || exit 1; \
	rm -rf $(VENV); \
	echo "make: creating the virtual environment $(VENV) with $(PYTHON)"; \
	if ! $(PYTHON) -m venv $(VENV) || ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
		rm -rf $(VENV); \
		echo "make: '$(PYTHON) -m venv' could not make a virtual environment with pip (removed $(VENV)). On Debian or Ubuntu: sudo apt install python3-venv (or python3.X-venv for your Python), then run make again." >&2; \
		exit 1; \
	fi; \
fi; \
$(BIN)/python tools/check_python.py || { echo "make: $(VENV) was made with an older Python: make clean, then make lab PYTHON=python3.11 (or newer)" >&2; exit 1; }
endef

.PHONY: venv lab lab-ko korean lab-instructor book test test-fast test-notebooks test-robust census browser-test hub-test lint student nbgrader-source execute benchmark clean clean-all help

help:
	@echo "make lab            self-study: student editions in student/, opened in JupyterLab (the [lab] extra only)"
	@echo "make lab-ko         한국어판: the Korean student editions in ko/student/, JupyterLab in Korean ([lab,ko])"
	@echo "make korean         build the Korean notebooks into ko/notebooks/ (fails if a catalog is not ready)"
	@echo "make venv           only create .venv (the Python version is checked first)"
	@echo "make lab-instructor teaching: JupyterLab on the complete notebooks in notebooks/"
	@echo "make book           the course as a static web book in build/book/ (offline, from the committed notebooks)"
	@echo "make test           run every test: unit tests, nbval on every notebook, browser test"
	@echo "make test-fast      unit tests only"
	@echo "make test-notebooks nbval on every notebook only"
	@echo "make test-robust    every claim over other seeds and PyTorch's scalar kernels (tools/sweep_seeds.py)"
	@echo "make census         every claim over 20 seed triplets + 3 on scalar kernels; writes the ledger"
	@echo "make browser-test   JupyterLab in Chromium, widgets driven by a test"
	@echo "make hub-test       a real JupyterHub on 127.0.0.1, 8 simulated learners (deploy/jupyterhub/)"
	@echo "make lint           ruff over the package, tests, tools and benchmarks"
	@echo "make execute NB=notebooks/01_vanishing_gradients.ipynb   re-execute a notebook in place"
	@echo "make student        generate the student editions into student/ (and the Korean ones into ko/student/)"
	@echo "make nbgrader-source COURSE=~/course   an nbgrader course directory from the notebooks (docs/teaching.md)"
	@echo "make benchmark      run the speed benchmarks"
	@echo "make clean          remove .venv (your copies in student/ stay); make clean-all removes student/ too"

venv:
	@$(MAKE_VENV)

# A learner's environment: coursekit, PyTorch (CPU unless TORCH= says otherwise), the [lab] extra.
$(LAB_STAMP): pyproject.toml tools/install_torch.py tools/check_python.py
	@$(MAKE_VENV)
	$(BIN)/python tools/install_torch.py
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	@touch $@

# Teachers and CI: tests, nbgrader, JupyterHub and nbgitpuller on top, the Korean language pack
# (the browser test opens a Korean notebook in a Korean JupyterLab) and the book's packages
# (tests/test_book.py builds the book and reads it in Chromium).
$(ALL_STAMP): $(LAB_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[lab,test,hub,ko,book]"
	@touch $@

# Korean learners: JupyterLab's Korean language pack on top of the learner's environment ([ko] extra).
$(KO_STAMP): $(LAB_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[lab,ko]"
	@touch $@

# The static book: Sphinx, MyST-NB, the book theme, copy buttons, MathJax shipped with the site.
$(BOOK_STAMP): $(LAB_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[lab,book]"
	@touch $@

# Self-study is the default: exercises blank in student/ (edited copies are kept),
# with the complete notebooks/ one folder up for peeking at a solution.
lab: $(LAB_STAMP)
	$(BIN)/python tools/make_student.py
	@$(if $(ALLOW_ROOT),$(ROOT_NOTE))
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=. --ContentsManager.preferred_dir=student

# The Korean edition (한국어판, issue 29). ko/ is generated, never edited by hand:
# ko/notebooks/ holds the Korean notebooks that tools/i18n.py builds from notebooks/ and the catalogs
# locale/ko/notebooks/NN_name.po (markdown, code comments and docstrings translated; code and outputs are the English
# run's, so nothing is run again; nbval never collects ko/). They are committed, and a test fails when one
# is not the build of its notebook and catalog (run `make korean`, commit). ko/student/ (git-ignored)
# holds their student editions, made by
# tools/make_student.py exactly as for English. `make korean` refuses a catalog that is untranslated,
# fuzzy (its English changed) or out of date; `make lab-ko` and `make student` build the notebooks whose
# catalogs are ready and name the others.
# A target of its own, not `make lab LANG=ko`: LANG is the locale variable of every shell and program,
# and make exports a variable given on its command line to every recipe's environment, so LANG=ko would
# reach pip, Python and JupyterLab as the locale "ko" (no such locale: warnings, C-locale text handling),
# and would not select JupyterLab's language anyway. lab-ko starts JupyterLab with the settings override
# locale/ko/jupyterlab/overrides.json, which selects the Korean language pack (ko_KR); a language you
# choose yourself in Settings > Language still wins.
KO_SETTINGS := locale/ko/jupyterlab
KO_BUILD    := $(BIN)/python tools/i18n.py build --skip-incomplete --student ko/student

korean: $(LAB_STAMP)
	$(BIN)/python tools/i18n.py build

lab-ko: $(KO_STAMP)
	$(KO_BUILD)
	@mkdir -p ko/student
	@$(if $(ALLOW_ROOT),$(ROOT_NOTE))
	$(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=. --ContentsManager.preferred_dir=ko/student --LabApp.app_settings_dir=$(KO_SETTINGS)

lab-instructor: $(LAB_STAMP)
	@$(if $(ALLOW_ROOT),$(ROOT_NOTE))
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/

# The course as a static web book, offline and from the committed notebooks (nothing is executed):
# build/book/en/, and build/book/ko/ from the Korean notebooks that tools/i18n.py builds into BOOK_KO
# (the chapters whose catalogs are complete); each chapter links to its counterpart where there is one.
# Open build/book/index.html.
BOOK_KO ?= ko/notebooks
book: $(BOOK_STAMP)
	@if $(BIN)/python tools/i18n.py build --help >/dev/null 2>&1; then \
		$(BIN)/python tools/i18n.py build --skip-incomplete --out $(BOOK_KO); fi
	$(BIN)/python tools/build_book.py --lang en $$(ls $(BOOK_KO)/[0-9][0-9]_*.ipynb >/dev/null 2>&1 && echo --lang ko --notebooks ko=$(BOOK_KO))

# nbval runs NBVAL_JOBS notebooks at a time (pytest-xdist; --dist loadfile keeps every cell of a
# notebook in one worker, so in one kernel). Each kernel computes on one thread (OMP_NUM_THREADS), so
# two notebooks use the 2 cores of a CI machine: the series took 3.1 min there instead of 5.9 min.
# NBVAL_JOBS=1 runs them one after another.
NBVAL_JOBS ?= 2
NBVAL_PAR  := $(if $(filter-out 1,$(NBVAL_JOBS)),-n $(NBVAL_JOBS) --dist loadfile)

# A claim that does not hold prints ✗ and the notebook goes on, for a learner; the tests want it to
# raise, with the expected result and the failing numbers (coursekit/claims.py).
STRICT := COURSEKIT_CLAIMS=strict

# The unit tests (browser and hub tests included), then nbval; both run even if the first fails.
test: $(ALL_STAMP)
	@status=0; \
	$(BIN)/python -m pytest tests $(PYTEST_ARGS) || status=$$?; \
	$(STRICT) $(BIN)/python -m pytest notebooks $(NBVAL_PAR) $(PYTEST_ARGS) || status=$$?; \
	exit $$status

test-fast: $(ALL_STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not hub and not grading" $(PYTEST_ARGS)

test-notebooks: $(ALL_STAMP)
	$(STRICT) $(BIN)/python -m pytest notebooks $(NBVAL_PAR) $(PYTEST_ARGS)

# Claims over seeds and another numeric path (docs/testing.md, "In CI"): every cell of the swept notebooks
# must pass with SEED = 1 and with SEED = 2 on PyTorch's scalar kernels; then nbval compares those
# notebooks strictly under the scalar kernels, as another CPU would run them.
test-robust: $(ALL_STAMP)
	$(STRICT) $(BIN)/python tools/sweep_seeds.py
	$(STRICT) ATEN_CPU_CAPABILITY=default $(BIN)/python -m pytest $$($(BIN)/python tools/sweep_seeds.py --list) $(NBVAL_PAR) $(PYTEST_ARGS)

# The claim census (CONTRIBUTING.md): every claim and assert over many seed triplets, without stopping;
# writes coursekit/claims_ledger.json and docs/claims-ledger.md. About an hour for every notebook on
# two cores; CENSUS_ARGS="notebooks/05_rbm_dbn_pretraining.ipynb --triplets 10" for a part.
CENSUS_ARGS ?=
census: $(ALL_STAMP)
	$(BIN)/python tools/census.py $(CENSUS_ARGS)

# ruff comes with the dev extra; the rules are fixed in pyproject.toml
lint: $(ALL_STAMP)
	@test -x $(BIN)/ruff || $(BIN)/python -m pip install --quiet "ruff>=0.4"
	$(BIN)/ruff check coursekit tests tools benchmarks deploy

browser-test: $(ALL_STAMP)
	$(BIN)/python -m pytest tests -m browser $(PYTEST_ARGS)

# Installs JupyterHub's proxy with npm first if it is missing and npm is here (Debian: apt-get install nodejs npm).
hub-test: $(ALL_STAMP)
	@test -x $(CHP) || ! command -v npm >/dev/null || npm install --prefix .ci-tools --no-audit --no-fund --silent configurable-http-proxy
	$(BIN)/python -m pytest tests/test_hub.py -m hub -s $(PYTEST_ARGS)

execute: $(ALL_STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NB)

student: $(LAB_STAMP)
	$(BIN)/python tools/make_student.py
	$(KO_BUILD)

# nbgrader: source notebooks with nbgrader's metadata, and nbgrader_config.py the first time (docs/teaching.md)
nbgrader-source: $(ALL_STAMP)
	@test -n "$(COURSE)" || { echo "make nbgrader-source: say where, e.g. make nbgrader-source COURSE=~/course"; exit 2; }
	$(BIN)/python tools/make_nbgrader.py $(COURSE) $(NBGRADER_ARGS)

benchmark: $(ALL_STAMP)
	$(BIN)/python benchmarks/bench_fit.py
	$(BIN)/python benchmarks/bench_widgets.py
	$(BIN)/python benchmarks/bench_rbm.py

# `make clean` is what the README suggests before changing the PyTorch build or the Python: it keeps
# student/ and ko/student/, the learner's work; `make clean-all` removes them too.
clean:
	rm -rf $(VENV) artifacts .pytest_cache

clean-all: clean
	rm -rf student ko/student
