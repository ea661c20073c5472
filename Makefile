# Two set-up-and-go commands for a fresh machine:
#   make bench   set up .venv, then run the main job
#   make test    set up .venv, then run the test suite
# make install-check installs a copy of the repository (not editable) into a fresh venv and
# checks it from a directory outside the tree, as a user's `pip install` would.
# Torch is installed first and pinned (2.13.0, CPU build): letting pip resolve torch on its own
# would download a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0

.PHONY: venv bench test lint install-check bench-envs paper clean browser

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

# Slow tests (coverage simulations) are left out; run them with: $(PY) -m pytest -m slow
test: venv
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow"

lint: venv
	$(VENV)/bin/ruff check rlbench3 tests scripts

CHECK := $(CURDIR)/.install-check

install-check:
	rm -rf $(CHECK) && mkdir -p $(CHECK)/src $(CHECK)/elsewhere
	git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C $(CHECK)/src
	$(PYTHON) -m venv $(CHECK)/venv
	$(CHECK)/venv/bin/python -m pip install --quiet --upgrade pip
	$(CHECK)/venv/bin/python -m pip install --quiet $(TORCH)
	$(CHECK)/venv/bin/python -m pip install --quiet $(CHECK)/src
	cd $(CHECK)/elsewhere && $(CHECK)/venv/bin/python $(CURDIR)/scripts/check_install.py
	cd $(CHECK)/elsewhere && $(CHECK)/venv/bin/rlbench3 run quick --dry-run > ../dry-run.txt
	tail -n 1 $(CHECK)/dry-run.txt
	rm -rf $(CHECK)

# The report page's browser test (tests/test_report.py) opens a page in headless Chromium, and
# skips where there is none. CI installs Debian's package first (as root or through sudo); nothing
# is done when it is installed already, the package lists are refreshed only if needed, and a
# machine where it cannot be installed gets a warning (the test then skips, saying why).
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium: installed"; \
	else \
		SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		APT="$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -y -q"; \
		$$APT install chromium >/dev/null 2>&1 || \
			{ $$APT update >/dev/null && $$APT install chromium >/dev/null; } && \
		echo "chromium: installed" || \
		echo "chromium: could not be installed; the browser test will be skipped" >&2; \
	fi

# Every paper table at smoke scale (each resumable: a rerun only renders), then one report page.
PAPER_TABLES := T1 T2 T3 T4 T5 T6 T7
paper: venv
	for t in $(PAPER_TABLES); do $(VENV)/bin/rlbench3 paper $$t --scale smoke -r results/paper/$$t || exit 1; done
	$(VENV)/bin/rlbench3 report -r results/paper -o results/paper/report.html

bench-envs: venv
	$(PY) scripts/bench_envs.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .install-check

# A two-node local Ray cluster runs a tiny suite; its table must equal the process pool's
# (scripts/ray_cluster_check.sh; uses the existing .venv, stops only the cluster it started).
.PHONY: ray-check
ray-check:
	bash scripts/ray_cluster_check.sh
