package fichier

import (
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fspath"
)

// fileCommands are the backend commands whose one argument names a file
// (for password, a file or a folder) relative to the remote's path.
var fileCommands = map[string]bool{"password": true, "acl": true, "scan": true, "token": true}

// fileForm is how an error tells the user to name a file for a command.
const fileForm = "name it as remote:dir/file.txt, or as remote:dir file.txt"

// CommandLine rewrites the arguments of "rclone backend" (the command,
// the remote and the command's arguments) so that a command acting on
// one file may be given the file in the remote's path.
//
// rclone makes the remote before the command runs, and refuses a remote
// whose path is a file ("is a file not a directory"): NewFs returns
// fs.ErrorIsFile, which "rclone backend" takes for a failure. So for a
// fichier remote, a command of fileCommands given no argument has the
// last element of the path moved into its argument: "scan
// remote:dir/file.txt" runs as "scan remote:dir file.txt". This needs no
// API call; a path that is a folder (password on a shared folder) works
// the same way. Anything else is returned as it was.
func CommandLine(args []string) []string {
	if len(args) != 2 || !fileCommands[args[0]] {
		return args
	}
	info, _, _, _, err := fs.ConfigFs(args[1])
	if err != nil || info.Name != "fichier" {
		return args
	}
	parent, leaf, err := fspath.Split(args[1])
	if err != nil || leaf == "" {
		return args
	}
	return []string{args[0], parent, leaf}
}
