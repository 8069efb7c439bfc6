package e2e

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	_ "github.com/rclone/rclone/backend/local"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/operations"
	"github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault matrix syncs matrixFolders × matrixPerFolder files (the
// issue's 500) into a destination that already holds one folder of
// them, while the emulator injects one kind of fault.
const (
	matrixFolders   = 10
	matrixPerFolder = 50
	matrixFiles     = matrixFolders * matrixPerFolder
	// syncRetries is rclone's default --retries: a sync that fails is
	// run again, whole, this many times in all.
	syncRetries = 3
)

// matrixSource writes the source tree once for every case: folders
// d00..d09 of 50 files of 1 to 5 KiB.
func matrixSource(t *testing.T) (dir string, names []string) {
	t.Helper()
	dir = t.TempDir()
	folders := make([]string, matrixFolders)
	for i := range folders {
		folders[i] = fmt.Sprintf("d%02d", i)
	}
	return dir, writeTree(t, dir, folders, matrixPerFolder, 42)
}

// seedDestination stores folder d00 of the source in "dst" directly in
// the emulator, as if an earlier run had uploaded it, and returns the
// stored files' URLs by path.
func seedDestination(t *testing.T, srv *emulator.TestServer, src string, names []string) map[string]string {
	t.Helper()
	dst, err := srv.Mkdir(srv.Key, 0, "dst")
	require.NoError(t, err)
	d00, err := srv.Mkdir(srv.Key, dst, "d00")
	require.NoError(t, err)
	seeded := map[string]string{}
	for _, name := range names {
		if path.Dir(name) != "d00" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		u, err := srv.PutFile(srv.Key, d00, path.Base(name), data)
		require.NoError(t, err)
		seeded[name] = u
	}
	return seeded
}

// syncWithRetries runs sync like "rclone sync" does: up to max times
// (rclone's --retries) while it fails. It returns the runs made and the last error.
func syncWithRetries(ctx context.Context, fdst, fsrc fs.Fs, max int) (runs int, err error) {
	for runs = 1; ; runs++ {
		err = sync.Sync(ctx, fdst, fsrc, false)
		if err == nil || runs == max {
			return runs, err
		}
		// As rclone does between retries: a new run starts clean.
		accounting.Stats(ctx).ResetErrors()
	}
}

// checkStored asserts the emulator holds exactly the source: every
// name once (no stray duplicate), with the source's content, and that
// the seeded files are still the same stored files.
func checkStored(t *testing.T, srv *emulator.TestServer, src string, names []string, seeded map[string]string) {
	t.Helper()
	files, err := srv.Files(srv.Key, -1)
	require.NoError(t, err)
	count := map[string]int{}
	for _, f := range files {
		count[fmt.Sprintf("%d/%s", f.FolderID, f.Name)]++
	}
	for key, n := range count {
		assert.Equal(t, 1, n, "stray duplicates of %s", key)
	}
	assert.Len(t, files, len(names), "files stored")
	for name, u := range seeded {
		info, err := srv.Lookup(u)
		if assert.NoError(t, err, "seeded file %s (%s) was lost", name, u) {
			data, err := os.ReadFile(filepath.Join(src, name))
			require.NoError(t, err)
			assert.Equal(t, whirlpoolHex(data), info.Whirlpool, "seeded file %s changed", name)
		}
	}
}

// TestSyncSurvivesFaults is the fault matrix: a 500-file sync while the
// emulator injects one kind of fault per case. Each sync must finish
// (within rclone's usual 3 runs) or fail with an error, never hang or
// claim success; after a clean re-run, check finds no difference, the
// emulator holds every file exactly once, the files stored before the
// sync are untouched, and the retries stay bounded.
func TestSyncSurvivesFaults(t *testing.T) {
	src, names := matrixSource(t)
	newFiles := int64(matrixFiles - matrixPerFolder)
	for _, tc := range []struct {
		name         string
		faults       string
		listingDelay time.Duration // eventual consistency (before the time scale)
		apiRate      float64       // calls/s the backend allows itself (before the time scale); 0 = default
		wantFailure  bool          // the sync is expected to give up and say so
	}{
		{name: "500", faults: "*=500@0.05"},
		{name: "502", faults: "*=502@0.05"},
		{name: "503", faults: "*=503@0.05"},
		{name: "reset-before", faults: "*=reset-before@0.05"},
		{name: "reset-during", faults: "*=reset-during@0.05"},
		{name: "reset-mid-upload", faults: "upload.cgi=reset-mid@0.1"},
		{name: "end-html", faults: "end.pl=end-html@0.05"},
		{name: "end-empty", faults: "end.pl=end-empty@0.05"},
		// end.pl leaves the last file of a batch out.
		{name: "end-short", faults: "end.pl=end-short@0.2"},
		// The answer to a whole batch is lost after it was stored.
		{name: "reset-after-upload", faults: "upload.cgi=reset-after@0.1"},
		// Every answer 20 ms late (2 s before the time scale).
		{name: "slow", faults: "*=slow(20ms)"},
		// Twice the documented 3 calls/s: the emulator locks the key and
		// the backend must wait the locks out, not hammer them.
		{name: "flood", apiRate: 6},
		// New files show in listings only after 10 (scaled) minutes,
		// while some upload answers are lost: the backend cannot see
		// what it stored from a listing.
		{name: "eventual-consistency", listingDelay: 10 * time.Minute, faults: "upload.cgi=reset-during@0.05,end.pl=end-empty@0.05"},
		// Every upload fails: the sync must give up, loudly.
		{name: "upload-always-503", faults: "upload.cgi=503", wantFailure: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var skew atomic.Int64 // moves the emulator's clock forward
			opts := fichiertest.Options()
			opts.Faults = tc.faults
			opts.Seed = 1
			opts.ListingDelay = tc.listingDelay
			opts.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
			srv := emulator.NewTestServer(t, opts)
			seeded := seedDestination(t, srv, src, names)

			extra := map[string]string{}
			if tc.apiRate > 0 {
				extra["api_rate"] = fmt.Sprint(tc.apiRate * fichiertest.TimeScale)
			}
			fdst := fichiertest.NewFs(t, srv, "dst", extra)
			ctx, ci := fs.AddConfig(context.Background())
			ctx = accounting.WithStatsGroup(ctx, t.Name())
			runs := syncRetries
			if tc.wantFailure {
				ci.LowLevelRetries = 2 // keep the doomed case short
				runs = 1
			}
			if tc.name == "flood" {
				ci.Transfers = 16 // enough callers to use the excess rate
			}
			fsrc, err := fs.NewFs(ctx, src)
			require.NoError(t, err)

			start := time.Now()
			runs, err = syncWithRetries(ctx, fdst, fsrc, runs)
			elapsed := time.Since(start)
			st := srv.Stats()
			t.Logf("%s: %d run(s) in %v, err=%v; calls %v; flood locks %d, calls during locks %d",
				tc.name, runs, elapsed.Round(time.Millisecond), err, st.Calls, st.FloodLocks, st.CallsDuringLock)
			if tc.wantFailure {
				require.Error(t, err, "a sync whose every upload fails must fail")
				// No retry storm: each file is tried LowLevelRetries
				// times per run at most.
				assert.LessOrEqual(t, st.Calls["upload.cgi"], int64(runs*ci.LowLevelRetries)*newFiles, "upload attempts")
			} else {
				require.NoError(t, err, "sync under %q", tc.faults)
				// Bounded retries: never more than twice the uploads a
				// clean sync makes.
				assert.LessOrEqual(t, st.Calls["upload.cgi"], 2*newFiles, "upload attempts")
			}
			if tc.name == "flood" {
				assert.Positive(t, st.FloodLocks, "the case must provoke flood locks")
				// While locked, the backend holds every caller: only
				// calls already in flight may hit the lock.
				assert.LessOrEqual(t, st.CallsDuringLock, 8*st.FloodLocks, "calls made during a lock")
			}

			// The clean re-run: faults off, the listing delay over, our
			// listings forgotten (a new rclone process).
			srv.Faults().Clear()
			skew.Store(int64(tc.listingDelay))
			fdst.Features().DirCacheFlush()
			srv.ResetStats()
			ctx = accounting.WithStatsGroup(ctx, t.Name()+"/rerun")
			require.NoError(t, sync.Sync(ctx, fdst, fsrc, false), "clean re-run")
			rerun := srv.Stats()
			t.Logf("%s: clean re-run calls %v", tc.name, rerun.Calls)
			require.NoError(t, operations.Check(ctx, &operations.CheckOpt{Fdst: fdst, Fsrc: fsrc}), "check after the re-run")
			checkStored(t, srv, src, names, seeded)
		})
	}
}
