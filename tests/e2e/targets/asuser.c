/* asuser UID CMD ARGS...
 *
 * Runs CMD with real, effective and saved uid and gid UID and no
 * supplementary groups: the driver's unprivileged user, everywhere (setpriv
 * is not in busybox). Must be started as root.
 */
#include "common.h"
#include <grp.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: asuser UID CMD ARGS...");
	int id = atoi(argv[1]);
	if (setgroups(0, NULL) || setresgid(id, id, id) || setresuid(id, id, id))
		die("asuser: cannot become uid %d: %s", id, strerror(errno));
	execvp(argv[2], argv + 2);
	die("asuser: exec %s: %s", argv[2], strerror(errno));
}
