package emulator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
