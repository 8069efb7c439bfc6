package fichier_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// foreignHost stands for a download host outside 1fichier's API host: it
// notes the Authorization header of every request and passes the request
// on to the emulator, which serves the download.
type foreignHost struct {
	mu       sync.Mutex
	target   *url.URL
	requests int
	auth     []string
}

func (h *foreignHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests++
	if a := r.Header.Get("Authorization"); a != "" {
		h.auth = append(h.auth, a)
	}
	target := h.target
	h.mu.Unlock()
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
}

func TestDownloadHostGetsNoKey(t *testing.T) {
	foreign := &foreignHost{}
	ts := httptest.NewServer(foreign)
	t.Cleanup(ts.Close)
	opts := fichiertest.Options()
	opts.ForeignDownloadHost = strings.TrimPrefix(ts.URL, "http://")
	srv := emulator.NewTestServer(t, opts)
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	foreign.mu.Lock()
	foreign.target = target
	foreign.mu.Unlock()
	_, err = srv.PutFile(srv.Key, 0, "movie.mkv", []byte("a long film"))
	require.NoError(t, err)
	f := fichiertest.NewFs(t, srv, "", nil)
	ctx := context.Background()

	o, err := f.NewObject(ctx, "movie.mkv")
	require.NoError(t, err)
	rc, err := o.Open(ctx)
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, "a long film", string(data))

	tok := mustCommand(t, f, "token", []string{"movie.mkv"}, nil).(*fichier.DownloadToken)
	assert.True(t, strings.HasPrefix(tok.URL, ts.URL+"/"), "the token points at the foreign host: %s", tok.URL)

	foreign.mu.Lock()
	defer foreign.mu.Unlock()
	assert.Positive(t, foreign.requests, "the download went through the foreign host")
	assert.Empty(t, foreign.auth, "no Authorization header may reach a download host")
}
