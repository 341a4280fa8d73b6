# CHESS — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# Debian packages the build needs (system-library targets in Package.swift), and python3 (the
# demo's marketplace client, the interop test's eth-account).
DEBIAN_PACKAGES := zlib1g-dev libsqlite3-dev libhwloc-dev libnuma-dev libibverbs-dev libsecp256k1-dev python3
# And for the tests: MPICH, whose ranks find each other through srun's PMI in an end-to-end test.
TEST_PACKAGES := mpich libmpich-dev openssl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO_TRACE := examples/traces/KTH-SP2-1996-2.1-cln.swf.gz
DEMO_SCENARIO := examples/scenarios/small-cluster.json

.PHONY: deps build release run test bench bench-slurm completions clean

# Python with eth-account and eth-hash (from PyPI), for the settlement interop test.
INTEROP_VENV := .build-venv
INTEROP_PACKAGES := eth-account==0.14.0 eth-hash[pycryptodome]==0.8.0 openapi-spec-validator==0.9.0 schemathesis==4.32.5

## Install the Debian packages the build needs (only those missing).
deps:
	@command -v swift >/dev/null || { echo "Swift not found: install Swift 6.3 at /opt/swift" >&2; exit 1; }
	@missing=$$(for p in $(DEBIAN_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build

# Slurm's command names, links to chessctl (which takes their options): scripts that call them
# work unchanged, and jobs find them first in their PATH (beside the agent and srun). `sbatch`
# and `srun` are binaries of their own (without Foundation, they start faster).
SLURM_NAMES := squeue scancel sinfo sacct scontrol sprio sshare sstat seff sdiag sreport

release: deps
	@# An earlier release made sbatch a link to chessctl: the linker must not write through it.
	@if [ -L .build/release/sbatch ]; then rm .build/release/sbatch; fi
	swift build -c release
	@cd .build/release && for n in $(SLURM_NAMES); do ln -sf chessctl $$n; done

## The main job: a controller with the example configuration and a sample workload
## (scripts/demo-cluster.sh), then a replay of a real year of the KTH SP2 under each policy.
run: release
	@scripts/demo-cluster.sh
	@for policy in fcfs easy conservative; do \
		echo; echo "== chessctl simulate --policy $$policy $(DEMO_TRACE)"; \
		.build/release/chessctl simulate --policy $$policy $(DEMO_TRACE) || exit 1; \
	done
	@echo; echo "== chessctl simulate --policy easy --scenario $(DEMO_SCENARIO)"
	@.build/release/chessctl simulate --policy easy --scenario $(DEMO_SCENARIO)

$(INTEROP_VENV)/bin/python:
	python3 -m venv $(INTEROP_VENV) || { $(SUDO) apt-get install -y -qq python3-venv && python3 -m venv $(INTEROP_VENV); }
	$(INTEROP_VENV)/bin/pip install -q --disable-pip-version-check $(INTEROP_PACKAGES)

test: EXTRA_PACKAGES = $(TEST_PACKAGES)
test: deps $(INTEROP_VENV)/bin/python
	$(INTEROP_VENV)/bin/pip install -q --disable-pip-version-check $(INTEROP_PACKAGES)
	$(INTEROP_VENV)/bin/python scripts/check-openapi.py docs/openapi.yaml
	swift build --build-tests
	@# Output kept in .build/test.log; when the run fails, the tests that started and never
	@# ended (a crash, a hang) are named last, where a CI log's tail shows them.
	set -o pipefail; CHESS_PYTHON=$(CURDIR)/$(INTEROP_VENV)/bin/python swift test --skip-build 2>&1 | tee .build/test.log \
		|| { status=$$?; scripts/unfinished-tests.sh .build/test.log; exit $$status; }
	$(INTEROP_VENV)/bin/python scripts/api-contract.py

## Benchmarks: figures printed side by side; not part of the tests.
bench: deps
	@if [ -L .build/release/sbatch ]; then rm .build/release/sbatch; fi
	swift build -c release
	.build/release/chess-bench
	.build/release/chess-bench --agents 5000

## Shell completion scripts for chessctl, generated from its command definitions.
completions: release
	@mkdir -p .build/completions
	@for shell in bash zsh fish; do .build/release/chessctl --generate-completion-script $$shell > .build/completions/chessctl.$$shell; done
	@echo "written: .build/completions/chessctl.{bash,zsh,fish} (bash: copy to /etc/bash_completion.d/chessctl)"

## The controller and cluster figures beside Slurm 22.05 from Debian, installed and run here (root).
bench-slurm: release
	Benchmarks/slurm-compare.sh

clean:
	rm -rf .build
