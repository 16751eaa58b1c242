#!/bin/sh
# musl for big-endian ppc64, which Debian's main archive lacks (ppc64 is a
# ports architecture): Debian's musl source, built with Debian's
# powerpc64-linux-gnu-gcc and installed into PREFIX (include/, lib/).
#
#   tests/qemu/musl-ppc64be.sh PREFIX       (about 30 s on 2 cores)
#
# musl supports only the ELFv2 ABI with a 64-bit long double on powerpc64,
# while the compiler defaults to ELFv1 and IBM 128-bit long double, hence the
# flags; the Makefile passes the same ones for ARCH=ppc64. Adds a deb-src entry
# for the configured Debian mirror if there is none (needs root then).
set -eu
prefix=$1
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
work=$(mktemp -d /tmp/musl-ppc64be.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -z "$(apt-cache showsrc musl 2>/dev/null)" ]; then
	uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	[ -n "$uri" ] || { echo "musl-ppc64be.sh: no Debian mirror configured" >&2; exit 1; }
	printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uri" >/etc/apt/sources.list.d/chkpt-debian-src.sources
	apt-get update -qq || true
fi
cd "$work"
apt-get source --download-only -q musl 2>&1 | grep -v 'Download is performed unsandboxed' || true
tar xzf musl_*.orig.tar.gz
cd musl-*/
# Called from chkpt's make: its command line (ARCH=ppc64) must not reach musl's.
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL
cc="powerpc64-linux-gnu-gcc -mabi=elfv2 -mlong-double-64"
tools="AR=powerpc64-linux-gnu-ar RANLIB=powerpc64-linux-gnu-ranlib"
CC=$cc ./configure --target=powerpc64-linux-musl --prefix="$prefix" --disable-shared >configure.log 2>&1 ||
	{ tail configure.log >&2; exit 1; }
make -j2 $tools >make.log 2>&1 || { tail make.log >&2; exit 1; }
make install $tools >install.log 2>&1 || { tail install.log >&2; exit 1; }
echo "musl $(basename "$PWD" | sed 's/^musl-//') for big-endian ppc64 in $prefix"
