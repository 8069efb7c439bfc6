// Command rclone is rclone with every upstream command and backend, except
// that the 1fichier backend ("fichier") is rclone-fichier's own.
//
// The backend list lives in backends.go, generated from rclone's
// backend/all package by gen_backends.go (run "go generate ./cmd/rclone"
// after changing the rclone version in go.mod).
package main

//go:generate go run gen_backends.go

import (
	"github.com/rclone/rclone/cmd"
	_ "github.com/rclone/rclone/cmd/all" // import all commands
	"github.com/rclone/rclone/fs"
	_ "github.com/rclone/rclone/lib/plugin" // import plugins
)

// BuildSuffix marks this build in "rclone version" and in the User-Agent,
// replacing upstream's "DEV" pre-release label.
const BuildSuffix = "fichier"

// version is stamped by "make build" and "make release" from git
// (scripts/version.sh) with -ldflags "-X main.version=...". A plain
// "go build" leaves it empty and the binary says fs.VersionTag-fichier.
var version string

func init() {
	fs.Version = buildVersion(version)
}

// buildVersion returns what "rclone version" shows: the stamped version,
// or rclone's own version tag with this build's suffix.
func buildVersion(stamped string) string {
	if stamped != "" {
		return stamped
	}
	return fs.VersionTag + "-" + BuildSuffix
}

func main() {
	cmd.Main()
}
