package fichier

import (
	"context"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedFolder makes folder "public" holding a.txt ("shared data") and
// shares it with password secret99; it returns the share's link.
func sharedFolder(t *testing.T, srv *emulator.TestServer) string {
	t.Helper()
	dir, err := srv.Mkdir(srv.Key, 0, "public")
	require.NoError(t, err)
	_, err = srv.PutFile(srv.Key, dir, "a.txt", []byte("shared data"))
	require.NoError(t, err)
	link, err := srv.ShareFolder(srv.Key, dir, "secret99")
	require.NoError(t, err)
	return link
}

func TestSharedFolderPasswordIsSentAgainOnRetry(t *testing.T) {
	opts := fichiertest.Options()
	opts.Faults = "dir=503:1"
	srv := emulator.NewTestServer(t, opts)
	link := sharedFolder(t, srv)

	f := fichiertest.NewFs(t, srv, "", map[string]string{"shared_folder": link, "folder_password": obscure.MustObscure("secret99")})
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err, "the retry after the 503 must POST the password again")
	require.Len(t, entries, 1)
	assert.Equal(t, "a.txt", entries[0].Remote())
	assert.Equal(t, int64(2), calls(srv, "dir"), "one 503, one retry")
}
