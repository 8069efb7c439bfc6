package fichier

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/vfs"
	"github.com/rclone/rclone/vfs/vfscommon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// TestVFSWriteWithoutCache writes files the way rclone mount does with
// --vfs-cache-mode off: sequential writes of unknown total size, which
// the VFS hands to operations.Rcat. The backend has no PutStream, so
// rclone learns the size itself, in memory below --streaming-upload-cutoff
// and in a temporary file of its own above it, and then calls Put with
// the size. Each file is one upload request (get_upload_server.cgi,
// upload.cgi, end.pl), and the temporary directory is empty again once
// the file is closed.
func TestVFSWriteWithoutCache(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, ci := fs.AddConfig(context.Background())
	ci.StreamingUploadCutoff = 100 * fs.Kibi
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "w/seed.txt", "makes the folder") // so the writes below add no mkdir

	opt := vfscommon.Opt
	opt.CacheMode = vfscommon.CacheModeOff
	v := vfs.New(ctx, f, &opt)
	t.Cleanup(v.Shutdown)

	for _, tc := range []struct {
		name string
		size int
	}{
		{"big.bin", 1<<20 + 7}, // above the cutoff: rclone's temporary file
		{"small.bin", 50_000},  // below it: rclone's memory buffer
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			rng := rand.New(rand.NewPCG(uint64(tc.size), 3))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			srv.ResetStats()
			h, err := v.OpenFile("w/"+tc.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			require.NoError(t, err)
			for off := 0; off < len(data); off += 64 << 10 {
				_, err := h.Write(data[off:min(off+64<<10, len(data))])
				require.NoError(t, err)
			}
			// Everything written has gone through the VFS's pipe into
			// Rcat: above the cutoff, into rclone's temporary file.
			if tc.size > int(ci.StreamingUploadCutoff) {
				assert.Eventually(t, func() bool {
					left, err := os.ReadDir(tmp)
					return err == nil && len(left) == 1 && strings.HasPrefix(left[0].Name(), "rclone-spool")
				}, 5*time.Second, 10*time.Millisecond, "rclone's spool file while the file is open")
			} else {
				left, err := os.ReadDir(tmp)
				require.NoError(t, err)
				assert.Empty(t, left, "a small file is buffered in memory")
			}
			require.NoError(t, h.Close(), "the upload, on close")

			stats := srv.Stats()
			assert.Equal(t, int64(1), stats.Calls["upload/get_upload_server.cgi"], "%v", stats.Calls)
			assert.Equal(t, int64(1), stats.Calls["upload.cgi"], "%v", stats.Calls)
			assert.Equal(t, int64(1), stats.Calls["end.pl"], "%v", stats.Calls)
			// The folder was listed when the seed went in and is kept up
			// to date by our uploads: no listing, nothing else.
			assert.Equal(t, int64(3), stats.Total(), "every call: %v", stats.Calls)

			files, err := srv.Files(srv.Key, -1)
			require.NoError(t, err)
			var url string
			for _, file := range files {
				if file.Name == tc.name {
					require.Empty(t, url, "%s stored twice", tc.name)
					url = file.URL
					assert.Equal(t, int64(len(data)), file.Size, "stored size")
				}
			}
			require.NotEmpty(t, url, "%s not stored", tc.name)
			stored, err := srv.FileData(url)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, stored), "stored content")

			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "temporary files left after the close")
		})
	}
}

// TestPutOfUnknownSizeIsRefused: with no PutStream, rclone never calls
// Put or Update without the size; if something else does, the backend
// refuses without spooling and without sending anything.
func TestPutOfUnknownSizeIsRefused(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	assert.Nil(t, f.Features().PutStream, "no PutStream")
	var _, isStreamer = fs.Fs(f).(fs.PutStreamer)
	assert.False(t, isStreamer, "no PutStream method")

	o := put(t, f, "u/old.txt", "old content")
	srv.ResetStats()
	src := object.NewStaticObjectInfo("u/new.txt", time.Now(), -1, true, nil, nil)
	_, err := f.Put(ctx, strings.NewReader("streamed"), src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown size")
	src = object.NewStaticObjectInfo("u/old.txt", time.Now(), -1, true, nil, nil)
	err = o.Update(ctx, strings.NewReader("streamed"), src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown size")

	stats := srv.Stats()
	assert.Zero(t, stats.Calls["upload/get_upload_server.cgi"]+stats.Calls["upload.cgi"]+stats.Calls["end.pl"], "nothing sent: %v", stats.Calls)
	files, err := srv.Files(srv.Key, -1)
	require.NoError(t, err)
	require.Len(t, files, 1, "only the old file")
	assert.Equal(t, "old.txt", files[0].Name)
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "nothing spooled")
}
