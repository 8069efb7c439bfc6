// Package doctest finds the command lines that README.md and docs/*.md
// show in their code blocks, so that a test (doctest_test.go, run by
// make test) can run each one against the emulator, or check that it
// parses where it needs more than the emulator gives.
package doctest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Command is one command line shown in a page's code block.
type Command struct {
	File  string // the page, as given to Extract
	Line  int    // where the command starts, 1-based
	Block int    // the line where its code block starts
	Text  string // the command as shown: continuations joined, comment and prompt dropped
}

// String is the command's place and text, for messages.
func (c Command) String() string { return fmt.Sprintf("%s:%d: %s", c.File, c.Line, c.Text) }

// Programs are the first words that make a line of a shell block a
// command; a block whose first line starts otherwise is a transcript
// (a wizard session, an output) and holds none.
var Programs = []string{"rclone", "bin/rclone", "/usr/bin/rclone", "make", "bin/fichier-emulator", "fichier-emulator",
	"bin/fichier-bench", "bin/fichier-chaos", "curl", "export", "go", "dpkg", "dpkg-deb", "rpm", "flock", "sudo"}

var (
	comment     = regexp.MustCompile(`\s+#\s.*$`)
	assignment  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=\S*$`)
	cronEntry   = regexp.MustCompile(`^(?:[0-9*,/-]+\s+){5}(.+)$`)
	execStart   = regexp.MustCompile(`^ExecStart=(.+)$`)
	shellBlocks = map[string]bool{"sh": true, "console": true, "bash": true, "shell": true, "": true}
)

// block is one fenced code block.
type block struct {
	lang  string
	start int // line number of its first line
	lines []string
}

// Extract returns the commands shown in the page at path: in shell
// blocks (sh, console, bash, shell, or none) the lines after a "$ "
// prompt when the block has any, else every line that starts with one of
// Programs; in text blocks cron entries' commands; in ini blocks
// ExecStart= lines. A shell block that starts with a command but has a
// line that is neither a command nor empty is an error: the test could
// not tell what the page means.
func Extract(path string) ([]Command, error) {
	blocks, err := readBlocks(path)
	if err != nil {
		return nil, err
	}
	var cmds []Command
	for _, b := range blocks {
		found, err := blockCommands(path, b)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, found...)
	}
	return cmds, nil
}

// readBlocks returns the fenced code blocks of the page at path.
func readBlocks(path string) ([]block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var blocks []block
	var cur *block
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```") && cur == nil:
			cur = &block{lang: strings.TrimSpace(line[3:]), start: n + 1}
		case strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	return blocks, sc.Err()
}

// blockCommands returns the commands of one block.
func blockCommands(path string, b block) ([]Command, error) {
	var cmds []Command
	switch {
	case b.lang == "text" || b.lang == "ini":
		for i, line := range b.lines {
			for _, re := range []*regexp.Regexp{cronEntry, execStart} {
				if m := re.FindStringSubmatch(line); m != nil {
					cmds = append(cmds, Command{File: path, Line: b.start + i, Block: b.start, Text: m[1]})
				}
			}
		}
		return cmds, nil
	case !shellBlocks[b.lang]:
		return nil, nil
	}
	lines, starts := joinContinuations(b.lines)
	prompted := false
	for _, line := range lines {
		prompted = prompted || strings.HasPrefix(line, "$ ")
	}
	for i, line := range lines {
		text, isCmd := shellLine(line, prompted)
		switch {
		case isCmd:
			cmds = append(cmds, Command{File: path, Line: b.start + starts[i], Block: b.start, Text: text})
		case prompted || text == "":
		case len(cmds) == 0:
			return nil, nil // a transcript
		default:
			return nil, fmt.Errorf("%s:%d: %q is neither a command nor a comment", path, b.start+starts[i], line)
		}
	}
	return cmds, nil
}

// joinContinuations joins lines ending in a backslash with the next,
// and returns the joined lines with the index of each one's first line.
func joinContinuations(lines []string) (joined []string, starts []int) {
	for i := 0; i < len(lines); i++ {
		start, line := i, lines[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSpace(strings.TrimSuffix(line, "\\")) + " " + strings.TrimSpace(lines[i])
		}
		joined, starts = append(joined, line), append(starts, start)
	}
	return joined, starts
}

// shellLine reads one line of a shell block: its command text, and
// whether it is a command. With prompted, only "$ " lines are.
func shellLine(line string, prompted bool) (string, bool) {
	if prompted {
		text, ok := strings.CutPrefix(line, "$ ")
		return strings.TrimSpace(comment.ReplaceAllString(text, "")), ok
	}
	text := strings.TrimSpace(comment.ReplaceAllString(line, ""))
	if strings.HasPrefix(text, "#") {
		return "", false
	}
	return text, isProgram(text)
}

// isProgram reports whether text starts, after any VAR=value words,
// with one of Programs.
func isProgram(text string) bool {
	for _, w := range strings.Fields(text) {
		if assignment.MatchString(w) {
			continue
		}
		for _, p := range Programs {
			if w == p {
				return true
			}
		}
		return false
	}
	return false
}

// RemoteConfigs returns the ini blocks of the page at path that define
// rclone remotes (they have a "type =" line), for a config file.
func RemoteConfigs(path string) ([]string, error) {
	blocks, err := readBlocks(path)
	if err != nil {
		return nil, err
	}
	var configs []string
	for _, b := range blocks {
		text := strings.Join(b.lines, "\n") + "\n"
		if b.lang == "ini" && regexp.MustCompile(`(?m)^type = `).MatchString(text) {
			configs = append(configs, text)
		}
	}
	return configs, nil
}

// SplitWords splits a command line into words as a shell would, for the
// forms the pages use: blanks separate words, single and double quotes
// group, a backslash escapes the next character.
func SplitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	runes := []rune(line)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == '\'':
			cur.WriteRune(r)
		case r == '\\' && i+1 < len(runes):
			i++
			cur.WriteRune(runes[i])
			inWord = true
		case quote == 0 && (r == '\'' || r == '"'):
			quote, inWord = r, true
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote in %q", quote, line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
