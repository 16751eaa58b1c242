#!/bin/sh
# Install and packaging: make install / uninstall, the man pages, chkpt --install.
#
#   tests/faults/install.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
#   - make install DESTDIR=T PREFIX=/usr B=BIN_DIR: the binary (755, the same
#     bytes) in usr/bin, rstrt, migrate and restartd as relative symlinks to it
#     that each answer --help as themselves, the man pages (644) in
#     usr/share/man/man1 (chkpt, rstrt, migrate), man5 (chkpt-image), man8
#     (restartd), man3 (libchkpt, ckpt_create, checkpoint), libchkpt's
#     headers (644) in usr/include and usr/lib/libchkpt.a; make uninstall
#     removes all of it;
#   - each page of docs/man lints clean (mandoc -T lint if installed, groff
#     -ww warnings otherwise) and renders with man -l, with its NAME;
#   - chkpt --install DIR creates the three applet links to the binary, which
#     run as their applet; run again it keeps them; a file already under an
#     applet's name is refused with one line and left as it was.
NAME=install
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
mkdir -p "$D"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$T/dest
APPLETS="rstrt migrate restartd"

# runs_as APPLET PATH: PATH --help starts with "usage: APPLET".
runs_as() {
	WHY="$2 --help does not start with 'usage: $1': $("$2" --help 2>&1 | head -n 1)"
	"$2" --help 2>/dev/null | head -n 1 | grep -q "^usage: $1 "
}

TEST=make_install_layout
run 120 /dev/null "$D/out" "$D/err" make -s -C "$ROOT" install DESTDIR="$DEST" PREFIX=/usr B="$BIN"
WHY="make install: exit $RC$TO: $(one_line "$D/err")"
if need [ "$RC" = 0 ]; then
	ok=1
	WHY="usr/bin/chkpt is not the built binary, mode 755"
	need cmp -s "$DEST/usr/bin/chkpt" "$BIN/chkpt" && need [ "$(stat -c %a "$DEST/usr/bin/chkpt")" = 755 ] || ok=
	for a in $APPLETS; do
		[ -n "$ok" ] || break
		WHY="usr/bin/$a is not a symlink to chkpt: $(ls -l "$DEST/usr/bin/$a" 2>&1)"
		need [ "$(readlink "$DEST/usr/bin/$a")" = chkpt ] && need runs_as "$a" "$DEST/usr/bin/$a" || ok=
	done
	for p in man1/chkpt.1 man1/rstrt.1 man1/migrate.1 man5/chkpt-image.5 man8/restartd.8 \
		man3/libchkpt.3 man3/ckpt_create.3 man3/checkpoint.3 ../../include/chkpt.h ../../include/ckpt.h \
		../../include/crs.h ../../lib/libchkpt.a; do
		[ -n "$ok" ] || break
		WHY="usr/share/man/$p missing or not mode 644: $(ls -l "$DEST/usr/share/man/$p" 2>&1)"
		need [ "$(stat -c %a "$DEST/usr/share/man/$p" 2>/dev/null)" = 644 ] || ok=
	done
	# chkpt-jobs and the init examples (docs/KMOD.md)
	for p in bin/chkpt-jobs:755 share/chkpt/jobs.conf:644 share/chkpt/init/busybox/S90chkpt-jobs:755 \
		share/chkpt/init/sysvinit/chkpt-jobs:755 share/chkpt/init/openrc/chkpt-jobs:755 \
		share/chkpt/init/systemd/chkpt-save.service:644 share/chkpt/init/systemd/chkpt-restore.service:644; do
		[ -n "$ok" ] || break
		WHY="usr/${p%:*} missing or not mode ${p#*:}: $(ls -l "$DEST/usr/${p%:*}" 2>&1)"
		need [ "$(stat -c %a "$DEST/usr/${p%:*}" 2>/dev/null)" = "${p#*:}" ] || ok=
	done
	[ -n "$ok" ] && pass
fi

# lint PAGE: warnings of mandoc -T lint, or of groff -ww without mandoc.
lint() {
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$1" 2>&1
	else
		LC_ALL=C groff -man -ww -z "$1" 2>&1
	fi
}
for page in "$ROOT"/docs/man/*.[1358]; do
	base=$(basename "$page")
	TEST=man_$base
	WHY="lint: $(lint "$page" | tr '\n' '|' | cut -c1-300)"
	need [ -z "$(lint "$page")" ] || continue
	name=${base%.*}
	MANWIDTH=80 MAN_KEEP_FORMATTING= man -P cat -l "$page" >"$D/man.out" 2>"$D/man.err"
	WHY="man -l $base: exit $?, $(one_line "$D/man.err")"
	need [ -s "$D/man.out" ] && WHY="man -l $base shows no NAME for $name" &&
		need grep -q "^NAME" "$D/man.out" && need grep -q "^ *$name - " "$D/man.out" && pass
done

TEST=make_uninstall
run 120 /dev/null "$D/out" "$D/err" make -s -C "$ROOT" uninstall DESTDIR="$DEST" PREFIX=/usr B="$BIN"
WHY="make uninstall: exit $RC: $(one_line "$D/err"); left: $(find "$DEST" ! -type d | tr '\n' ' ')"
need [ "$RC" = 0 ] && need [ -z "$(find "$DEST" ! -type d)" ] && pass

TEST=chkpt_install_links
mkdir -p "$D/links"
run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --install "$D/links"
WHY="chkpt --install: exit $RC: $(one_line "$D/err")"
if need [ "$RC" = 0 ]; then
	ok=1
	for a in $APPLETS; do
		WHY="$D/links/$a does not lead to $BIN/chkpt: $(ls -l "$D/links/$a" 2>&1)"
		need [ -L "$D/links/$a" ] && need [ "$(readlink -f "$D/links/$a")" = "$(readlink -f "$BIN/chkpt")" ] &&
			need runs_as "$a" "$D/links/$a" || { ok=; break; }
	done
	run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --install "$D/links"
	WHY="chkpt --install run again: exit $RC: $(one_line "$D/err")"
	[ -n "$ok" ] && need [ "$RC" = 0 ] && pass
fi

TEST=chkpt_install_refuses_other_files
mkdir -p "$D/busy"
echo mine >"$D/busy/migrate"
run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --install "$D/busy"
need clean_error "chkpt --install over a file named migrate" 1 &&
	WHY="the refusal does not name $D/busy/migrate: $(one_line "$D/err")" && need grep -qF "$D/busy/migrate" "$D/err" &&
	WHY="$D/busy/migrate was changed" && need [ "$(cat "$D/busy/migrate")" = mine ] && need [ ! -L "$D/busy/migrate" ] && pass

faults_done
