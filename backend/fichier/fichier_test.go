// Test the fichier backend with rclone's conformance suite.
package fichier_test

import (
	"context"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fstest"
	"github.com/rclone/rclone/fstest/fstests"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegration runs rclone's backend conformance suite. Without
// -remote it runs against a private emulator with 1fichier's rate rules
// on (sped up); with -remote it uses that remote, which must exist.
func TestIntegration(t *testing.T) {
	remote := *fstest.RemoteName
	if remote == "" {
		srv := emulator.NewTestServer(t, fichiertest.Options())
		fichiertest.SetRemoteEnv(t, "TestFichier", srv)
		remote = "TestFichier:"
		// The suite removes all it makes: a file left on the server is
		// a stray (an upload retried into a duplicate, say).
		defer func() {
			files, err := srv.Files(srv.Key, -1)
			require.NoError(t, err)
			assert.Empty(t, files, "files left on the emulator after the suite")
		}()
	}
	// fstests skips everything when the remote can't be made; a
	// misconfigured test remote must fail instead.
	_, err := fs.NewFs(context.Background(), remote)
	require.NoError(t, err, "test remote %s is not usable", remote)
	// The suite's empty-file test skips only for the bare rclone error;
	// ours wraps it (TestEmptyFileRefusal checks that).
	fichier.BareEmptyFileError(t)
	fstests.Run(t, &fstests.Opt{
		RemoteName: remote,
		NilObject:  (*fichier.Object)(nil),
	})
}
