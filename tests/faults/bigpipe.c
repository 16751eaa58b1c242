/* bigpipe LOGFILE
 *
 * A pipe enlarged to 1 MiB (F_SETPIPE_SZ) holding 900 KB, more than a pipe of
 * the default size can take: logs "ready" and sleeps; on SIGUSR2 reads it all
 * back and logs "verify ok" (exit 0) or "verify FAIL ..." (exit 1). For the
 * crafted-image tests (tests/faults/crafted.sh): an image whose pipe size was
 * set to 0 must be refused, not hang rstrt while it refills the pipe.
 */
#include "common.h"

#define kData (900u << 10)

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: bigpipe LOGFILE");
	catch_usr2();
	int p[2];
	if (pipe(p) || fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < (1 << 20))
		die("bigpipe: setup: %s", strerror(errno));
	static unsigned char buf[kData];
	for (unsigned i = 0; i < kData; i++)
		buf[i] = (unsigned char)(i * 13);
	if (write_all(p[1], buf, kData))
		die("bigpipe: fill: %s", strerror(errno));
	log_line(argv[1], "ready");
	wait_usr2();
	memset(buf, 0, kData);
	int bad = read_all(p[0], buf, kData);
	for (unsigned i = 0; !bad && i < kData; i++)
		bad = buf[i] != (unsigned char)(i * 13);
	log_line(argv[1], bad ? "verify FAIL pipe contents" : "verify ok");
	return bad;
}
