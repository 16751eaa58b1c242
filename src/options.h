// One command line parser for every command (chkpt, rstrt, chkpt info,
// migrate, restartd), table-driven as in toybox: a command lists its options
// and its positional arguments, and every command words its complaints alike
// (all ErrKind::Usage):
//   unknown option --x (see --help)
//   --key needs a value (see --help)
//   unexpected argument 'x' (see --help)
//   no image given (see --help)
//   bad --timeout 'x': give a number from 1 to 86400 (see --help)
// Options and positional arguments may come in any order; "--" ends the
// options; "-" alone is an argument (standard input or output).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "base.h"

struct Option {
  const char *name;    // as typed: "-o", "--every"
  const char **value;  // an option with a value: stored here; nullptr for a flag
  int *flag;           // a flag: *flag = set (of several that share one, the last wins)
  int set;
  Vec<const char *> *list;  // a repeatable option with a value: each one appended
};
constexpr Option opt_value(const char *name, const char **value) { return {name, value, nullptr, 0, nullptr}; }
constexpr Option opt_flag(const char *name, int *flag, int set = 1) { return {name, nullptr, flag, set, nullptr}; }
inline Option opt_list(const char *name, Vec<const char *> *list) { return {name, nullptr, nullptr, 0, list}; }

struct Positional {
  const char *name;    // for the messages: "image", "PID"
  const char **value;  // stored here
  bool required;
};

// Parse argv[1..argc). -h and --help set *help and stop there (nothing else is
// checked).
Err parse_cmdline(int argc, char **argv, const Option *opts, size_t nopts, const Positional *args, size_t nargs,
                  bool *help);
template <size_t N, size_t M>
Err parse_cmdline(int argc, char **argv, const Option (&opts)[N], const Positional (&args)[M], bool *help) {
  return parse_cmdline(argc, argv, opts, N, args, M, help);
}

// "<what> (see --help)", ErrKind::Usage: for what a command checks itself.
Err usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// what's text s as a number from lo to hi, or "bad <what> '<s>': give a number
// from lo to hi (see --help)".
Err parse_number(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
