package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
)

// The man page: rclone's packages ship upstream's rclone.1, made by
// pandoc from the whole manual, whose "1Fichier" section documents
// upstream's fichier backend. manPage swaps that section for
// docs/fichier.md, rendered to roff with go-md2man (the renderer cobra's
// doc generator uses, already in rclone's module graph), so that
// "man rclone" documents the backend this rclone carries.

// upstreamSection is the heading of the backend's section in upstream's
// rclone.1.
const upstreamSection = ".SH 1Fichier\n"

// writeManPage writes to out the man page made from upstream's rclone.1
// at upstream and the backend's page at page.
func writeManPage(upstream, page, out string) error {
	man, err := os.ReadFile(upstream)
	if err != nil {
		return err
	}
	md, err := os.ReadFile(page)
	if err != nil {
		return err
	}
	result, err := manPage(string(man), string(md))
	if err != nil {
		return fmt.Errorf("%s: %w", upstream, err)
	}
	return os.WriteFile(out, []byte(result), 0o644)
}

// manPage returns upstream's man page with its 1Fichier section replaced
// by the rendered page.
func manPage(upstream, page string) (string, error) {
	start := strings.Index(upstream, "\n"+upstreamSection)
	if start < 0 {
		return "", errors.New("no 1Fichier section (" + strings.TrimSpace(upstreamSection) + ")")
	}
	start++
	end := strings.Index(upstream[start+len(upstreamSection):], "\n.SH ")
	if end < 0 {
		return "", errors.New("the 1Fichier section is the last one; expected more backends after it")
	}
	end += start + len(upstreamSection) + 1
	section, err := renderSection(page)
	if err != nil {
		return "", err
	}
	return upstream[:start] + section + upstream[end:], nil
}

var (
	frontMatter  = regexp.MustCompile(`(?s)\A---\n.*?\n---\n`)
	htmlComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	roffPreamble = regexp.MustCompile(`(?s)\A.*?\n?\.TH `)
	mdLink       = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]*)\)`)
)

// localLinks keeps only the text of links within the documentation
// (#anchors, other pages), which mean nothing in a man page; links to
// web addresses stay.
func localLinks(md string) string {
	return mdLink.ReplaceAllStringFunc(md, func(link string) string {
		m := mdLink.FindStringSubmatch(link)
		if strings.HasPrefix(m[2], "https://") || strings.HasPrefix(m[2], "http://") {
			return link
		}
		return m[1]
	})
}

// renderSection renders the backend's markdown page as one section of
// the man page: its "# 1Fichier" heading becomes the section (.SH) and
// every deeper heading a subsection (.SS), as in pandoc's page.
// go-md2man makes a document's first level-1 heading its title (.TH);
// here that title is the section's heading, and go-md2man's preamble
// before it (upstream's page has its own) is dropped.
func renderSection(page string) (string, error) {
	md := frontMatter.ReplaceAllString(page, "")
	md = htmlComment.ReplaceAllString(md, "")
	md = localLinks(demoteHeadings(md))
	// A table cell holding only a backslash (the restricted characters)
	// would come out empty.
	md = strings.ReplaceAll(md, "| \\ ", "| \\\\ ")
	roff := string(md2man.Render([]byte(md)))
	// go-md2man starts a link's address on a new line, which breaks a
	// table row when the link is in a cell; a space does as well.
	roff = wrapTableCells(strings.ReplaceAll(roff, "\n\\[la]", " \\[la]"))
	// go-md2man writes a backslash as "\\\\", which at the end of a line
	// (a table cell) continues the line; "\\e" prints one anywhere.
	roff = minusSigns(strings.ReplaceAll(roff, `\\`, `\e`))
	if !roffPreamble.MatchString(roff) {
		return "", errors.New("the backend's page has no top-level heading")
	}
	roff = roffPreamble.ReplaceAllString(roff, ".SH ")
	if !strings.HasPrefix(roff, upstreamSection) {
		return "", fmt.Errorf("the backend's page must start with %q", "# 1Fichier")
	}
	return strings.TrimRight(roff, "\n") + "\n", nil
}

// demoteHeadings moves every heading below the first level one level
// down (## to ###), outside fenced code, so that go-md2man, which makes
// a ## a .SH, makes them all subsections (.SS).
func demoteHeadings(md string) string {
	var b bytes.Buffer
	fenced := false
	for line := range strings.SplitAfterSeq(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "##") {
			b.WriteString("#")
		}
		b.WriteString(line)
	}
	return b.String()
}

// wrapTableCells makes every cell of every table (tbl's .TS to .TE) a
// text block (T{ ... T}), which tbl fills to the column's width, and
// sets tables ragged-right. go-md2man makes only cells whose first piece
// of text is long text blocks, so a cell that starts with a short code
// span or link would stretch its column past the page instead; and a
// long file name in a narrow justified column cannot be adjusted.
func wrapTableCells(roff string) string {
	var b strings.Builder
	for {
		start := strings.Index(roff, "\n.TS\n")
		if start < 0 {
			b.WriteString(roff)
			return b.String()
		}
		end := strings.Index(roff[start:], "\n.TE\n")
		if end < 0 {
			b.WriteString(roff)
			return b.String()
		}
		end += start + 1
		// The options line and the format lines, up to the one ending in ".".
		head := strings.Index(roff[start:end], ".\n")
		if head < 0 {
			b.WriteString(roff[:end])
			roff = roff[end:]
			continue
		}
		head += start + 2
		b.WriteString(roff[:start] + "\n.ad l" + roff[start:head])
		b.WriteString(wrapRows(roff[head:end]))
		b.WriteString(".TE\n.ad b\n")
		roff = roff[end+len(".TE\n"):]
	}
}

// wrapRows wraps the cells of a table's rows.
func wrapRows(rows string) string {
	var b strings.Builder
	for rows != "" {
		cell, sep := "", byte('\n')
		if strings.HasPrefix(rows, "T{\n") {
			end := strings.Index(rows, "\nT}")
			if end < 0 {
				b.WriteString(rows)
				return b.String()
			}
			cell, rows = rows[:end+3], rows[end+3:]
		} else {
			end := strings.IndexAny(rows, "\t\n")
			if end < 0 {
				end = len(rows)
			}
			cell, rows = "T{\n"+rows[:end]+"\nT}", rows[end:]
		}
		if rows != "" {
			sep, rows = rows[0], rows[1:]
		}
		b.WriteString(cell)
		b.WriteByte(sep)
	}
	return b.String()
}

// minusSigns writes every "-" as "\-", as pandoc does: groff prints a
// bare "-" as a typographic hyphen, which breaks options and commands
// copied from the page (--fichier-api-rate). go-md2man writes none of
// the roff requests it uses with a "-", and a "-" after a backslash is
// already an escape.
func minusSigns(roff string) string {
	var b strings.Builder
	for i := 0; i < len(roff); i++ {
		if roff[i] == '-' && (i == 0 || roff[i-1] != '\\') {
			b.WriteString("\\-")
			continue
		}
		b.WriteByte(roff[i])
	}
	return b.String()
}
