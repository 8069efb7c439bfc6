package main

import (
	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone/rclone/cmd"
	"github.com/spf13/cobra"
)

// "rclone backend scan remote:dir/file.txt" would fail before the
// backend sees it: the remote's path is a file. The backend's
// CommandLine moves the file into the command's argument first.
func init() {
	wrapBackendCommand(cmd.Root)
}

// wrapBackendCommand has root's backend command pass its arguments
// through fichier.CommandLine.
func wrapBackendCommand(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "backend" || c.RunE == nil {
			continue
		}
		run := c.RunE
		c.RunE = func(command *cobra.Command, args []string) error {
			return run(command, fichier.CommandLine(args))
		}
	}
}
