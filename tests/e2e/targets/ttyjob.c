/* ttyjob LOGFILE
 *
 * A job started from a shell with job control (its own process group, in the
 * shell's session, fd 0 on the shell's terminal). Logs "ready", then on
 * SIGUSR2 checks that it is the terminal's foreground job: tcgetpgrp(0) is
 * its group and a read of the terminal does not stop it (a background job's
 * read gets SIGTTIN, tty_check_change in drivers/tty/tty_jobctrl.c; here the
 * read is non-blocking and nothing is typed: EAGAIN). Logs "ttyjob ok"
 * (exit 0) or "ttyjob FAIL <why>" (exit 1).
 */
#include "common.h"
#include <termios.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: ttyjob LOGFILE");
	catch_usr2();
	if (!isatty(0))
		die("ttyjob: fd 0 is not a terminal");
	log_line(argv[1], "ready");
	wait_usr2();
	pid_t fg = tcgetpgrp(0), me = getpgrp();
	if (fg != me) {
		log_line(argv[1], "ttyjob FAIL not the terminal's foreground job (foreground group %d, mine %d)", (int)fg, (int)me);
		return 1;
	}
	int fl = fcntl(0, F_GETFL);
	fcntl(0, F_SETFL, fl | O_NONBLOCK);
	char b;
	ssize_t n = read(0, &b, 1);
	int err = errno;
	fcntl(0, F_SETFL, fl);
	if (n < 0 && err != EAGAIN) {
		log_line(argv[1], "ttyjob FAIL reading the terminal: %s", strerror(err));
		return 1;
	}
	log_line(argv[1], "ttyjob ok");
	return 0;
}
