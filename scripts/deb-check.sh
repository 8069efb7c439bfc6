#!/usr/bin/env bash
# scripts/deb-check.sh BINDIR: make deb-check (CI runs it; see
# docs/releasing.md). Packages BINDIR's rclone and fichier-emulator, as
# "make build" left them, as a .deb for this machine with
# scripts/package.sh (no second compile), installs it with dpkg -i, runs
# the installed /usr/bin/rclone and /usr/bin/fichier-emulator, and
# removes the package again, also when a check fails. NFPM and GO are
# set as for scripts/package.sh; the version is the one bin/rclone shows.
#
# It needs root and dpkg. Without them it fails under CI (CI=true) and
# says why and skips elsewhere; it also refuses to touch a machine that
# already has an rclone package or a /usr/bin/rclone (under CI, it
# first removes an rclone-fichier an interrupted run left).
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=${1:?usage: scripts/deb-check.sh BINDIR}
pkg=rclone-fichier

unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "deb-check: FAILED: $1; CI must run it as root on Debian or Ubuntu" >&2
		exit 1
	fi
	echo "deb-check: SKIPPED: $1 (it installs the .deb with dpkg -i and removes it again; CI runs it as root)" >&2
	exit 0
}
command -v dpkg >/dev/null || unavailable "no dpkg here (not a Debian-like system)"
[ "$(id -u)" = 0 ] || unavailable "not root, so dpkg -i cannot install the package"

for f in "$bindir/rclone" "$bindir/fichier-emulator"; do
	if [ ! -x "$f" ]; then
		echo "deb-check: FAILED: no $f; run make build first (make test does)" >&2
		exit 1
	fi
done

# Installing would replace a package named rclone (ours replaces it) or
# overwrite a hand-installed binary, and removing it afterwards would
# leave the machine without either: leave such a machine alone.
# Under CI an installed rclone-fichier is taken to be left by a run that
# was stopped before it could remove it.
status() { dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null || true; }
left=$(status $pkg)
if [ "${CI:-}" = true ] && [ -n "$left" ] && [ "$left" != not-installed ]; then
	echo "deb-check: purging the $pkg ($left) an earlier run left"
	dpkg --purge $pkg >/dev/null
fi
for p in $pkg rclone; do
	if [ "$(status "$p")" = installed ]; then
		echo "deb-check: FAILED: the package $p is installed; deb-check would replace or remove it (dpkg -r $p first)" >&2
		exit 1
	fi
done
for f in /usr/bin/rclone /usr/bin/fichier-emulator; do
	if [ -e "$f" ]; then
		echo "deb-check: FAILED: $f exists; deb-check would overwrite it and then remove it" >&2
		exit 1
	fi
done

# The package takes the version of the binaries it holds, which is make's
# VERSION unless the tree changed since make build.
VERSION=$("$bindir/rclone" version | sed -n '1s/^rclone //p')
export VERSION
arch=$(dpkg --print-architecture)
goarch=$(${GO:-go} env GOARCH)
deb=$bindir/pkg/rclone-$VERSION-linux-$goarch.deb
rm -rf "$bindir/pkg"
./scripts/package.sh deb "$goarch" "$bindir" "$deb"
dpkg-deb --field "$deb" Package Version Architecture Provides Conflicts Replaces

# From here on the package comes off again however this script ends.
remove() {
	echo "+ dpkg -r $pkg"
	dpkg -r "$pkg" >/dev/null
	for f in /usr/bin/rclone /usr/bin/fichier-emulator /usr/share/man/man1/rclone.1.gz /usr/share/doc/$pkg; do
		if [ -e "$f" ]; then
			echo "deb-check: FAILED: $f is still there after dpkg -r $pkg" >&2
			exit 1
		fi
	done
}
trap remove EXIT
echo "+ dpkg -i $deb ($arch)"
dpkg -i "$deb" >/dev/null

fail() {
	echo "deb-check: FAILED: $1" >&2
	exit 1
}

echo "+ /usr/bin/rclone version"
out=$(/usr/bin/rclone version) || fail "/usr/bin/rclone version failed: $out"
sed -n 1p <<<"$out"
case $(sed -n 1p <<<"$out") in
"rclone v"*fichier*) ;;
*) fail "/usr/bin/rclone version does not name a fichier build" ;;
esac
cmp /usr/bin/rclone "$bindir/rclone" || fail "/usr/bin/rclone is not $bindir/rclone"

# api_rate is an option of our backend only (upstream's has none).
echo "+ /usr/bin/rclone help backend fichier"
out=$(/usr/bin/rclone help backend fichier) || fail "rclone help backend fichier failed: $out"
grep -m 1 -F api_rate <<<"$out" || fail "rclone help backend fichier does not show our backend (no api_rate)"

echo "+ /usr/bin/fichier-emulator -h"
out=$(/usr/bin/fichier-emulator -h 2>&1) || fail "fichier-emulator -h failed: $out"
[ -n "$out" ] || fail "fichier-emulator -h printed nothing"
sed -n 1p <<<"$out"

for f in /usr/share/man/man1/rclone.1.gz /usr/share/doc/$pkg/README.md /usr/share/doc/$pkg/LICENSE; do
	[ -s "$f" ] || fail "$f is missing or empty"
done
[ "$(gzip -dc /usr/share/man/man1/rclone.1.gz | grep -c '^\.TH')" -ge 1 ] || fail "rclone.1.gz is not a man page"
echo "deb-check: OK: $pkg $(dpkg-query -W -f '${Version}' $pkg) installed, ran and is being removed"
