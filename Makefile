# make test     what CI runs (.ci/run): the test environment up, go vet, go test ./...
# make testenv  start (or keep) the engine, the Python base image and the registries
# make demo     the test environment up, then scripts/demo
# make bench    go benchmarks, then every scripts/bench-* (they compare with reference tools)
# make lint     gofmt, go vet, shellcheck
# make fuzz     every fuzz target for FUZZTIME each (default 30s); the seeds also run in make test
# docs/testing.md explains the environment and its variables.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
TESTENV := scripts/testenv
# The e2e tests talk to a live engine and live registries, whose state go test's cache
# cannot see: always run them.
GOTESTFLAGS ?= -count=1
# CI=true turns a missing test environment from a skip into a failure
# (release/releasetest); pass it through whatever sets it.
export CI

.PHONY: all build test testenv testenv-status testenv-down vet lint demo bench fuzz

all: build

build:
	$(GO) build -o bin/release ./cmd/release

testenv:
	$(TESTENV) up

testenv-status:
	$(TESTENV) status

testenv-down:
	$(TESTENV) down

vet:
	$(GO) vet ./...

test: testenv vet
	eval "$$($(TESTENV) env)"; $(GO) test $(GOTESTFLAGS) ./...

lint: vet
	@files=$$($(GO) list -f '{{.Dir}}' ./... | xargs gofmt -l); \
	if [[ -n $$files ]]; then echo "gofmt -w needed:" >&2; echo "$$files" >&2; exit 1; fi
	@if command -v shellcheck >/dev/null; then shellcheck scripts/testenv scripts/demo scripts/bench-build scripts/bench-cut scripts/bench-find scripts/bench-promote scripts/bench-version.sh scripts/bench-gitinfo.sh .ci/run; \
	else echo "shellcheck not installed: skipped" >&2; fi

# The story of docs/demo.md: cut v0.1.0, a feat: commit, cut v0.2.0, promote, inspect, find, diff on the sample app
# (cmd/release TestDemo runs the same script in make test).
demo: testenv
	eval "$$($(TESTENV) env --docker)"; scripts/demo

# One shell, so the bench scripts see the RELEASE_TEST_* variables too.
bench: testenv
	eval "$$($(TESTENV) env)"; \
	$(GO) test -run '^$$' -bench . -benchmem ./...; \
	for script in scripts/bench-*; do \
		if [[ -f $$script && -x $$script ]]; then echo "== $$script"; "$$script"; fi; \
	done

FUZZTIME ?= 30s
# Each target alone: go test -fuzz takes one target per run.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done
