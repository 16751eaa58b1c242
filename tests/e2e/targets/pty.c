/* pty LOGFILE
 *
 * A tiny script(1): the parent holds a pty master, its child is a session
 * leader whose stdio and controlling terminal are the slave. Before the
 * checkpoint:
 *  - the slave is set non-canonical without echo, VINTR = ^G, VMIN 1, the
 *    window 33 x 111;
 *  - the child wrote "out-before\n" (the master reads "out-before\r\n"),
 *    which the parent has not read;
 *  - the parent wrote "in-before" to the master, which the child has not
 *    read;
 *  - the master is in packet mode and locked again (TIOCSPTLCK); the
 *    slave stays open in the child, which also holds /dev/tty, opened on it
 *    before the lock.
 * On SIGUSR2 the parent passes it on; the child checks its terminal (the
 * queued input, termios, window size, controlling terminal, foreground
 * group, /dev/tty still on the slave: it writes "via-tty" through it) and
 * writes "child ok" or "child FAIL <why>"; the parent reads all
 * its child wrote and checks the master's own state, then logs "pty ok"
 * (exit 0) or "pty FAIL <why>" (exit 1).
 *
 * pty LOGFILE alone: only the master, no process holds the slave (must be
 * refused at checkpoint); it logs "ready" and sleeps.
 */
#include "common.h"
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

static int dev_tty = -1;

static const char *child_check(void)
{
	int n = 0;
	char buf[64];
	if (ioctl(0, FIONREAD, &n) || n != 9)
		return "the input queued for the slave is not 9 bytes";
	if (read(0, buf, 9) != 9 || memcmp(buf, "in-before", 9))
		return "the input queued for the slave is not 'in-before'";
	struct termios t;
	if (tcgetattr(0, &t))
		return "stdin is no terminal";
	if ((t.c_lflag & (ICANON | ECHO)) || !(t.c_lflag & ISIG) || t.c_cc[VINTR] != 7 || t.c_cc[VMIN] != 1 ||
	    !(t.c_oflag & ONLCR))
		return "termios changed";
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) || ws.ws_row != 33 || ws.ws_col != 111)
		return "window size changed";
	if (getsid(0) != getpid() || tcgetsid(0) != getpid())
		return "the slave is not the controlling terminal of this session";
	if (tcgetpgrp(0) != getpgrp())
		return "not the foreground group";
	/* (no new open of /dev/tty: the pty is locked, and a failed open of a
	 * locked slave leaves it in error for good, drivers/tty/pty.c pty_open) */
	struct stat tty_st, slave_st;
	unsigned int dev = 0;
	if (fstat(dev_tty, &tty_st) || fstat(0, &slave_st) || tty_st.st_rdev != makedev(5, 0))
		return "the /dev/tty fd is not /dev/tty";
	if (ioctl(dev_tty, TIOCGDEV, &dev) || dev != slave_st.st_rdev)
		return "/dev/tty is not on the slave";
	if (write(dev_tty, "via-tty\n", 8) != 8)
		return "writing through /dev/tty";
	return NULL;
}

static int child(const char *name)
{
	setsid();
	int s = open(name, O_RDWR); /* the session's controlling terminal */
	if (s < 0)
		_exit(2);
	dup2(s, 0);
	dup2(s, 1);
	dup2(s, 2);
	close(s);
	dev_tty = open("/dev/tty", O_RDWR);
	if (dev_tty < 0)
		_exit(3);
	catch_usr2();
	write_all(1, "out-before\n", 11);
	wait_usr2();
	const char *why = child_check();
	char msg[128];
	snprintf(msg, sizeof msg, "child %s%s\n", why ? "FAIL " : "ok", why ? why : "");
	write_all(1, msg, strlen(msg));
	return why ? 1 : 0;
}

/* Everything the child writes, up to its end (EIO once the slave is closed),
 * without packet mode's leading byte of each read. */
static size_t read_all_output(int m, char *out, size_t cap)
{
	size_t len = 0;
	char buf[256];
	for (;;) {
		struct pollfd pf = { m, POLLIN, 0 };
		if (poll(&pf, 1, 10000) == 0)
			break; /* the child hung, or its slave was put in error */
		ssize_t n = read(m, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf[0] != 0) /* a status byte (TIOCPKT_*), or no packet mode any more */
			continue;
		for (ssize_t i = 1; i < n && len < cap - 1; i++)
			out[len++] = buf[i];
	}
	out[len] = 0;
	return len;
}

static const char *parent_check(int m, pid_t pid, char *got, size_t cap)
{
	int pkt = 0, lck = 0;
	if (ioctl(m, TIOCGPKT, &pkt) || pkt != 1)
		return "packet mode lost";
	if (ioctl(m, TIOCGPTLCK, &lck) || lck != 1)
		return "the pty is no longer locked";
	kill(pid, SIGUSR2);
	read_all_output(m, got, cap);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return "waitpid";
	if (strncmp(got, "out-before\r\n", 12))
		return "the output queued for the master was lost";
	if (strcmp(got + 12, "via-tty\r\nchild ok\r\n"))
		return "the child says";
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return "the child failed";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2 && (argc != 3 || strcmp(argv[2], "alone")))
		die("usage: pty LOGFILE [alone]");
	const char *log = argv[1];
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) || unlockpt(m))
		die("pty: posix_openpt: %s", strerror(errno));
	char name[64];
	if (ptsname_r(m, name, sizeof name))
		die("pty: ptsname");
	struct termios t;
	if (tcgetattr(m, &t))
		die("pty: tcgetattr: %s", strerror(errno));
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_lflag |= ISIG;
	t.c_cc[VINTR] = 7;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	struct winsize ws = { 33, 111, 0, 0 };
	if (tcsetattr(m, TCSANOW, &t) || ioctl(m, TIOCSWINSZ, &ws))
		die("pty: tcsetattr: %s", strerror(errno));
	catch_usr2();
	if (argc == 3) {
		log_line(log, "ready");
		for (;;)
			pause();
	}
	pid_t pid = fork();
	if (pid < 0)
		die("pty: fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child(name));
	int n = 0;
	for (int i = 0; i < 500 && n < 12; i++) {
		sleep_ms(10);
		ioctl(m, FIONREAD, &n);
	}
	if (n != 12)
		die("pty: the child's output did not arrive");
	int one = 1;
	if (write(m, "in-before", 9) != 9 || ioctl(m, TIOCPKT, &one) || ioctl(m, TIOCSPTLCK, &one))
		die("pty: master: %s", strerror(errno));
	log_line(log, "ready");
	wait_usr2();
	char got[256];
	const char *why = parent_check(m, pid, got, sizeof got);
	if (why) {
		for (char *c = got; *c; c++)
			if (*c == '\r' || *c == '\n')
				*c = '|';
		log_line(log, "pty FAIL %s (read '%s')", why, got);
		return 1;
	}
	log_line(log, "pty ok");
	return 0;
}
