#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

Err usage_err(const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return errk(ErrKind::Usage, "%s (see --help)", what);
}

Err parse_number(const char *what, const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (parse_u64(s, out) && *out >= lo && *out <= hi) return ok();
  return usage_err("bad %s '%s': give a number from %llu to %llu", what, s, (unsigned long long)lo,
                   (unsigned long long)hi);
}

namespace {
const Option *find_option(const char *s, const Option *opts, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s, opts[i].name)) return &opts[i];
  return nullptr;
}
}  // namespace

Err parse_cmdline(int argc, char **argv, const Option *opts, size_t nopts, const Positional *args, size_t nargs,
                  bool *help) {
  size_t given = 0;
  bool options_end = false;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    bool is_option = !options_end && s[0] == '-' && s[1];
    if (is_option && !strcmp(s, "--")) { options_end = true; continue; }
    if (is_option && (!strcmp(s, "-h") || !strcmp(s, "--help"))) { *help = true; return ok(); }
    if (!is_option) {
      if (given == nargs) return usage_err("unexpected argument '%s'", s);
      *args[given++].value = s;
      continue;
    }
    const Option *o = find_option(s, opts, nopts);
    if (!o) return usage_err("unknown option %s", s);
    if (!o->value && !o->list) { *o->flag = o->set; continue; }
    if (++i == argc) return usage_err("%s needs a value", s);
    if (o->list) o->list->push(argv[i]);
    else *o->value = argv[i];
  }
  if (given < nargs && args[given].required) return usage_err("no %s given", args[given].name);
  return ok();
}
