package main

import (
	"fmt"
	"os"

	"github.com/rclone/rclone/cmd"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/lib/exitcode"
	"github.com/spf13/cobra"
)

// rclone's own selfupdate downloads upstream rclone from rclone.org and
// replaces the running binary with it, which would silently swap our
// fichier backend for upstream's. This binary keeps the command name,
// so that scripts and habits meet a clear answer, but refuses, without
// contacting anyone. "make build" and "make release" also leave
// upstream's command out with -tags noselfupdate; a plain "go build"
// keeps it, so init replaces it here in both cases.
func init() {
	replaceSelfUpdate(cmd.Root)
}

// replaceSelfUpdate puts cmdSelfUpdate in place of any command of root
// named selfupdate.
func replaceSelfUpdate(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == cmdSelfUpdate.Name() {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(cmdSelfUpdate)
}

var cmdSelfUpdate = &cobra.Command{
	Use:     "selfupdate",
	Aliases: []string{"self-update"},
	Short:   `Say how to update this rclone (it does not install upstream rclone).`,
	Long: `This rclone carries the rclone-fichier backend for 1fichier. rclone's own
selfupdate would replace it with upstream rclone and lose that backend, so
this command only says how to update, and exits with an error. It accepts
upstream's flags (--check, --beta, --version, ...) and ignores them. It
does not use the network.`,
	Args: cobra.ArbitraryArgs,
	// Upstream's flags are accepted, so that "selfupdate --check" gets
	// the explanation rather than a usage error.
	FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true},
	Run: func(command *cobra.Command, args []string) {
		_, _ = fmt.Fprint(os.Stderr, selfUpdateRefusal(fs.Version))
		os.Exit(exitcode.UncategorizedError)
	},
}

// selfUpdateRefusal is what "rclone selfupdate" prints for this build,
// whose "rclone version" is version.
func selfUpdateRefusal(version string) string {
	return `rclone selfupdate is turned off in this build: it would replace this
binary with upstream rclone, which does not have the rclone-fichier backend.

This is rclone ` + version + ` with the rclone-fichier 1fichier backend.
To update it, either:
  - download a newer rclone-fichier release archive
    (rclone-VERSION-OS-ARCH.tar.gz, or .zip for Windows), check it against
    the release's SHA256SUMS, and replace this binary with the rclone in it;
  - or rebuild it from source: in your rclone-fichier checkout run
    "git pull && make build", which leaves the new binary in bin/rclone.

Nothing was downloaded or changed.
`
}
