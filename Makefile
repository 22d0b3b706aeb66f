# segml — two commands on a fresh machine with only Python: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint lab bench bench-scale screenshots clean venv

# (Re)build the virtualenv when it is absent or pyproject.toml / the lock changed.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev,notebooks,excel,serve,spark]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/segml run --force

# Two pytest-xdist workers, one test file per worker at a time (module fixtures built once);
# tests/conftest.py makes each notebook run its own unit, spreads tests/spark/ over both workers
# (one JVM each), and hands the Spark files and the notebooks out first (--no-loadscope-reorder keeps that).
test: $(STAMP)
	$(BIN)/ruff check segml tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check segml tests bench

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# issue 19: segml stage by stage against pandas/polars + scikit-learn; SIZE=smoke|quick|full
SIZE ?= quick
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py --size $(SIZE)

# Front page of the report for the demo run and CDNOW, rendered in headless Chromium.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots/regenerate.py demo cdnow

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
