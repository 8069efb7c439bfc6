package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const floodMsg = "Flood detected: IP Locked #374"

// only returns Rates with every rule off except those set by f.
func only(f func(r *Rates)) *Rates {
	r := Rates{LockDuration: time.Minute}
	f(&r)
	return &r
}

func (ts *TestServer) requireFlood(t *testing.T, path string, body any) {
	t.Helper()
	ts.koCall(t, path, body, http.StatusForbidden, floodMsg)
}

func TestDefaultRates(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Rates{
		CallsPerSecond:       3,
		FolderListInterval:   30 * time.Second,
		AllFilesListInterval: time.Hour,
		UserInfoPerIP:        time.Minute,
		UserInfoPerUser:      5 * time.Minute,
		LockDuration:         5 * time.Minute,
	}, DefaultRates())
}

func TestCallsPerSecondAndLock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now}) // default rates
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	for i := 0; i < 3; i++ {
		ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": string(rune('a' + i))})
	}
	// The 4th call within one second floods and locks the key.
	ts.requireFlood(t, "folder/mkdir.cgi", map[string]any{"name": "d"})
	st := ts.Stats()
	assert.Equal(t, int64(1), st.FloodLocks)
	assert.Equal(t, int64(1), st.FloodRejected)
	assert.Equal(t, int64(0), st.CallsDuringLock)

	// During the lock every call gets the same answer, and is counted.
	clock.Advance(2 * time.Second)
	ts.requireFlood(t, "folder/mkdir.cgi", map[string]any{"name": "e"})
	clock.Advance(4*time.Minute + 50*time.Second)
	ts.requireFlood(t, "user/info.cgi", nil)
	st = ts.Stats()
	assert.Equal(t, int64(1), st.FloodLocks, "calls during a lock start no new lock")
	assert.Equal(t, int64(3), st.FloodRejected)
	assert.Equal(t, int64(2), st.CallsDuringLock)
	// Other keys are not locked.
	assert.Equal(t, 200, ts.apiKey(t, "other", "folder/ls.cgi", map[string]any{}).Code)

	// The lock lasts 5 minutes from its start and is not extended.
	clock.Advance(8 * time.Second) // 5:00 after the flood
	ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "e"})
}

func TestCallsPerSecondIsASlidingWindow(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.CallsPerSecond = 3 })})
	// 2.5 calls/s (rclone's pace) never floods.
	for i := 0; i < 10; i++ {
		ts.ok(t, "remote/ls.cgi", nil)
		clock.Advance(400 * time.Millisecond)
	}
	// A token-bucket burst: 3 at once then one more 0.34 s later floods.
	clock.Advance(2 * time.Second)
	for i := 0; i < 3; i++ {
		ts.ok(t, "remote/ls.cgi", nil)
	}
	clock.Advance(340 * time.Millisecond)
	ts.requireFlood(t, "remote/ls.cgi", nil)
}

func TestFractionalCallsPerSecond(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.CallsPerSecond = 0.5 })})
	ts.ok(t, "remote/ls.cgi", nil)
	clock.Advance(2 * time.Second)
	ts.ok(t, "remote/ls.cgi", nil)
	clock.Advance(1999 * time.Millisecond)
	ts.requireFlood(t, "remote/ls.cgi", nil)
}

func TestUploadNodeCallsCountForTheKey(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.CallsPerSecond = 3 })})
	host, id := ts.startUpload(t) // 1
	ct, body := multipartBody(t, "f", []byte("x"), nil)
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body)) // 2
	require.Equal(t, 302, r.Code)
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, nil, nil) // 3 (a client following the redirect)
	require.Equal(t, 200, r.Code)
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil) // 4
	assert.Equal(t, 403, r.Code)
	assert.Contains(t, string(r.Body), floodMsg)
}

func TestFolderListingRule(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.FolderListInterval = 30 * time.Second })})
	a, err := ts.Mkdir(ts.Key, 0, "a")
	require.NoError(t, err)
	b, err := ts.Mkdir(ts.Key, 0, "b")
	require.NoError(t, err)
	ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": a})
	ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": b}) // another folder is fine
	ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": 0})
	clock.Advance(29 * time.Second)
	// file/ls.cgi and folder/ls.cgi of the same folder share the slot.
	ts.requireFlood(t, "file/ls.cgi", map[string]any{"folder_id": a})

	ts2 := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.FolderListInterval = 30 * time.Second })})
	ts2.ok(t, "folder/ls.cgi", map[string]any{})
	clock.Advance(30 * time.Second)
	ts2.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0, "files": 1})
	clock.Advance(time.Second)
	ts2.requireFlood(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
}

func TestAllFilesListingRule(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.AllFilesListInterval = time.Hour })})
	ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": 0}) // not the same rule
	clock.Advance(time.Hour)
	ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	clock.Advance(59 * time.Minute)
	ts.requireFlood(t, "file/ls.cgi", map[string]any{"folder_id": -1})
}

// inProcess sends an API call from a chosen client IP.
func inProcess(s *Server, key, ip, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v1/"+path, strings.NewReader(body))
	req.RemoteAddr = ip + ":40000"
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestUserInfoRules(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	rates := only(func(r *Rates) { r.UserInfoPerIP = time.Minute; r.UserInfoPerUser = 5 * time.Minute })
	s, err := New(Options{Now: clock.Now, Rates: rates, Accounts: []Account{
		{Key: "k1", Offer: OfferPremium}, {Key: "k2", Offer: OfferPremium}, {Key: "k3", Offer: OfferPremium}}})
	require.NoError(t, err)
	defer func() { _ = s.Close() }()

	assert.Equal(t, 200, inProcess(s, "k1", "10.0.0.1", "user/info.cgi", "").Code)
	// Per IP: another user from the same IP within a minute floods.
	rec := inProcess(s, "k2", "10.0.0.1", "user/info.cgi", "")
	assert.Equal(t, 403, rec.Code)
	assert.Contains(t, rec.Body.String(), floodMsg)
	// Per user: the same user from another IP within 5 minutes floods.
	clock.Advance(2 * time.Minute)
	rec = inProcess(s, "k1", "10.0.0.2", "user/info.cgi", "")
	assert.Equal(t, 403, rec.Code)
	// A third user from a third IP is fine.
	assert.Equal(t, 200, inProcess(s, "k3", "10.0.0.3", "user/info.cgi", "").Code)
	// k3 again after a minute from another IP: per-user rule still holds.
	clock.Advance(time.Minute)
	assert.Equal(t, 403, inProcess(s, "k3", "10.0.0.4", "user/info.cgi", "").Code)
}

func TestTimeScaleDividesRules(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, TimeScale: 100}) // default rates / 100
	ts.ok(t, "folder/ls.cgi", map[string]any{})
	clock.Advance(299 * time.Millisecond) // 30 s / 100 = 300 ms
	ts.requireFlood(t, "folder/ls.cgi", map[string]any{})
	clock.Advance(2999 * time.Millisecond) // lock: 5 min / 100 = 3 s
	ts.requireFlood(t, "folder/ls.cgi", map[string]any{})
	clock.Advance(2 * time.Millisecond)
	ts.ok(t, "folder/ls.cgi", map[string]any{})
}

func TestLockEndsInRealTimeWithTimeScale(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{TimeScale: 100, Rates: only(func(r *Rates) {
		r.CallsPerSecond = 1
		r.LockDuration = 20 * time.Second // 200 ms real
	})})
	ts.ok(t, "remote/ls.cgi", nil)
	ts.requireFlood(t, "remote/ls.cgi", nil)
	require.Eventually(t, func() bool {
		return ts.api(t, "remote/ls.cgi", nil).Code == 200
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, int64(1), ts.Stats().FloodLocks)
}

func TestNoRateLimits(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	for i := 0; i < 20; i++ {
		ts.ok(t, "folder/ls.cgi", map[string]any{})
		ts.ok(t, "user/info.cgi", nil)
		ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	}
	assert.Zero(t, ts.Stats().FloodRejected)
}

func TestFloodDoesNotTouchDownloads(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{Now: clock.Now, Rates: only(func(r *Rates) { r.CallsPerSecond = 3 })})
	u, err := ts.PutFile(ts.Key, 0, "f", []byte("data"))
	require.NoError(t, err)
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	ts.ok(t, "remote/ls.cgi", nil)
	ts.ok(t, "remote/ls.cgi", nil)
	ts.requireFlood(t, "remote/ls.cgi", nil)
	// JD: "DOWNLOADS VIA API WILL STILL WORK".
	assert.Equal(t, 200, do(t, http.MethodGet, dl, nil, nil).Code)
}

func TestListRuleReadings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule     ListRule
		flooded  bool // file/ls.cgi right after folder/ls.cgi of the same folder
		describe string
	}{
		{"", true, "default: the folder reading"},
		{ListRuleFolder, true, "folder: both endpoints share one slot"},
		{ListRuleEndpoint, false, "endpoint: each endpoint has its own slot"},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			ts := NewTestServer(t, Options{Now: clock.Now, ListRule: tc.rule,
				Rates: only(func(r *Rates) { r.FolderListInterval = 30 * time.Second })})
			ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
			if tc.flooded {
				ts.requireFlood(t, "file/ls.cgi", map[string]any{"folder_id": 0})
				assert.Equal(t, map[string]int64{"folder_listing": 1}, ts.Stats().BrokenRules, tc.describe)
				return
			}
			ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": 0})
			// Each endpoint still has its own 30 s slot.
			clock.Advance(29 * time.Second)
			ts.requireFlood(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
			assert.Equal(t, map[string]int64{"folder_listing": 1}, ts.Stats().BrokenRules, tc.describe)
		})
	}
}

func TestParseListRule(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ListRule{"": ListRuleFolder, "folder": ListRuleFolder, "endpoint": ListRuleEndpoint} {
		got, err := ParseListRule(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseListRule("both")
	assert.ErrorContains(t, err, `unknown listing rule "both"`)
	_, err = New(Options{Accounts: []Account{{Key: "k", Offer: OfferPremium}}, ListRule: "both"})
	assert.Error(t, err)
}

// TestTimeScaleHeaderOnEveryAnswer: a sped-up emulator tells its scale
// on every answer, a success, a refusal, a flood answer, an unknown path
// and /debug alike; at real time it tells nothing.
func TestTimeScaleHeaderOnEveryAnswer(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{TimeScale: 20})
	for _, c := range []struct {
		name string
		r    rawResp
		code int
	}{
		{"ok", ts.api(t, "user/info.cgi", nil), http.StatusOK},
		{"bad key", ts.apiKey(t, "wrong", "folder/ls.cgi", map[string]any{}), http.StatusUnauthorized},
		{"unknown path", do(t, http.MethodGet, ts.URL+"/nowhere", nil, nil), http.StatusNotFound},
		{"debug", do(t, http.MethodGet, ts.URL+"/debug/stats", nil, nil), http.StatusOK},
		{"flood", ts.api(t, "user/info.cgi", nil), http.StatusForbidden},
	} {
		assert.Equal(t, c.code, c.r.Code, c.name)
		assert.Equal(t, "20", c.r.Header.Get(TimeScaleHeader), c.name)
	}

	for _, scale := range []float64{0, 1} {
		unscaled := NewTestServer(t, Options{TimeScale: scale})
		r := unscaled.api(t, "user/info.cgi", nil)
		require.Equal(t, http.StatusOK, r.Code)
		assert.Empty(t, r.Header.Values(TimeScaleHeader), "scale %v", scale)
	}
	fractional := NewTestServer(t, Options{TimeScale: 2.5, NoRateLimits: true})
	assert.Equal(t, "2.5", fractional.api(t, "user/info.cgi", nil).Header.Get(TimeScaleHeader))
}
