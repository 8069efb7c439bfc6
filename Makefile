# rclone-fichier: the targets are the interface (see README.md).

GO       ?= go
BIN      := bin
export CGO_ENABLED ?= 0

# The version "rclone version" shows, from git (scripts/version.sh); set
# VERSION=... to override. noselfupdate leaves out upstream's selfupdate,
# which would install upstream rclone (cmd/rclone/selfupdate.go refuses).
ifndef VERSION
VERSION := $(shell ./scripts/version.sh)
endif
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOTAGS   := noselfupdate

.PHONY: all build test lint demo clean

all: build

## build: bin/rclone (rclone with our fichier backend), bin/fichier-emulator, bin/fichier-bench (the measurements, docs/benchmarks.md) and bin/fichier-chaos (the fault explorer, docs/testing.md)
build:
	$(GO) build -tags '$(GOTAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/rclone ./cmd/rclone
	$(GO) build -tags '$(GOTAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/fichier-emulator ./cmd/fichier-emulator
	$(GO) build -o $(BIN)/fichier-bench ./cmd/fichier-bench
	$(GO) build -o $(BIN)/fichier-chaos ./cmd/fichier-chaos

# The end-to-end tests and their 500-file fault matrix run on their own,
# after the other packages: sped-up rate rules have 10 ms windows, and a
# fully loaded machine's scheduling jitter would reach into the others.

# go test shows a passing package's output only with -v, so the mount
# tests' skip warning (fstest/fichiertest/mount.go) is repeated here.
MOUNT_WARNING := { [ -e /dev/fuse ] && { command -v fusermount3 || command -v fusermount; } >/dev/null; } || \
	echo "WARNING: no /dev/fuse or fusermount3: the rclone mount tests were SKIPPED (apt-get install fuse3; FICHIER_REQUIRE_MOUNT=1 makes this a failure)" >&2

# The backend's own tests run a second time with the emulator under the
# other reading of each behaviour the notes leave uncertain (see
# docs/testing.md, FICHIER_EMULATOR_READINGS).
OTHER_READINGS := list-rule=endpoint,move-changes-url,query-switches=honour,number-strings=refuse,end-memory=hours

## test: every test, offline: the Go tests (in-process emulator, and the
## real binaries against bin/fichier-emulator), the backend's tests again
## under the other readings, then rclone's own suites
test: build
	$(GO) vet ./...
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v '/fstest/e2e\|/fstest/chaos')
	FICHIER_EMULATOR_READINGS=$(OTHER_READINGS) $(GO) test -count=1 ./backend/fichier/
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./fstest/e2e
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./fstest/chaos
	cd whirlpool && $(GO) vet ./... && $(GO) test -count=1 ./...
	@$(MOUNT_WARNING)
	./scripts/suites.sh

# staticcheck at a pinned version, built from the Go module proxy; and
# goimports, which rclone's .golangci.yml runs as its formatter, at the
# golang.org/x/tools version go.mod has.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOIMPORTS   := golang.org/x/tools/cmd/goimports@v0.52.0

## lint: goimports (as rclone's lint config runs it; it includes gofmt), go vet and staticcheck (and golangci-lint when installed); make upstream-check runs rclone's whole lint config
lint:
	@out=$$($(GO) run $(GOIMPORTS) -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "goimports needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; fi

## demo: start the emulator, then copy, list, check and link with bin/rclone
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN) dist

.PHONY: suites e2e

## suites: rclone's own fs/sync, fs/operations and vfs tests with our backend, against the emulator (scripts/suites.sh)
suites:
	./scripts/suites.sh

## e2e: bin/rclone (copy, sync, check, move, dedupe, rcat, link, about, mount) against bin/fichier-emulator, bad inputs and the fault matrix
e2e: build
	FICHIER_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 20m ./fstest/e2e
	@$(MOUNT_WARNING)

.PHONY: chaos

SEED     ?= 1
DURATION ?= 30m

## chaos: the randomized fault explorer: bin/fichier-chaos -seed $(SEED) -duration $(DURATION) (service time, run 20 times faster); a failure prints its seed and schedule (docs/testing.md)
chaos: build
	$(BIN)/fichier-chaos -bin $(BIN) -seed $(SEED) -duration $(DURATION) $(CHAOS_FLAGS)

.PHONY: bench bench-quick

## bench: bin/rclone against upstream rclone on the emulator at 1fichier's real limits, under both readings of the listing rule; writes BENCHMARKS.md (about 90 minutes, see docs/benchmarks.md; bin/fichier-bench -only NAME runs one scenario, docs/measurements.md)
bench: build $(BIN)/rclone-upstream
	$(BIN)/fichier-bench

## bench-quick: the same scenarios at small sizes with 2-minute bounds (about 20 minutes); writes bin/bench-quick.md
bench-quick: build $(BIN)/rclone-upstream
	$(BIN)/fichier-bench -files 20 -folders 4 -big-mb 64 -timeout 2m -timeout-big 2m \
		-out $(BIN)/bench-quick.md

# Upstream rclone at the version go.mod requires, for the benchmark.
$(BIN)/rclone-upstream: go.mod go.sum
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ github.com/rclone/rclone

.PHONY: release cross-check deb-check

# Release platforms, OS-ARCH; 32-bit arm is built for ARMv7 (GOARM=7,
# Raspberry Pi 2 and later). docs/releasing.md says how to cut a release.
PLATFORMS := linux-amd64 linux-arm64 linux-arm darwin-amd64 darwin-arm64 windows-amd64
RELEASE   := rclone-$(VERSION)
# cmount gives Windows "rclone mount" through WinFsp, as upstream's
# Windows builds do (cgofuse needs no cgo there); without cgo it adds
# nothing on the other platforms.
RELEASE_TAGS := $(GOTAGS) cmount

LINUX     := $(filter linux-%,$(PLATFORMS))

# nfpm at a pinned version, built from the Go module proxy as staticcheck
# is (go run caches the binary), for the .deb and .rpm packages.
NFPM := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
# The packages' maintainer, "Name <address>"; by default git's user.name
# and user.email (scripts/package.sh).
MAINTAINER ?=
PACKAGE := VERSION='$(VERSION)' MAINTAINER='$(MAINTAINER)' NFPM='$(GO) run $(NFPM)' GO='$(GO)' ./scripts/package.sh

## release: rclone and fichier-emulator for every platform in PLATFORMS, in dist/ archives with README.md and LICENSE, .deb and .rpm packages for Linux, and dist/SHA256SUMS
release:
	rm -rf dist
	$(MAKE) VERSION=$(VERSION) $(addprefix dist-,$(PLATFORMS)) $(addprefix pkg-,$(LINUX))
	cd dist && sha256sum *.tar.gz *.zip *.deb *.rpm > SHA256SUMS

# dist-OS-ARCH: one platform's binaries in dist/RELEASE-OS-ARCH/, then
# that folder archived (.zip for Windows, .tar.gz elsewhere).
dist-%: os   = $(word 1,$(subst -, ,$*))
dist-%: arch = $(word 2,$(subst -, ,$*))
dist-%: exe  = $(if $(filter windows,$(os)),.exe)
dist-%: dir  = $(RELEASE)-$*
dist-%:
	GOOS=$(os) GOARCH=$(arch) GOARM=7 $(GO) build -trimpath -tags '$(RELEASE_TAGS)' -ldflags '$(LDFLAGS)' -o dist/$(dir)/rclone$(exe) ./cmd/rclone
	GOOS=$(os) GOARCH=$(arch) GOARM=7 $(GO) build -trimpath -tags '$(RELEASE_TAGS)' -ldflags '$(LDFLAGS)' -o dist/$(dir)/fichier-emulator$(exe) ./cmd/fichier-emulator
	cp README.md LICENSE dist/$(dir)/
	cd dist && $(if $(exe),zip -qr $(dir).zip,tar -czf $(dir).tar.gz) $(dir)

# pkg-linux-ARCH: dist/RELEASE-linux-ARCH.deb and .rpm of the package
# rclone-fichier (packaging/nfpm.yaml), from dist-linux-ARCH's binaries.
.PHONY: $(addprefix pkg-,$(LINUX))
$(addprefix pkg-,$(LINUX)): pkg-%: dist-%
	$(PACKAGE) deb $(word 2,$(subst -, ,$*)) dist/$(RELEASE)-$* dist/$(RELEASE)-$*.deb
	$(PACKAGE) rpm $(word 2,$(subst -, ,$*)) dist/$(RELEASE)-$* dist/$(RELEASE)-$*.rpm

## deb-check: package make build's bin/ as a .deb, dpkg -i it, run the installed rclone and fichier-emulator, dpkg -r it (needs root and dpkg; CI runs it)
deb-check:
	MAINTAINER='$(MAINTAINER)' NFPM='$(GO) run $(NFPM)' GO='$(GO)' ./scripts/deb-check.sh $(BIN)

# The last lines check the release plan: make -n prints the release's
# commands without running them, and there are two builds per platform
# and two packages (.deb, .rpm) per Linux platform; and that VERSION has
# a deb/rpm form.
## cross-check: compile the backend and the emulator for Windows and macOS, and dry-run make release (cheap; CI runs it)
cross-check:
	GOOS=windows $(GO) build ./backend/... ./cmd/fichier-emulator
	GOOS=darwin $(GO) build ./backend/... ./cmd/fichier-emulator
	test "$$($(MAKE) -s -n release | grep -c ' build ')" = $$(( 2 * $(words $(PLATFORMS)) ))
	test "$$($(MAKE) -s -n release | grep -cE 'scripts/package.sh (deb|rpm) ')" = $$(( 2 * $(words $(LINUX)) ))
	./scripts/package.sh --version '$(VERSION)'

.PHONY: upstream-check upstream-patch

## upstream-check: the backend and its tests inside rclone's own tree at the go.mod version: build, every platform of rclone's releases, rclone's golangci-lint for linux/windows/darwin, all the backend's tests (also under OTHER_READINGS) and fstest/test_all (scripts/upstream-check.sh; docs/testing.md)
upstream-check:
	OTHER_READINGS=$(OTHER_READINGS) ./scripts/upstream-check.sh

## upstream-patch: the backend, its test kit and docs/content/fichier.md as a git format-patch series against rclone at the go.mod version, checked with git am on a clean copy (scripts/upstream-patch.sh; .upstream/patches)
upstream-patch:
	./scripts/upstream-patch.sh

.PHONY: docs

## docs: regenerate the options and commands section of docs/fichier.md from the backend's registration
docs:
	$(GO) run ./cmd/fichier-docs docs/fichier.md
