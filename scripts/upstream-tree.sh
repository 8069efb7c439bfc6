#!/usr/bin/env bash
# upstream-tree.sh DEST puts our backend and the test kit its tests need
# into the rclone source tree at DEST, at the paths they take there (see
# docs/design.md, "In rclone's tree"), with the module path rewritten:
#
#   backend/fichier      -> backend/fichier (replacing rclone's own)
#   fstest/emulator      -> backend/fichier/emulator
#   fstest/fichiertest   -> backend/fichier/fichiertest
#
# Only the import paths change (and gofmt re-sorts the import blocks they
# are in). It fails if anything of this project's name is left in what it
# wrote. Used by scripts/upstream-check.sh and scripts/upstream-patch.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
DEST=${1:?usage: scripts/upstream-tree.sh RCLONE_TREE}
MODULE=$(GOWORK=off go list -m -f '{{.Path}}')
UPSTREAM=github.com/rclone/rclone

# Each of our directories and where it goes, as "ours theirs" lines.
PLACES='backend/fichier backend/fichier
fstest/emulator backend/fichier/emulator
fstest/fichiertest backend/fichier/fichiertest'

rm -rf "${DEST:?}/backend/fichier"
while read -r ours theirs; do
	# Tracked files and new ones git does not ignore, as they are now.
	# A directory placed inside another one (the kit inside the backend)
	# is left out of the outer copy: it has its own line.
	git ls-files --cached --others --exclude-standard -- "$ours" | while read -r f; do
		[ -e "$f" ] || continue # deleted, not yet committed
		rel=${f#"$ours"/}
		mkdir -p "$DEST/$theirs/$(dirname "$rel")"
		cp "$f" "$DEST/$theirs/$rel"
	done
done <<<"$PLACES"

# The import paths.
sedargs=()
while read -r ours theirs; do
	sedargs+=(-e "s#\"$MODULE/$ours\([/\"]\)#\"$UPSTREAM/$theirs\1#g")
done <<<"$PLACES"
find "$DEST/backend/fichier" -name '*.go' -exec sed -i "${sedargs[@]}" {} +
gofmt -w "$DEST/backend/fichier"

if left=$(grep -rIl -i -e "$MODULE" -e 'rclone-fichier' "$DEST/backend/fichier"); then
	echo "upstream-tree: this project's name is left in:" >&2
	grep -rIn -i -e "$MODULE" -e 'rclone-fichier' $left >&2
	exit 1
fi
