#!/usr/bin/env bash
# mountbench.sh: sequential read of one file with dd through rclone mount,
# of the emulator and of a local directory, in one run, on loopback.
#
#   scripts/mountbench.sh            # 256 MiB, over HTTPS through the emulator's proxy
#   MOUNTBENCH_MB=512 MOUNTBENCH_TLS=0 MOUNT_FLAGS="--vfs-read-chunk-size 8M" scripts/mountbench.sh
#
# The download host has no rate rule, so the emulator runs its API rules
# SCALE (default 10) times faster, the remote paced to match, to keep the
# upload and listings short; the directory is listed before dd is timed.
# MOUNTBENCH_TLS=1 (the default) reaches the emulator as rclone reaches
# 1fichier, over HTTPS (through the emulator's intercepting proxy);
# MOUNTBENCH_TLS=0 uses plain HTTP to its API URL.
#
# RCLONE=path picks another rclone binary (default bin/rclone).
# Needs bin/rclone, bin/fichier-emulator (make build), /dev/fuse and
# fusermount3. Every step is bounded by MOUNTBENCH_TIMEOUT (default 300 s);
# the mounts, the processes and the work directory are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

MB=${MOUNTBENCH_MB:-256}
TIMEOUT=${MOUNTBENCH_TIMEOUT:-300}
SCALE=${SCALE:-10}
TLS=${MOUNTBENCH_TLS:-1}
read -r -a EXTRA <<<"${MOUNT_FLAGS:-}"
RCLONE=${RCLONE:-bin/rclone}
EMULATOR=bin/fichier-emulator
for b in "$RCLONE" "$EMULATOR"; do
	[ -x "$b" ] || { echo "mountbench: $b missing (make build)" >&2; exit 1; }
done
[ -e /dev/fuse ] || { echo "mountbench: /dev/fuse missing" >&2; exit 1; }
FUSERMOUNT=$(command -v fusermount3 || command -v fusermount) || { echo "mountbench: no fusermount3" >&2; exit 1; }

work=$(mktemp -d)
pids=()
mounts=()
cleanup() {
	local m p
	for m in "${mounts[@]}"; do
		mountpoint -q "$m" 2>/dev/null && { "$FUSERMOUNT" -u "$m" 2>/dev/null || "$FUSERMOUNT" -uz "$m" 2>/dev/null || true; }
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

"$EMULATOR" --listen 127.0.0.1:0 --key bench-key --time-scale "$SCALE" \
	--proxy 127.0.0.1:0 --ca-out "$work/ca.pem" >"$work/emulator.out" 2>"$work/emulator.err" &
pids+=($!)
for _ in $(seq 100); do
	grep -q '^ready=1' "$work/emulator.out" 2>/dev/null && break
	sleep 0.1
done
grep -q '^ready=1' "$work/emulator.out" || { echo "mountbench: the emulator did not start" >&2; exit 1; }
emu() { sed -n "s/^$1=//p" "$work/emulator.out"; }
# Each run's emulator is a new account: keep rclone's shared account
# state (listings, clocks) with the run, not in the user's cache.
export RCLONE_CACHE_DIR="$work/cache"
export RCLONE_CONFIG_EMU_TYPE=fichier
export RCLONE_CONFIG_EMU_API_KEY=bench-key
RCLONE_CONFIG_EMU_API_RATE=$(awk -v s="$SCALE" 'BEGIN { print 2 * s }')
RCLONE_CONFIG_EMU_LIST_INTERVAL=$(awk -v s="$SCALE" 'BEGIN { print 30 / s }')s
RCLONE_CONFIG_EMU_FLOOD_WAIT=$(awk -v s="$SCALE" 'BEGIN { print 300 / s }')s
export RCLONE_CONFIG_EMU_API_RATE RCLONE_CONFIG_EMU_LIST_INTERVAL RCLONE_CONFIG_EMU_FLOOD_WAIT
if [ "$TLS" = 1 ]; then
	export HTTPS_PROXY=$(emu proxy_url) NO_PROXY= no_proxy=
	CA=(--ca-cert "$work/ca.pem")
else
	RCLONE_CONFIG_EMU_API_URL=$(emu api_url)
	export RCLONE_CONFIG_EMU_API_URL
	CA=()
fi
stats_url=$(emu stats_url)

mkdir -p "$work/src"
head -c $((MB << 20)) /dev/urandom >"$work/src/big.bin"
bytes=$((MB << 20))
timeout "$TIMEOUT" "$RCLONE" --config /dev/null "${CA[@]}" copy "$work/src" emu:bench

# read_through_mount LABEL REMOTE [FLAGS...]: mount REMOTE, dd the file,
# print the time and rate and keep the rate in rate_LABEL.
read_through_mount() {
	local label=$1 remote=$2 mnt=$work/mnt-$1 t0 t1 n secs
	shift 2
	mkdir -p "$mnt"
	timeout $((TIMEOUT + 30)) "$RCLONE" --config /dev/null "${CA[@]}" --log-file "$work/$label.log" \
		mount --read-only "${EXTRA[@]}" "$@" "$remote" "$mnt" &
	pids+=($!)
	mounts+=("$mnt")
	for _ in $(seq 300); do
		mountpoint -q "$mnt" && break
		sleep 0.1
	done
	mountpoint -q "$mnt" || { echo "mountbench: $label did not mount" >&2; exit 1; }
	ls -l "$mnt" >/dev/null
	t0=$(now)
	n=$(timeout "$TIMEOUT" dd if="$mnt/big.bin" of=/dev/null bs=1M 2>&1 | sed -n 's/^\([0-9]*\) bytes.*/\1/p')
	t1=$(now)
	"$FUSERMOUNT" -u "$mnt"
	[ "$n" = "$bytes" ] || { echo "mountbench: $label read ${n:-0} of $bytes bytes" >&2; exit 1; }
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	printf '%-30s %8s s %8s MB/s\n' "$label" "$secs" "$(rate "$bytes" "$secs")"
	eval "rate_$label=\$(rate \"\$bytes\" \"\$secs\")"
}

echo "dd of $MB MiB through rclone mount ${EXTRA[*]:+(flags: ${EXTRA[*]})}"
# The VFS checks a file read from start to end against the remote's first
# hash type: MD5 for a local directory, Whirlpool for 1fichier. The
# --no-checksum runs show what that check costs each.
read_through_mount local "$work/src"
read_through_mount emulator emu:bench
read_through_mount local_nocheck "$work/src" --no-checksum
read_through_mount emulator_nocheck emu:bench --no-checksum
t0=$(now)
timeout "$TIMEOUT" "$RCLONE" --config /dev/null "${CA[@]}" cat emu:bench/big.bin >/dev/null
t1=$(now)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
printf '%-30s %8s s %8s MB/s\n' "rclone cat (with API calls)" "$secs" "$(rate "$bytes" "$secs")"
awk -v e="$rate_emulator" -v l="$rate_local" -v en="$rate_emulator_nocheck" -v ln="$rate_local_nocheck" 'BEGIN {
	printf "emulator mount / local mount: %.2f (with --no-checksum on both: %.2f)\n", e / l, en / ln }'
echo "emulator calls: $(curl -s --noproxy '*' "$stats_url" | tr -d ' \n')"
