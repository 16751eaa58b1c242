/* fanotify LOGFILE [queued]
 *
 * A fanotify group (fanotify(7); needs CAP_SYS_ADMIN) with inode marks:
 *  - fan.d/a: FAN_MODIFY | FAN_CLOSE_WRITE;
 *  - the directory fan.d: FAN_MODIFY | FAN_EVENT_ON_CHILD (events of the
 *    files in it), with fan.d/b's FAN_MODIFY ignored (an ignored mask on
 *    it, surviving its modification);
 * non-blocking, event fds opened O_RDONLY.
 * On SIGUSR2 the group's fdinfo shows the same flags and marks (inode,
 * masks, mark flags) as before, a write to fan.d/a is reported with an fd
 * of it, and a write to fan.d/b is not reported: "fanotify ok" (exit 0) or
 * "fanotify FAIL <why>" (exit 1).
 * With "queued" an event is left unread: the checkpoint must be refused.
 * Without the privilege it logs "fanotify unprivileged" and exits 0.
 */
#include "common.h"
#include <sys/fanotify.h>
#include <sys/stat.h>

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The group's fdinfo lines, without the file handles (an inode's handle is
 * the same, but its hex is long), sorted. */
static void fdinfo(int fd, char *out, size_t cap)
{
	char path[64], buf[4096], *line[16];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY);
	ssize_t n = f < 0 ? -1 : read(f, buf, sizeof buf - 1);
	if (f >= 0)
		close(f);
	buf[n > 0 ? n : 0] = 0;
	size_t lines = 0;
	for (char *l = strtok(buf, "\n"); l && lines < 16; l = strtok(NULL, "\n")) {
		if (strncmp(l, "fanotify ", 9))
			continue;
		char *h = strstr(l, " fhandle-bytes:");
		if (h)
			*h = 0;
		line[lines++] = l;
	}
	qsort(line, lines, sizeof line[0], by_text);
	out[0] = 0;
	for (size_t i = 0; i < lines; i++)
		if (strlen(out) + strlen(line[i]) + 2 < cap) {
			strcat(out, line[i]);
			strcat(out, "|");
		}
}

/* Within 1 s, an event whose fd is the file at path (FAN_MODIFY). */
static int reported(int fan, const char *path)
{
	struct stat want;
	if (stat(path, &want))
		return 0;
	for (int i = 0; i < 100; i++) {
		char buf[4096];
		ssize_t n = read(fan, buf, sizeof buf);
		if (n <= 0) {
			sleep_ms(10);
			continue;
		}
		for (char *p = buf; p < buf + n;) {
			struct fanotify_event_metadata *m = (void *)p;
			struct stat st;
			int hit = m->fd >= 0 && !fstat(m->fd, &st) && st.st_ino == want.st_ino && (m->mask & FAN_MODIFY);
			if (m->fd >= 0)
				close(m->fd);
			if (hit)
				return 1;
			p += m->event_len;
		}
	}
	return 0;
}

static void append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1)
		die("fanotify: writing %s: %s", path, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: fanotify LOGFILE [queued]");
	catch_usr2();
	mkdir("fan.d", 0700);
	append("fan.d/a");
	append("fan.d/b");
	int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
	if (fan < 0 && errno == EPERM) {
		log_line(argv[1], "fanotify unprivileged");
		return 0;
	}
	if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD, "fan.d/a") ||
	    fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY | FAN_EVENT_ON_CHILD, AT_FDCWD, "fan.d") ||
	    fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_MODIFY, AT_FDCWD,
			  "fan.d/b"))
		die("fanotify: %s", strerror(errno));
	if (argc > 2)
		append("fan.d/a"); /* an event left unread */
	char before[1024], after[1024];
	fdinfo(fan, before, sizeof before);
	log_line(argv[1], "ready");
	wait_usr2();
	fdinfo(fan, after, sizeof after);
	const char *bad = NULL;
	if (strcmp(before, after))
		bad = "the group's fdinfo changed";
	else if (append("fan.d/a"), !reported(fan, "fan.d/a"))
		bad = "a write to fan.d/a was not reported";
	else if (append("fan.d/b"), reported(fan, "fan.d/b"))
		bad = "a write to fan.d/b was reported (its ignored mask is lost)";
	if (bad) {
		log_line(argv[1], "fanotify FAIL %s (before %s after %s)", bad, before, after);
		return 1;
	}
	log_line(argv[1], "fanotify ok");
	return 0;
}
