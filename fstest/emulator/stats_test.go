package emulator

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatsCountsAndReset(t *testing.T) {
	t.Parallel()
	ts := newTS(t, noLimits())
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
