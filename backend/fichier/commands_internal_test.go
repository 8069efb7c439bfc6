package fichier

import (
	"context"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cachedPassFlag returns the "has a password" flag of name in the root's
// cached listing.
func cachedPassFlag(t *testing.T, f *Fs, name string) api.Int {
	t.Helper()
	l, err := f.listing(context.Background(), 0, -1)
	require.NoError(t, err)
	file, ok := pickFile(l, name)
	require.True(t, ok, "%s in the listing", name)
	return file.Pass
}

func TestPasswordCommandKeepsListingFlagAsServerShowsIt(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "secret.pdf", "data")

	_, err := f.Command(ctx, "password", []string{"secret.pdf"}, map[string]string{"set": "hunter22"})
	require.NoError(t, err)
	assert.Equal(t, api.Int(1), cachedPassFlag(t, f, "secret.pdf"), "a 0/1 flag, not the password's length")

	// A fresh process lists the same flag from the server.
	forgetAccounts()
	fresh := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	assert.Equal(t, api.Int(1), cachedPassFlag(t, fresh, "secret.pdf"), "the server's listing")

	_, err = fresh.Command(ctx, "password", []string{"secret.pdf"}, map[string]string{"clear": "true"})
	require.NoError(t, err)
	assert.Equal(t, api.Int(0), cachedPassFlag(t, fresh, "secret.pdf"))
}
