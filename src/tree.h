// The checkpointed set of processes: which processes (scope), freezing all of
// their threads before anything is read, and releasing them afterwards.
#pragma once
#include "base.h"
#include "model.h"
#include "ptrace.h"

enum class Scope { Tree, Single, Pgrp, Session };

struct FrozenSet {
  Vec<TreeEntry> tree;  // TREE order: parents before children
  Vec<Tracee> threads;  // every frozen thread
  Tracee *find(int tid);
};

// Find the set and freeze every thread of it; re-scans until no new process or
// thread appears (a frozen thread cannot clone or fork). On error, whatever was
// frozen is released.
Err freeze_set(Scope scope, int id, FrozenSet *out);
// Let every thread go: Run resumes, Stop leaves each process stopped, Kill ends them.
Err release_set(FrozenSet &set, int how_signal);
int parent_in_set(const Vec<TreeEntry> &tree, size_t i);
int index_in_tree(const Vec<TreeEntry> &tree, int pid);

// Restore: a child of the caller with this PID (clone3 set_tid; *out is 0 in
// the child, which runs on in a copy of the caller).
Err clone_with_pid(int pid, int *out);
// A zombie: a child that exits at once with the saved status, left unreaped.
Err make_zombie(const TreeEntry &c);
// Put a just-cloned child c into its process group, if that group is led by
// a process of the set (the leader exists by then: TREE order).
Err join_group(const Vec<TreeEntry> &tree, const TreeEntry &c);
