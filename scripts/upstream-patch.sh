#!/usr/bin/env bash
# upstream-patch.sh writes our backend as a patch series against rclone
# at the version go.mod requires, ready for git send-email or a pull
# request, and checks that it applies with git am to a clean copy of
# that version:
#
#   0001 fichier: add an emulator of the 1fichier API for the backend's tests
#   0002 fichier: keep to 1fichier's rate limits and batch small uploads
#   0003 fichier: document the rate limits, shared state, commands and recipes
#
# The files are those scripts/upstream-tree.sh places (the paths of
# docs/design.md, "In rclone's tree"); the documentation is docs/fichier.md
# made into rclone's docs/content/fichier.md (this project's own sections
# left out, the generated part's marker as rclone's make backenddocs
# writes it). Subjects start with the directory, as rclone's
# CONTRIBUTING.md asks.
#
# Usage: scripts/upstream-patch.sh [OUTDIR]   (default .upstream/patches)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$ROOT/.upstream/patch
OUT=${1:-$ROOT/.upstream/patches}
export GOWORK=off
RCLONE_VERSION=$(go list -m -f '{{.Version}}' github.com/rclone/rclone)
RCLONE_SRC=$(go list -m -f '{{.Dir}}' github.com/rclone/rclone)
NAME=$(git config user.name || echo "fichier backend")
EMAIL=$(git config user.email || echo "fichier@localhost")
export GIT_AUTHOR_NAME=$NAME GIT_AUTHOR_EMAIL=$EMAIL GIT_COMMITTER_NAME=$NAME GIT_COMMITTER_EMAIL=$EMAIL

# clean_copy DIR: rclone's source at the go.mod version, as one commit.
clean_copy() {
	rm -rf "$1"
	mkdir -p "$(dirname "$1")"
	cp -r "$RCLONE_SRC" "$1"
	chmod -R u+w "$1"
	git -C "$1" init -q
	git -C "$1" add -A
	git -C "$1" commit -q -m "rclone $RCLONE_VERSION"
}

# upstream_doc OUT: docs/fichier.md as rclone's page. Each edit must
# match, so a rewritten page stops the script rather than slip through.
upstream_doc() {
	perl -0777 -e '
		$_ = <STDIN>;
		sub edit { my ($re, $to, $what) = @_; s/$re/$to/ or die "upstream-patch: docs/fichier.md: no $what\n" }
		edit(qr/(# 1Fichier\n\n).*?(?=Paths are specified)/s,
			"$1This is a backend for the [1fichier](https:\/\/1fichier.com) cloud\nstorage service. " .
			"The 1fichier API is only open to Premium and Access\naccounts.\n\n", "introduction");
		edit(qr/## Getting this rclone\n.*?(?=## Configuration\n)/s, "", "section \"Getting this rclone\"");
		edit(qr/ and run make docs -->/, " and run make backenddocs to verify -->", "generated-part marker");
		edit(qr/this\nbackend \(and upstream\x27s\) sent/, "this\nbackend sent", "\"and upstream\x27s\"");
		edit(qr/Tried with `bin\/rclone` against `bin\/fichier-emulator` \(its rules run 10\ntimes faster, `--time-scale 10`\)\./,
			"Tried against the 1fichier emulator of the backend\x27s tests (its rules\nrun 10 times faster).", "recipes\x27 test setup");
		print;
	' <docs/fichier.md >"$1"
	if grep -n -i -E 'rclone-fichier|(^|[^/a-z])bin/(rclone|fichier)' "$1"; then
		echo "upstream-patch: the page above still speaks of this project" >&2
		exit 1
	fi
}

# 1. The series, one commit per part, on a clean copy.
clean_copy "$WORK/rclone"
./scripts/upstream-tree.sh "$WORK/rclone"
upstream_doc "$WORK/rclone/docs/content/fichier.md"
cd "$WORK/rclone"
git add backend/fichier/emulator backend/fichier/fichiertest
git commit -q -F - <<'MSG'
fichier: add an emulator of the 1fichier API for the backend's tests

The backend's tests need 1fichier's behaviour, rate rules included,
without an account: backend/fichier/emulator serves the API endpoints
the backend uses (with 1fichier's answers, errors and flood lock, and
a clock that can run faster), and backend/fichier/fichiertest starts it
for a test and makes the remote's config. Where what 1fichier does is
uncertain, the emulator takes the stricter reading, and
FICHIER_EMULATOR_READINGS switches to the other one, so the backend is
tested under both.

Only tests import them: the rclone binary is unchanged.
MSG
git add -A backend/fichier
git commit -q -F - <<'MSG'
fichier: keep to 1fichier's rate limits and batch small uploads

1fichier locks an API key for 30 minutes (a "flood" lock) when its
calls break its rules: at most a few calls a second, one listing of a
folder per 30 seconds, and more. The old backend's pacer did not know
these rules, so a sync of many small files or a second rclone on the
same key could lock the account.

The backend now keeps every rule, for all the rclone processes of one
machine using a key (their clocks and cached listings are kept in a
small bbolt database in rclone's cache directory; on plan9 and js, which
bbolt does not support, in memory), batches small uploads, checks each
upload against the listing instead of uploading again after an error,
and adds backend commands for 1fichier's remote upload, account, sharing
and link import. Option names and defaults are unchanged.

The tests run offline against the emulator of the previous commit.
MSG
git add docs/content/fichier.md
git commit -q -m "fichier: document the rate limits, shared state, commands and recipes"
rm -rf "$OUT"
git format-patch -q -o "$OUT" HEAD~3
cd "$ROOT"

# 2. It applies with git am to a clean copy, and gives the same tree.
clean_copy "$WORK/check"
git -C "$WORK/check" am -q "$OUT"/*.patch
if [ "$(git -C "$WORK/check" rev-parse 'HEAD^{tree}')" != "$(git -C "$WORK/rclone" rev-parse 'HEAD^{tree}')" ]; then
	echo "upstream-patch: git am gave another tree than the series was made from" >&2
	exit 1
fi
stat=$(git -C "$WORK/check" diff --shortstat HEAD~3 HEAD)
echo "upstream-patch: $(ls "$OUT"/*.patch | wc -l) patches in ${OUT#"$ROOT"/}, applied with git am to a clean rclone $RCLONE_VERSION:$stat"
git -C "$WORK/check" diff --stat=100 HEAD~3 HEAD | awk '{ print "  " $0 }' | tail -n 1
