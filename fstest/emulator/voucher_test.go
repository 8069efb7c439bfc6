package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVoucherLsListsTheCallersUnusedVouchers(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	m := ts.ok(t, "vouchers/ls.cgi", nil)
	assert.Equal(t, map[string]any{"status": "OK", "count": float64(0), "data": []any{}}, m)

	a, err := ts.AddVoucher(ts.Key, "Premium 1 month")
	require.NoError(t, err)
	assert.Regexp(t, `^[a-z0-9]{32}$`, a, "32 characters [SW]")
	b, err := ts.AddVoucher(ts.Key, "Premium 1 year")
	require.NoError(t, err)
	_, err = ts.AddVoucher("other", "Access 1 month")
	require.NoError(t, err)

	m = ts.ok(t, "vouchers/ls.cgi", map[string]any{})
	assert.Equal(t, float64(2), m["count"])
	assert.ElementsMatch(t, []any{
		map[string]any{"voucher": a, "service": "Premium 1 month"},
		map[string]any{"voucher": b, "service": "Premium 1 year"},
	}, m["data"], "only the caller's")

	ts.ok(t, "vouchers/use.cgi", map[string]any{"voucher": a, "user_email": "test@example.com"})
	m = ts.ok(t, "vouchers/ls.cgi", nil)
	assert.Equal(t, []any{map[string]any{"voucher": b, "service": "Premium 1 year"}}, m["data"], "a used voucher drops out")
}

func TestVoucherCheckAndUse(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Email: "friend@example.com", Offer: OfferPremium}))
	code, err := ts.AddVoucher(ts.Key, "Premium 1 month")
	require.NoError(t, err)

	m := ts.ok(t, "vouchers/check.cgi", map[string]any{"voucher": code})
	assert.Equal(t, map[string]any{"status": "OK", "service": "Premium 1 month"}, m)
	// Another account may check a code it was given.
	r := ts.apiKey(t, "other", "vouchers/check.cgi", map[string]any{"voucher": code})
	assert.Equal(t, http.StatusOK, r.Code, "%s", r.Body)

	for _, tc := range []struct {
		name string
		body map[string]any
		code int
		msg  string
	}{
		{"no voucher", map[string]any{"user_email": "friend@example.com"}, 400, "Parameter voucher must be defined #18"},
		{"malformed voucher", map[string]any{"voucher": "short", "user_email": "friend@example.com"}, 400, "Invalid parameter voucher #17"},
		{"unknown voucher", map[string]any{"voucher": strings.Repeat("a", 32), "user_email": "friend@example.com"}, 404, "Voucher not found #741"},
		{"no user_email", map[string]any{"voucher": code}, 400, "Parameter user_email must be defined #18"},
		{"unknown user_email", map[string]any{"voucher": code, "user_email": "nobody@example.com"}, 404, "Unknown user_email #743"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts.koCall(t, "vouchers/use.cgi", tc.body, tc.code, tc.msg)
		})
	}
	used, err := ts.VoucherUsedBy(code)
	require.NoError(t, err)
	assert.Equal(t, "", used, "refused calls leave the voucher unused")

	m = ts.ok(t, "vouchers/use.cgi", map[string]any{"voucher": code, "user_email": "friend@example.com"})
	assert.Equal(t, "OK", m["status"])
	assert.NotEmpty(t, m["message"])
	used, err = ts.VoucherUsedBy(code)
	require.NoError(t, err)
	assert.Equal(t, "friend@example.com", used)

	ts.koCall(t, "vouchers/use.cgi", map[string]any{"voucher": code, "user_email": "friend@example.com"}, 400, "Voucher already used #742")
	ts.koCall(t, "vouchers/check.cgi", map[string]any{"voucher": code}, 400, "Voucher already used #742")
	ts.koCall(t, "vouchers/check.cgi", map[string]any{}, 400, "Parameter voucher must be defined #18")
}

func TestVoucherCallsCountInStatsAndUnderCallsPerSecond(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now}) // default rates
	code, err := ts.AddVoucher(ts.Key, "Premium 1 month")
	require.NoError(t, err)
	ts.ok(t, "vouchers/ls.cgi", nil)
	ts.ok(t, "vouchers/check.cgi", map[string]any{"voucher": code})
	ts.ok(t, "vouchers/use.cgi", map[string]any{"voucher": code, "user_email": "test@example.com"})
	// The 4th call within one second breaks the 3-per-second rule.
	ts.requireFlood(t, "vouchers/ls.cgi", nil)
	st := ts.Stats()
	assert.Equal(t, map[string]int64{"vouchers/ls.cgi": 2, "vouchers/check.cgi": 1, "vouchers/use.cgi": 1}, st.Calls)
	assert.Equal(t, map[string]int64{ruleCallsPerSecond: 1}, st.BrokenRules)
	// No rule of their own: once the lock is over, back-to-back seconds
	// of three calls each pass.
	clock.Advance(DefaultRates().LockDuration)
	for range 3 {
		ts.ok(t, "vouchers/ls.cgi", nil)
		ts.ok(t, "vouchers/ls.cgi", nil)
		ts.ok(t, "vouchers/ls.cgi", nil)
		clock.Advance(time.Second)
	}
}

func TestVouchersSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{NoRateLimits: true, DataDir: dir, Accounts: []Account{{Key: "k", Email: "me@example.com", Offer: OfferPremium}}}
	ts := NewTestServer(t, opts)
	kept, err := ts.AddVoucher("k", "Premium 1 month")
	require.NoError(t, err)
	spent, err := ts.AddVoucher("k", "Premium 1 year")
	require.NoError(t, err)
	ts.ok(t, "vouchers/use.cgi", map[string]any{"voucher": spent, "user_email": "me@example.com"})
	require.NoError(t, ts.Close())

	ts2 := NewTestServer(t, opts)
	m := ts2.ok(t, "vouchers/ls.cgi", nil)
	assert.Equal(t, []any{map[string]any{"voucher": kept, "service": "Premium 1 month"}}, m["data"])
	ts2.koCall(t, "vouchers/check.cgi", map[string]any{"voucher": spent}, 400, "Voucher already used #742")
}
