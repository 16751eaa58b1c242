#!/bin/sh
# The Buildroot package and the Yocto recipe (contrib/): neither distribution
# can be fetched here, so what each recipe runs is run with Debian's cross
# compiler and musl in place of the distribution's toolchain (for aarch64).
#
#   tests/faults/packaging.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
#   - buildroot: chkpt.mk, read by make with Buildroot's variables set as a
#     musl toolchain for aarch64 has them (BR2_ARCH, TARGET_CROSS,
#     STAGING_DIR, TARGET_DIR), runs its build and install commands: a static
#     aarch64 binary in TARGET_DIR/usr/bin with the applet links and man pages;
#   - yocto: the recipe's EXTRA_OEMAKE with the variables BitBake would give,
#     through do_compile's and do_install's make: the same in D.
# Skipped without Debian's aarch64 cross compiler and musl (install-deps.sh cross).
NAME=packaging
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$T/w
mkdir -p "$D"

# A staging tree as a distribution's musl toolchain has it: musl in usr/include, usr/lib.
STAGING=$T/staging
mkdir -p "$STAGING/usr"
ln -s /usr/include/aarch64-linux-musl "$STAGING/usr/include"
ln -s /usr/lib/aarch64-linux-musl "$STAGING/usr/lib"

# installed_ok DIR BUILD: DIR/usr/bin/chkpt is a static aarch64 ELF, the
# applets link to it, the man pages are there.
installed_ok() {
	WHY="$1/usr/bin/chkpt: $(file -b "$1/usr/bin/chkpt" 2>&1 | cut -c1-120)"
	file -b "$1/usr/bin/chkpt" | grep -q "ELF 64-bit LSB executable, ARM aarch64.*statically linked" || return 1
	for a in rstrt migrate restartd; do
		WHY="$1/usr/bin/$a is not a link to chkpt"
		[ "$(readlink "$1/usr/bin/$a")" = chkpt ] || return 1
	done
	WHY="no man page chkpt.1 under $1/usr/share/man"
	[ -f "$1/usr/share/man/man1/chkpt.1" ]
}

if ! command -v aarch64-linux-gnu-g++ >/dev/null || [ ! -e /usr/lib/aarch64-linux-musl/libc.a ] || ! command -v file >/dev/null; then
	TEST=buildroot skip "no aarch64 cross compiler or musl (sh scripts/install-deps.sh cross)"
	TEST=yocto skip "the same"
	faults_done
	exit
fi

TEST=buildroot
cat >"$D/br.mk" <<MK
BR2_ARCH = aarch64
TARGET_CROSS = aarch64-linux-gnu-
STAGING_DIR = $STAGING
TARGET_DIR = $D/br-target
TARGET_MAKE_ENV =
BR2_EXTERNAL_CHKPT_PATH = $ROOT/contrib/buildroot
@D = $ROOT
generic-package =
include $ROOT/contrib/buildroot/package/chkpt/chkpt.mk
all:
	\$(CHKPT_BUILD_CMDS)
	\$(CHKPT_INSTALL_TARGET_CMDS)
MK
run 600 /dev/null "$D/br.out" "$D/br.err" make -s -f "$D/br.mk" all
WHY="Buildroot's build and install commands: exit $RC$TO: $(one_line "$D/br.err")"
need [ "$RC" = 0 ] && need installed_ok "$D/br-target" && pass

TEST=yocto
recipe=$ROOT/contrib/yocto/recipes-support/chkpt/chkpt_git.bb
# EXTRA_OEMAKE's value, the line continuations joined, BitBake's variables given.
opts=$(sed -n '/^EXTRA_OEMAKE = "/,/[^\\]"$/p' "$recipe" | tr -d '\\\n' | sed 's/^EXTRA_OEMAKE = "//; s/"$//' |
	sed "s|\${CHKPT_ARCH}|aarch64|g; s|\${TARGET_PREFIX}|aarch64-linux-gnu-|g; s|\${STAGING_DIR_TARGET}\${prefix}|$STAGING/usr|g;
	     s|\${prefix}|/usr|g; s|'\${CXX}'|aarch64-linux-gnu-g++|g; s|'\${CC}'|aarch64-linux-gnu-gcc|g")
WHY="a variable of EXTRA_OEMAKE left unset here: $opts"
if need [ -n "$opts" ] && need eval '! echo "$opts" | grep -q "[$]{"'; then
	# do_compile: oe_runmake all; do_install: oe_runmake DESTDIR=D install
	eval "run 600 /dev/null \"\$D/yo.out\" \"\$D/yo.err\" make -s -C \"\$ROOT\" $opts all"
	WHY="do_compile's make: exit $RC$TO: $(one_line "$D/yo.err")"
	if need [ "$RC" = 0 ]; then
		eval "run 120 /dev/null \"\$D/yo.out\" \"\$D/yo.err\" make -s -C \"\$ROOT\" $opts DESTDIR=\"\$D/yo-image\" install"
		WHY="do_install's make: exit $RC$TO: $(one_line "$D/yo.err")"
		need [ "$RC" = 0 ] && need installed_ok "$D/yo-image" && pass
	fi
fi
rm -rf "$ROOT/build-buildroot" "$ROOT/build-yocto"
faults_done
