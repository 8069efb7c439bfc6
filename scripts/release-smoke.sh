#!/usr/bin/env bash
# Smoke-tests the Linux binaries "make release" left in dist/: for each of
# amd64 (natively), arm64 and arm (through qemu-user-static, when
# installed: apt-get install qemu-user-static), rclone must name its
# version, refuse selfupdate, and copy and check two files against that
# platform's own fichier-emulator, whose rules run 10 times faster (the
# backend's rates scaled to match). The macOS and Windows binaries cannot
# run here.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
emulator=
cleanup() {
	if [ -n "$emulator" ]; then kill "$emulator" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

head -c 100000 /dev/urandom >"$work/a.bin"
echo hello >"$work/b.txt"
mkdir "$work/src" && mv "$work/a.bin" "$work/b.txt" "$work/src/"

# smoke ARCH RUNNER...: the checks for dist/*-linux-ARCH, run through RUNNER.
smoke() {
	local arch=$1
	shift
	local dir
	dir=$(echo dist/rclone-*-linux-"$arch")
	echo "== linux-$arch"
	"$@" "$dir/rclone" version >"$work/version.out"
	head -1 "$work/version.out"

	if "$@" "$dir/rclone" selfupdate --check >"$work/selfupdate.out" 2>&1; then
		echo "selfupdate did not refuse"
		return 1
	fi
	grep -q 'selfupdate is turned off' "$work/selfupdate.out"

	"$@" "$dir/fichier-emulator" --listen 127.0.0.1:0 --key smoke-key --time-scale 10 >"$work/emulator.out" 2>&1 &
	emulator=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$work/emulator.out" && break
		sleep 0.2
	done
	RCLONE_CONFIG_SMOKE_TYPE=fichier RCLONE_CONFIG_SMOKE_API_KEY=smoke-key \
		RCLONE_CONFIG_SMOKE_API_URL=$(sed -n 's/^api_url=//p' "$work/emulator.out") \
		RCLONE_CONFIG_SMOKE_API_RATE=10 RCLONE_CONFIG_SMOKE_LIST_INTERVAL=3s \
		RCLONE_CONFIG_SMOKE_FLOOD_WAIT=30s \
		bash -c '"$@" copy "$SRC" smoke:dir && "$@" check "$SRC" smoke:dir' _ "$@" "$dir/rclone" --config /dev/null
	kill "$emulator"
	wait "$emulator" 2>/dev/null || true
	emulator=
}

export SRC="$work/src"
export RCLONE_CACHE_DIR="$work/cache" # the per-folder listing clocks
smoke amd64 env
for pair in arm64:qemu-aarch64-static arm:qemu-arm-static; do
	if command -v "${pair#*:}" >/dev/null; then
		smoke "${pair%%:*}" "${pair#*:}"
	else
		echo "== linux-${pair%%:*}: skipped, ${pair#*:} is not installed"
	fi
done
