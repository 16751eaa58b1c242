#!/bin/sh
# Coverage-guided fuzzing of the image reader (tests/fuzz/fuzz_image.cpp).
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]      (make fuzz FUZZ_SECONDS=N; make
#                                              check runs it for 20 s)
#
# Seeds are real images, made here by checkpointing small targets (sigs:
# pending signals and an alternate stack; idle: shared and private file
# mappings; counter: a file being written; idle_lz4: chkpt --compress) and kept in BUILD_DIR/fuzz/seeds.
# The corpus libFuzzer grows is kept in BUILD_DIR/fuzz/corpus between runs.
# Every input in tests/fuzz/regress/ (crashes found earlier) is run first.
# A crash or leak fails the run and leaves its input in the work dir: copy it
# to tests/fuzz/regress/ once it is fixed.
NAME=fuzz
[ -n "${FAULTS_TMP:-}" ] || FUZZ_SECONDS=${2:-${FUZZ_SECONDS:-20}} # before the re-run under the reaper
export FUZZ_SECONDS
SECS=$FUZZ_SECONDS
. "$(dirname "$0")/../faults/lib.sh"
faults_setup "$1"
set -u
SRC=$(cd "$(dirname "$0")" && pwd)
FUZZ=$BIN/fuzz/fuzz_image
SEEDS=$BIN/fuzz/seeds
CORPUS=$BIN/fuzz/corpus
D=$T/w
mkdir -p "$D" "$SEEDS" "$CORPUS"

TEST=build
if [ ! -x "$FUZZ" ] && ! command -v "${FUZZ_CXX:-clang++}" >/dev/null 2>&1; then
	# make check builds the target only where clang is installed
	skip "${FUZZ_CXX:-clang++} not installed, no fuzz target (sh scripts/install-deps.sh)"
	faults_done
	exit 0
fi
[ -x "$FUZZ" ] || { fail "$FUZZ missing (make $FUZZ)"; faults_done; exit 1; }
pass

# seed NAME TARGET ARGS...: checkpoint TARGET once it is under way.
seed() {
	TEST=seed_$1
	_img=$SEEDS/$1.img
	shift
	[ -s "$_img" ] && { pass; return; }
	start "$D" "$@"
	sleep 0.3
	need ckpt_ok ${SEED_OPTS:-} --kill -o "$_img" "$PID" && pass
	reap "$PID"
}
seed sigs sigs "$D/sigs.log"
seed idle idle "$D/idle.log"
seed counter counter "$D/c.txt"
SEED_OPTS=--compress seed idle_lz4 idle "$D/idle2.log"  # PAGES_LZ4 records

TEST=regressions
if ls "$SRC"/regress/* >/dev/null 2>&1; then
	"$FUZZ" "$SRC"/regress/* >"$D/regress.log" 2>&1
	need [ $? = 0 ] && pass || tail -n 20 "$D/regress.log"
else
	pass
fi

TEST=fuzz_${SECS}s
"$FUZZ" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$T/" "$CORPUS" "$SEEDS" >"$D/fuzz.log" 2>&1
rc=$?
grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$D/fuzz.log" | tr '\n' ' '
echo
if [ $rc = 0 ]; then
	pass
else
	tail -n 30 "$D/fuzz.log"
	fail "exit $rc; input kept as $(ls "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-* 2>/dev/null | tr '\n' ' ')(copy to tests/fuzz/regress/ when fixed)"
fi
faults_done
