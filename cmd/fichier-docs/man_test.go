package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstreamManPage is upstream's rclone.1, from the rclone module in
// go.mod, as scripts/package.sh finds it.
func upstreamManPage(t *testing.T) string {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/rclone/rclone").Output()
	require.NoError(t, err)
	return filepath.Join(strings.TrimSpace(string(dir)), "rclone.1")
}

// The man page the packages ship is upstream's with one change: its
// 1Fichier section is docs/fichier.md, our backend, not upstream's.
func TestManPageHasOurSection(t *testing.T) {
	upstream := upstreamManPage(t)
	out := filepath.Join(t.TempDir(), "rclone.1")
	require.NoError(t, writeManPage(upstream, page, out))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	man := string(b)
	ub, err := os.ReadFile(upstream)
	require.NoError(t, err)
	up := string(ub)

	assert.Equal(t, 1, strings.Count(man, "\n"+upstreamSection))
	assert.Equal(t, strings.Count(up, "\n.SH "), strings.Count(man, "\n.SH "), "one section replaced by one")
	start, end := sectionBounds(t, man)
	section := man[start:end]
	// Our backend's page, options and commands: upstream has none of these.
	for _, ours := range []string{"rclone\\-fichier backend", "\\-\\-fichier\\-api\\-rate", ".SS Backend commands", ".SS remote\\-upload",
		".SS Limitations"} {
		assert.Contains(t, section, ours)
	}
	assert.NotContains(t, man, "This is a backend for the 1fichier", "upstream's section is gone")
	ustart, uend := sectionBounds(t, up)
	assert.Equal(t, up[:ustart], man[:start], "everything before the section is upstream's")
	assert.Equal(t, up[uend:], man[end:], "everything after it too")
	assert.NotContains(t, section, ".TH ", "no second title")
	assert.NotContains(t, section, "<!--", "no markdown comments")
}

// sectionBounds returns where the 1Fichier section of man starts and
// where the next section starts.
func sectionBounds(t *testing.T, man string) (int, int) {
	t.Helper()
	start := strings.Index(man, "\n"+upstreamSection)
	require.GreaterOrEqual(t, start, 0)
	next := strings.Index(man[start+1:], "\n.SH ")
	require.GreaterOrEqual(t, next, 0)
	return start + 1, start + 1 + next + 1
}

func TestManPageRendering(t *testing.T) {
	upstream := ".TH \"rclone\" \"1\"\n.SH NAME\n.PP\nrclone\n" + upstreamSection + ".PP\nupstream's\n.SH Alias\n.PP\nalias\n"
	page := "---\ntitle: \"1Fichier\"\n---\n\n# 1Fichier\n\nOurs, see [Limitations](#limitations) and [the site](https://1fichier.com).\n\n" +
		"## Limitations\n\n<!-- a comment -->\n\n```sh\n## not a heading\n```\n\n" +
		"| a | b |\n|---|---|\n| `x` [w](https://w.example) | short |\n"
	man, err := manPage(upstream, page)
	require.NoError(t, err)
	before, after, ok := strings.Cut(man, upstreamSection)
	require.True(t, ok)
	assert.Equal(t, ".TH \"rclone\" \"1\"\n.SH NAME\n.PP\nrclone\n", before)
	section, rest, ok := strings.Cut(after, ".SH Alias\n")
	require.True(t, ok)
	assert.Equal(t, ".PP\nalias\n", rest)
	assert.Contains(t, section, "Ours, see Limitations and the site \\[la]https://1fichier.com\\[ra]", "local links keep their text only")
	assert.Contains(t, section, "\n.SS Limitations\n")
	assert.Contains(t, section, "## not a heading", "code is left alone")
	assert.NotContains(t, section, "comment")
	assert.Contains(t, section, "\n.ad l\n.TS\nallbox;\nl l \nl l .\nT{\n\\fBa\\fP\nT}\tT{\n\\fBb\\fP\nT}\n"+
		"T{\n\\fBx\\fR w \\[la]https://w.example\\[ra]\nT}\tT{\nshort\nT}\n.TE\n.ad b\n",
		"cells are text blocks, ragged-right; a link's address stays in its cell")

	_, err = manPage(".SH NAME\n.SH Alias\n", page)
	assert.ErrorContains(t, err, "no 1Fichier section")
	_, err = manPage(".SH NAME\n"+upstreamSection+".PP\nx\n", page)
	assert.ErrorContains(t, err, "last one")
	_, err = manPage(upstream, "## Only a subsection\n")
	assert.Error(t, err)
}
