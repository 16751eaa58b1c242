// Process trees: discovery and freezing at checkpoint; at restore, the rules
// for sessions and process groups that the cloned processes follow.
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "process.h"
#include "procfs.h"

namespace {
bool has(const Vec<int> &v, int x) {
  for (int y : v)
    if (y == x) return true;
  return false;
}

// Numeric entries of a /proc directory (tasks, processes).
Vec<int> list_dir(const char *path) {
  Vec<int> out;
  DIR *d = opendir(path);
  if (!d) return out;
  while (struct dirent *de = readdir(d)) {
    uint64_t v;
    if (parse_u64(de->d_name, &v)) out.push((int)v);
  }
  closedir(d);
  return out;
}

Vec<int> children_of(int pid) {
  Vec<int> out;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  for (int tid : list_dir(path)) {
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, tid);
    if (read_text(path, buf, sizeof buf)) continue;
    for (char *s = buf; *s;) {
      char *end;
      long c = strtol(s, &end, 10);
      if (end == s) break;
      out.push((int)c);
      s = end;
    }
  }
  return out;
}

// A zombie's exit status as waitpid(2) reports it: /proc/PID/stat field 52.
Err read_wait_status(int pid, TreeEntry *e) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  TRY(read_text(path, stat, sizeof stat));
  uint64_t status;
  if (!stat_field(stat, 52, &status)) return errf("cannot read the exit status of zombie %d", pid);
  e->wait_status = (int32_t)status;
  return ok();
}

Err read_ids(int pid, TreeEntry *e) {
  char stat[1024];
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  TRY(read_text(path, stat, sizeof stat));
  uint64_t ppid, pgid, sid;
  if (!stat_field(stat, 4, &ppid) || !stat_field(stat, 5, &pgid) || !stat_field(stat, 6, &sid))
    return errf("cannot parse %s", path);
  e->pid = pid; e->ppid = (int32_t)ppid; e->pgid = (int32_t)pgid; e->sid = (int32_t)sid;
  return ok();
}

// Freeze the threads of pid not frozen yet; true in *grew if any was.
Err freeze_threads(int pid, FrozenSet *set, Vec<int> *frozen, bool *grew) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  Vec<int> tids = list_dir(path);
  for (int tid : tids) {
    if (has(*frozen, tid)) continue;
    Tracee t(tid);
    Err e = t.seize_and_freeze();
    if (e && tid != pid && errno == ESRCH) continue;  // the thread exited meanwhile
    TRY(e);
    frozen->push(tid);
    set->threads.push(t);
    *grew = true;
  }
  return ok();
}

// Who belongs to the set right now (scope rules), parents before children.
Err members(Scope scope, int id, Vec<int> *out) {
  if (scope == Scope::Single || scope == Scope::Tree) {
    out->push(id);
    for (size_t i = 0; scope == Scope::Tree && i < out->size(); i++)
      for (int c : children_of((*out)[i]))
        if (!has(*out, c)) out->push(c);
    return ok();
  }
  for (int pid : list_dir("/proc")) {
    TreeEntry e;
    if (read_ids(pid, &e)) continue;
    if ((scope == Scope::Pgrp ? e.pgid : e.sid) == id) out->push(pid);
  }
  if (out->empty()) return errf("no process in %s %d", scope == Scope::Pgrp ? "process group" : "session", id);
  return ok();
}

// Order the entries so that each comes after its parent (if in the set).
void topo_sort(Vec<TreeEntry> *tree) {
  Vec<TreeEntry> sorted;
  Vec<int> placed;
  while (sorted.size() < tree->size()) {
    for (auto &e : *tree) {
      if (has(placed, e.pid)) continue;
      bool parent_pending = false;
      for (auto &p : *tree) parent_pending |= p.pid == e.ppid && !has(placed, p.pid);
      if (parent_pending) continue;
      placed.push(e.pid);
      TreeEntry copy = {e.pid, e.ppid, e.pgid, e.sid, {}, e.wait_status};
      for (int t : e.tids) copy.tids.push(t);
      sorted.push(std::move(copy));
    }
  }
  tree->swap(sorted);
}

// Sessions must be created by their leader and inherited by the rest: a
// process's session is its own, its parent's, or (for a process whose parent is
// outside the set) whatever rstrt's is.
Err check_relations(const Vec<TreeEntry> &tree) {
  for (size_t i = 0; i < tree.size(); i++) {
    const TreeEntry &e = tree[i];
    int p = parent_in_set(tree, i);
    if (p >= 0 && e.sid != e.pid && e.sid != tree[p].sid)
      return errf("process %d is in session %d, not its parent's: not supported", e.pid, e.sid);
  }
  return ok();
}

Err build_tree(const Vec<int> &pids, const FrozenSet &set, Vec<TreeEntry> *tree) {
  for (int pid : pids) {
    TreeEntry e;
    TRY(read_ids(pid, &e));
    bool frozen = false;
    for (auto &t : set.threads) frozen |= t.tid() == pid;
    if (!frozen) {  // not frozen: a zombie (freeze_round)
      TRY(read_wait_status(pid, &e));
      tree->push(std::move(e));
      continue;
    }
    e.tids.push(pid);
    for (auto &t : set.threads) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/task/%d", pid, t.tid());
      if (t.tid() != pid && access(path, F_OK) == 0) e.tids.push(t.tid());
    }
    tree->push(std::move(e));
  }
  topo_sort(tree);
  return check_relations(*tree);
}

bool is_zombie(int pid) {
  char path[64], stat[1024], state = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  return !read_text(path, stat, sizeof stat) && stat_state(stat, &state) && state == 'Z';
}

Err freeze_round(Scope scope, int id, FrozenSet *set, Vec<int> *frozen, Vec<int> *pids, bool *grew) {
  pids->clear();
  TRY(members(scope, id, pids));
  for (int pid : *pids) {
    if (has(*frozen, pid)) { TRY(freeze_threads(pid, set, frozen, grew)); continue; }
    if (pid != id && is_zombie(pid)) continue;  // an unreaped child: saved as a zombie (build_tree)
    if (Err e = check_target(pid)) {
      if (pid == id || scope != Scope::Tree) return e;
      return wrap(e, "in the tree of %d", id);
    }
    TRY(freeze_threads(pid, set, frozen, grew));
  }
  return ok();
}
}  // namespace

Tracee *FrozenSet::find(int tid) {
  for (auto &t : threads)
    if (t.tid() == tid) return &t;
  return nullptr;
}

int parent_in_set(const Vec<TreeEntry> &tree, size_t i) {
  for (size_t j = 0; j < tree.size(); j++)
    if (tree[j].pid == tree[i].ppid) return (int)j;
  return -1;
}

Err freeze_set(Scope scope, int id, FrozenSet *out) {
  Vec<int> frozen, pids;
  Err e = ok();
  for (bool grew = true; grew && !e;) {
    grew = false;
    e = freeze_round(scope, id, out, &frozen, &pids, &grew);
  }
  if (!e) e = build_tree(pids, *out, &out->tree);
  if (e) release_set(*out, 0);
  return e;
}

Err release_set(FrozenSet &set, int how_signal) {
  Err first = ok();
  if (how_signal == SIGKILL) {
    for (auto &e : set.tree) kill(e.pid, SIGKILL);
    set.threads.clear();
    return ok();
  }
  for (auto &e : set.tree)
    if (how_signal && kill(e.pid, how_signal) < 0 && !first) first = sys_err("kill %d", e.pid);
  for (auto &t : set.threads) {
    Err e = t.detach();
    if (e && !first) first = e;
  }
  set.threads.clear();
  return first;
}

// ---- channels to the outside ---------------------------------------------------

namespace {
struct Wanted {
  const char *prefix;  // "pipe:[" or "socket:["
  uint64_t ino;
  int pid, fd;         // the holder inside the set, for the message
};

bool in_tree(const SetImage &set, int pid) {
  for (auto &e : set.tree)
    if (e.pid == pid) return true;
  return false;
}

// Which processes outside the set hold one of the wanted inodes? One pass over /proc.
Err scan_outside(const SetImage &set, const Vec<Wanted> &want) {
  if (want.empty()) return ok();
  for (int pid : list_dir("/proc")) {
    if (in_tree(set, pid)) continue;
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    for (int fd : list_dir(path)) {
      snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n <= 0) continue;
      link[n] = 0;
      for (auto &w : want) {
        char expect[64];
        snprintf(expect, sizeof expect, "%s%llu]", w.prefix, (unsigned long long)w.ino);
        if (strcmp(link, expect) != 0) continue;
        char comm[64] = "?";
        snprintf(path, sizeof path, "/proc/%d/comm", pid);
        if (!read_text(path, comm, sizeof comm)) comm[strcspn(comm, "\n")] = 0;
        return errf("process %d fd %d (%s) is connected to process %d (%s) outside the checkpoint", w.pid, w.fd,
                    expect, pid, comm);
      }
    }
  }
  return ok();
}

void holder(const SetImage &set, uint32_t desc, int *pid, int *fd) {
  for (auto &p : set.procs)
    for (auto &f : p.files)
      if (f.desc == desc) { *pid = p.proc.pid; *fd = f.fd; return; }
}

bool has_desc(const SetImage &set, FileKind kind, uint64_t ino, int write_end) {
  for (auto &f : set.fdescs)
    if (f.kind == kind && f.ino == ino && (write_end < 0 || f.pipe_write_end == write_end)) return true;
  return false;
}
}  // namespace

Err check_external_channels(const SetImage &set) {
  Vec<Wanted> want;
  for (auto &f : set.fdescs) {
    Wanted w = {nullptr, 0, 0, -1};
    // A named FIFO is reopened by path: whoever else opens it later may.
    bool anonymous = f.path.c()[0] != '/';
    if (f.kind == FileKind::Pipe && anonymous && !has_desc(set, FileKind::Pipe, f.ino, !f.pipe_write_end))
      w = {"pipe:[", f.ino, 0, -1};
    if (f.kind == FileKind::UnixSocket && f.peer && !has_desc(set, FileKind::UnixSocket, f.peer, -1))
      w = {"socket:[", f.peer, 0, -1};
    if (!w.prefix) continue;
    holder(set, f.id, &w.pid, &w.fd);
    want.push(w);
  }
  return scan_outside(set, want);
}
