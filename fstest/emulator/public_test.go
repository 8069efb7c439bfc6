package emulator

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeedPublicFilesAreReadableByEveryKey(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	urls, err := ts.SeedPublic(3)
	require.NoError(t, err)
	require.Len(t, urls, 3)
	again, err := ts.SeedPublic(3)
	require.NoError(t, err)
	assert.Equal(t, urls, again, "seeding again reuses the files")
	assert.Equal(t, 3, ts.FileCount())

	file, err := ts.Lookup(urls[0])
	require.NoError(t, err)
	assert.Equal(t, "public-001.bin", file.Name)
	assert.Equal(t, publicUploaderEmail, file.Owner)

	m := ts.ok(t, "file/cp.cgi", map[string]any{"urls": urls, "folder_id": 0})
	assert.Equal(t, float64(3), m["copied"])
	mine, err := ts.Files(ts.Key, 0)
	require.NoError(t, err)
	assert.Len(t, mine, 3, "the copies are the caller's")
	m = ts.ok(t, "download/get_token.cgi", map[string]any{"url": urls[1]})
	r := do(t, http.MethodGet, m["url"].(string), nil, nil)
	require.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, "public file 2, shared by uploader@emulator.invalid\n", string(r.Body))
}

func TestForeignFileAccessRules(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "owner", Email: "owner@example.com", Offer: OfferPremium}))
	u, err := ts.PutFile("owner", 0, "f.bin", []byte("data"))
	require.NoError(t, err)
	const (
		notAllowed = "Resource not allowed #631"
		noPass     = "Password not provided. Resource not allowed #631"
		badPass    = "Invalid password. Resource not allowed #631"
	)
	for _, tc := range []struct {
		name   string
		access FileAccess
		pass   string
		msg    string // "" = allowed
	}{
		{"public", FileAccess{}, "", ""},
		{"password not given", FileAccess{Password: "hunter22"}, "", noPass},
		{"wrong password", FileAccess{Password: "hunter22"}, "wrong!", badPass},
		{"right password", FileAccess{Password: "hunter22"}, "hunter22", ""},
		{"acl excludes the caller", FileAccess{Emails: []string{"friend@example.com"}}, "", notAllowed},
		{"acl names the caller", FileAccess{Emails: []string{"test@example.com"}}, "", ""},
		{"private", FileAccess{Private: true}, "", notAllowed},
		{"private with its password", FileAccess{Private: true, Password: "hunter22"}, "hunter22", notAllowed},
	} {
		require.NoError(t, ts.SetAccess(u, tc.access))
		for _, ep := range []string{"file/cp.cgi", "download/get_token.cgi"} {
			body := map[string]any{"url": u, "pass": tc.pass}
			if ep == "file/cp.cgi" {
				body = map[string]any{"urls": []string{u}, "pass": tc.pass}
			}
			if tc.msg == "" {
				ts.ok(t, ep, body)
			} else {
				ts.koCall(t, ep, body, http.StatusForbidden, tc.msg)
			}
		}
		// The owner reads its own file whatever the rules.
		r := ts.apiKey(t, "owner", "download/get_token.cgi", map[string]any{"url": u})
		assert.Equal(t, http.StatusOK, r.Code, "%s: owner: %s", tc.name, r.Body)
	}
	assert.ErrorIs(t, ts.SetAccess("https://1fichier.com/?nosuchfile", FileAccess{}), ErrNotFound)

	// An ACL for premium users leaves Access accounts out.
	require.NoError(t, ts.AddAccount(Account{Key: "access", Offer: OfferAccess}))
	require.NoError(t, ts.SetAccess(u, FileAccess{}))
	r := ts.apiKey(t, "owner", "file/chattr.cgi", map[string]any{"urls": []string{u}, "acl": map[string]any{"premium": 1}})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r = ts.apiKey(t, "access", "download/get_token.cgi", map[string]any{"url": u})
	assert.Equal(t, http.StatusForbidden, r.Code)
	assert.Equal(t, notAllowed, r.JSON(t)["message"])
	ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})
}
