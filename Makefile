# vcp: virtual-cluster multi-tenancy platform for Kubernetes.
# `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.DEFAULT_GOAL := help

ROOT    := $(abspath .)
BIN     := $(ROOT)/bin
TOOLS   := $(ROOT)/hack/tools
GO      ?= go
# Tests share two cores; more parallel packages only thrash.
GOTEST_P ?= 2
TEST_TIMEOUT ?= 40m

K8S_VERSION  := v1.36.3
ETCD_VERSION := v3.6.8
HELM_VERSION := v3.21.4
K8S_LDFLAGS  := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=36 \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=36

# The binaries `make tools` builds, and the package each comes from (hack/tools/go.mod pins them).
KUBE_TOOLS := kube-apiserver kube-controller-manager kube-scheduler kubectl
TOOL_DEPS  := $(TOOLS)/go.mod $(TOOLS)/go.sum
KWOK_STAGES := node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Local platform

.PHONY: up
up: tools build ## Start the local super cluster (a no-op when it already runs) and print what to do next.
	$(BIN)/vcctl dev up

.PHONY: down
down: ## Stop exactly the processes `make up` started; WIPE=1 also deletes the state in .vcp/.
	@if [ -x $(BIN)/vcctl ]; then $(BIN)/vcctl dev down $(if $(WIPE),--wipe); else echo "bin/vcctl not built: nothing was started"; fi

.PHONY: status
status: build ## Show where the local platform runs.
	$(BIN)/vcctl dev status

##@ Build

.PHONY: build
build: ## Build vcp's binaries into bin/.
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: tools
tools: $(addprefix $(BIN)/,etcd $(KUBE_TOOLS) kwok helm controller-gen) $(BIN)/kwok-stages/.stamp ## Build etcd, Kubernetes, KWOK, helm and controller-gen from the Go module proxy into bin/ (skips what is up to date).

$(addprefix $(BIN)/,$(KUBE_TOOLS)): $(BIN)/%: $(TOOL_DEPS)
	cd $(TOOLS) && $(GO) build -ldflags '$(K8S_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/$*

$(BIN)/etcd: $(TOOL_DEPS)
	cd $(TOOLS) && $(GO) build -ldflags '-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$(ETCD_VERSION)' -o $@ go.etcd.io/etcd/server/v3

$(BIN)/kwok: $(TOOL_DEPS)
	cd $(TOOLS) && $(GO) build -ldflags '-s -w' -o $@ sigs.k8s.io/kwok/cmd/kwok

$(BIN)/helm: $(TOOL_DEPS)
	cd $(TOOLS) && $(GO) build -ldflags '-s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION)' -o $@ helm.sh/helm/v3/cmd/helm

$(BIN)/controller-gen: $(TOOL_DEPS)
	cd $(TOOLS) && $(GO) build -ldflags '-s -w' -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

# KWOK's upstream stage files, copied from the pinned kwok module.
$(BIN)/kwok-stages/.stamp: $(TOOL_DEPS)
	mkdir -p $(BIN)/kwok-stages
	dir=$$(cd $(TOOLS) && $(GO) list -m -f '{{.Dir}}' sigs.k8s.io/kwok) && \
	for s in $(KWOK_STAGES); do install -m 0644 "$$dir/kustomize/stage/$$s" $(BIN)/kwok-stages/; done
	touch $@

##@ Development

CRD_DIR   := config/crd/bases
CHART_CRD := charts/vcp/crds

.PHONY: generate
generate: $(BIN)/controller-gen ## Generate deepcopy code and CRD YAML, and copy the CRDs into the chart.
	$(BIN)/controller-gen object paths=./api/...
	$(BIN)/controller-gen crd paths=./api/... output:crd:artifacts:config=$(CRD_DIR)
	rm -f $(CHART_CRD)/*.yaml && mkdir -p $(CHART_CRD) && cp $(CRD_DIR)/*.yaml $(CHART_CRD)/

.PHONY: verify
verify: $(BIN)/helm $(BIN)/controller-gen ## Fail when generated files are stale, gofmt or go vet complain, or the chart CRDs differ.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd $(TOOLS) && $(GO) mod verify >/dev/null && $(GO) mod tidy -diff
	$(GO) mod tidy -diff
	@before=$$(find api config charts -type f | sort | xargs sha256sum); \
	$(MAKE) --no-print-directory generate >/dev/null; \
	after=$$(find api config charts -type f | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated files were stale; 'make generate' updated them:"; diff <(echo "$$before") <(echo "$$after"); exit 1; fi
	@diff -r $(CRD_DIR) $(CHART_CRD) || { echo "chart CRDs differ from the generated ones"; exit 1; }
	$(BIN)/helm lint --quiet charts/vcp >/dev/null
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; fi

##@ Test

.PHONY: test
test: tools build ## Run every test: unit, integration (real kube-apiserver) and e2e (real super cluster with KWOK).
	VCP_BIN_DIR=$(BIN) $(GO) test -count=1 -p $(GOTEST_P) -timeout $(TEST_TIMEOUT) ./...
	cd third_party/go-restful && $(GO) test -count=1 ./...
	cd third_party/k8s-utils && $(GO) test -count=1 ./...
	cd third_party/fsnotify && $(GO) test -count=1 ./...

.PHONY: test-unit
test-unit: ## Run only the tests that need no cluster.
	$(GO) test -count=1 -short ./...
	cd third_party/go-restful && $(GO) test -count=1 ./...
	cd third_party/k8s-utils && $(GO) test -count=1 ./...
	cd third_party/fsnotify && $(GO) test -count=1 ./...

##@ Benchmarks

BENCH_TENANTS_N ?= 1,10,50,100

.PHONY: bench
bench: bench-tenants bench-provision bench-sync bench-deliver ## Run every benchmark (each prints a table with its baseline measured in the same run).

.PHONY: bench-tenants
bench-tenants: tools ## tenant-apiserver P1 (add → kubectl get ns) and P2 (RSS/heap per idle tenant) next to a standalone kube-apiserver.
	$(GO) build -o $(BIN)/bench-tenants ./bench/tenants
	VCP_BIN_DIR=$(BIN) $(BIN)/bench-tenants -n $(BENCH_TENANTS_N) -p1 20

.PHONY: bench-provision
bench-provision: tools build ## Provisioning P1 (VirtualCluster created → `kubectl get ns` through its kubeconfig Secret), sequential and 10 at a time, next to the host alone.
	$(GO) build -o $(BIN)/bench-provision ./bench/provision
	VCP_BIN_DIR=$(BIN) $(BIN)/bench-provision -n 20 -parallel 10

BENCH_SYNC_FLAGS ?=

.PHONY: bench-sync
bench-sync: tools build ## Syncer P3–P8 (pods to Running through tenants vs directly, added latency, fairness, memory per pod, patrol, restart) next to baselines measured in the same run.
	$(GO) build -o $(BIN)/bench-sync ./bench/sync
	VCP_BIN_DIR=$(BIN) $(BIN)/bench-sync $(BENCH_SYNC_FLAGS)

BENCH_DELIVER_FLAGS ?=
.PHONY: bench-deliver
bench-deliver: tools build ## App delivery P9: `vcapp deploy` of a 10-component app to 20 tenant clusters until healthy, next to `kubectl apply` + `kubectl rollout status` per target in the same run.
	$(GO) build -o $(BIN)/bench-deliver ./bench/deliver
	VCP_BIN_DIR=$(BIN) $(BIN)/bench-deliver $(BENCH_DELIVER_FLAGS)

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
	  done; \
	done

.PHONY: clean
clean: ## Remove built binaries (not the tools' state in .vcp/).
	rm -rf $(BIN)
