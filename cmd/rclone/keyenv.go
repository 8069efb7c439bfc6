package main

import (
	"os"

	"github.com/spf13/cobra"
)

// envAPIKey is where users are told to keep their 1fichier API key.
const envAPIKey = "RCLONE_FICHIER_API_KEY"

// rclone turns every RCLONE_<BACKEND>_<OPTION> variable into a flag
// default when it installs the backend flags, and logs the value in
// clear at -vv ("Setting --fichier-api-key "..." from environment
// variable"), and "rclone help flags" shows it as the default. The
// backend does not need that default: it reads the variable itself,
// through the config, with the value redacted in logs. So the variable
// is hidden while the flags are installed and put back before any
// command runs.
func init() {
	key, ok := os.LookupEnv(envAPIKey)
	if !ok {
		return
	}
	_ = os.Unsetenv(envAPIKey)
	cobra.OnInitialize(func() {
		_ = os.Setenv(envAPIKey, key)
	})
}
