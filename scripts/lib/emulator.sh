# Sourced by scripts/suites.sh and scripts/upstream-check.sh: starts a
# standalone fichier-emulator, time-scaled with the rate rules on, and
# defines the remote TestFichier: from environment variables only, with
# the backend's rates scaled like the emulator's rules (as
# fichiertest.RateOptions does); the backend's other clocks follow the
# emulator's X-Time-Scale answer header.
#
# start_emulator BINARY SCALE LOGDIR sets API_URL, STATS_URL and EMU_PID,
# and stops the emulator when the calling script exits.

start_emulator() { # binary scale logdir
	local bin=$1 scale=$2 logdir=$3 out
	out=$logdir/emulator.out
	"$bin" --listen 127.0.0.1:0 --key "${EMULATOR_KEY:-test-key}" --time-scale "$scale" >"$out" 2>"$logdir/emulator.log" &
	EMU_PID=$!
	trap 'kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null || true' EXIT
	for _ in $(seq 100); do
		grep -q '^ready=1$' "$out" 2>/dev/null && break
		kill -0 "$EMU_PID" 2>/dev/null || { echo "the emulator exited:"; cat "$logdir/emulator.log"; exit 1; }
		sleep 0.1
	done
	grep -q '^ready=1$' "$out" || { echo "the emulator did not start in 10 s"; exit 1; }
	API_URL=$(sed -n 's/^api_url=//p' "$out")
	STATS_URL=$(sed -n 's/^stats_url=//p' "$out")
}

# export_remote SCALE defines the remote TestFichier: for the emulator at
# API_URL; no config file is read.
export_remote() { # scale
	local scale=$1
	scaled() { awk -v s="$1" -v k="$scale" 'BEGIN { printf "%gms", s * 1000 / k }'; }
	export RCLONE_CONFIG_TESTFICHIER_TYPE=fichier
	export RCLONE_CONFIG_TESTFICHIER_API_KEY=${EMULATOR_KEY:-test-key}
	export RCLONE_CONFIG_TESTFICHIER_API_URL=$API_URL
	RCLONE_CONFIG_TESTFICHIER_API_RATE=$(awk -v k="$scale" 'BEGIN { printf "%g", 2 * k }')
	RCLONE_CONFIG_TESTFICHIER_LIST_INTERVAL=$(scaled 30)
	RCLONE_CONFIG_TESTFICHIER_LIST_CACHE_TIME=$(scaled 600)
	RCLONE_CONFIG_TESTFICHIER_FLOOD_WAIT=$(scaled 300)
	export RCLONE_CONFIG_TESTFICHIER_API_RATE RCLONE_CONFIG_TESTFICHIER_LIST_INTERVAL \
		RCLONE_CONFIG_TESTFICHIER_LIST_CACHE_TIME RCLONE_CONFIG_TESTFICHIER_FLOOD_WAIT
	export RCLONE_CONFIG=/notfound
}
