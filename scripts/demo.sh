#!/usr/bin/env bash
# make demo: start the 1fichier emulator, point a remote at it and run
# copy, ls, check, link and about with bin/rclone. No account needed.
# BIN=DIR takes rclone and fichier-emulator from DIR instead of bin/.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
emu_pid=
cleanup() {
	[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# 1fichier's rules (3 calls/s, one listing per folder per 30 s, 5 min
# flood locks) run SCALE times faster so the demo takes seconds, and the
# remote's rate options are scaled to match. SCALE=1 shows real time.
scale=${SCALE:-10}
bin=${BIN:-bin}

# The emulator prints key=value lines, ending with ready=1.
"$bin/fichier-emulator" --listen 127.0.0.1:0 --key demo-key --time-scale "$scale" >"$work/emulator.out" &
emu_pid=$!
for _ in $(seq 100); do
	grep -q '^ready=1' "$work/emulator.out" 2>/dev/null && break
	sleep 0.1
done
grep -q '^ready=1' "$work/emulator.out" || { echo "the emulator did not start" >&2; exit 1; }
api_url=$(sed -n 's/^api_url=//p' "$work/emulator.out")
stats_url=$(sed -n 's/^stats_url=//p' "$work/emulator.out")

# The demo's account is new each time: keep its shared state (listings,
# clocks) with it, not in the user's rclone cache.
export RCLONE_CACHE_DIR="$work/cache"

# A remote defined by environment variables, as in a script or CI job.
export RCLONE_CONFIG_DEMO_TYPE=fichier
export RCLONE_CONFIG_DEMO_API_KEY=demo-key
export RCLONE_CONFIG_DEMO_API_URL="$api_url"
export RCLONE_CONFIG_DEMO_API_RATE=$(awk "BEGIN{print 2*$scale}")
export RCLONE_CONFIG_DEMO_LIST_INTERVAL=$(awk "BEGIN{print 30/$scale}")s
export RCLONE_CONFIG_DEMO_FLOOD_WAIT=$(awk "BEGIN{print 300/$scale}")s

mkdir -p "$work/src/photos" "$work/src/docs"
for i in 1 2 3; do
	head -c $((i * 1000)) /dev/urandom >"$work/src/photos/img$i.jpg"
	echo "note $i" >"$work/src/docs/note$i.txt"
done

run() {
	echo
	echo "\$ rclone $*"
	"$bin/rclone" --config /dev/null "$@"
}
echo "emulator: $api_url, running 1fichier's rate rules ${scale}x faster (SCALE=1 for real time)"
run copy "$work/src" demo:backup
run ls demo:backup
run check "$work/src" demo:backup
run link demo:backup/docs/note1.txt
run about demo:
echo
echo "API calls the emulator counted:"
curl -s "$stats_url"
echo
