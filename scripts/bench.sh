#!/usr/bin/env bash
# bench.sh compares bin/rclone (rclone with our fichier backend) with
# upstream rclone built from the same module version, both talking to a
# standalone fichier-emulator at 1fichier's documented, unscaled limits,
# and writes the figures to BENCHMARKS.md. docs/benchmarks.md explains the
# scenarios and how to read the table.
#
# Usage: scripts/bench.sh        (or: make bench, make bench-quick)
#
# Environment (defaults in brackets):
#   BENCH_FILES        small files in scenarios 1-3 [300]
#   BENCH_FOLDERS      folders they are spread over [30]
#   BENCH_BIG_MB       size of the big file in MiB, scenarios 4-5 [1024]
#   BENCH_TIMEOUT      bound on each API-bound run: copy, sync, ls [20m]
#   BENCH_TIMEOUT_BIG  bound on each transfer run: upload, download, mount [10m]
#   BENCH_SCENARIOS    which to run, comma separated [copy,sync,ls,big,mount]
#   BENCH_PARALLEL     1 runs the API-bound scenarios of both binaries at
#                      the same time (each with its own emulator; they
#                      spend their time waiting, not computing), 0 runs
#                      everything one after the other [1]
#   BENCH_FLAGS        extra rclone flags, given to BOTH binaries []
#   BENCH_OUT          report file [BENCHMARKS.md]
#   BENCH_WORK         scratch directory [a new one under ${TMPDIR:-/tmp}]
#   BENCH_KEEP         1 keeps the scratch directory (logs, stats JSON) [0]
#   BENCH_REPORT       a scratch directory kept by an earlier run: only
#                      write the report again from its results []
#   BENCH_RCLONE, BENCH_UPSTREAM, BENCH_EMULATOR
#                      the binaries [bin/rclone, bin/rclone-upstream,
#                      bin/fichier-emulator]
#
# Both binaries reach the emulator the same way: through its HTTPS proxy
# (HTTPS_PROXY and --ca-cert) with a plain "type = fichier" remote and the
# default api_url, so each sends exactly what it would send to 1fichier.
# Only loopback addresses are used.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

FILES=${BENCH_FILES:-300}
FOLDERS=${BENCH_FOLDERS:-30}
BIG_MB=${BENCH_BIG_MB:-1024}
TIMEOUT=${BENCH_TIMEOUT:-20m}
TIMEOUT_BIG=${BENCH_TIMEOUT_BIG:-10m}
SCENARIOS=",${BENCH_SCENARIOS:-copy,sync,ls,big,mount},"
PARALLEL=${BENCH_PARALLEL:-1}
read -r -a EXTRA_FLAGS <<<"${BENCH_FLAGS:-}"
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
KEEP=${BENCH_KEEP:-0}
OURS=${BENCH_RCLONE:-$ROOT/bin/rclone}
UPSTREAM=${BENCH_UPSTREAM:-$ROOT/bin/rclone-upstream}
EMULATOR=${BENCH_EMULATOR:-$ROOT/bin/fichier-emulator}
KEY=bench-key
# The documented global limit, used for the lower bounds.
DOC_RATE=3
# Our backend's default api_rate, for the second lower bound.
OUR_RATE=2

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $(date +%H:%M:%S) $*" >&2; }
want() { [[ $SCENARIOS == *",$1,"* ]]; }

[[ $FILES =~ ^[1-9][0-9]*$ && $FOLDERS =~ ^[1-9][0-9]*$ && $BIG_MB =~ ^[1-9][0-9]*$ ]] ||
	die "BENCH_FILES, BENCH_FOLDERS and BENCH_BIG_MB must be positive integers"
[ "$FOLDERS" -le "$FILES" ] || die "BENCH_FOLDERS ($FOLDERS) must not exceed BENCH_FILES ($FILES)"
for b in "$OURS" "$UPSTREAM" "$EMULATOR"; do
	[ -x "$b" ] || die "$b is missing: run make build and make bin/rclone-upstream (or make bench)"
done

# Tools. On a fresh Debian machine, as root, install what is missing.
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing $2 (for $1)"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
	command -v "$1" >/dev/null || die "$1 is needed: install the $2 package"
}
need curl curl
need jq jq
need timeout coreutils
[ -x /usr/bin/time ] || need /usr/bin/time time
MOUNT_SKIP=""
if want mount; then
	if [ ! -e /dev/fuse ]; then
		MOUNT_SKIP="/dev/fuse is missing (no FUSE in this machine or container)"
	else
		need fusermount3 fuse3
	fi
fi

# Scratch space, and cleanup of everything we start.
if [ -n "${BENCH_REPORT:-}" ]; then
	WORK=$BENCH_REPORT
	KEEP=1
	[ -f "$WORK/run.env" ] || die "$WORK/run.env is missing: not a directory kept by BENCH_KEEP=1"
elif [ -n "${BENCH_WORK:-}" ]; then
	WORK=$BENCH_WORK
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/rclone-bench.XXXXXX")
fi
PIDS=$WORK/pids   # every background process we start, one pid a line
MOUNTS=$WORK/mounts
: >"$PIDS"
: >"$MOUNTS"
mkdir -p "$WORK/res"

cleanup() {
	local rc=$? m pid i
	trap - EXIT INT TERM
	while read -r m; do
		if [ -n "$m" ] && mountpoint -q "$m" 2>/dev/null; then fusermount3 -uz "$m" 2>/dev/null || true; fi
	done <"$MOUNTS"
	while read -r pid; do
		if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
	done <"$PIDS"
	for i in $(seq 50); do
		local alive=0
		while read -r pid; do
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
		done <"$PIDS"
		[ $alive = 0 ] && break
		sleep 0.2
	done
	while read -r pid; do
		if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
	done <"$PIDS"
	if [ "$KEEP" = 1 ]; then
		log "scratch directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# seconds of a duration such as 20m, 90s or 1h, for the report
seconds_of() {
	local d=$1
	case $d in
	*h) echo $((${d%h} * 3600)) ;;
	*m) echo $((${d%m} * 60)) ;;
	*s) echo "${d%s}" ;;
	*) echo "$d" ;;
	esac
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------
# Emulator

# start_emulator DIR [emulator flags...] starts an emulator whose state
# and output live in DIR, waits (at most 30 s) until it is ready, and sets
# EMU_PID, EMU_STATS, EMU_PROXY, EMU_CA.
start_emulator() {
	local dir=$1 i
	shift
	mkdir -p "$dir"
	"$EMULATOR" --listen 127.0.0.1:0 --key "$KEY" --proxy 127.0.0.1:0 \
		--ca-out "$dir/ca.pem" "$@" >"$dir/emulator.out" 2>"$dir/emulator.err" &
	EMU_PID=$!
	echo "$EMU_PID" >>"$PIDS"
	for i in $(seq 300); do
		grep -q '^ready=1$' "$dir/emulator.out" 2>/dev/null && break
		kill -0 "$EMU_PID" 2>/dev/null || die "emulator exited: $(cat "$dir/emulator.err")"
		sleep 0.1
	done
	grep -q '^ready=1$' "$dir/emulator.out" || die "emulator not ready after 30 s"
	EMU_STATS=$(sed -n 's/^stats_url=//p' "$dir/emulator.out")
	EMU_PROXY=$(sed -n 's/^proxy_url=//p' "$dir/emulator.out")
	EMU_CA=$(sed -n 's/^ca=//p' "$dir/emulator.out")
}

# stop_emulator stops the last emulator started (SIGTERM flushes --data),
# waiting at most 20 s before killing it.
stop_emulator() {
	local i
	kill -TERM "$EMU_PID" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$EMU_PID" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "$EMU_PID" 2>/dev/null || true
}

reset_stats() { curl -fsS -X POST "$EMU_STATS" >/dev/null; }

# ---------------------------------------------------------------------------
# Running rclone

# rclone_cmd BINARY sets RC to the command line that runs BINARY against
# the current emulator through its proxy, with a config that has only the
# "bench" remote.
rclone_cmd() {
	RC=(env -u NO_PROXY -u no_proxy -u HTTP_PROXY -u http_proxy
		HTTPS_PROXY="$EMU_PROXY" https_proxy="$EMU_PROXY"
		RCLONE_CONFIG="$WORK/rclone.conf"
		RCLONE_CONFIG_BENCH_TYPE=fichier RCLONE_CONFIG_BENCH_API_KEY="$KEY"
		"$1" --ca-cert "$EMU_CA" "${EXTRA_FLAGS[@]}")
}

# record FILE key value... appends key=value lines to a result file.
record() {
	local f=$1
	shift
	while [ $# -gt 1 ]; do
		printf '%s=%s\n' "$1" "$2" >>"$f"
		shift 2
	done
}

# get FILE KEY prints a value from a result file (empty if absent).
get() { sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1; }

# status_of RC LIMIT turns an exit code into the report's result word.
status_of() {
	case $1 in
	0) echo ok ;;
	124 | 137) echo "did not finish in $2" ;;
	*) echo "failed (exit $1)" ;;
	esac
}

# save_stats RESULT stores the emulator's counters of this run.
save_stats() {
	local res=$1
	curl -fsS "$EMU_STATS" >"$res.stats.json" || echo '{}' >"$res.stats.json"
	record "$res" \
		calls "$(jq -r '[.calls // {} | to_entries[] | select(.value > 0)] | sort_by(-.value) | map("\(.key) \(.value)") | join(", ")' "$res.stats.json")" \
		api_total "$(jq -r '[.calls // {} | to_entries[] | select(.key != "download" and .key != "dir") | .value] | add // 0' "$res.stats.json")" \
		floods "$(jq -r '.flood_locks // 0' "$res.stats.json")" \
		rejected "$(jq -r '.flood_rejected // 0' "$res.stats.json")"
}

# measure RESULT LIMIT BINARY args... runs one rclone command, bounded by
# LIMIT, and records its wall time, exit status, peak RSS and the
# emulator's counters in RESULT (plus RESULT.log, the rclone log).
measure() {
	local res=$1 limit=$2 bin=$3 t0 t1 rc=0
	shift 3
	: >"$res"
	reset_stats
	t0=$(now)
	rclone_cmd "$bin"
	/usr/bin/time -v -o "$res.time" timeout -k 30s "$limit" \
		"${RC[@]}" -v --log-file "$res.log" "$@" >"$res.out" 2>"$res.stderr" || rc=$?
	t1=$(now)
	record "$res" status "$(status_of "$rc" "$limit")" rc "$rc" wall "$(elapsed "$t0" "$t1")" \
		rss_kb "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$res.time")"
	save_stats "$res"
}

label_of() { [ "$1" = ours ] && echo "$OURS" || echo "$UPSTREAM"; }

# ---------------------------------------------------------------------------
# Data

# make_small DIR writes FILES files of 1-10 KiB spread over FOLDERS
# folders, the same every time (fixed seed).
make_small() {
	local dir=$1 i d size
	RANDOM=5
	for ((i = 0; i < FILES; i++)); do
		d=$(printf 'dir%02d' $((i % FOLDERS)))
		mkdir -p "$dir/$d"
		size=$((1024 + RANDOM % (9 * 1024 + 1)))
		head -c "$size" /dev/urandom >"$dir/$d/$(printf 'file%04d.bin' "$i")"
	done
}

if [ -n "${BENCH_REPORT:-}" ]; then
	# shellcheck source=/dev/null
	. "$WORK/run.env"
else
# The runs (the report below also works from a kept run's results).

SRC=$WORK/src
BIG=$WORK/big/big.bin
BIG_BYTES=$((BIG_MB * 1024 * 1024))
T_START=$(now)
log "scratch directory $WORK"
if want copy || want sync || want ls; then
	log "making $FILES small files in $FOLDERS folders"
	make_small "$SRC"
fi
if want big || want mount; then
	log "making a $BIG_MB MiB file"
	mkdir -p "$WORK/big"
	head -c "$BIG_BYTES" /dev/urandom >"$BIG"
fi
: >"$WORK/rclone.conf"

# Seeds: the remote contents that scenarios 2, 3, 4b and 5 start from,
# uploaded once by our binary with the rate rules off, so every measured
# run starts from the same state on a fresh emulator (fresh flood and
# listing clocks) whatever the other runs did.
seed() { # seed NAME rclone args...
	local name=$1
	shift
	log "seeding $name"
	start_emulator "$WORK/seed-$name" --no-rate-limits --data "$WORK/seed-$name/data"
	rclone_cmd "$OURS"
	# Our backend paces itself; lift that too, as the rules are off.
	timeout -k 10s "$TIMEOUT_BIG" "${RC[@]}" -q --fichier-api-rate 1000 \
		--fichier-list-interval 1ms --transfers 8 "$@" || die "seeding $name failed"
	stop_emulator
}
if want sync || want ls; then
	seed small copy "$SRC" bench:bench/small
fi
if want big || want mount; then
	seed big copy "$BIG" bench:bench/big
fi

# from_seed NAME DIR starts a fresh emulator on a copy of a seed (hard
# links: the emulator replaces files, never rewrites them).
from_seed() {
	mkdir -p "$2"
	cp -al "$WORK/seed-$1/data" "$2/data"
	start_emulator "$2" --data "$2/data"
}

# ---------------------------------------------------------------------------
# Scenarios. Each result lands in $WORK/res/<scenario>.<ours|upstream>.

# API-bound scenarios (1-3), one run each: run_api SCENARIO WHO.
run_api() {
	local sc=$1 who=$2 bin res
	bin=$(label_of "$who")
	res=$WORK/res/$sc.$who
	case $sc in
	copy)
		log "$who: 1. copy of $FILES files in $FOLDERS folders"
		start_emulator "$WORK/emu-copy-$who"
		measure "$res" "$TIMEOUT" "$bin" copy "$SRC" bench:bench/small
		;;
	sync)
		log "$who: 2. no-op sync"
		from_seed small "$WORK/emu-sync-$who"
		measure "$res" "$TIMEOUT" "$bin" sync "$SRC" bench:bench/small
		;;
	ls)
		log "$who: 3. lsf -R"
		from_seed small "$WORK/emu-ls-$who"
		measure "$res" "$TIMEOUT" "$bin" lsf -R bench:bench/small
		record "$res" listed "$(grep -vc '/$' "$res.out" || true)"
		;;
	esac
	stop_emulator
	log "$who: $sc: $(get "$res" status) in $(get "$res" wall) s"
}

# Big transfers (4) for one binary: upload to a fresh emulator, download
# from a fresh emulator holding the seed.
big_scenarios() {
	local who=$1 bin res
	bin=$(label_of "$who")
	log "$who: 4a. upload of $BIG_MB MiB"
	start_emulator "$WORK/emu-up-$who"
	measure "$WORK/res/up.$who" "$TIMEOUT_BIG" "$bin" copy "$BIG" bench:bench/big
	stop_emulator
	log "$who: upload: $(get "$WORK/res/up.$who" status) in $(get "$WORK/res/up.$who" wall) s"

	log "$who: 4b. download of $BIG_MB MiB"
	res=$WORK/res/down.$who
	rm -rf "$WORK/dl"
	mkdir -p "$WORK/dl"
	from_seed big "$WORK/emu-down-$who"
	measure "$res" "$TIMEOUT_BIG" "$bin" copy bench:bench/big/big.bin "$WORK/dl"
	stop_emulator
	if [ "$(get "$res" status)" = ok ] && ! cmp -s "$BIG" "$WORK/dl/big.bin"; then
		record "$res" status "failed (downloaded file differs)"
	fi
	rm -rf "$WORK/dl"
	log "$who: download: $(get "$res" status) in $(get "$res" wall) s"
}

# curl_big: the same HTTP requests as an upload and a download, made by
# curl through the same proxy: what loopback, TLS and the emulator allow.
curl_big() {
	local res=$WORK/res/curl t0 t1 t2 node id link token rc=0 c api
	log "curl: upload and download of $BIG_MB MiB"
	: >"$res"
	start_emulator "$WORK/emu-curl"
	c=(curl -fsS --max-time "$(seconds_of "$TIMEOUT_BIG")" --proxy "$EMU_PROXY" --cacert "$EMU_CA")
	api=(-H "Authorization: Bearer $KEY" -H "Content-Type: application/json")
	reset_stats
	t0=$(now)
	{
		node=$("${c[@]}" "${api[@]}" https://api.1fichier.com/v1/upload/get_upload_server.cgi) &&
			id=$(jq -r .id <<<"$node") && node=$(jq -r .url <<<"$node") &&
			"${c[@]}" -H "Authorization: Bearer $KEY" -F "file[]=@$BIG;filename=big.bin" \
				-o /dev/null "https://$node/upload.cgi?id=$id" &&
			link=$("${c[@]}" -H "JSON: 1" "https://$node/end.pl?xid=$id" | jq -r '.links[0].download')
	} || rc=$?
	t1=$(now)
	record "$res" up_status "$(status_of "$rc" "$TIMEOUT_BIG")" up_wall "$(elapsed "$t0" "$t1")"
	# A small upload makes its three calls within one second: wait, as a
	# client keeping to 3 calls/s would, before the fourth (not timed).
	sleep 1.1
	t1=$(now)
	if [ "$rc" = 0 ]; then
		{
			token=$("${c[@]}" "${api[@]}" -d "{\"url\":\"$link\"}" https://api.1fichier.com/v1/download/get_token.cgi | jq -r .url) &&
				"${c[@]}" -o /dev/null "$token"
		} || rc=$?
	fi
	t2=$(now)
	record "$res" down_status "$(status_of "$rc" "$TIMEOUT_BIG")" down_wall "$(elapsed "$t1" "$t2")"
	save_stats "$res"
	stop_emulator
	log "curl: upload $(get "$res" up_wall) s, download $(get "$res" down_wall) s"
}

# mount_read WHO: sequential read of the big file through rclone mount.
mount_read() {
	local who=$1 bin res mnt mpid i t0 t1 rc=0 n
	bin=$(label_of "$who")
	res=$WORK/res/mount.$who
	mnt=$WORK/mnt-$who
	log "$who: 5. sequential read of $BIG_MB MiB through rclone mount"
	: >"$res"
	mkdir -p "$mnt"
	echo "$mnt" >>"$MOUNTS"
	from_seed big "$WORK/emu-mount-$who"
	reset_stats
	rclone_cmd "$bin"
	/usr/bin/time -v -o "$res.time" timeout -k 30s $(($(seconds_of "$TIMEOUT_BIG") + 60)) \
		"${RC[@]}" -v --log-file "$res.log" mount --read-only bench:bench/big "$mnt" >/dev/null 2>"$res.stderr" &
	mpid=$!
	echo "$mpid" >>"$PIDS"
	for i in $(seq 600); do
		mountpoint -q "$mnt" && break
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	if mountpoint -q "$mnt"; then
		t0=$(now)
		n=$(timeout -k 10s "$TIMEOUT_BIG" dd if="$mnt/big.bin" of=/dev/null bs=1M 2>&1 | sed -n 's/^\([0-9]*\) bytes.*/\1/p') || rc=$?
		t1=$(now)
		if [ "$rc" = 0 ] && [ "${n:-0}" != "$BIG_BYTES" ]; then
			record "$res" status "failed (read ${n:-0} of $BIG_BYTES bytes)"
		else
			record "$res" status "$(status_of "$rc" "$TIMEOUT_BIG")"
		fi
		record "$res" wall "$(elapsed "$t0" "$t1")" bytes_read "${n:-0}"
		save_stats "$res"
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	else
		record "$res" status "failed (not mounted after 60 s)" wall 0
		save_stats "$res"
	fi
	# rclone mount exits once unmounted; the timeout above bounds this too.
	for i in $(seq 150); do
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.2
	done
	kill -TERM "$mpid" 2>/dev/null || true
	wait "$mpid" 2>/dev/null || true
	record "$res" rss_kb "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$res.time" 2>/dev/null)"
	stop_emulator
	log "$who: mount read: $(get "$res" status) in $(get "$res" wall) s"
}

# Scenarios 1-3 spend their time waiting for the rate rules, not
# computing, so by default every run of them goes at once, each with its
# own emulator; a stuck run then costs its timeout only once.
api_pids=()
for sc in copy sync ls; do
	want "$sc" || continue
	for who in ours upstream; do
		if [ "$PARALLEL" = 1 ]; then
			run_api "$sc" "$who" &
			api_pids+=($!)
			echo "$!" >>"$PIDS"
		else
			run_api "$sc" "$who"
		fi
	done
done
# Each run is bounded by its timeout, so these waits are too.
for p in "${api_pids[@]}"; do
	wait "$p" || die "an API-bound scenario could not be run (see above)"
done
if want big; then
	big_scenarios ours
	big_scenarios upstream
	curl_big
fi
if want mount; then
	if [ -n "$MOUNT_SKIP" ]; then
		echo "bench: SKIPPING scenario 5 (rclone mount): $MOUNT_SKIP" >&2
	else
		mount_read ours
		mount_read upstream
	fi
fi
T_END=$(now)
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M')
declare -p FILES FOLDERS BIG_MB BIG_BYTES TIMEOUT TIMEOUT_BIG SCENARIOS PARALLEL \
	MOUNT_SKIP T_START T_END RUN_DATE EXTRA_FLAGS >"$WORK/run.env"
fi # end of the runs

# ---------------------------------------------------------------------------
# Report

# cell FILE KEY [default] prints a value or a dash.
cell() {
	local v
	v=$(get "$1" "$2")
	echo "${v:-${3:--}}"
}
mib() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }' || echo -; }
mbps() { # mbps BYTES SECONDS
	awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f MB/s", b / s / 1e6; else print "-" }'
}
lower_bound() { # lower_bound CALLS
	awk -v n="$1" -v r1="$DOC_RATE" -v r2="$OUR_RATE" \
		'BEGIN { printf "%d calls: %.0f s at %d/s (%.0f s at %d/s)", n, n / r1, r1, n / r2, r2 }'
}
floods() { # floods RESULT
	local f r
	f=$(get "$1" floods)
	r=$(get "$1" rejected)
	[ -z "$f" ] && echo - && return
	if [ "${r:-0}" -gt 0 ]; then echo "**$f** ($r refused)"; else echo "$f"; fi
}
calls() { # calls RESULT
	local c t
	c=$(get "$1" calls)
	t=$(get "$1" api_total)
	[ -z "$c" ] && echo - && return
	echo "$t API: $c"
}

# row SCENARIO-LABEL RESULT BOUND THROUGHPUT
row() {
	local r=$2
	[ -f "$r" ] || return 0
	printf '| %s | %s | %s | %s s | %s | %s | %s | %s | %s |\n' \
		"$1" "$3" "$(cell "$r" status)" "$(cell "$r" wall)" "$4" "$(calls "$r")" \
		"$(floods "$r")" "$5" "$(mib "$(get "$r" rss_kb)")"
}

curl_bound() { # curl_bound KEY: curl's time, the bound of a transfer
	if [ -f "$R/curl" ]; then echo "curl: $(cell "$R/curl" "$1") s"; else echo -; fi
}
name_of() { [ "$1" = ours ] && echo "ours" || echo "upstream"; }
rate_of() { # rate_of RESULT COUNT UNIT: COUNT/wall, for finished runs
	[ "$(get "$1" status)" = ok ] || { echo -; return; }
	awk -v n="$2" -v s="$(get "$1" wall)" -v u="$3" 'BEGIN { if (s > 0) printf "%.2f %s", n / s, u; else print "-" }'
}
big_rate() { # big_rate RESULT: MB/s for finished runs
	[ "$(get "$1" status)" = ok ] || { echo -; return; }
	mbps "$BIG_BYTES" "$(get "$1" wall)"
}

version_of() { "$1" version 2>/dev/null | head -n 1 || echo "?"; }
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
GOV=$(go version 2>/dev/null || echo "go not on PATH")
TOTAL_MIN=$(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.1f", (b - a) / 60 }')
R=$WORK/res
COPY_CALLS=$((3 * FILES + FOLDERS + 3))
LIST_CALLS=$((FOLDERS + 3))

{
	cat <<HEAD
# Benchmarks: rclone-fichier against upstream rclone

Written by \`make bench\` (\`scripts/bench.sh\`); do not edit by hand.
What each scenario measures and how to read the lower bounds:
[docs/benchmarks.md](docs/benchmarks.md).

| Machine and run | |
|---|---|
| Date (UTC) | $RUN_DATE |
| CPU | ${CPU:-unknown}, $(nproc) cores (\`nproc\`) |
| Memory | $MEM |
| OS | $(uname -sr) |
| Go | $GOV |
| ours | \`$(version_of "$OURS")\` (\`bin/rclone\`: rclone with this repository's fichier backend) |
| upstream | \`$(version_of "$UPSTREAM")\` (\`bin/rclone-upstream\`: \`github.com/rclone/rclone\` at the same module version) |
| Emulator | \`bin/fichier-emulator\`, documented limits, unscaled: 3 calls/s per key, one listing per folder per 30 s, 5 minute flood lock |
| Path | both binaries through the emulator's HTTPS proxy (\`HTTPS_PROXY\`, \`--ca-cert\`), plain \`type = fichier\` remote, default \`api_url\`; loopback only |
| Flags | identical for both: rclone defaults${EXTRA_FLAGS[*]:+ plus \`${EXTRA_FLAGS[*]}\`} (\`--transfers 4\`, \`--retries 3\`, \`--low-level-retries 10\`) |
| Data | $FILES files of 1-10 KiB in $FOLDERS folders; one file of $BIG_MB MiB |
| Bounds | each copy, sync and ls run stopped after $TIMEOUT; each upload, download and mount run after $TIMEOUT_BIG |
| Total run time | $TOTAL_MIN minutes |

HEAD
	echo "| Scenario | Binary | Result | Wall time | Lower bound | Emulator calls | Flood locks | Throughput | Peak RSS |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for who in ours upstream; do
		row "1. copy $FILES files / $FOLDERS folders" "$R/copy.$who" "$(name_of $who)" "$(lower_bound $COPY_CALLS)" "$(rate_of "$R/copy.$who" "$FILES" files/s)"
	done
	for who in ours upstream; do
		row "2. no-op sync" "$R/sync.$who" "$(name_of $who)" "$(lower_bound $LIST_CALLS)" -
	done
	for who in ours upstream; do
		row "3. lsf -R" "$R/ls.$who" "$(name_of $who)" "$(lower_bound $LIST_CALLS)" "$(cell "$R/ls.$who" listed 0) files listed"
	done
	for who in ours upstream; do
		row "4a. upload $BIG_MB MiB" "$R/up.$who" "$(name_of $who)" "$(curl_bound up_wall)" "$(big_rate "$R/up.$who")"
	done
	for who in ours upstream; do
		row "4b. download $BIG_MB MiB" "$R/down.$who" "$(name_of $who)" "$(curl_bound down_wall)" "$(big_rate "$R/down.$who")"
	done
	if [ -f "$R/curl" ]; then
		printf '| 4. upload + download %s MiB | curl | upload %s, download %s | %s s + %s s | transfer limit | %s | %s | %s up, %s down | - |\n' \
			"$BIG_MB" "$(cell "$R/curl" up_status)" "$(cell "$R/curl" down_status)" \
			"$(cell "$R/curl" up_wall)" "$(cell "$R/curl" down_wall)" "$(calls "$R/curl")" "$(floods "$R/curl")" \
			"$(mbps "$BIG_BYTES" "$(cell "$R/curl" up_wall 0)")" "$(mbps "$BIG_BYTES" "$(cell "$R/curl" down_wall 0)")"
	fi
	for who in ours upstream; do
		row "5. read $BIG_MB MiB through mount" "$R/mount.$who" "$(name_of $who)" "$(curl_bound down_wall)" "$(big_rate "$R/mount.$who")"
	done
	if want mount && [ -n "${MOUNT_SKIP:-}" ]; then
		echo "| 5. read through mount | both | **skipped: $MOUNT_SKIP** | | | | | | |"
	fi
	cat <<FOOT

- **Lower bound**: the API calls the scenario needs at least, divided by
  1fichier's documented 3 calls/s (and by our backend's default
  \`api_rate\` of 2/s). A copy needs 3 calls per file (\`get_upload_server\`,
  \`upload.cgi\`, \`end.pl\`), one \`mkdir\` per folder and one listing; a
  listing needs one call per folder. For the big transfers the bound is
  curl making the same HTTP requests through the same proxy.
- **Emulator calls** are counted by the emulator (\`/debug/stats\`),
  refused calls included; "API" excludes the download host (\`download\`).
- **Throughput** of the big file is its size over the wall time of the
  whole command (start-up, listings and token calls included; for the
  mount, of \`dd\`). Whirlpool makes these CPU-bound, not network-bound:
  the emulator hashes every upload (curl's too), and \`rclone copy\` hashes
  what it sends and receives to verify it, with a pure-Go Whirlpool that
  runs at about 80 MB/s on one core; curl's download and the mount do not
  hash. All of it shares the machine's cores.
- **Peak RSS** is the rclone process's maximum resident set size
  (\`/usr/bin/time -v\`).
- Every measured run starts on a fresh emulator (fresh flood and listing
  clocks) holding the same seeded contents. $([ "$PARALLEL" = 1 ] && echo "The runs of scenarios 1-3 went
  at the same time, each against its own emulator (they wait on the rate
  rules, not the CPU); the transfers ran one at a time." || echo "Every run went
  one at a time (BENCH_PARALLEL=0).")
FOOT
	# Why runs failed, in rclone's own words.
	notes=""
	for f in "$R"/*.ours "$R"/*.upstream; do
		[ -f "$f" ] || continue
		[ "$(get "$f" status)" = ok ] && continue
		msg=$(grep -E 'ERROR|Failed|NOTICE' "$f.log" 2>/dev/null | grep -v 'Config file' | tail -n 1 | sed 's/^[0-9\/]* [0-9:]* //' | cut -c1-300 || true)
		notes+="- ${f##*/}: $(get "$f" status); last message: ${msg:+\`}${msg:-none logged}${msg:+\`}"$'\n'
	done
	if [ -n "$notes" ]; then
		printf '\n## Runs that did not succeed\n\n%s' "$notes"
	fi
} >"$OUT"
log "wrote $OUT (benchmark took $TOTAL_MIN minutes)"
