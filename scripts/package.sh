#!/usr/bin/env bash
# scripts/package.sh FORMAT GOARCH BINDIR OUT: packages BINDIR's rclone
# and fichier-emulator (built for linux/GOARCH, arm meaning ARMv7) as
# OUT, a .deb (FORMAT deb) or .rpm (rpm) of the package rclone-fichier,
# with packaging/nfpm.yaml. make release and make deb-check run it
# (docs/releasing.md) and set:
#
#   VERSION  the version make stamps into rclone (scripts/version.sh)
#   NFPM     the command that runs nfpm, e.g. "go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"
#   GO       the go command (default go), to make rclone's man page
#   MAINTAINER  the package's maintainer, "Name <address>" (optional:
#            by default git's user.name and user.email, or failing those
#            the last commit's committer)
#
# Paths are taken from the repository's root, where make runs it.
# scripts/package.sh --version VERSION only prints the deb/rpm version.
set -euo pipefail
cd "$(dirname "$0")/.."

# The deb/rpm version of a VERSION from scripts/version.sh: the leading
# v dropped, "-fichier" made "+fichier" (rclone's version, then ours)
# and every other "-" a ".", as neither deb nor rpm allows "-" in a
# version. Both then order the forms as they come:
#
#   v1.76.0-fichier+g1ac89f9          1.76.0+fichier+g1ac89f9
#   v1.76.0-fichier.3                 1.76.0+fichier.3
#   v1.76.0-fichier.3-5-g1ac89f9      1.76.0+fichier.3.5.g1ac89f9
#   v1.76.0-fichier.3-dirty           1.76.0+fichier.3.dirty
pkg_version() {
	local v
	v=$(printf '%s' "$1" | sed -e 's/^v//' -e 's/-fichier/+fichier/' -e 's/-/./g')
	# deb: starts with a digit, then alphanumerics and . + ~ (no "-",
	# which would start a revision); rpm allows the same.
	if ! [[ $v =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
		echo "scripts/package.sh: VERSION '$1' gives '$v', not a valid deb/rpm version (it must start with a digit, e.g. v1.76.0-fichier.3)" >&2
		return 1
	fi
	printf '%s\n' "$v"
}

# maintainer prints the package's maintainer: MAINTAINER, else git's
# user.name and user.email, else the last commit's committer; Debian
# wants a name and an address.
maintainer() {
	local m=${MAINTAINER:-}
	if [ -z "$m" ] && git rev-parse --git-dir >/dev/null 2>&1; then
		local name email
		name=$(git config user.name || true) email=$(git config user.email || true)
		if [ -n "$name" ] && [ -n "$email" ]; then
			m="$name <$email>"
		else
			m=$(git log -1 --format='%cn <%ce>')
		fi
	fi
	if ! [[ $m =~ ^[^\<\>]+\ \<[^\<\>@\ ]+@[^\<\>@\ ]+\>$ ]]; then
		echo "scripts/package.sh: the maintainer '$m' is not \"Name <address>\"; set MAINTAINER='Your Name <you@example.org>'" >&2
		return 1
	fi
	printf '%s\n' "$m"
}

# yaml_string prints $1 as a double-quoted YAML string.
yaml_string() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# The changelog is made from git, in two forms: Debian's (the .deb's
# /usr/share/doc/rclone-fichier/changelog.gz) and chglog's YAML, which
# nfpm writes as the .rpm's %changelog. Each entry lists the subjects of
# a version's commits, newest first, at most 40, each cut to fit
# Debian's 80 columns.

# changelog_entry FORM VERSION REV [SINCE] writes, in FORM (deb or
# yaml), the entry of the package VERSION built from git revision REV,
# whose commits are those after SINCE (all of them without it).
changelog_entry() {
	local form=$1 version=$2 rev=$3 since=${4:-} range count date subject
	range=$rev
	[ -z "$since" ] || range=$since..$rev
	count=$(git rev-list --no-merges --count "$range")
	date=$(git log -1 --format=%ct "$rev")
	changelog_head "$form" "$version" "$date"
	while IFS= read -r subject; do
		changelog_note "$form" "$subject"
	done < <(git log --no-merges -n 40 --format=%s "$range")
	if [ "$count" -gt 40 ]; then
		changelog_note "$form" "and $((count - 40)) earlier commits (git log $range)"
	fi
	changelog_tail "$form" "$date"
}

# changelog_head FORM VERSION EPOCH starts an entry.
changelog_head() {
	if [ "$1" = deb ]; then
		printf 'rclone-fichier (%s) unstable; urgency=low\n\n' "$2"
	else
		printf -- '- semver: %s\n  date: %s\n  packager: %s\n  changes:\n' "$2" \
			"$(date -u -d "@$3" +%FT%TZ)" "$(yaml_string "$PKG_MAINTAINER")"
	fi
}

# changelog_note FORM TEXT adds a line to an entry.
changelog_note() {
	local note=$2
	[ ${#note} -le 76 ] || note="${note:0:73}..."
	if [ "$1" = deb ]; then
		printf '  * %s\n' "$note"
	else
		printf '    - note: %s\n' "$(yaml_string "$note")"
	fi
}

# changelog_tail FORM EPOCH ends an entry.
changelog_tail() {
	if [ "$1" = deb ]; then
		printf '\n -- %s  %s\n\n' "$PKG_MAINTAINER" "$(LC_ALL=C date -u -R -d "@$2")"
	fi
}

# write_changelog FORM FILE writes the package's changelog: an entry for
# each release tag (vX.Y.Z-fichier.N) reachable from HEAD and, when HEAD
# is not one, one for the version packaged. Without git (a source
# archive) it has one entry saying so.
write_changelog() {
	local form=$1 out=$2 tags prev tag
	if ! git rev-parse --git-dir >/dev/null 2>&1; then
		{
			changelog_head "$form" "$PKG_VERSION" "${SOURCE_DATE_EPOCH:-0}"
			changelog_note "$form" "built from a source archive, without its git history"
			changelog_tail "$form" "${SOURCE_DATE_EPOCH:-0}"
		} >"$out"
		return
	fi
	mapfile -t tags < <(git tag --list 'v*-fichier.*' --merged HEAD --sort=-v:refname)
	{
		if [ ${#tags[@]} = 0 ] || [ "$(git rev-parse "${tags[0]}^{commit}")" != "$(git rev-parse HEAD)" ]; then
			changelog_entry "$form" "$PKG_VERSION" HEAD "${tags[0]:-}"
		fi
		for i in "${!tags[@]}"; do
			tag=${tags[$i]} prev=${tags[$((i + 1))]:-}
			changelog_entry "$form" "$(pkg_version "$tag")" "$tag" "$prev"
		done
	} >"$out"
}

# emulator_man HELP prints fichier-emulator's man page, whose
# description is HELP, its -h text, as written (roff-escaped).
emulator_man() {
	cat <<-'EOF'
		.TH FICHIER-EMULATOR 1 "" "rclone-fichier" "User Commands"
		.SH NAME
		fichier\-emulator \- an offline 1fichier API server, for tests and demos
		.SH SYNOPSIS
		.B fichier\-emulator
		\-\-listen 127.0.0.1:PORT \-\-key KEY [flags]
		.SH DESCRIPTION
		It serves 1fichier's API, upload nodes and downloads with the service's
		rate rules and flood locks, so that rclone (its fichier backend) and other
		clients can be tried without an account. Its flags, as
		.B fichier\-emulator \-h
		prints them:
		.PP
		.nf
	EOF
	printf '%s\n' "$1" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\([.']\)/\\\\\&\1/"
	cat <<-'EOF'
		.fi
		.SH SEE ALSO
		.BR rclone (1),
		/usr/share/doc/rclone\-fichier/README.md
	EOF
}

if [ "${1:-}" = --version ]; then
	pkg_version "${2:?usage: scripts/package.sh --version VERSION}"
	exit
fi

if [ $# != 4 ]; then
	echo "usage: scripts/package.sh deb|rpm GOARCH BINDIR OUT" >&2
	exit 2
fi
format=$1 goarch=$2 bindir=$3 out=$4
: "${VERSION:?VERSION must be set (make sets it)}" "${NFPM:?NFPM must be set (make sets it)}"
GO=${GO:-go}

for f in "$bindir/rclone" "$bindir/fichier-emulator"; do
	if [ ! -x "$f" ]; then
		echo "scripts/package.sh: no $f to package" >&2
		exit 1
	fi
done

export PKG_VERSION PKG_ARCH PKG_BINDIR PKG_MANPAGE
PKG_VERSION=$(pkg_version "$VERSION")
case $goarch in
arm) PKG_ARCH=arm7 ;; # the release builds linux-arm with GOARM=7
*) PKG_ARCH=$goarch ;;
esac
PKG_BINDIR=$(cd "$bindir" && pwd)

# rclone's man page is upstream's (rclone's packages ship it as
# /usr/share/man/man1/rclone.1), from the rclone module this rclone is
# built from, with its 1Fichier section replaced by docs/fichier.md
# (cmd/fichier-docs -man); gzipped, as Debian ships man pages.
upstream_man=$($GO list -m -f '{{.Dir}}' github.com/rclone/rclone)/rclone.1
if [ ! -s "$upstream_man" ]; then
	echo "scripts/package.sh: no rclone man page at $upstream_man" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
$GO run ./cmd/fichier-docs -man "$upstream_man" -o "$stage/rclone.1" docs/fichier.md
gzip -9n <"$stage/rclone.1" >"$stage/rclone.1.gz"
PKG_MANPAGE=$stage/rclone.1.gz

# fichier-emulator's man page is its -h text (from a build for this
# machine: the packaged binary may be for another architecture).
export PKG_EMULATOR_MANPAGE=$stage/fichier-emulator.1.gz
emulator_man "$($GO run ./cmd/fichier-emulator -h 2>&1)" | gzip -9n >"$PKG_EMULATOR_MANPAGE"

# Files and the package get the last commit's time, not the build's, so
# the same commit packages the same way.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
	export SOURCE_DATE_EPOCH
fi

export PKG_MAINTAINER
PKG_MAINTAINER=$(maintainer)
# The .deb's changelog is a file of the package (nfpm would name it
# changelog.Debian.gz, which is for packages with a Debian revision);
# the .rpm's goes through nfpm.
export PKG_DEB_CHANGELOG=$stage/changelog.gz
write_changelog deb "$stage/changelog"
gzip -9n <"$stage/changelog" >"$PKG_DEB_CHANGELOG"
cp packaging/nfpm.yaml "$stage/nfpm.yaml"
if [ "$format" = rpm ]; then
	write_changelog yaml "$stage/changelog.yml"
	echo "changelog: $stage/changelog.yml" >>"$stage/nfpm.yaml"
fi

mkdir -p "$(dirname "$out")"
$NFPM package --config "$stage/nfpm.yaml" --packager "$format" --target "$out"
