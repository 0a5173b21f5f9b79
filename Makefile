# One entry point. `make run` starts the local stack, `make test` runs every test tier.
# Both create .venv and install requirements-dev.txt on first use (and again when it changes), then the
# `batchcall` CLI (pyproject.toml: the batchcall_cli package only) as .venv/bin/batchcall.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# `make run PORT=8100 AWS_PORT=4566`: the API's port, and the emulator's (0: any free one).
PORT ?= 8000
AWS_PORT ?= 0
# `make run DATA=path`: where the local stack keeps its data (default: .data); `make run FRESH=1` deletes it first.
DATA ?=
FRESH ?=
# `make run FAULTS="seed=7,rate=0.05"`: seeded fault injection in the queue consumers (local/faults.py; local only).
FAULTS ?=

.PHONY: run test test-tiers lint format bench bench-smoke clean

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: $(VENV)/.installed
	$(PY) -m local $(if $(FAULTS),--faults $(FAULTS) )$(if $(DATA),--data $(DATA) )$(if $(filter 1 yes true,$(FRESH)),--fresh )--port $(PORT) --aws-port $(AWS_PORT)

# Coverage is measured over the unit tier only: Python 3.11 has no cheap tracer (coverage's sys.monitoring
# core needs 3.12), and tracing the moto tiers doubles their time; pyproject.toml holds the floor. The one
# CPU-bound equivalence test runs untraced (traced, its ~30 s grow past the 120 s test timeout).
UNTRACED := tests/unit/domain/test_fast_numbers.py
# The chaos seeds (issue 18; CPU-bound, in-process moto, nothing shared on disk or ports) run in a second
# process beside the other tiers, so `make test` uses both cores: their output is shown when they end, and
# both must pass. When the other tiers fail, the seeds are stopped (the build has failed already).
CHAOS_TEST := tests/integration/workers/test_chaos.py
test: $(VENV)/.installed lint
	@log=$$(mktemp); start=$$(date +%s); \
	$(PY) -m pytest $(CHAOS_TEST) -p no:logging > $$log 2>&1 & chaos=$$!; \
	trap 'kill $$chaos 2> /dev/null; rm -f $$log' EXIT INT TERM; \
	$(MAKE) --no-print-directory test-tiers; tiers=$$?; \
	if [ $$tiers -ne 0 ]; then kill $$chaos 2> /dev/null; fi; \
	wait $$chaos; seeds=$$?; \
	echo "== $(CHAOS_TEST) (second process, exit $$seeds, done $$(( $$(date +%s) - start )) s after the start):"; \
	cat $$log; [ $$tiers -eq 0 ] && [ $$seeds -eq 0 ]
	$(MAKE) bench-smoke
	$(MAKE) synth checkov test-infra

# Every pytest tier but the chaos seeds (`make test` runs those beside it), each tier's wall time printed.
test-tiers: $(VENV)/.installed
	$(PY) -m coverage run -m pytest tests/unit --ignore=$(UNTRACED)
	@echo "coverage of chalicelib by tests/unit: $$($(PY) -m coverage report --format=total)%"
	$(PY) -m coverage report --format=total > /dev/null
	$(PY) -m pytest $(UNTRACED)
	@start=$$(date +%s); $(PY) -m pytest --ignore=tests/unit --ignore=$(CHAOS_TEST); rc=$$?; \
	echo "tests outside tests/unit and the chaos seeds: $$(( $$(date +%s) - start )) s"; exit $$rc

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `make bench`: every script in bench/ at full size (figures for bench/RESULTS.md; tens of minutes).
# `make bench-smoke` (part of `make test`): each at a tiny size with --smoke, so a broken benchmark fails
# the build; it asserts no figures. Every bench/*.py but the shared helper is a script (a new one needs --smoke).
BENCH_SCRIPTS := $(filter-out stackutil,$(basename $(notdir $(sort $(wildcard bench/*.py)))))

bench: $(VENV)/.installed
	@set -e; for script in $(BENCH_SCRIPTS); do echo "== bench/$$script.py"; $(PY) bench/$$script.py; done

bench-smoke: $(VENV)/.installed
	@set -e; for script in $(BENCH_SCRIPTS); do \
		start=$$(date +%s); $(PY) bench/$$script.py --smoke > /dev/null \
			|| { echo "bench-smoke: bench/$$script.py --smoke failed (its errors are above)"; exit 1; }; \
		echo "bench-smoke: bench/$$script.py ok in $$(( $$(date +%s) - start )) s"; \
	done

# `make chaos SEEDS=10000 FIRST=1`: the chaos test (issue 18) over more seeds; `make test` runs seeds 1-200 (README, Reliability).
# Each seed starts from an empty stack at a fixed instant: `make chaos FIRST=<seed> SEEDS=1` replays one alone.
SEEDS ?= 1000
FIRST ?= 1
.PHONY: chaos
chaos: $(VENV)/.installed
	CHAOS_SEEDS=$(SEEDS) CHAOS_FIRST_SEED=$(FIRST) $(PY) -m pytest tests/integration/workers/test_chaos.py -q -p no:logging

# `make chaos-compare FIRST=180 SEEDS=20`: runs those seeds in one process, then each alone in a new one (as the
# printed replay command does), and prints every seed whose faults or end state differ (tests/support/trails.py).
.PHONY: chaos-compare
chaos-compare: $(VENV)/.installed
	@dir=$$(mktemp -d); trap 'rm -rf $$dir' EXIT; \
	CHAOS_TRAILS=$$dir/run.jsonl CHAOS_SEEDS=$(SEEDS) CHAOS_FIRST_SEED=$(FIRST) $(PY) -m pytest $(CHAOS_TEST) -q -p no:logging -k test_campaigns_under > /dev/null; \
	for seed in $$(seq $(FIRST) $$(( $(FIRST) + $(SEEDS) - 1 ))); do \
	  CHAOS_TRAILS=$$dir/alone.jsonl CHAOS_SEEDS=1 CHAOS_FIRST_SEED=$$seed $(PY) -m pytest $(CHAOS_TEST) -q -p no:logging -k test_campaigns_under > /dev/null; \
	done; \
	$(PY) -m tests.support.trails $$dir/run.jsonl $$dir/alone.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Deployment (infra/, see infra/README.md): its own venv, since aws-cdk-lib makes a ~700 MB environment.
# `make synth` synthesizes the CDK app offline into cdk.out (and, with a customer-managed KMS key, into
# cdk.out.kms) and lints both; `make checkov` scans them (its own venv); `make test-infra` runs tests/infra.
INFRA_VENV ?= .venv-infra
INFRA_PY := $(INFRA_VENV)/bin/python
CDK_OUT ?= cdk.out
CDK_OUT_KMS ?= cdk.out.kms
CHECKOV_VENV ?= .venv-checkov

.PHONY: synth checkov test-infra clean-infra

$(INFRA_VENV)/.installed: requirements.txt requirements-infra.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_PY) -m pip install --quiet --upgrade pip
	$(INFRA_PY) -m pip install --quiet -r requirements-infra.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

synth: $(INFRA_VENV)/.installed
	rm -rf $(CDK_OUT) $(CDK_OUT_KMS)
	$(INFRA_PY) infra/app.py --outdir $(CDK_OUT)
	$(INFRA_PY) infra/app.py --outdir $(CDK_OUT_KMS) -c kms=customer
	$(INFRA_PY) infra/expand.py $(CDK_OUT)
	$(INFRA_PY) infra/expand.py $(CDK_OUT_KMS)
	$(INFRA_VENV)/bin/cfn-lint $(CDK_OUT)/*.template.json $(CDK_OUT)/*.expanded.json \
		$(CDK_OUT_KMS)/*.template.json $(CDK_OUT_KMS)/*.expanded.json

# Scans what `make synth` wrote, offline; fails on any failed check and prints every skip with its reason.
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/python infra/scan.py $(CDK_OUT) $(CDK_OUT_KMS)

test-infra: $(INFRA_VENV)/.installed
	$(INFRA_PY) -m pytest tests/infra

clean-infra:
	rm -rf $(INFRA_VENV) $(CHECKOV_VENV) $(CDK_OUT) $(CDK_OUT_KMS)
