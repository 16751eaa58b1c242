// The commands of the multi-call binary; each file cmd_*.cpp holds one, with
// its help text at the top.
#pragma once
#include "base.h"

int chkpt_main(int argc, char **argv);
int rstrt_main(int argc, char **argv);
int info_main(int argc, char **argv);
int migrate_main(int argc, char **argv);
int restartd_main(int argc, char **argv);
int serve_main(int argc, char **argv);

// "chkpt: message" on stderr.
void complain(const char *cmd, const char *msg);
// complain() about e and return its exit status (exit_status: 2 for a bad
// image, 1 otherwise): how every command ends on an error.
int fail(const char *cmd, const Err &e);
// The commands besides chkpt itself, one line each (for chkpt --help).
void print_commands(int fd);
