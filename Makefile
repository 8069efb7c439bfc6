# rclone-fichier: the targets are the interface (see README.md).

GO       ?= go
BIN      := bin
LDFLAGS  := -s -w
export CGO_ENABLED ?= 0

.PHONY: all build test lint demo clean

all: build

## build: bin/rclone (rclone with our fichier backend) and bin/fichier-emulator
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/rclone ./cmd/rclone
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/fichier-emulator ./cmd/fichier-emulator

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
