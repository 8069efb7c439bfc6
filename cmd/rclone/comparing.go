package main

import (
	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone/rclone/cmd"
	"github.com/spf13/cobra"
)

// comparingCommands compare source and destination files to decide
// what to copy; against 1fichier, without --checksum, by size only.
var comparingCommands = map[string]bool{"copy": true, "sync": true, "move": true, "copyto": true, "moveto": true}

// The fichier backend says once when such a command compares sizes
// only; it cannot tell which command runs, so it is told here.
func init() {
	markComparingCommands(cmd.Root)
}

// markComparingCommands has root's comparing commands call
// fichier.ComparingCommand before they run.
func markComparingCommands(root *cobra.Command) {
	for _, c := range root.Commands() {
		if !comparingCommands[c.Name()] || c.Run == nil {
			continue
		}
		run := c.Run
		c.Run = func(command *cobra.Command, args []string) {
			fichier.ComparingCommand()
			run(command, args)
		}
	}
}
