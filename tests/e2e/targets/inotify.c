/* inotify LOGFILE [queued]
 *
 * An inotify instance (O_NONBLOCK) watching, in the test directory:
 *  - wd 1: directory d1, IN_CREATE | IN_DELETE;
 *  - wd 2: file f, IN_MODIFY | IN_ONESHOT;
 *  - wd 4: directory d2, IN_MOVED_TO (wd 3 was d2's first watch, removed:
 *    its IN_IGNORED was read).
 * On SIGUSR2 (after the restore) nothing is queued; creating d1/x, writing f
 * twice and renaming d1/x to d2/y give exactly: (1, IN_CREATE, "x"),
 * (2, IN_MODIFY) once (one-shot, then its IN_IGNORED), (4, IN_MOVED_TO, "y");
 * a new watch gets a wd above 4. Logs "inotify ok" (exit 0) or
 * "inotify FAIL <why>" (exit 1).
 * With "queued", an event is left unread: the checkpoint must be refused.
 */
#include "common.h"
#include <sys/inotify.h>
#include <sys/stat.h>

static int in;

struct ev {
	int wd;
	uint32_t mask;
	char name[32];
};

/* Every event queued now (after a short settle). */
static int events(struct ev *out, int cap)
{
	char buf[4096] __attribute__((aligned(8)));
	int n = 0;
	sleep_ms(100);
	for (;;) {
		ssize_t got = read(in, buf, sizeof buf);
		if (got <= 0)
			return n;
		for (ssize_t at = 0; at < got && n < cap;) {
			struct inotify_event e;
			memcpy(&e, buf + at, sizeof e);
			out[n].wd = e.wd;
			out[n].mask = e.mask;
			snprintf(out[n].name, sizeof out[n].name, "%s", e.len ? buf + at + sizeof e : "");
			n++;
			at += (ssize_t)(sizeof e + e.len);
		}
	}
}

static int is(const struct ev *e, int wd, uint32_t mask, const char *name)
{
	return e->wd == wd && e->mask == mask && !strcmp(e->name, name);
}

static const char *check(void)
{
	struct ev e[16];
	if (events(e, 16))
		return "events queued after the restore";
	if (mkdir("d1/x", 0700))
		return "mkdir d1/x";
	int f = open("f", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (f < 0 || write(f, "a", 1) != 1 || write(f, "b", 1) != 1)
		return "write f";
	close(f);
	if (rename("d1/x", "d2/y"))
		return "rename";
	int n = events(e, 16);
	if (n != 4)
		return "not exactly 4 events";
	if (!is(&e[0], 1, IN_CREATE | IN_ISDIR, "x"))
		return "no IN_CREATE x on wd 1";
	if (!is(&e[1], 2, IN_MODIFY, "") || !is(&e[2], 2, IN_IGNORED, ""))
		return "wd 2 is not one-shot IN_MODIFY";
	if (!is(&e[3], 4, IN_MOVED_TO | IN_ISDIR, "y"))
		return "no IN_MOVED_TO y on wd 4";
	int wd = inotify_add_watch(in, ".", IN_ATTRIB);
	if (wd <= 4)
		return "a new watch reuses a wd";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: inotify LOGFILE [queued]");
	const char *log = argv[1];
	int f = open("f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f < 0 || (mkdir("d1", 0700) && errno != EEXIST) || (mkdir("d2", 0700) && errno != EEXIST))
		die("inotify: set-up: %s", strerror(errno));
	close(f);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, "d1", IN_CREATE | IN_DELETE) != 1 ||
	    inotify_add_watch(in, "f", IN_MODIFY | IN_ONESHOT) != 2 || inotify_add_watch(in, "d2", IN_MOVED_TO) != 3 ||
	    inotify_rm_watch(in, 3) || inotify_add_watch(in, "d2", IN_MOVED_TO) != 4)
		die("inotify: watches: %s", strerror(errno));
	struct ev e[4];
	if (events(e, 4) != 1 || e[0].mask != IN_IGNORED)
		die("inotify: no IN_IGNORED for wd 3");
	if (argc > 2 && mkdir("d1/q", 0700))
		die("inotify: queued: %s", strerror(errno));
	catch_usr2();
	log_line(log, "ready");
	wait_usr2();
	const char *why = check();
	if (why) {
		log_line(log, "inotify FAIL %s", why);
		return 1;
	}
	log_line(log, "inotify ok");
	return 0;
}
