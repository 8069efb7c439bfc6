package chaos

import (
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/require"
)

// shortSeed and shortDuration are the seeded run of make test: rounds
// of copies, syncs, moves, server-side copies and moves, deletes, rcat,
// listings and backend commands by several processes at once, under
// lost answers and errors, SIGKILLs at calls, SIGSTOPs, busy loops, a
// held state lock, an emulator restart and another client's changes
// (its schedule: go run ./cmd/fichier-chaos -seed 3 -duration 15m -print).
const (
	shortSeed     = 3
	shortDuration = 15 * time.Minute
)

// logWriter sends the run's log lines to the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestShortSeededRun runs the explorer on one seed with the real
// binaries (FICHIER_BIN_DIR, or built once): no invariant may break.
func TestShortSeededRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real rclone processes for about two minutes")
	}
	rclone, emulator := fichiertest.Binaries(t)
	res, err := Run(Config{Seed: shortSeed, Duration: shortDuration, Scale: 20, RcloneBin: rclone, EmulatorBin: emulator,
		WorkDir: t.TempDir(), Bound: 3 * time.Minute, Log: logWriter{t}})
	require.NoError(t, err, "seed %d:\n%s", shortSeed, res.Schedule)
	require.Equal(t, len(res.Schedule.Rounds), res.Rounds, "every round ran")
	require.Positive(t, res.Commands)
	require.Empty(t, res.Failures, "seed %d, duration %v, work directory %s; the schedule:\n%s",
		shortSeed, shortDuration, res.WorkDir, res.Schedule)
}
