#!/usr/bin/env bash
# upstream-check.sh checks that our backend can go into rclone's own tree
# as it is: it copies rclone's source at the version go.mod requires into
# .upstream/rclone (git-ignored), puts the backend and its test kit in
# (scripts/upstream-tree.sh), and there, with rclone's go.mod unchanged:
#
#   build    go build ./... (all of rclone, with our backend)
#   cross    the backend type-checked for each platform of rclone's
#            bin/cross-compile.go, plus js/wasm (scripts/typecheck;
#            docs/testing.md says why that stands for a cross build)
#   lint     rclone's golangci-lint config for linux, windows and darwin
#   test     every test of the backend and its kit, then the backend's
#            again under the emulator's other readings (Makefile
#            OTHER_READINGS); no test of ours may be missing
#   testall  rclone's fstest/test_all -backends fichier against a
#            standalone fichier-emulator (a failed test is tried once more,
#            and said loudly)
#
# Usage: scripts/upstream-check.sh [STEP ...]   (default: every step)
# Environment: OTHER_READINGS (required by the test step), UPSTREAM_TIME_SCALE
# (test_all's emulator, default 100). Logs: .upstream/logs/.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$ROOT/.upstream
TREE=$WORK/rclone
LOGS=$WORK/logs
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(build cross lint test testall)
GOLANGCI=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

# No -trimpath: the packages of rclone's dependencies are then compiled
# from the module cache with the same flags as make build's and make
# test's, so they come from the build cache; only rclone's own packages
# (here in another directory) are compiled for this tree.
export GOWORK=off CGO_ENABLED=0
RCLONE_VERSION=$(go list -m -f '{{.Version}}' github.com/rclone/rclone)
RCLONE_SRC=$(go list -m -f '{{.Dir}}' github.com/rclone/rclone)
mkdir -p "$LOGS"

step() { echo "upstream-check: $*"; }

# timed NAME CMD...: runs CMD, logging its wall time.
timed() {
	local name=$1 start rc=0
	shift
	start=$(date +%s)
	"$@" || rc=$?
	echo "upstream-check: $name took $(($(date +%s) - start)) s (exit $rc)" | tee -a "$LOGS/times.txt"
	return $rc
}

# 1. rclone's tree at the go.mod version, copied once per version, and our
# files placed into it afresh on every run. -mod=readonly makes any need
# to change rclone's go.mod an error.
if [ "$(cat "$TREE/.version" 2>/dev/null)" != "$RCLONE_VERSION" ]; then
	step "copying rclone $RCLONE_VERSION to ${TREE#"$ROOT"/}"
	rm -rf "$TREE"
	cp -r "$RCLONE_SRC" "$TREE"
	chmod -R u+w "$TREE"
	echo "$RCLONE_VERSION" >"$TREE/.version"
fi
./scripts/upstream-tree.sh "$TREE"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
: >"$LOGS/times.txt"

# The platforms of rclone's release builds, as bin/cross-compile.go
# names them (linux/arm-v7 is GOARCH=arm, GOARM=7), and js/wasm, which
# rclone leaves out for its size but which the state's in-memory
# stand-in is for.
platforms() {
	sed -n '/^var osarches = /,/^}/p' "$TREE/bin/cross-compile.go" |
		sed -n 's#^[[:space:]]*"\([a-z0-9]*/[a-z0-9-]*\)",.*#\1#p'
	echo js/wasm
}

# Every platform, type-checked from source rather than compiled: the
# backend is pure Go, so the compiler would find nothing more, and a
# cold cross build of its dependencies takes minutes per platform where
# this takes seconds, with no cache (docs/testing.md).
do_cross() {
	local list
	list=$(platforms | paste -sd, -)
	[ "$(platforms | wc -l)" -ge 20 ] || { echo "upstream-check: too few platforms read from bin/cross-compile.go: $list"; return 1; }
	go run ./scripts/typecheck -C "$TREE" "$list" ./backend/fichier
}

do_build() {
	(cd "$TREE" && go build ./... && go vet ./backend/fichier/...)
}

# rclone's golangci-lint config, as its CI runs it, on our directories.
do_lint() {
	local os fails=0
	# Built for this machine once (go install caches it), then run for each OS.
	GOBIN=$WORK/bin go install "$GOLANGCI"
	for os in linux windows darwin; do
		if (cd "$TREE" && GOOS=$os "$WORK/bin/golangci-lint" run --config .golangci.yml ./backend/fichier/...) >"$LOGS/lint-$os.log" 2>&1; then
			echo "upstream-check: lint $os: 0 findings"
		else
			echo "upstream-check: lint $os FAILED:"; cat "$LOGS/lint-$os.log"
			fails=$((fails + 1))
		fi
	done
	[ "$fails" -eq 0 ]
}

# testlist DIR PKG...: every test, benchmark-free, that go test would run.
testlist() {
	local dir=$1
	shift
	(cd "$dir" && go test -list '.*' "$@") | grep -E '^(Test|Example|Fuzz)' | sort
}

# gotest NAME PKG... runs the tests verbosely into LOGS/NAME.log and says
# how many passed, failed and skipped.
gotest() {
	local name=$1 rc=0 log=$LOGS/$1.log
	shift
	(cd "$TREE" && go test -count=1 -timeout 30m -v "$@") >"$log" 2>&1 || rc=$?
	echo "upstream-check: $name: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed," \
		"$(grep -c -- '--- SKIP' "$log") skipped (log: ${log#"$ROOT"/})"
	[ $rc -eq 0 ] || { grep -E -- '--- FAIL|^(FAIL|panic)' "$log"; return 1; }
}

do_test() {
	: "${OTHER_READINGS:?set OTHER_READINGS (the Makefile does)}"
	# None of our tests may be left out: the same test functions as here.
	testlist "$ROOT" ./backend/fichier/... ./fstest/emulator/... ./fstest/fichiertest/... >"$LOGS/tests-ours.txt"
	testlist "$TREE" ./backend/fichier/... >"$LOGS/tests-upstream.txt"
	if ! diff "$LOGS/tests-ours.txt" "$LOGS/tests-upstream.txt"; then
		echo "upstream-check: the test functions differ (< ours, > in rclone's tree)"
		return 1
	fi
	echo "upstream-check: $(wc -l <"$LOGS/tests-ours.txt") test functions, the same in both trees"
	local rc=0
	gotest test ./backend/fichier/... || rc=1
	FICHIER_EMULATOR_READINGS=$OTHER_READINGS gotest test-readings ./backend/fichier/ || rc=1
	return $rc
}

# rclone's integration test runner, as its CI runs it for one backend.
do_testall() {
	local scale=${UPSTREAM_TIME_SCALE:-100}
	# shellcheck source=lib/emulator.sh
	. "$ROOT/scripts/lib/emulator.sh"
	mkdir -p "$WORK/bin" "$WORK/cache"
	go build -o "$WORK/bin/fichier-emulator" ./cmd/fichier-emulator
	start_emulator "$WORK/bin/fichier-emulator" "$scale" "$LOGS"
	export_remote "$scale"
	rm -rf "$WORK/test_all" "$WORK/cache"
	(cd "$TREE" && XDG_CACHE_HOME=$WORK/cache RCLONE_CACHE_DIR=$WORK/cache/rclone \
		go run ./fstest/test_all -backends fichier -maxtries 2 -output "$WORK/test_all") >"$LOGS/testall.log" 2>&1 || {
		tail -40 "$LOGS/testall.log"
		return 1
	}
	# A test that failed once and passed on its second try (rclone's
	# test_all retries, 5 times by default; here once) is said loudly.
	if grep -q 'try 2/2' "$LOGS/testall.log"; then
		echo "upstream-check: test_all RETRIED (failed once, then passed):"
		grep -A3 -- '--- FAIL' "$WORK"/test_all/*/fichier-backend*-1.txt | head -20
	fi
	local log
	log=$(find "$WORK/test_all" -name 'fichier-backend*-1.txt' | head -1)
	echo "upstream-check: test_all: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed," \
		"$(grep -c -- '--- SKIP' "$log") skipped (log: ${log#"$ROOT"/})"
}

status=0
for s in "${STEPS[@]}"; do
	case $s in
	build | cross | lint | test | testall) timed "$s" "do_$s" || status=1 ;;
	*) echo "upstream-check: unknown step $s (want build, cross, lint, test or testall)"; exit 2 ;;
	esac
done
[ $status -eq 0 ] && step "all passed" || step "FAILED (logs in ${LOGS#"$ROOT"/})"
exit $status
