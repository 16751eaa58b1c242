/* reapme LOGFILE
 *
 * A parent with two unreaped children at the time of the checkpoint: one has
 * exited with status 7, the other was killed by SIGTERM. Logs "ready" once both
 * are zombies, then sleeps. On SIGUSR2 it reaps them and checks that wait()
 * reports each as it died. Logs "reapme ok" (exit 0) or "reapme FAIL <why>".
 */
#include "common.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: reapme LOGFILE");
	catch_usr2();
	pid_t a = fork();
	if (a == 0)
		_exit(7);
	pid_t b = fork();
	if (b == 0)
		for (;;)
			pause();
	kill(b, SIGTERM);
	siginfo_t si;
	if (waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT) || waitid(P_PID, (id_t)b, &si, WEXITED | WNOWAIT))
		die("reapme: waitid: %s", strerror(errno));
	log_line(argv[1], "ready");
	wait_usr2();
	int sa, sb;
	const char *bad = NULL;
	if (waitpid(a, &sa, 0) != a || !WIFEXITED(sa) || WEXITSTATUS(sa) != 7)
		bad = "the first child's exit status is lost";
	else if (waitpid(b, &sb, 0) != b || !WIFSIGNALED(sb) || WTERMSIG(sb) != SIGTERM)
		bad = "the second child's death by SIGTERM is lost";
	else if (wait(NULL) != -1 || errno != ECHILD)
		bad = "an extra child";
	if (bad) {
		log_line(argv[1], "reapme FAIL %s", bad);
		return 1;
	}
	log_line(argv[1], "reapme ok");
	return 0;
}
