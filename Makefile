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

## test: every test, against the in-process emulator (no account needed)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 45m ./...

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
