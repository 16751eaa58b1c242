#!/bin/sh
# Trust model for output paths and directories (docs/ROBUSTNESS.md): chkpt and
# rstrt usually run as root; a directory someone else can write must not feed
# them a generation, nor receive one.
#
#   tests/faults/trust.sh BIN_DIR [TARGET_DIR [TOOLS_DIR]]     (see lib.sh)
#
#   - chkpt --every -o DIR refuses, with one line and before touching the
#     target, a DIR that is other-writable (0777), sticky and other-writable
#     like /tmp (1777), group-writable (0770) or owned by another user (uid
#     65534, 0700): nothing is written into it;
#   - rstrt DIR and chkpt info DIR refuse the same directories holding a valid
#     generation planted there (an image of a real process): one line, exit 1,
#     nothing restored; the same image in a directory of root's own (0700) is
#     restored (the control);
#   - restartd --dir refuses an other-writable directory at start.
NAME=trust
. "$(dirname "$0")/lib.sh"
faults_setup "$@"
set -u
D=$T/w
mkdir -p "$D"

# untrusted NAME MODE [OWNER]: a fresh directory $D/NAME with that mode and owner.
untrusted() {
	rm -rf "${D:?}/$1"
	mkdir "$D/$1" && chmod "$2" "$D/$1" && { [ -z "${3:-}" ] || chown "$3" "$D/$1"; }
}
CASES="o777:0777 sticky1777:1777 g770:0770 nobody700:0700:65534"
each_case() { # FN: FN NAME MODE [OWNER] for each case
	for _c in $CASES; do
		_IFS=$IFS IFS=:
		set -- "$1" $_c
		IFS=$_IFS
		"$@"
	done
}

# --- writing: chkpt --every --------------------------------------------------

start "$D" idle "$D/idle.log"
need ready 10 "$D/idle.log" || { faults_done; exit 1; }
every_refused() {
	DN=$1 MODE=$2 OWN=${3:-}
	TEST=every_refuses_$DN
	untrusted "$DN" "$MODE" "${OWN}" || { fail "cannot make $D/$DN"; return; }
	run 10 /dev/null "$D/out" "$D/err" "$BIN/chkpt" --every 0.1 -o "$D/$DN" "$PID"
	need clean_error "chkpt --every into a $MODE directory${OWN:+ of uid $OWN}" 1 || return
	WHY="the refusal does not say why: $(one_line "$D/err")"
	need grep -q "refusing directory $D/$DN" "$D/err" || return
	WHY="written into $D/$DN: $(ls -A "$D/$DN" | tr '\n' ' ')"
	need [ -z "$(ls -A "$D/$DN")" ] && need untouched "$PID" "a refused chkpt --every" && pass
	echo "  $(head -n 1 "$D/err")"
}
each_case every_refused
kill -KILL "$PID"
reap "$PID"

# --- reading: rstrt DIR, chkpt info DIR --------------------------------------

start "$D" idle "$D/idle.log"
need ready 10 "$D/idle.log" && need ckpt_ok --kill -o "$D/planted.img" "$PID" || { faults_done; exit 1; }
reap "$PID"
planted_refused() {
	DN=$1 MODE=$2 OWN=${3:-}
	TEST=rstrt_refuses_$DN
	untrusted "$DN" 0700 && cp "$D/planted.img" "$D/$DN/00000009.img" && chmod "$MODE" "$D/$DN" &&
		{ [ -z "${OWN}" ] || chown -R "$OWN" "$D/$DN"; } || { fail "cannot plant a generation in $D/$DN"; return; }
	run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$D/$DN"
	need clean_error "rstrt of a $MODE directory${OWN:+ of uid $OWN}" 1 || return
	WHY="the refusal does not say why: $(one_line "$D/err")"
	need grep -q "refusing directory $D/$DN" "$D/err" || return
	WHY="process $PID exists after the refused restore" && need gone "$PID" || return
	run 30 /dev/null "$D/out" "$D/err" "$BIN/chkpt" info "$D/$DN"
	need clean_error "chkpt info of a $MODE directory${OWN:+ of uid $OWN}" 1 && pass
	echo "  $(head -n 1 "$D/err")"
}
each_case planted_refused

TEST=rstrt_own_directory_control
untrusted own 0700 && cp "$D/planted.img" "$D/own/00000009.img"
run 30 /dev/null "$D/out" "$D/err" "$BIN/rstrt" -d "$D/own"
WHY="rstrt -d of root's own 0700 directory: exit $RC: $(one_line "$D/err")"
need [ "$RC" = 0 ] && WHY="rstrt printed '$(cat "$D/out")', want $PID" && need [ "$(cat "$D/out")" = "$PID" ] && pass
kill -KILL "$PID" 2>/dev/null
poll 10 gone "$PID"

# --- restartd --dir ------------------------------------------------------------

TEST=restartd_refuses_other_writable_dir
untrusted rd 0777
(umask 077 && head -c 32 /dev/urandom >"$D/key")
run 10 /dev/null "$D/out" "$D/err" "$BIN/restartd" --key "$D/key" --listen 127.0.0.1:17459 --dir "$D/rd"
need clean_error "restartd --dir of a 0777 directory" 1 &&
	WHY="the refusal does not say why: $(one_line "$D/err")" && need grep -q "refusing directory $D/rd" "$D/err" && pass
echo "  $(head -n 1 "$D/err")"

faults_done
