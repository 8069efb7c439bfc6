#!/usr/bin/env bash
# batch-measure.sh measures batched uploads at 1fichier's real (unscaled)
# limits: it copies FILES small files (1 to 4 KiB) spread over FOLDERS
# folders into a fresh fichier-emulator with bin/rclone, once per
# --transfers value, then checks the copy. For each run it prints the
# wall time, the API calls the emulator counted (by endpoint), the flood
# locks, the files stored, the result of "rclone check" and rclone's
# peak RSS.
#
# Usage: scripts/batch-measure.sh [FILES [FOLDERS [TRANSFERS...]]]
#        (defaults: 200 4 32 4)
# Example: scripts/batch-measure.sh 300 30 4 32
#
# Needs bin/rclone and bin/fichier-emulator (make build), curl and jq.
# Extra rclone flags may be given in MEASURE_FLAGS, e.g.
# MEASURE_FLAGS="--fichier-batch-max-size 0" for the unbatched figures.
set -euo pipefail

cd "$(dirname "$0")/.."
FILES=${1:-200}
FOLDERS=${2:-4}
shift $(($# < 2 ? $# : 2))
TRANSFERS=("${@:-32 4}")
read -r -a TRANSFERS <<<"${TRANSFERS[*]}"
read -r -a EXTRA <<<"${MEASURE_FLAGS:-}"
RCLONE=$PWD/bin/rclone
EMULATOR=$PWD/bin/fichier-emulator
KEY=measure-key

for b in "$RCLONE" "$EMULATOR"; do
	[ -x "$b" ] || { echo "$b is missing: run make build" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/batch-measure.XXXXXX")
EMU_PID=""
cleanup() {
	if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# The source tree: FILES files of 1 to 4 KiB, round robin over FOLDERS.
for ((i = 0; i < FILES; i++)); do
	dir=$WORK/src/d$(printf %02d $((i % FOLDERS)))
	mkdir -p "$dir"
	head -c $((1024 + (i * 997) % 3073)) /dev/urandom >"$dir/f$(printf %04d "$i").bin"
done

for transfers in "${TRANSFERS[@]}"; do
	run=$WORK/run-$transfers
	mkdir -p "$run"
	"$EMULATOR" --listen 127.0.0.1:0 --key "$KEY" >"$run/emulator.out" 2>"$run/emulator.err" &
	EMU_PID=$!
	for _ in $(seq 100); do
		grep -q '^ready=1$' "$run/emulator.out" 2>/dev/null && break
		sleep 0.1
	done
	api_url=$(sed -n 's/^api_url=//p' "$run/emulator.out")
	stats_url=$(sed -n 's/^stats_url=//p' "$run/emulator.out")
	rc=(env RCLONE_CONFIG=/dev/null RCLONE_CONFIG_M_TYPE=fichier RCLONE_CONFIG_M_API_KEY="$KEY"
		RCLONE_CONFIG_M_API_URL="$api_url" "$RCLONE" --cache-dir "$run/cache" "${EXTRA[@]}")

	start=$(date +%s.%N)
	/usr/bin/time -f %M -o "$run/rss" "${rc[@]}" copy "$WORK/src" m:dst --transfers "$transfers" 2>"$run/copy.log" ||
		echo "copy failed: see below" >&2
	end=$(date +%s.%N)
	stats=$(curl -fsS "$stats_url")
	calls=$(jq -r '[.calls | to_entries[] | select(.key != "download" and .key != "dir") | .value] | add' <<<"$stats")
	detail=$(jq -r '[.calls | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ")' <<<"$stats")
	floods=$(jq -r '.flood_locks // 0' <<<"$stats")
	stored=$("${rc[@]}" lsf -R --files-only m:dst 2>/dev/null | wc -l)
	if "${rc[@]}" check "$WORK/src" m:dst >"$run/check.log" 2>&1; then check=clean; else check=FAILED; fi
	printf 'files=%s folders=%s transfers=%s seconds=%.1f calls=%s flood_locks=%s stored=%s check=%s peak_rss_kib=%s\n  %s\n' \
		"$FILES" "$FOLDERS" "$transfers" "$(echo "$end - $start" | bc)" "$calls" "$floods" "$stored" "$check" "$(cat "$run/rss")" "$detail"
	if [ "$check" != clean ]; then tail -5 "$run/check.log" "$run/copy.log" >&2; fi
	kill "$EMU_PID" 2>/dev/null || true
	wait "$EMU_PID" 2>/dev/null || true
	EMU_PID=""
done
