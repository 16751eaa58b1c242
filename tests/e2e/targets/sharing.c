/* sharing LOGFILE HOW
 *
 * A process and a child that share, as clone(2) allows without being threads,
 * what chkpt cannot give back shared: HOW is "files" (CLONE_FILES: one fd
 * table), "fs" (CLONE_FS: one working directory and umask) or "sighand"
 * (CLONE_SIGHAND|CLONE_VM: one table of signal handlers). The checkpoint must
 * be refused, naming both processes; the target only sleeps (logs "ready").
 * HOW "cwd" instead makes a working directory and removes it while in it:
 * also refused (the restore could not enter it).
 */
#define _GNU_SOURCE
#include "common.h"
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char stack[64 << 10] __attribute__((aligned(16)));

static int child(void *arg)
{
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: sharing LOGFILE files|fs|sighand|cwd");
	const char *how = argv[2];
	if (!strcmp(how, "cwd")) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s.dir", argv[1]);
		if (mkdir(dir, 0700) || chdir(dir) || rmdir(dir))
			die("sharing: cwd: %s", strerror(errno));
	} else {
		int flags = !strcmp(how, "files") ? CLONE_FILES : !strcmp(how, "fs") ? CLONE_FS : CLONE_SIGHAND | CLONE_VM;
		if (clone(child, stack + sizeof stack, flags | SIGCHLD, NULL) < 0)
			die("sharing: clone: %s", strerror(errno));
	}
	log_line(argv[1], "ready");
	for (;;)
		pause();
}
