/* make bench: the smallest useful program linked with libchkpt (a callback
 * and a checkpoint of itself), static musl, stripped; built with -DNO_LIB it
 * is the same program without the library, for the difference. */
#include <stdio.h>
#include <unistd.h>
#ifndef NO_LIB
#include <chkpt.h>

static int on_checkpoint(struct chkpt_event *ev, void *arg) { return CHKPT_CONTINUE; }
#endif

int main(int argc, char **argv) {
#ifndef NO_LIB
  chkpt_error err;
  if (chkpt_callback_register(on_checkpoint, NULL, &err) < 0 ||
      chkpt_create(getpid(), argc > 1 ? argv[1] : "self.img", NULL, &err) < 0)
    return fprintf(stderr, "%s\n", err.msg), 1;
#endif
  printf("done\n");
  return 0;
}
