# The two set-up commands of the README: `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SCALE  ?= quick
TAG    ?=
# a variant beside the baseline: make reproduce SCALE=quick TAG=lr01 (results/quick-lr01/)
RESULTS := $(SCALE)$(if $(TAG),-$(TAG))
CORES  ?= all

.PHONY: reproduce test lint venv clean-smoke

venv: $(VENV)/.installed

# (Re)install when the pins change; pip takes torch/torchvision from local wheels where they exist.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,slurm]"
	touch $@

# A killed run (SIGKILL, power loss) leaves Snakemake's lock behind; it is removed when no Snakemake
# process runs on this machine (the snakemake command, or python -m snakemake; the brackets keep
# pgrep from matching this shell line).
reproduce: venv
	@if [ -n "$$(ls -A .snakemake/locks 2>/dev/null)" ] && ! pgrep -x snakemake >/dev/null \
		&& ! pgrep -f "[p]ython[0-9.]* -m [s]nakemake" >/dev/null; then \
		echo "removing a stale Snakemake lock (no Snakemake process is running)"; \
		$(BIN)/snakemake --unlock --config scale=$(SCALE); fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES) --config scale=$(SCALE) tag=$(TAG)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --config scale=$(SCALE) tag=$(TAG) --report results/$(RESULTS)/report.html

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint --config scale=smoke

test: venv lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest
