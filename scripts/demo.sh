#!/bin/sh
# The main job in one minute: start a counter, checkpoint it, kill it, restart
# it, and watch it continue from the next number with the same PID.
set -eu
B=${B:-build}
# Run under a child subreaper that hands on only fds 0-2: a parent (a CI
# runner, make's jobserver, a terminal multiplexer) may have leaked pipe fds
# into this shell, and the counter would inherit them; chkpt rightly refuses
# to save a pipe to an unknown process outside the checkpoint (see README,
# "external"). The same reaper lets the counter's PID be reused at once.
if [ -z "${CHKPT_DEMO_CLEAN:-}" ] && [ -x "$B/e2e/reaper" ]; then
  CHKPT_DEMO_CLEAN=1 exec "$B/e2e/reaper" /bin/sh "$0" "$@"
fi
D=$(mktemp -d /tmp/chkpt-demo.XXXXXX)
out=$D/count.txt
echo "== starting a counter that writes 1..150 to $out, one number every 20 ms"
"$B/e2e/counter" "$out" 150 </dev/null >/dev/null 2>&1 &
pid=$!
sleep 1
echo "   pid $pid has written up to $(tail -n 1 "$out")"
echo "== chkpt --kill -o $D/job.img $pid"
"$B/chkpt" --kill -o "$D/job.img" "$pid"
wait "$pid" 2>/dev/null || true
last=$(tail -n 1 "$out")
echo "   saved and killed after $last"
echo "== chkpt info $D/job.img"
"$B/chkpt" info "$D/job.img" | sed 's/^/   /'
sleep 1
echo "== still $(tail -n 1 "$out") one second later: the process is gone"
echo "== rstrt $D/job.img   (waits for the job, exits with its status)"
"$B/rstrt" "$D/job.img"
echo "   rstrt exited $?; the counter ended at $(tail -n 1 "$out")"
if [ "$(cat "$out")" = "$(seq 1 150)" ]; then
  echo "== $out holds exactly 1..150: it continued at $((last + 1)), nothing lost, nothing repeated"
else
  echo "== UNEXPECTED: $out is not exactly 1..150" >&2
  exit 1
fi
rm -rf "$D"
