// The commands of the multi-call binary; each file cmd_*.cpp holds one, with
// its help text at the top.
#pragma once

int chkpt_main(int argc, char **argv);
int rstrt_main(int argc, char **argv);
int info_main(int argc, char **argv);
int migrate_main(int argc, char **argv);
int restartd_main(int argc, char **argv);

// "chkpt: message" on stderr.
void complain(const char *cmd, const char *msg);
