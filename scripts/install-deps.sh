#!/bin/sh
# Install what building and testing chkpt needs on Debian 12 (run as root, or
# with sudo available). Idempotent: skips apt entirely when all is present.
set -eu
PKGS="make g++ gcc libc6-dev musl-dev musl-tools doctest-dev util-linux procps"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "install-deps: apt-get update reported errors (continuing)" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
