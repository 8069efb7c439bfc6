#!/usr/bin/env bash
# scripts/deb-check.sh BINDIR: make deb-check (CI runs it; see
# docs/releasing.md). Packages BINDIR's rclone and fichier-emulator, as
# "make build" left them, as a .deb for this machine with
# scripts/package.sh (no second compile), checks the package's fields
# and runs lintian on it (where lintian is installed), installs it with
# dpkg -i, runs the installed /usr/bin/rclone and
# /usr/bin/fichier-emulator, checks the man pages (with man, where it is
# installed), the copyright file and the changelog, and removes the
# package again, also when a check fails. NFPM, GO and MAINTAINER are set
# as for scripts/package.sh; the version is the one bin/rclone shows.
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
dpkg-deb --field "$deb" Package Version Architecture Maintainer Provides Conflicts Replaces Suggests

fail() {
	echo "deb-check: FAILED: $1" >&2
	exit 1
}

[[ $(dpkg-deb --field "$deb" Maintainer) =~ ^[^\<\>]+\ \<[^\<\>@\ ]+@[^\<\>@\ ]+\>$ ]] ||
	fail "the Maintainer field is not \"Name <address>\""
[ "$(dpkg-deb --field "$deb" Suggests)" = fuse3 ] || fail "the package does not suggest fuse3 (rclone mount needs it)"

# lintian, Debian's package checker, where it is installed. Its
# groff-message tags are left out here: upstream's part of rclone.1
# (pandoc's) draws hundreds of them; our section of it is checked with
# man below.
if command -v lintian >/dev/null; then
	echo "+ lintian --fail-on error,warning --suppress-tags groff-message $deb"
	lintian --fail-on error,warning --suppress-tags groff-message "$deb" 2> >(grep -v 'running with root privileges' >&2) ||
		fail "lintian found errors or warnings (above)"
else
	echo "deb-check: lintian is not installed (apt-get install lintian): the package was not linted; the other checks run"
fi

# From here on the package comes off again however this script ends.
remove() {
	echo "+ dpkg -r $pkg"
	dpkg -r "$pkg" >/dev/null
	for f in /usr/bin/rclone /usr/bin/fichier-emulator /usr/share/man/man1/rclone.1.gz /usr/share/man/man1/fichier-emulator.1.gz \
		/usr/share/doc/$pkg /usr/share/lintian/overrides/$pkg; do
		if [ -e "$f" ]; then
			echo "deb-check: FAILED: $f is still there after dpkg -r $pkg" >&2
			exit 1
		fi
	done
}
trap remove EXIT
echo "+ dpkg -i $deb ($arch)"
dpkg -i "$deb" >/dev/null

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

doc=/usr/share/doc/$pkg
for f in /usr/share/man/man1/rclone.1.gz /usr/share/man/man1/fichier-emulator.1.gz $doc/README.md $doc/fichier.md \
	$doc/copyright $doc/changelog.gz; do
	[ -s "$f" ] || fail "$f is missing or empty"
done
grep -q '^License: Expat$' $doc/copyright || fail "$doc/copyright states no licence"
version=$(dpkg-query -W -f '${Version}' $pkg)
[ "$(gzip -dc $doc/changelog.gz | sed -n 1p)" = "$pkg ($version) unstable; urgency=low" ] ||
	fail "$doc/changelog.gz does not start with this version's entry"

# rclone's man page is upstream's with our backend's section (made from
# docs/fichier.md) instead of upstream's.
man1=$(gzip -dc /usr/share/man/man1/rclone.1.gz)
[ "$(grep -c '^\.SH 1Fichier$' <<<"$man1")" = 1 ] || fail "rclone.1 has not one 1Fichier section"
grep -qF 'fichier\-api\-rate' <<<"$man1" || fail "rclone.1 does not document our backend (no --fichier-api-rate)"
! grep -qF 'This is a backend for the 1fichier' <<<"$man1" || fail "rclone.1 still has upstream's 1Fichier section"

if command -v man >/dev/null; then
	echo "+ man rclone | grep --fichier-api-rate"
	out=$(MANPAGER=cat MANWIDTH=80 man rclone 2>/dev/null) || fail "man rclone failed"
	sed -n '/^1Fichier$/,/^   Getting this rclone$/p' <<<"$out" | sed -n 2,3p
	grep -m 1 -F -- '--fichier-api-rate' <<<"$out" || fail "man rclone does not show our backend's options"
	MANPAGER=cat man fichier-emulator 2>/dev/null | grep -q -- '--faults SPEC' || fail "man fichier-emulator does not show its flags"
	# Our section alone, as lintian renders man pages, draws no groff warning.
	section=$(sed -n '1,/^\.SH NAME$/p' <<<"$man1"; sed -n '/^\.SH 1Fichier$/,/^\.SH /{/^\.SH 1Fichier$/p;/^\.SH /!p}' <<<"$man1")
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z - <<<"$section" 2>&1 >/dev/null)
	[ -z "$warnings" ] || fail "rclone.1's 1Fichier section draws groff warnings: $warnings"
else
	echo "deb-check: man is not installed (apt-get install man-db): man rclone was not tried; the page's text was checked"
fi
echo "deb-check: OK: $pkg $version installed, ran and is being removed"
