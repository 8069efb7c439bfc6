package fichier

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/lib/encoder"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ´ is stored as ˊ, a ˊ of the name is quoted, and every name comes
// back as it went in.
func TestAcuteAccentIsEncoded(t *testing.T) {
	f := &Fs{opt: Options{Enc: defaultEncoding}}
	for _, tc := range []struct{ name, stored string }{
		{"it´s.txt", "itˊs.txt"},
		{"itˊs.txt", "it‛ˊs.txt"},
		{"ˊ´ˊ", "‛ˊˊ‛ˊ"},
		{"plain.txt", "plain.txt"},
		{"it's.txt", "it＇s.txt"},
	} {
		assert.Equal(t, tc.stored, f.toAPIName(tc.name), tc.name)
		assert.Equal(t, tc.name, f.fromAPIName(tc.stored), tc.name)
	}
	raw := &Fs{opt: Options{Enc: encoder.EncodeRaw}}
	assert.Equal(t, "it´s.txt", raw.toAPIName("it´s.txt"), "encoding Raw is left alone")
	assert.True(t, sameName("it´s.txt", f.toAPIName("it´s.txt")), "a name stored with a raw ´ is still found")
	assert.False(t, sameName("its.txt", f.toAPIName("it´s.txt")))
}

// it´s.txt, which 1fichier refuses as it is, is stored, listed and found
// under its own name.
func TestNameWithAcuteAccentIsStored(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "dir´s/it´s.txt", "content")
	entries, err := f.List(context.Background(), "dir´s")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "dir´s/it´s.txt", entries[0].Remote())
	_, err = f.NewObject(context.Background(), "dir´s/it´s.txt")
	require.NoError(t, err)
	assert.Equal(t, 1, srv.FileCount())
}

// A folder name over 1fichier's 250 characters fails before any call,
// with an error rclone does not retry.
func TestTooLongFolderNameFailsWithoutCalls(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	srv.ResetStats()
	err := f.Mkdir(context.Background(), strings.Repeat("x", 251))
	require.Error(t, err)
	assert.True(t, fserrors.IsNoRetryError(err), "%v", err)
	assert.Contains(t, err.Error(), "at most 250")
	assert.Zero(t, calls(srv, "folder/mkdir.cgi"))
	require.NoError(t, f.Mkdir(context.Background(), strings.Repeat("x", 250)), "250 characters are taken")
}

// A folder name 1fichier refuses is sent once: the next files bound for
// it fail at once with 1fichier's reason.
func TestRefusedFolderNameIsSentOnce(t *testing.T) {
	// An encoding that lets $ through, which 1fichier refuses.
	f, srv := newTestFs(t, fichiertest.Options(), "", map[string]string{"encoding": "Slash,Dot"})
	srv.ResetStats()
	for i := range 5 {
		src := object.NewStaticObjectInfo("bad$dir/f"+string(rune('0'+i)), time.Now(), 4, true, nil, nil)
		_, err := f.Put(context.Background(), strings.NewReader("data"), src)
		require.Error(t, err)
		assert.True(t, fserrors.IsNoRetryError(err), "%v", err)
		assert.Contains(t, err.Error(), "Invalid name")
	}
	assert.Equal(t, int64(1), calls(srv, "folder/mkdir.cgi"))
}

// An HTML error page gives its text, trimmed, not just the status.
func TestErrorPageTextIsKept(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"<html><head><title>Upload error</title><style>p{}</style></head><body><h1>400</h1>\n<p>Invalid " +
			"name: forbidden character #26</p></body></html>", "400 Invalid name: forbidden character #26"},
		{"  plain   text\n", "plain text"},
		{"<p>" + strings.Repeat("a", 300) + "</p>", strings.Repeat("a", maxErrorText) + "…"},
		{"<html></html>", ""},
	} {
		assert.Equal(t, tc.want, pageText(tc.body))
	}
	resp := &http.Response{StatusCode: 400, Status: "400 Bad Request", Body: http.NoBody}
	assert.Contains(t, errorHandler(resp).Error(), "400 Bad Request", "an empty body gives the status")
}

// A folder is kept below 5000 files, the most 1fichier lists: the file
// that would be the 5001st is refused before anything is sent, with what
// to do, and replacing a file still works.
func TestFolderPast5000FilesRefusesNewFiles(t *testing.T) {
	opts := fichiertest.Options()
	opts.NoRateLimits = true
	f, srv := newTestFs(t, opts, "", nil)
	ctx := context.Background()
	require.NoError(t, f.Mkdir(ctx, "big"))
	id := int64(folderOf(t, f, "big"))
	for i := range listLimit - 1 {
		_, err := srv.PutFile(srv.Key, id, fmt.Sprintf("f%04d", i), []byte("x"))
		require.NoError(t, err)
	}
	f.acc.listings.forgetFolder(int(id))
	put(t, f, "big/last.txt", "the 5000th")
	srv.ResetStats()

	src := object.NewStaticObjectInfo("big/one-too-many.txt", time.Now(), 4, true, nil, nil)
	_, err := f.Put(ctx, strings.NewReader("data"), src)
	require.Error(t, err)
	assert.True(t, fserrors.IsNoRetryError(err), "%v", err)
	assert.Contains(t, err.Error(), "at most 5000 files")
	assert.Contains(t, err.Error(), "subfolders")
	assert.Zero(t, calls(srv, "upload.cgi"), "nothing sent")

	put(t, f, "big/last.txt", "replaced: takes no room")
	assert.Equal(t, int64(1), calls(srv, "upload.cgi"))
}
