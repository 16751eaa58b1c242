#!/bin/sh
# Debian's kernel and static busybox for one guest architecture, downloaded
# with apt-get download (never installed) and unpacked with dpkg -x.
#
#   tests/qemu/fetch.sh ARCH CACHE_DIR      ARCH: x86_64 | aarch64 | ppc64le
#
# Leaves CACHE_DIR/ARCH/kernel (the file qemu boots), CACHE_DIR/ARCH/busybox and
# CACHE_DIR/ARCH/modules/ (see MODULES below), and prints one line: "guest ARCH: kernel VERSION, busybox VERSION". The
# kernel package is resolved through Debian's metapackage (its ABI number
# changes with point releases); a cache holding that very version is reused.
# Needs root the first time for a foreign architecture (dpkg --add-architecture).
set -eu
# Socket diagnostics (sock_diag) that chkpt queries; Debian builds them as
# modules, and the guest has no module autoloading.
MODULES="unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag"
# The power-cycle test's persistent disk (virtio, ext4, which needs crc32c).
MODULES="$MODULES virtio_pci virtio_blk crc32c_generic ext4"
arch=$1
dest=$2/$arch
case $arch in
x86_64) da=amd64 meta=linux-image-amd64 ;;
aarch64) da=arm64 meta=linux-image-arm64 ;;
ppc64le) da=ppc64el meta=linux-image-powerpc64le ;;
*) echo "fetch.sh: unknown architecture '$arch' (x86_64, aarch64, ppc64le)" >&2; exit 2 ;;
esac

if [ "$da" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$da"; then
	dpkg --add-architecture "$da"
	# one foreign index may be mid-sync on the mirror: what is needed is in main
	apt-get update -qq || true
fi
# The metapackage depends on exactly one ABI-versioned image, e.g. linux-image-6.1.0-50-arm64.
pkg=$(apt-cache depends "$meta:$da" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	apt-get update -qq || true
	pkg=$(apt-cache depends "$meta:$da" | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
fi
[ -n "$pkg" ] || { echo "fetch.sh: cannot resolve $meta:$da with apt-cache" >&2; exit 1; }
kver=$(apt-cache show "$pkg:$da" | sed -n 's/^Version: //p' | head -n 1)
bver=$(apt-cache show "busybox-static:$da" | sed -n 's/^Version: //p' | head -n 1)
kabi=${pkg#linux-image-}
stamp="$pkg $kver busybox-static $bver modules $MODULES headers"

# pick_modules MODDIR OUT: copy the modules named in $MODULES and those they
# depend on (the "depends=" of their .modinfo) to OUT, and list them in
# OUT/load-order, dependencies first, for insmod in the guest.
pick_modules() {
	mkdir -p "$2"
	: >"$2/load-order"
	for m in $MODULES; do add_module "$1" "$2" "$m"; done
}
add_module() {
	grep -qx "$3.ko" "$2/load-order" && return
	f=$(find "$1" -name "$3.ko" | head -n 1)
	[ -n "$f" ] || { echo "fetch.sh: no module $3 in the kernel package" >&2; exit 1; }
	for d in $(grep -a -o 'depends=[a-z0-9_,-]*' "$f" | head -n 1 | sed 's/^depends=//; s/,/ /g'); do
		add_module "$1" "$2" "$d"
	done
	# $f again: the calls above (sh has no local variables) changed it
	cp "$(find "$1" -name "$3.ko" | head -n 1)" "$2/"
	echo "$3.ko" >>"$2/load-order"
}

# Debian's kbuild tree for that very kernel, to build kmod/ against (make kmod
# KDIR=$(cat CACHE_DIR/ARCH/kdir)): the arch's headers, the common ones and
# the build host's kbuild tools (scripts/, for any target arch), unpacked in
# CACHE_DIR/ARCH/headers; its Makefile's absolute include path made relative.
fetch_headers() {
	abi=${kabi%-*}  # 6.1.0-57
	mm=$(echo "$kver" | cut -d. -f1,2)
	mkdir -p "$dest/hdebs"
	(cd "$dest/hdebs" && apt-get download -q "linux-headers-$kabi:$da=$kver" "linux-headers-$abi-common=$kver" \
		"linux-kbuild-$mm:$(dpkg --print-architecture)=$kver" 2>&1 | grep -v 'Download is performed unsandboxed') || true
	for d in "$dest"/hdebs/*.deb; do dpkg -x "$d" "$dest/headers"; done
	h=$(cd "$dest/headers" && pwd)
	[ -f "$h/usr/src/linux-headers-$kabi/Makefile" ] || { echo "fetch.sh: download of linux-headers-$kabi failed" >&2; exit 1; }
	sed -i "s#include /usr/src/#include $h/usr/src/#" "$h/usr/src/linux-headers-$kabi/Makefile"
	echo "$h/usr/src/linux-headers-$kabi" >"$dest/kdir"
	rm -rf "$dest/hdebs"
}

if [ "$(cat "$dest/stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$dest"
	mkdir -p "$dest/debs" "$dest/root"
	(cd "$dest/debs" && apt-get download -q "$pkg:$da=$kver" "busybox-static:$da=$bver" 2>&1 |
		grep -v 'Download is performed unsandboxed') || true
	for d in "$dest"/debs/*.deb; do dpkg -x "$d" "$dest/root"; done
	k=$(ls "$dest"/root/boot/vmlinu[xz]-* 2>/dev/null | head -n 1)
	[ -n "$k" ] && [ -x "$dest/root/bin/busybox" ] || { echo "fetch.sh: download of $pkg / busybox-static:$da failed" >&2; exit 1; }
	if [ "$arch" = x86_64 ]; then
		# The bzImage's payload is xz-compressed ELF vmlinux with a PVH entry
		# note: qemu boots that directly, skipping firmware and decompressor.
		python3 - "$k" "$dest/kernel" <<'EOF'
import lzma, sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(lzma.LZMADecompressor().decompress(d[d.find(b'\xfd7zXZ\x00'):]))
EOF
	else
		cp "$k" "$dest/kernel" # arm64: Image.gz-style vmlinuz; ppc64el: ELF vmlinux
	fi
	cp "$dest/root/bin/busybox" "$dest/busybox"
	fetch_headers
	pick_modules "$dest/root/lib/modules" "$dest/modules"
	rm -rf "$dest/debs" "$dest/root"
	echo "$stamp" >"$dest/stamp"
fi
echo "guest $arch: kernel ${pkg#linux-image-} ($kver), busybox $bver"
