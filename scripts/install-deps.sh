#!/bin/sh
# Install what building and testing chkpt needs on Debian 12 (run as root, or
# with sudo available). Idempotent: skips apt entirely when all is present.
#   sh scripts/install-deps.sh cross   adds cross compilers, multiarch musl and
#   QEMU for `make check-qemu` (tests/qemu/, docs/CROSS.md)
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS="make g++ gcc libc6-dev musl-dev musl-tools doctest-dev util-linux procps iproute2 strace file"
# the reference LZ4 (tests/unit/test_lz4.cpp checks src/lz4.cpp against it; lz4(1) for the e2e test)
PKGS="$PKGS lz4 liblz4-dev"
# the fuzz target (tests/fuzz/): clang with libFuzzer and the sanitizer runtimes
PKGS="$PKGS clang libclang-rt-14-dev"
# man pages: make check lints them with mandoc (groff and man-db otherwise)
PKGS="$PKGS mandoc"
if [ "${1:-}" = cross ]; then
  # busybox-static, the kernels and their kbuild headers (for kmod/) are
  # fetched per guest arch by tests/qemu/fetch.sh; e2fsprogs makes the power
  # cycle's disk (mke2fs -d)
  PKGS="$PKGS qemu-system-x86 qemu-system-arm qemu-system-ppc qemu-user-static cpio python3 dpkg-dev e2fsprogs
    g++-aarch64-linux-gnu g++-powerpc64le-linux-gnu g++-powerpc64-linux-gnu musl-dev:arm64 musl-dev:ppc64el"
  for a in arm64 ppc64el; do
    dpkg --print-foreign-architectures | grep -qx $a || $SUDO dpkg --add-architecture $a
  done
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "install-deps: apt-get update reported errors (continuing)" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
