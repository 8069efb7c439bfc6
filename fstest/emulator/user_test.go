package emulator

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserInfo(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	end := time.Date(2025, 1, 31, 23, 0, 0, 0, time.UTC)
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now, Accounts: []Account{{
		Key: "k", Email: "me@example.com", Offer: OfferAccess, ColdQuota: 1000, CDNCredits: 7e9, SubscriptionEnd: end}}})
	ts.upload(t, 0, "f", []byte("1234567890"))
	m := ts.ok(t, "user/info.cgi", nil)
	assert.Equal(t, "me@example.com", m["email"])
	assert.Equal(t, "2", m["offer"], "flag fields are strings")
	assert.Equal(t, "7", m["cdn"], "CDN credits in GB, as a string")
	assert.Equal(t, "2025-02-01 00:00:00", m["subscription_end"], "Paris time")
	assert.Equal(t, float64(10), m["cold_storage"], "bytes used, a number")
	assert.Equal(t, float64(1000), m["available_cold_storage"])
	assert.Equal(t, "0", m["upload_forbidden"])
	for _, k := range []string{"2fa", "mail_rm", "ftp_mode", "ftp_report", "ru_report", "default_port", "default_port_files",
		"download_menu", "use_cdn"} {
		assert.IsType(t, "", m[k], k)
	}
	for _, k := range []string{"ftp_did", "default_domain", "page_limit", "hot_storage", "allowed_cold_storage",
		"available_storage", "overquota", "default_quota"} {
		assert.IsType(t, float64(0), m[k], k)
	}
	// Setting a field.
	m = ts.ok(t, "user/info.cgi", map[string]any{"use_cdn": 1, "default_domain": 3})
	assert.Equal(t, "1", m["use_cdn"])
	assert.Equal(t, float64(3), m["default_domain"])
	ts.koCall(t, "user/info.cgi", map[string]any{"use_cdn": "yes"}, 400, "Invalid parameter use_cdn #17")
}

// What user/info.cgi reports follows what is stored: cold_storage and
// available_storage move with each upload and delete, and past the
// quota overquota and upload_forbidden say so, while the quota fields
// stay put.
func TestUserInfoFollowsStorage(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, Accounts: []Account{{Key: "k", Offer: OfferPremium, ColdQuota: 100}}})
	storage := func() []any {
		m := ts.ok(t, "user/info.cgi", nil)
		return []any{m["cold_storage"], m["available_storage"], m["overquota"], m["upload_forbidden"],
			m["allowed_cold_storage"], m["available_cold_storage"]}
	}
	assert.Equal(t, []any{0.0, 100.0, 0.0, "0", 100.0, 100.0}, storage())
	url := ts.upload(t, 0, "a", make([]byte, 75))
	assert.Equal(t, []any{75.0, 25.0, 0.0, "0", 100.0, 100.0}, storage())
	ts.upload(t, 0, "b", make([]byte, 25))
	assert.Equal(t, []any{100.0, 0.0, 0.0, "0", 100.0, 100.0}, storage(), "exactly full is not over")
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]any{{"url": url}}})
	assert.Equal(t, []any{25.0, 75.0, 0.0, "0", 100.0, 100.0}, storage())
}

// An account whose quota shrank below what it stores (fichier-emulator
// --data DIR --quota restarted with less) is over quota: user/info.cgi
// says by how much and that uploads are forbidden, and upload.cgi
// refuses even a 1-byte file.
func TestUserInfoOverQuota(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{NoRateLimits: true, DataDir: dir, Accounts: []Account{{Key: "k", Offer: OfferPremium, ColdQuota: 100}}}
	ts := NewTestServer(t, opts)
	ts.upload(t, 0, "a", make([]byte, 75))
	require.NoError(t, ts.Close())

	opts.Accounts[0].ColdQuota = 50
	ts = NewTestServer(t, opts)
	m := ts.ok(t, "user/info.cgi", nil)
	assert.Equal(t, []any{75.0, -25.0, 25.0, "1", 50.0}, []any{m["cold_storage"], m["available_storage"], m["overquota"],
		m["upload_forbidden"], m["allowed_cold_storage"]})
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "b", []byte("1"), nil)
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer k", "Content-Type": ct}, bytes.NewReader(body))
	assert.Equal(t, http.StatusForbidden, r.Code)
	assert.Contains(t, string(r.Body), "Not enough space")
	assert.Equal(t, 1, ts.FileCount())
}
