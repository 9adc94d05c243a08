# tritongrad: venv + install + demo/test/bench.
# Without a GPU the CPU build of torch is installed first (a plain `torch` requirement
# would pull a multi-GB CUDA build); with one, the torch already present is kept (the
# venv sees the system site-packages, where GPU images carry torch and triton).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_CPU_VERSION ?= 2.13.0

.PHONY: venv install demo test test-fast lint report bench-smoke bench clean

$(BIN)/python:
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python

install: venv
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "GPU found: keeping the installed torch"; \
	else \
		$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "torch==$(TORCH_CPU_VERSION)"; \
	fi
	$(BIN)/python -m pip install -q -e ".[dev,examples]"

demo: install
	$(BIN)/python examples/demo.py
	$(BIN)/python examples/transparent_net.py
	$(BIN)/python examples/mlp_digits.py

test: install
	$(BIN)/python -m pytest -n 2 -q

test-fast: install
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

report: install
	$(BIN)/python benchmarks/kernel_report.py

bench-smoke: install
	$(BIN)/python -m benchmarks run --smoke

bench: install
	$(BIN)/python -m benchmarks run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
