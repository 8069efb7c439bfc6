package fichier_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configmap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wizardStep runs one state of the fichier config wizard on m.
func wizardStep(ctx context.Context, t *testing.T, m configmap.Simple, state, result string) (*fs.ConfigOut, error) {
	t.Helper()
	ri, err := fs.Find("fichier")
	require.NoError(t, err)
	require.NotNil(t, ri.Config)
	return ri.Config(ctx, "wiz", m, fs.ConfigIn{State: state, Result: result})
}

// wizardMap is a remote on srv with key, as rclone hands it to the wizard.
func wizardMap(srv *emulator.TestServer, key string) configmap.Simple {
	m := fichiertest.Config(srv)
	m["api_key"] = key
	return m
}

func TestConfigGoodKeyAsksWhereToKeepIt(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	m := wizardMap(srv, srv.Key)
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_store_key", out.Option.Name)
	assert.Equal(t, true, out.Option.Default)
	assert.Contains(t, out.Option.Help, "The key works: 1fichier account test@example.com, offer Premium")
	assert.NotContains(t, out.State, srv.Key, "states are logged")

	out, err = wizardStep(context.Background(), t, m, out.State, "false")
	require.NoError(t, err)
	assert.Empty(t, out.State)
	assert.Contains(t, out.Error, "RCLONE_FICHIER_API_KEY")
	assert.Empty(t, m["api_key"], "the key is left out of the config")
}

func TestConfigBadKeyIsRemovedAndRetryDefaultsToNo(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	m := wizardMap(srv, "not-a-key")
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_retry", out.Option.Name)
	assert.Equal(t, false, out.Option.Default)
	assert.Contains(t, out.Option.Help, "No such user #93")
	assert.Empty(t, m["api_key"])

	out, err = wizardStep(context.Background(), t, m, out.State, "true")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_api_key", out.Option.Name, "re-asked as config_ so config create can't loop")
	assert.True(t, out.Option.Sensitive)

	out, err = wizardStep(context.Background(), t, m, out.State, srv.Key)
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_store_key", out.Option.Name)
	assert.Equal(t, srv.Key, m["api_key"])
}

func TestConfigBadKeyFailsScripts(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	ctx, ci := fs.AddConfig(context.Background())
	ci.AutoConfirm = true
	m := wizardMap(srv, "not-a-key")
	_, err := wizardStep(ctx, t, m, "", "")
	assert.ErrorContains(t, err, "No such user #93")
	assert.Empty(t, m["api_key"])
}

func TestConfigFreeAccount(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	const freeKey = "free-account-key"
	require.NoError(t, srv.AddAccount(emulator.Account{Key: freeKey, Offer: emulator.OfferFree}))
	m := wizardMap(srv, freeKey)
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_retry", out.Option.Name)
	assert.Contains(t, out.Option.Help, "free account")
	assert.Contains(t, out.Option.Help, "Premium and Access")
	assert.Empty(t, m["api_key"])
}

func TestConfigFloodSaysHowLongToWait(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	// Use up the address's user/info.cgi slot.
	code, _ := apiCall(t, srv, srv.Key, "user/info.cgi", struct{}{})
	require.Equal(t, http.StatusOK, code)
	m := wizardMap(srv, srv.Key)
	m["flood_wait"] = "7m"
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	assert.Nil(t, out.Option)
	assert.Contains(t, out.Error, "Flood detected")
	assert.Contains(t, out.Error, "wait about 7m0s")
	assert.Equal(t, srv.Key, m["api_key"], "an unchecked key is kept")

	// A second check in this process waits for the same lock without a call.
	calls := srv.Stats().Calls["user/info.cgi"]
	out, err = wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	assert.Contains(t, out.Error, "wait about 7m0s")
	assert.Equal(t, calls, srv.Stats().Calls["user/info.cgi"])
}

func TestConfigNoKeyOffersEnvironment(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	m := wizardMap(srv, "")
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_enter_key", out.Option.Name)
	assert.Equal(t, false, out.Option.Default)
	out, err = wizardStep(context.Background(), t, m, out.State, "false")
	require.NoError(t, err)
	assert.Empty(t, out.State)
	assert.Contains(t, out.Error, "export RCLONE_FICHIER_API_KEY")
	assert.Zero(t, srv.Stats().Calls["user/info.cgi"])
}

func TestConfigKeyFromEnvironment(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	t.Setenv("RCLONE_FICHIER_API_KEY", srv.Key)
	m := wizardMap(srv, srv.Key) // as rclone's config map returns it
	out, err := wizardStep(context.Background(), t, m, "", "")
	require.NoError(t, err)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_key_ok", out.Option.Name)
	assert.True(t, strings.Contains(out.Option.Help, "comes from the environment variable RCLONE_FICHIER_API_KEY"))
}
