package main

import (
	"github.com/rclone/rclone/cmd"
	"github.com/spf13/cobra"
)

// A "rclone config", "config create" or "config update" that fails (a backend refusing
// the values given, say a 1fichier key) is not a usage error, but cobra
// prints the error and the whole usage, and then rclone logs the error
// again. The subcommands are set to print nothing themselves, so the
// error is said once, by rclone. Wrong arguments are still met with the
// usage: rclone's argument check prints it before the command runs.
func init() {
	quietConfigErrors(cmd.Root)
}

// quietConfigErrors silences cobra's error and usage output of root's
// config (the interactive session), config create and config update.
func quietConfigErrors(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "config" {
			continue
		}
		c.SilenceErrors = true
		c.SilenceUsage = true
		for _, sub := range c.Commands() {
			if sub.Name() == "create" || sub.Name() == "update" {
				sub.SilenceErrors = true
				sub.SilenceUsage = true
			}
		}
	}
}
