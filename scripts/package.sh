#!/usr/bin/env bash
# scripts/package.sh FORMAT GOARCH BINDIR OUT: packages BINDIR's rclone
# and fichier-emulator (built for linux/GOARCH, arm meaning ARMv7) as
# OUT, a .deb (FORMAT deb) or .rpm (rpm) of the package rclone-fichier,
# with packaging/nfpm.yaml. make release and make deb-check run it
# (docs/releasing.md) and set:
#
#   VERSION  the version make stamps into rclone (scripts/version.sh)
#   NFPM     the command that runs nfpm, e.g. "go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"
#   GO       the go command (default go), to find rclone's man page
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

# rclone's man page is upstream's, from the rclone module this rclone is
# built from (rclone's packages ship it as /usr/share/man/man1/rclone.1);
# gzipped, as Debian ships man pages.
man=$($GO list -m -f '{{.Dir}}' github.com/rclone/rclone)/rclone.1
if [ ! -s "$man" ]; then
	echo "scripts/package.sh: no rclone man page at $man" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
gzip -9n <"$man" >"$stage/rclone.1.gz"
PKG_MANPAGE=$stage/rclone.1.gz

# Files and the package get the last commit's time, not the build's, so
# the same commit packages the same way.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
	export SOURCE_DATE_EPOCH
fi

mkdir -p "$(dirname "$out")"
$NFPM package --config packaging/nfpm.yaml --packager "$format" --target "$out"
