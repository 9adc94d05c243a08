# tritongrad: venv + install + demo/test/bench.
#
# Without a GPU the venv is isolated: the CPU build of torch is installed first (a plain `torch`
# requirement would pull a multi-GB CUDA build), then tritongrad with its dev and example extras,
# so pytest, ruff and the rest are the venv's own, never the system's.
# With a GPU (nvidia-smi present) the venv sees the system site-packages instead: GPU images carry
# torch and triton built for their CUDA, and have no package registry to install them from.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_CPU_VERSION ?= 2.13.0
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo yes)
VENV_FLAGS := $(if $(HAS_GPU),--system-site-packages,)
# -qq: pip and the setuptools build backend print only errors (their notices about this machine's
# package mirrors and about editable installs say nothing about tritongrad).
PIP := $(BIN)/python -m pip -qq --disable-pip-version-check

.PHONY: venv install demo test test-all lint report bench-smoke bench wheel wheel-check compat compat-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

venv: $(BIN)/python

install: venv
	@echo "[install] tritongrad into $(VENV) (editable, with the dev and example extras)"
	@if [ -n "$(HAS_GPU)" ]; then \
		echo "[install] GPU found: keeping the system's torch and triton"; \
	else \
		$(BIN)/python -c "import torch" 2>/dev/null || $(PIP) install "torch==$(TORCH_CPU_VERSION)"; \
	fi
	@$(PIP) install -e ".[dev,examples]"

demo: install
	@$(BIN)/python examples/run_demo.py

# CI's command: everything but the tests marked slow (sized to stay near 15 minutes on 2 cores).
test: install
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

# Everything, the slow tests included (large offsets, the fuzzer's long run, reports, parity).
test-all: install
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

report: install
	$(BIN)/python -m benchmarks.kernel_report

bench-smoke: install
	$(BIN)/python -m benchmarks run --smoke

bench: install
	$(BIN)/python -m benchmarks run

# The wheel (and sdist) in dist/, built as a user's pip would build it.
wheel: install
	@rm -rf dist && mkdir dist
	@$(BIN)/python -m build --no-isolation --outdir dist . >dist/build.log 2>&1 || (cat dist/build.log; exit 1)
	@ls dist/*.whl dist/*.tar.gz

# The built wheel, installed non-editable into a fresh venv, imports and trains from outside the checkout.
wheel-check: wheel
	bash .ci/wheel_check dist

# The kernel tests against the oldest and newest supported (triton, numpy) pairs; see README "Supported versions".
compat:
	bash .ci/compat

compat-quick:
	bash .ci/compat --quick

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache .hypothesis
