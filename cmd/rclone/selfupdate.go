package main

import (
	"fmt"
	"os"
	"path/filepath"

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
		_, _ = fmt.Fprint(os.Stderr, selfUpdateRefusal(fs.Version, executablePath(), installedFromPackage()))
		os.Exit(exitcode.UncategorizedError)
	},
}

// packageDocDir is where the rclone-fichier .deb and .rpm put their
// documentation; with /usr/bin/rclone it marks an rclone installed from
// them (packaging/nfpm.yaml).
const (
	packageBinary = "/usr/bin/rclone"
	packageDocDir = "/usr/share/doc/rclone-fichier"
)

// executablePath is this binary's path, or "this binary" when the
// system cannot tell.
func executablePath() string {
	exe, err := os.Executable()
	if err != nil {
		return "this binary"
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return exe
}

// installedFromPackage reports whether this binary is the one the
// rclone-fichier package installed.
func installedFromPackage() bool {
	_, err := os.Stat(packageDocDir)
	return err == nil && executablePath() == packageBinary
}

// selfUpdateRefusal is what "rclone selfupdate" prints for this build,
// whose "rclone version" is version, running from exe; fromPackage puts
// the package's way of updating first. Releases are made as
// docs/releasing.md says: a tag, then the archives, packages and
// SHA256SUMS published with it.
func selfUpdateRefusal(version, exe string, fromPackage bool) string {
	archive := `  - from a release archive: check it against the release's SHA256SUMS
    (sha256sum -c SHA256SUMS --ignore-missing) and replace ` + exe + `
    with the rclone in it;
`
	pkg := `  - from the Linux package (rclone-fichier): install the newer one over it,
    sudo dpkg -i rclone-VERSION-linux-ARCH.deb (Debian, Ubuntu) or
    sudo rpm -U rclone-VERSION-linux-ARCH.rpm (Fedora, RHEL, openSUSE);
`
	ways := archive + pkg
	if fromPackage {
		ways = pkg + archive
	}
	return `rclone selfupdate is turned off in this build: it would replace this
binary with upstream rclone, which does not have the rclone-fichier backend.

This is rclone ` + version + ` with the rclone-fichier 1fichier backend, at
` + exe + `.

Where releases are: each rclone-fichier release is a tag vX.Y.Z-fichier.N
of the rclone-fichier git repository (X.Y.Z is the rclone it is built on,
N counts releases on it); the release published with the tag holds
rclone-VERSION-OS-ARCH.tar.gz (.zip for Windows), the Linux packages
rclone-VERSION-linux-ARCH.deb and .rpm, and SHA256SUMS.

To update it, as it was installed:
` + ways + `  - from source: in your rclone-fichier checkout, "git pull && make build"
    leaves the new binary in bin/rclone (or check out a release tag first).

Nothing was downloaded or changed.
`
}
