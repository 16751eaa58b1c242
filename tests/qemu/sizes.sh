#!/bin/sh
# make bench: the size of the stripped static chkpt of every architecture,
# beside the x86_64 budget of docs/BUDGETS.md (256 KiB). aarch64 and ppc64
# align segments to 64 KiB (kernels with 64 KiB pages); a build that is
# missing (no cross compiler: sh scripts/install-deps.sh cross) says so.
cd "$(dirname "$0")/../.." || exit 2
limit=262144
for ab in x86_64:build aarch64:build-aarch64 ppc64le:build-ppc64le ppc64:build-ppc64; do
	a=${ab%%:*} f=${ab#*:}/chkpt
	[ "$a" = "$(uname -m)" ] && f=build/chkpt
	if [ -f "$f" ]; then
		size=$(stat -c %s "$f")
		echo "binary_size_bytes_$a $size limit $limit ratio $(awk -v a="$size" -v b=$limit 'BEGIN { printf "%.2f", a / b }')"
	else
		echo "binary_size_bytes_$a not built ($f; make ARCH=$a)"
	fi
done
