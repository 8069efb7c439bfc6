package emulator

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsCountsAndReset(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "s.bin", []byte("0123456789"))
	ts.ok(t, "file/ls.cgi", map[string]any{})
	ts.ok(t, "file/ls.cgi", map[string]any{})
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	do(t, http.MethodGet, dl, nil, nil)
	st := ts.Stats()
	assert.Equal(t, map[string]int64{
		"upload/get_upload_server.cgi": 1, "upload.cgi": 1, "end.pl": 1,
		"file/ls.cgi": 2, "download/get_token.cgi": 1, "download": 1,
	}, st.Calls)
	assert.Equal(t, int64(7), st.Total())
	assert.Greater(t, st.BytesIn, int64(10), "the upload body at least")
	assert.Greater(t, st.BytesOut, int64(10), "the download at least")

	// GET /debug/stats: JSON, same numbers; not itself counted.
	r := do(t, http.MethodGet, ts.URL+"/debug/stats", nil, nil)
	require.Equal(t, 200, r.Code)
	var got Stats
	require.NoError(t, json.Unmarshal(r.Body, &got))
	assert.Equal(t, st.Calls, got.Calls)
	for _, k := range []string{"calls", "flood_locks", "flood_rejected", "calls_during_lock", "bytes_in", "bytes_out"} {
		assert.Contains(t, r.JSON(t), k)
	}

	// POST resets (DELETE too).
	r = do(t, http.MethodPost, ts.URL+"/debug/stats", nil, nil)
	require.Equal(t, 200, r.Code)
	st = ts.Stats()
	assert.Empty(t, st.Calls)
	assert.Zero(t, st.BytesIn)
	ts.ok(t, "file/ls.cgi", map[string]any{})
	r = do(t, http.MethodDelete, ts.URL+"/debug/stats", nil, nil)
	require.Equal(t, 200, r.Code)
	assert.Zero(t, ts.Stats().Total())
	ts.ok(t, "file/ls.cgi", map[string]any{})
	ts.ResetStats()
	assert.Zero(t, ts.Stats().Total())
	assert.Equal(t, 405, do(t, http.MethodPut, ts.URL+"/debug/stats", nil, nil).Code)
}

func TestMaxCallsPerSecondIsASlidingWindow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, NoRateLimits: true})
	require.NoError(t, ts.AddAccount(Account{Key: "other", Email: "other@example.com", Offer: OfferPremium}))
	// Two calls in each aligned second, but four within 0.9 s across
	// the boundary: the sliding window sees 4.
	for _, step := range []time.Duration{600, 300, 300, 300} {
		clock.Advance(step * time.Millisecond)
		ts.ok(t, "remote/ls.cgi", nil)
	}
	ts.apiKey(t, "other", "remote/ls.cgi", nil)
	st := ts.Stats()
	assert.Equal(t, map[string]int64{"test@example.com": 4, "other@example.com": 1}, st.MaxCallsPerSecond)
	assert.Equal(t, int64(4), st.PeakCallRate())

	// Calls exactly one second apart are in different windows.
	ts.ResetStats()
	for i := 0; i < 5; i++ {
		clock.Advance(time.Second)
		ts.ok(t, "remote/ls.cgi", nil)
	}
	assert.Equal(t, int64(1), ts.Stats().MaxCallsPerSecond["test@example.com"])
	ts.ResetStats()
	assert.Empty(t, ts.Stats().MaxCallsPerSecond)
	assert.Zero(t, ts.Stats().PeakCallRate())
}

func TestMaxCallsPerSecondCountsUploadsAndRefusals(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.CallsPerSecond = 3 })})
	ts.upload(t, 0, "a.bin", []byte("abc")) // get_upload_server, upload.cgi, end.pl
	ts.requireFlood(t, "remote/ls.cgi", nil)
	ts.requireFlood(t, "remote/ls.cgi", nil) // during the lock
	st := ts.Stats()
	assert.Equal(t, int64(5), st.MaxCallsPerSecond["test@example.com"])
	assert.Equal(t, map[string]int64{"calls_per_second": 1}, st.BrokenRules)
}

func TestMaxCallsPerSecondWithTimeScale(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	// At TimeScale 100 a second lasts 10 ms: 3 calls 4 ms apart are 3
	// in one scaled second; the 4th, 12 ms after the 1st, is not.
	ts := NewTestServer(t, Options{Now: clock.Now, NoRateLimits: true, TimeScale: 100})
	for i := 0; i < 4; i++ {
		ts.ok(t, "remote/ls.cgi", nil)
		clock.Advance(4 * time.Millisecond)
	}
	assert.Equal(t, int64(3), ts.Stats().PeakCallRate())
}

func TestCallHistoryTakesLateArrivals(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 7, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var h callHistory
	for _, ms := range []int{0, 900, 1500, 2000} {
		h.add(at(ms), time.Second)
	}
	assert.Equal(t, int64(2), h.max)
	// A call recorded late, but arrived at 1.2 s: (0.9, 1.2, 1.5) and
	// then (1.2, 1.5, 2.0) hold 3.
	h.add(at(1200), time.Second)
	assert.Equal(t, int64(3), h.max)
	// Old calls are dropped: the history stays small.
	h.add(at(60000), time.Second)
	assert.Len(t, h.times, 1)
}

func TestBrokenRulesByRule(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rates := DefaultRates()
	rates.CallsPerSecond = 0
	rates.LockDuration = 0 // refuse without locking, to break every rule on one key
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: &rates})
	assert.Empty(t, ts.Stats().BrokenRules)

	ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
	ts.requireFlood(t, "file/ls.cgi", map[string]any{"folder_id": 0})
	ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	ts.requireFlood(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	ts.ok(t, "user/info.cgi", nil)
	ts.requireFlood(t, "user/info.cgi", nil) // both user/info rules
	clock.Advance(2 * time.Minute)
	ts.requireFlood(t, "user/info.cgi", nil) // only the per-user rule

	st := ts.Stats()
	assert.Equal(t, map[string]int64{
		"folder_listing": 1, "all_files_listing": 1, "user_info_ip": 1, "user_info_user": 2,
	}, st.BrokenRules)
	r := do(t, http.MethodGet, ts.URL+"/debug/stats", nil, nil)
	assert.Equal(t, map[string]any{
		"folder_listing": 1.0, "all_files_listing": 1.0, "user_info_ip": 1.0, "user_info_user": 2.0,
	}, r.JSON(t)["broken_rules"])
	assert.Contains(t, r.JSON(t), "max_calls_per_second")
	ts.ResetStats()
	assert.Empty(t, ts.Stats().BrokenRules)
}
