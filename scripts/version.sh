#!/usr/bin/env bash
# Prints the version "make build" and "make release" stamp into rclone
# (what "rclone version" shows), from git:
#
#   v1.76.0-fichier.3              on the release tag v1.76.0-fichier.3
#   v1.76.0-fichier.3-5-g1ac89f9   five commits after it
#   v1.76.0-fichier+g1ac89f9       before the first release tag: the rclone
#                                  version in go.mod and the commit
#
# with "-dirty" (".dirty" after a "+") when the tree has uncommitted
# changes. Every form is a semantic version, as rclone expects. Outside a
# git checkout it prints nothing and the binary keeps its built-in
# version, v1.76.0-fichier. docs/releasing.md says how to cut a release.
set -euo pipefail
cd "$(dirname "$0")/.."

git rev-parse --git-dir >/dev/null 2>&1 || exit 0

if git describe --tags --match 'v*-fichier.*' --dirty 2>/dev/null; then
	exit 0
fi

rclone=$(awk '{ for (i = 1; i < NF; i++) if ($i == "github.com/rclone/rclone") print $(i + 1) }' go.mod)
version="${rclone}-fichier+g$(git rev-parse --short HEAD)"
if ! git diff --quiet HEAD 2>/dev/null; then
	version="${version}.dirty"
fi
echo "$version"
