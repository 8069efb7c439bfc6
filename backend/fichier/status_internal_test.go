package fichier

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatusShowsTheSharedState: the status command shows, without an
// API call, the flood lock, the slowdown, the call slot, the stored
// listings of the folders under the remote with their clocks, the
// pending journal entries and the state file.
func TestStatusShowsTheSharedState(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	ctx := context.Background()
	put(t, f, "backup/media/m1.txt", "first")
	put(t, f, "backup/m2.txt", "second")
	_, err := f.List(ctx, "")
	require.NoError(t, err)

	require.NoError(t, f.acc.db.update(func(k *keyTx) error {
		return k.putJournal("xid42", &journalEntry{Folder: 7, Files: []journalFile{{Name: "big.iso", Size: 9}}, Sent: time.Now(), Owner: thisProcess})
	}))
	f.acc.limits.flood("Flood detected: IP Locked #374")
	before := srv.Stats().Total()

	out, err := f.Command(ctx, "status", nil, map[string]string{"json": ""})
	require.NoError(t, err)
	st := out.(*Status)
	assert.Equal(t, before, srv.Stats().Total(), "no API call")

	assert.True(t, st.FloodLocked)
	until, err := time.Parse(time.RFC3339, st.FloodUntil)
	require.NoError(t, err, "RFC 3339: %q", st.FloodUntil)
	assert.True(t, until.After(time.Now()))
	assert.GreaterOrEqual(t, st.Slowdown, 1)
	assert.NotEmpty(t, st.NextCall)

	byPath := map[string]FolderStatus{}
	for _, fo := range st.Folders {
		byPath[fo.Path] = fo
	}
	for _, p := range []string{"", "backup", "backup/media"} {
		fo, ok := byPath[p]
		require.True(t, ok, "folder %q in %+v", p, st.Folders)
		assert.NotEmpty(t, fo.Listed, p)
		assert.NotEmpty(t, fo.NextListing, p)
	}
	assert.Equal(t, 1, byPath["backup"].Files)
	assert.Equal(t, 1, byPath["backup/media"].Files)

	require.Len(t, st.Pending, 1)
	assert.Equal(t, "xid42", st.Pending[0].Session)
	assert.Equal(t, []string{"big.iso"}, st.Pending[0].Files)

	assert.Equal(t, f.acc.db.path, st.StateFile)
	info, err := os.Stat(st.StateFile)
	require.NoError(t, err)
	assert.Equal(t, info.Size(), st.StateFileSize)

	text, err := f.Command(ctx, "status", nil, nil)
	require.NoError(t, err)
	all := strings.Join(text.([]string), "\n")
	assert.Contains(t, all, "flood lock: held until "+st.FloodUntil)
	assert.Contains(t, all, "backup/media [")
	assert.Contains(t, all, "session xid42")
}
