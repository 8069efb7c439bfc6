package fichier

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/vfs"
	"github.com/rclone/rclone/vfs/vfscommon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// vfsDataWhirlpool is `openssl dgst -whirlpool` of TestVFSSequentialRead's
// data.
const vfsDataWhirlpool = "d306160e5ce12d9c77b4445faa0ca8ed55d6346eb81a5f3a3449e76781026b8b" +
	"fed7be19cbb5f22f682d6637a869e3f1a93447f726df220633204aa305cffede"

// TestVFSSequentialRead reads a file the way rclone mount does with no
// cache: through the VFS, in small reads, with chunks that double in size.
// The emulator's checksum must be OpenSSL's, and the VFS checks a file
// read from start to end against it with our Whirlpool, so Close fails
// unless the hash of the bytes read agrees. Each chunk is one ranged
// download, all on one token.
func TestVFSSequentialRead(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	data := make([]byte, 1<<20+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	_, err := srv.PutFile(srv.Key, 0, "big.bin", data)
	require.NoError(t, err)
	o, err := f.NewObject(ctx, "big.bin")
	require.NoError(t, err)
	sum, err := o.Hash(ctx, hash.Whirlpool)
	require.NoError(t, err)
	require.Equal(t, vfsDataWhirlpool, sum, "the emulator's checksum")

	opt := vfscommon.Opt
	opt.CacheMode = vfscommon.CacheModeOff
	opt.ChunkSize = 64 * fs.Kibi
	opt.ChunkSizeLimit = -1
	opt.ChunkStreams = 0
	v := vfs.New(ctx, f, &opt)
	t.Cleanup(v.Shutdown)

	h, err := v.OpenFile("big.bin", os.O_RDONLY, 0)
	require.NoError(t, err)
	var got bytes.Buffer
	_, err = io.CopyBuffer(&got, struct{ io.Reader }{h}, make([]byte, 128<<10))
	require.NoError(t, err)
	require.NoError(t, h.Close(), "the VFS's Whirlpool check of the whole read")
	assert.True(t, bytes.Equal(data, got.Bytes()), "content")

	// Chunks of 64 KiB, 128 KiB, ... 1 MiB cover the file: five opens.
	assert.Equal(t, int64(5), calls(srv, "download"), "one download per chunk")
	assert.Equal(t, int64(1), calls(srv, "download/get_token.cgi"))
}
