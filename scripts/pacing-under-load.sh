#!/usr/bin/env bash
# pacing-under-load.sh: a copy at 1fichier's real limits on a machine made
# busy on purpose, to measure that the backend's calls stay apart whatever
# stalls them (issue 25): one busy loop per core, and the shared state
# file's lock held 1 to 3 seconds at a time (as a slow disk or a stopped
# process holds it). Prints the copy's exit code and time, the load, and
# what bin/fichier-emulator counted: calls, flood locks, the most calls
# in any one second, broken rules, files stored.
#
# Usage: scripts/pacing-under-load.sh [FILES_PER_FOLDER] [FOLDERS]
# Needs make build's bin/, flock (util-linux), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
per=${1:-10}
folders=${2:-6}
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for d in $(seq 1 "$folders"); do
	mkdir -p "$work/tree/d$d"
	for f in $(seq 1 "$per"); do head -c $((RANDOM * 3 + 100)) /dev/urandom >"$work/tree/d$d/f$f.bin"; done
done
# A port of the system's choosing, read from the emulator's first lines.
bin/fichier-emulator --listen 127.0.0.1:0 --key load-key >"$work/emu.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^ready=1' "$work/emu.log" && break; sleep 0.1; done
url=$(sed -n 's/^url=//p' "$work/emu.log")
export RCLONE_CONFIG_LOAD_TYPE=fichier RCLONE_CONFIG_LOAD_API_KEY=load-key \
	RCLONE_CONFIG_LOAD_API_URL=$url/v1 RCLONE_CACHE_DIR=$work/cache

for _ in $(seq 1 "$(nproc)"); do yes >/dev/null & pids+=($!); done
(
	while true; do
		state=$(find "$work/cache" -name '*.db' 2>/dev/null | head -1)
		if [ -n "$state" ]; then flock -x "$state" sleep $((1 + RANDOM % 3)); fi
		sleep 0.$((RANDOM % 9 + 1))
	done
) &
pids+=($!)

start=$(date +%s.%N)
rc=0
bin/rclone copy "$work/tree" load:backup --stats 0 >"$work/copy.log" 2>&1 || rc=$?
end=$(date +%s.%N)
echo "copy of $((per * folders)) files: exit $rc in $(python3 -c "print(round($end - $start, 1))") s, load average $(cut -d' ' -f1 /proc/loadavg)"
curl -s "$url/debug/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print({k: s[k] for k in ("calls", "flood_locks", "max_calls_per_second", "broken_rules")})'
curl -s "$url/debug/files" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("files stored:", len(d) if isinstance(d, list) else len(d.get("files", [])))'
exit $rc
