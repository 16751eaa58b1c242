/* threads LOGFILE
 *
 * Eight threads pass a turn round-robin under one mutex and condition variable;
 * each counts its own turns in a thread-local counter, and the shared total is
 * counted under the mutex. "ready" is logged after 2000 turns. On SIGUSR2 the
 * threads stop and are joined (pthread_join waits on the kernel clearing each
 * thread's TID word: the restored clear_child_tid), then main checks:
 *  - strict round-robin: every thread's own counter is within one of the others;
 *  - the shared total equals the sum of the thread-local counters;
 *  - progress after the restore (the turns kept coming);
 *  - each thread saw its thread-local storage at the same address throughout;
 *  - sched_getcpu() answers (glibc reads it from the rseq area).
 * Logs "threads ok TOTAL" (exit 0) or "threads FAIL <why>" (exit 1).
 */
#include "common.h"
#include <pthread.h>
#include <sched.h>

#define NTHREADS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int turn;
static long total;
static volatile int stop;
static long counts[NTHREADS];
static int tls_moved[NTHREADS];
static __thread long my_turns;
static __thread int my_id;

static void *worker(void *arg)
{
	my_id = (int)(long)arg;
	long *where = &my_turns;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (turn != my_id && !stop)
			pthread_cond_wait(&cond, &lock);
		if (stop)
			break;
		my_turns++;
		total++;
		turn = (my_id + 1) % NTHREADS;
		pthread_cond_broadcast(&cond);
		if (my_id == 0) { /* pace the ring a little: a checkpoint finds threads in every state */
			pthread_mutex_unlock(&lock);
			sleep_ms(1);
			pthread_mutex_lock(&lock);
		}
	}
	pthread_mutex_unlock(&lock);
	if (where != &my_turns)
		tls_moved[my_id] = 1;
	counts[my_id] = my_turns;
	return NULL;
}

static long read_total(void)
{
	pthread_mutex_lock(&lock);
	long t = total;
	pthread_mutex_unlock(&lock);
	return t;
}

static const char *verify(long at_usr2)
{
	long sum = 0, lo = counts[0], hi = counts[0];
	for (int i = 0; i < NTHREADS; i++) {
		sum += counts[i];
		lo = counts[i] < lo ? counts[i] : lo;
		hi = counts[i] > hi ? counts[i] : hi;
		if (tls_moved[i])
			return "a thread's TLS moved";
	}
	if (sum != total)
		return "total differs from the sum of thread-local counters";
	if (hi - lo > 1)
		return "round-robin broken: thread counters differ by more than one";
	if (total <= at_usr2)
		return "no progress";
	if (sched_getcpu() < 0)
		return "sched_getcpu failed";
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: threads LOGFILE");
	const char *log = argv[1];
	catch_usr2();
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i))
			die("pthread_create failed");
	while (read_total() < 2000)
		sleep_ms(10);
	log_line(log, "ready");
	wait_usr2();
	long at_usr2 = read_total();
	sleep_ms(200); /* the restored ring must still turn */
	pthread_mutex_lock(&lock);
	stop = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	const char *bad = verify(at_usr2);
	if (bad) {
		log_line(log, "threads FAIL %s", bad);
		return 1;
	}
	log_line(log, "threads ok %ld", total);
	return 0;
}
