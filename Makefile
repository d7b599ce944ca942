# fpt-book: `make test` (ruff + pytest) and `make book` (execute notebooks, build HTML).
PRESET ?= default
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint format book notebooks html clean bench mutants gpu-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,book]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest -q

notebooks: venv
	$(BIN)/python tools/execute_notebooks.py --preset $(PRESET)

html: venv
	$(BIN)/jupyter-book build . -W --keep-going

book: notebooks html
	@echo "Book built at _build/html/index.html (preset=$(PRESET))"

clean:
	rm -rf _build book/executed

bench: venv
	$(BIN)/python bench/bench_engine.py

mutants: venv  # plant known bugs in a copy, one at a time: which do the tests miss?
	$(BIN)/python tools/mutants.py

GPU_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)
gpu-check:  # needs a CUDA GPU; <= 8 min on one H100; writes bench/gpu_results.json (--smoke: CPU toy)
	PYTHONUNBUFFERED=1 $(GPU_PYTHON) bench/gpu_check.py
