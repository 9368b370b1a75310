# veltrim: OpenTelemetry Collector components that keep warm LLM pods alive
# through scale-down and keep span storms out of the tracing backend.

GO       ?= go
GOTEST   ?= $(GO) test
# The control-plane tests start etcd, kube-apiserver and kube-controller-manager
# per test; the first run after a build also pays for the Go test build.
TEST_TIMEOUT ?= 30m

.PHONY: all test go-test unit lint fmt vet bench clean

all: build

## test: build the control plane and the collector, then run every test,
##       the end-to-end scenario last (what CI runs)
test: kube-bins build loadgen go-test e2e-test

go-test:
	$(GOTEST) -timeout $(TEST_TIMEOUT) -count=1 ./...

## unit: run the tests of the product packages without building anything first
unit:
	$(GOTEST) -short ./processor/... ./exporter/... ./internal/podstate/... ./internal/dedup/... ./internal/storm/... ./internal/window/... ./internal/podtracker/... ./internal/policy/... ./internal/kubeclient/...

## lint: gofmt and go vet must be clean
lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## bench: the benchmarks recorded in docs/benchmarks.md
bench:
	$(GOTEST) -run '^$$' -bench . -benchmem -count 5 ./processor/... ./exporter/... ./internal/...

clean:
	rm -rf _bin _build

include Makefile.kube Makefile.dist Makefile.deploy
