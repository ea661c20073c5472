# Two set-up-and-go commands for a fresh machine:
#   make bench   set up .venv, then run the main job
#   make test    set up .venv, then run the test suite
# Torch is installed first and pinned (2.13.0, CPU build): letting pip resolve torch on its own
# would download a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0

.PHONY: venv bench test lint bench-envs clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	touch $@

bench: venv
	$(VENV)/bin/rlbench3 survey
	$(VENV)/bin/rlbench3 run quick

test: venv
	$(PY) -m pytest -q -m "not slow" -p no:cacheprovider

lint: venv
	$(VENV)/bin/ruff check rlbench3 tests scripts

bench-envs: venv
	$(PY) scripts/bench_envs.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
