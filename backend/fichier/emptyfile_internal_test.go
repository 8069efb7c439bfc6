package fichier

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/object"
	fssync "github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmptyFileRefusal: an empty file is refused before any call, with
// what to do, as rclone's empty-file error, and for good (rclone does not
// run the sync again for it).
func TestEmptyFileRefusal(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	src := object.NewStaticObjectInfo("empty.txt", time.Now(), 0, true, nil, nil)
	_, err := f.Put(context.Background(), strings.NewReader(""), src)
	require.Error(t, err)
	assert.True(t, errors.Is(err, fs.ErrorCantUploadEmptyFiles), "still rclone's error to errors.Is: %v", err)
	assert.True(t, fserrors.IsNoRetryError(err), "a retry cannot help: %v", err)
	assert.Contains(t, err.Error(), `"empty.txt" is empty`)
	assert.Contains(t, err.Error(), "--min-size 1B")
	s := srv.Stats()
	assert.Zero(t, s.Calls["upload/get_upload_server.cgi"]+s.Calls["upload.cgi"], "nothing is sent: %v", s.Calls)
}

// TestSyncWithMinSizeDeletes: an empty file in the source stops sync
// from deleting (rclone deletes nothing after an error); with
// --min-size 1B the empty file is left out and the sync deletes.
func TestSyncWithMinSizeDeletes(t *testing.T) {
	dst, _ := newTestFs(t, fichiertest.Options(), "", nil)
	ctx := context.Background()
	src, err := fs.NewFs(ctx, ":memory:"+t.Name())
	require.NoError(t, err)
	for _, name := range []string{"keep.txt", "gone.txt"} {
		_, err := src.Put(ctx, strings.NewReader(name), object.NewStaticObjectInfo(name, time.Now(), int64(len(name)), true, nil, nil))
		require.NoError(t, err)
	}
	require.NoError(t, fssync.Sync(ctx, dst, src, false))
	gone, err := src.NewObject(ctx, "gone.txt")
	require.NoError(t, err)
	require.NoError(t, gone.Remove(ctx))
	_, err = src.Put(ctx, strings.NewReader(""), object.NewStaticObjectInfo("empty.txt", time.Now(), 0, true, nil, nil))
	require.NoError(t, err)

	// Each sync counts its errors apart, as each rclone command would.
	err = fssync.Sync(accounting.WithStatsGroup(ctx, "without"), dst, src, false)
	require.Error(t, err, "the empty file is refused")
	assert.True(t, fserrors.IsNoRetryError(err), "%v", err)
	_, err = dst.NewObject(ctx, "gone.txt")
	require.NoError(t, err, "without --min-size, sync deletes nothing after the error")

	ctx, fi := filter.AddConfig(ctx)
	fi.Opt.MinSize = 1 // --min-size 1B
	require.NoError(t, fssync.Sync(accounting.WithStatsGroup(ctx, "with"), dst, src, false))
	_, err = dst.NewObject(ctx, "gone.txt")
	assert.ErrorIs(t, err, fs.ErrorObjectNotFound, "with --min-size 1B the sync deletes")
	_, err = dst.NewObject(ctx, "keep.txt")
	assert.NoError(t, err)
}

// TestSizeOnlyCompare: which of rclone's settings make a copy compare
// this backend's files by size only.
func TestSizeOnlyCompare(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(ci *fs.ConfigInfo)
		want bool
	}{
		{"defaults", func(*fs.ConfigInfo) {}, true},
		{"--checksum", func(ci *fs.ConfigInfo) { ci.CheckSum = true }, false},
		{"--size-only", func(ci *fs.ConfigInfo) { ci.SizeOnly = true }, false},
		{"--ignore-times", func(ci *fs.ConfigInfo) { ci.IgnoreTimes = true }, false},
		{"--ignore-existing", func(ci *fs.ConfigInfo) { ci.IgnoreExisting = true }, false},
	} {
		ctx, ci := fs.AddConfig(context.Background())
		tc.set(ci)
		assert.Equal(t, tc.want, sizeOnlyCompare(fs.GetConfig(ctx)), tc.name)
	}
}

// failReader fails the test if the upload reads it.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("a refused file was read")
	return 0, errors.New("read")
}

// TestTooBigRefusedBeforeAnything: a file over 1fichier's limit is
// refused in rclone's units, pointing to chunker, for good, and before
// any call: the folder it was for is not made.
func TestTooBigRefusedBeforeAnything(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	src := object.NewStaticObjectInfo("new/dir/huge.iso", time.Now(), 301e9, true, nil, nil)
	for _, put := range []func(context.Context, io.Reader, fs.ObjectInfo, ...fs.OpenOption) (fs.Object, error){f.Put, f.PutUnchecked} {
		_, err := put(context.Background(), failReader{t}, src)
		require.Error(t, err)
		assert.True(t, fserrors.IsNoRetryError(err), "%v", err)
		assert.Contains(t, err.Error(), "it is 280.328Gi (301000000000 bytes), over 1fichier's limit of 279.397Gi (300000000000 bytes)")
		assert.Contains(t, err.Error(), "chunker")
	}
	assert.Zero(t, srv.Stats().Total(), "no call, no folder made: %v", srv.Stats().Calls)
}
