package doctest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtract(t *testing.T) {
	page := "# Page\n\n```sh\nmake build   # builds\nCGO_ENABLED=1 go build ./x\n# a comment\n\nrclone mount a: /m \\\n    --read-only\n```\n\n" +
		"```console\n$ rclone ls r:\n  7 a.txt\n$ rclone check a r:   # both\nNOTICE: fine\n```\n\n" +
		"```console\napi_key> x\nrclone ls r:\n```\n\n```text\n0 3 * * * flock -n /tmp/l rclone sync a r:\nnot a command\n```\n\n" +
		"```ini\n[Service]\nExecStart=/usr/bin/rclone sync a r:\n```\n\n```go\nrclone ls r:\n```\n"
	path := filepath.Join(t.TempDir(), "page.md")
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))
	cmds, err := Extract(path)
	require.NoError(t, err)
	var got []string
	for _, c := range cmds {
		got = append(got, c.String()[len(path):])
	}
	assert.Equal(t, []string{
		":4: make build", ":5: CGO_ENABLED=1 go build ./x", ":8: rclone mount a: /m --read-only",
		":13: rclone ls r:", ":15: rclone check a r:",
		":25: flock -n /tmp/l rclone sync a r:", ":31: /usr/bin/rclone sync a r:",
	}, got)

	require.NoError(t, os.WriteFile(path, []byte("```sh\nrclone ls r:\nthen this\n```\n"), 0o644))
	_, err = Extract(path)
	assert.ErrorContains(t, err, `:3: "then this" is neither a command nor a comment`)
}

func TestSplitWords(t *testing.T) {
	words, err := SplitWords(`rclone backend token 1fichier: "https://x/?a b" -o 'p=s e' a\ b -flags '--x 0'`)
	require.NoError(t, err)
	assert.Equal(t, []string{"rclone", "backend", "token", "1fichier:", "https://x/?a b", "-o", "p=s e", "a b", "-flags", "--x 0"}, words)
	_, err = SplitWords(`rclone "open`)
	assert.Error(t, err)
}

// The pages' commands as Extract finds them: every shell block of the
// real pages is understood (none is neither commands nor a transcript).
func TestExtractPages(t *testing.T) {
	pages, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	n := 0
	for _, p := range append(pages, "../../README.md") {
		cmds, err := Extract(p)
		require.NoError(t, err)
		n += len(cmds)
	}
	assert.Greater(t, n, 50)
}
