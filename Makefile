# rclone-fichier: the targets are the interface (see README.md).

GO       ?= go
BIN      := bin
LDFLAGS  := -s -w
export CGO_ENABLED ?= 0

.PHONY: all build test lint demo clean

all: build

## build: bin/rclone (rclone with our fichier backend) and bin/fichier-emulator
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/rclone ./cmd/rclone
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/fichier-emulator ./cmd/fichier-emulator

# 1fichier is taken not to store empty files, so the conformance suite's
# empty PutStream cannot pass (see README.md, Testing).
SKIP := TestIntegration/FsMkdir/FsPutFiles/FsPutStream/0$$

# The end-to-end tests and their 500-file fault matrix run on their own,
# after the other packages: sped-up rate rules have 10 ms windows, and a
# fully loaded machine's scheduling jitter would reach into the others.
## test: every test, offline: the Go tests (in-process emulator, and the
## real binaries against bin/fichier-emulator), then rclone's own suites
test: build
	$(GO) vet ./...
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 30m -skip '$(SKIP)' $$($(GO) list ./... | grep -v /fstest/e2e)
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./fstest/e2e
	cd whirlpool && $(GO) vet ./... && $(GO) test -count=1 ./...
	./scripts/suites.sh

## lint: formatting and vet (and golangci-lint when installed)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; fi

## demo: start the emulator, then copy, list, check and link with bin/rclone
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)

.PHONY: suites e2e

## suites: rclone's own fs/sync, fs/operations and vfs tests with our backend, against the emulator (scripts/suites.sh)
suites:
	./scripts/suites.sh

## e2e: bin/rclone (copy, sync, check, move, dedupe, rcat, link, about, mount) against bin/fichier-emulator, bad inputs and the fault matrix
e2e: build
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./fstest/e2e

.PHONY: bench bench-quick

## bench: bin/rclone against upstream rclone on the emulator at 1fichier's real limits; writes BENCHMARKS.md (about an hour, see docs/benchmarks.md)
bench: build $(BIN)/rclone-upstream
	./scripts/bench.sh

## bench-quick: the same scenarios at small sizes with 2-minute bounds (about 12 minutes); writes bin/bench-quick.md
bench-quick: build $(BIN)/rclone-upstream
	BENCH_FILES=20 BENCH_FOLDERS=4 BENCH_BIG_MB=64 BENCH_TIMEOUT=2m BENCH_TIMEOUT_BIG=2m \
		BENCH_OUT=$(BIN)/bench-quick.md ./scripts/bench.sh

# Upstream rclone at the version go.mod requires, for the benchmark.
$(BIN)/rclone-upstream: go.mod go.sum
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ github.com/rclone/rclone
