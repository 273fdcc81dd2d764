# fedstate — run `make help` for the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
BIN           := bin
# The test-bed binaries are built here, keyed by version (git-ignored).
export FEDSTATE_CACHE_DIR ?= $(CURDIR)/.cache
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT  ?= 30m
GENERATED     := federation/api/v1alpha1/zz_generated.deepcopy.go config/crd/bases

.PHONY: help
help: ## List the targets with a line of explanation each.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build fedctl and fedstate into bin/, and fedctl as the kubectl plugin bin/kubectl-fedstate.
	$(GO) build -o $(BIN)/ ./cmd/...
	ln -f $(BIN)/fedctl $(BIN)/kubectl-fedstate 2>/dev/null || cp -f $(BIN)/fedctl $(BIN)/kubectl-fedstate

.PHONY: tools
tools: build ## Build the test-bed binaries (Kubernetes, etcd, kwok) into .cache; ~6-8 min cold, a no-op when cached.
	$(BIN)/fedctl testbed build

.PHONY: test
test: tools ## Run every test against real API servers (what CI runs).
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

# The robustness suite: ITER iterations of a randomized fault schedule
# (SEED replays one; FAULTS restricts the kinds), report in ROBUSTNESS_REPORT.
ITER ?= 5
SEED ?= 0
FAULTS ?=
ROBUSTNESS_REPORT ?= robustness-report.json

.PHONY: test-robustness
test-robustness: tools ## Run the robustness suite (ITER=5; ITER=100 for a long run; SEED=s FAULTS=kind to replay).
	$(GO) test -tags robustness -count=1 -timeout 600m -v -run TestRobustness ./e2e/robustness/ \
	  -iter $(ITER) -seed $(SEED) -faults '$(FAULTS)' -report $(abspath $(ROBUSTNESS_REPORT))

.PHONY: demo
demo: build ## Start the local federation, run PostgreSQL over three regions, rehearse a region outage; leaves it running.
	FEDCTL=$(BIN)/fedctl e2e/demo/demo.sh

.PHONY: demo-down
demo-down: build ## Stop the local federation of make demo and remove its folder.
	$(BIN)/fedctl local down

.PHONY: generate
generate: ## Generate deep-copy functions for the API types.
	$(GO) tool controller-gen object paths=./federation/api/...

.PHONY: manifests
manifests: ## Generate the CRD manifests into config/crd/bases.
	$(GO) tool controller-gen crd:generateEmbeddedObjectMeta=true paths=./federation/api/... output:crd:artifacts:config=config/crd/bases

# placement and replication/failover are pure cores: no Kubernetes, etcd or
# gossip client anywhere in their dependencies. placement does not import
# time at all; replication/failover takes time from its events only (its
# TestPureCore rejects clock reads).
PURE_FORBIDDEN := k8s.io/|sigs.k8s.io/controller-runtime|go.etcd.io/|github.com/hashicorp/memberlist
PURE_PACKAGES  := ./placement ./replication/failover

.PHONY: check-imports
check-imports: ## Fail if placement or replication/failover depend on client libraries, etcd, memberlist or the clock.
	@for pkg in $(PURE_PACKAGES); do \
	  bad=$$($(GO) list -deps $$pkg | grep -E '^($(PURE_FORBIDDEN))' || true); \
	  if [ -n "$$bad" ]; then echo "$$pkg must not depend on:"; echo "$$bad" | head -5; exit 1; fi; \
	done
	@if $(GO) list -f '{{join .Imports "\n"}}' ./placement | grep -qx time; then \
	  echo "placement must not import time: pass now in"; exit 1; fi
	@echo "pure core imports: ok"

.PHONY: verify
verify: generate manifests check-imports ## Fail on unformatted code, go vet findings, stale generated files, forbidden imports in the pure cores or an untidy go.mod.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed on: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if ! git diff --quiet -- $(GENERATED) || [ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED))" ]; then \
	  echo "generated files are stale; run 'make generate manifests' and commit:"; git status --short -- $(GENERATED); exit 1; fi
	$(GO) mod tidy -diff

.PHONY: lint
lint: ## Run go vet and staticcheck (built from the module proxy).
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

.PHONY: testbed-up
testbed-up: tools ## Start a hub and three members on loopback and print their kubeconfigs.
	$(BIN)/fedctl testbed up

.PHONY: testbed-down
testbed-down: build ## Stop the test bed started by testbed-up.
	$(BIN)/fedctl testbed down

.PHONY: testbed-status
testbed-status: build ## Show readiness and memory of the running test bed.
	$(BIN)/fedctl testbed status

.PHONY: bench-testbed
bench-testbed: tools ## Measure test-bed start-up (hub + 3 members) and memory, 5 runs.
	$(GO) test -run '^$$' -bench BenchmarkStart -benchtime 5x -count 1 ./e2e/testbed/

.PHONY: bench-placement
bench-placement: ## Benchmark the placement engine (ns/op and allocs/op per size).
	$(GO) test -run '^$$' -bench BenchmarkPlace -benchmem -count 1 ./placement/

# CoreDNS, the DNS server bench-dns compares against, built from the module proxy.
COREDNS_VERSION := v1.15.0
COREDNS         := $(FEDSTATE_CACHE_DIR)/coredns-$(COREDNS_VERSION)/coredns

$(COREDNS):
	GOBIN=$(dir $(COREDNS)) $(GO) install github.com/coredns/coredns@$(COREDNS_VERSION)

.PHONY: bench-dns
bench-dns: $(COREDNS) ## Measure fedstate dns against CoreDNS (file plugin) with dnsperf, servers on CPU 0, load on CPU 1.
	$(GO) build -o $(BIN)/ ./cmd/fedstate
	FEDSTATE_BIN=$(CURDIR)/$(BIN)/fedstate COREDNS_BIN=$(COREDNS) taskset -c 1 \
	  $(GO) test -run '^$$' -bench BenchmarkDNSPerf -benchtime 1x -count 1 -timeout 20m -v ./dnsserver/

.PHONY: bench-hub
bench-hub: tools ## Measure the hub with 1,000 services of 3 replicas on the test bed (BENCH_HUB_SERVICES=n to change).
	$(GO) test -run '^$$' -bench BenchmarkHub -benchtime 1x -count 1 -timeout 90m -v ./e2e/

# The agents' lease TTL in bench-failover: the unplanned failover time is
# about this plus half a second (docs/benchmarks.md says why 2 s is safe).
BENCH_LEASE_TTL ?= 2s

.PHONY: bench-failover
bench-failover: tools ## fedstate and Patroni (defaults, and timings like fedstate's) side by side: failover after the loss of the primary, planned switchovers, data lost by asynchronous failovers; BENCH_FAILOVER_ITER=n of each for fedstate (default 5), BENCH_PATRONI_ITER=n for each Patroni profile (default BENCH_FAILOVER_ITER); as root.
	@missing=(); command -v patroni >/dev/null || missing+=(patroni); \
	  [ -x /usr/lib/postgresql/15/bin/pg_rewind ] || missing+=(postgresql-15); \
	  if [ $${#missing[@]} -gt 0 ]; then \
	    echo "bench-failover: installing $${missing[*]}"; apt-get update; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$${missing[@]}"; fi
	FEDSTATE_LEASE_TTL=$(BENCH_LEASE_TTL) $(GO) test -run '^$$' -bench BenchmarkFailover -benchtime 1x -count 1 -timeout 240m -v ./e2e/failover/

.PHONY: clean
clean: ## Remove bin/ (keeps the test-bed binary cache; `rm -rf .cache` drops it).
	rm -rf $(BIN)
