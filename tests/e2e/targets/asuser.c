/* asuser UID CMD ARGS...
 * asuser -r UID CMD ARGS...
 *
 * Runs CMD with real, effective and saved uid and gid UID and no
 * supplementary groups: the driver's unprivileged user, everywhere (setpriv
 * is not in busybox). With -r only the real uid becomes UID: a process of
 * that user that keeps root's effective uid and capabilities, as after a
 * set-user-ID-root program (what a restore by root must not hand out again).
 * Must be started as root.
 */
#include "common.h"
#include <grp.h>

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "-r")) {
		if (setresuid(atoi(argv[2]), -1, -1))
			die("asuser: cannot set the real uid %s: %s", argv[2], strerror(errno));
		execvp(argv[3], argv + 3);
		die("asuser: exec %s: %s", argv[3], strerror(errno));
	}
	if (argc < 3)
		die("usage: asuser [-r] UID CMD ARGS...");
	int id = atoi(argv[1]);
	if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
		die("asuser: cannot become uid %d: %s", id, strerror(errno));
	execvp(argv[2], argv + 2);
	die("asuser: exec %s: %s", argv[2], strerror(errno));
}
