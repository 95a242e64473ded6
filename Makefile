# One command per habit; `make help` lists them. The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export HF_HUB_OFFLINE := 1
# The MedQuAD knowledge base (general health questions): source data beside the checkout, index in HEALTHCHAT_HOME.
MEDQUAD ?= ../shared/data/medquad
KB_DIR := $(or $(HEALTHCHAT_HOME),$(HOME)/.healthchat)/kb
KB_STAMP := $(KB_DIR)/.built-$(shell cat functions/healthchat/qa/kb.py functions/healthchat/qa/medquad.py \
	functions/healthchat/qa/embeddings.py 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: help setup kb samples demo lint format unit test test312 pytest tools validate build bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,models]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP) kb ## create .venv with HealthChat and its dev tools, and build the knowledge base

$(KB_STAMP): | $(STAMP)
	@if [ -d "$(MEDQUAD)" ]; then \
		echo "building the MedQuAD knowledge base into $(KB_DIR) (a few minutes, once)"; \
		$(BIN)/healthchat kb build "$(MEDQUAD)" --out "$(KB_DIR)" && rm -f $(KB_DIR)/.built-* && touch $(KB_STAMP); \
	else \
		echo "NOTE: $(MEDQUAD) not found: no knowledge base (healthchat ask without --document will say so)"; \
	fi

kb: $(KB_STAMP) ## build the MedQuAD knowledge-base index (MEDQUAD=folder, default ../shared/data/medquad)

samples: setup ## generate the sample documents into samples/
	$(BIN)/python scripts/make_samples.py samples

demo: samples ## set up and run the sample documents through the embedded pipeline
	$(BIN)/healthchat process samples/

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

pytest: setup tools ## the test suites (unit, contract, statemachine, e2e)
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" $(BIN)/pytest -q

unit: setup ## the fast unit tests only
	$(BIN)/pytest -q tests/unit

tools: ## SAM CLI, cfn-lint, checkov, asl-validator in isolated environments under .tools/
	bash scripts/setup_tools.sh

validate: tools ## sam validate --lint, cfn-lint (serverless rules), checkov, asl-validator, sam build
	bash scripts/validate.sh

build: validate ## alias: sam build runs as the last step of validate

test312: tools ## unit, contract and statemachine tests on Python 3.12 (the Lambda runtime)
	@test -x .venv312/bin/python || "$$(cat .tools/python312.bin)/python3.12" -m venv .venv312
	.venv312/bin/python -m pip install -q -e ".[dev,models]" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
	.venv312/bin/pytest -q -p no:cacheprovider tests/unit tests/contract tests/statemachine

test: lint pytest test312 validate ## everything CI runs: lint, types, tests (3.11 and 3.12), template checks, sam build

clean: ## remove build outputs (keeps .venv and .tools)
	rm -rf .aws-sam samples .pytest_cache .mypy_cache .ruff_cache

bench: setup ## pipeline timings, cold imports, extraction, lab and content quality -> benchmarks/README.md
	$(BIN)/python benchmarks/pipeline.py --write
	$(BIN)/python benchmarks/extraction/run.py --write
	$(BIN)/python benchmarks/content/labs_bench.py --write
	$(BIN)/python benchmarks/content/content_bench.py --write
