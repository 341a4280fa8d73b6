#ifndef CHESS_SYSTEM_H
#define CHESS_SYSTEM_H

#include <spawn.h>

/// Closes every descriptor from `lowest` up except `keep` (-1: none), in a child between fork
/// and exec, so that nothing the agent or supervisor holds open (listening sockets, other
/// tasks' pipes, the spool) reaches a job's process. close_range(2) where the kernel has it
/// (5.9+), else one close per descriptor up to the process's limit. Async-signal-safe.
void chess_close_from(int lowest, int keep);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends no exec'd program inherits (glibc declares pipe2
/// only under _GNU_SOURCE, which Swift's Glibc module is not built with).
int chess_pipe_cloexec(int fds[2]);

/// pidfd_open(2): a descriptor that polls readable when the process `pid` (a child) has
/// ended, so that a supervisor sleeps until its job ends instead of polling wait4. -1 with
/// errno ENOSYS before Linux 5.3. Close-on-exec, as every pidfd is.
int chess_pidfd_open(int pid);

/// An inotify descriptor (close-on-exec, non-blocking) watching the files of one directory
/// being written and closed, moved in or created: how a supervisor hears at once that the
/// agent changed its spool (a new time limit, a cancel). -1 on failure.
int chess_watch_directory(const char *path);

/// A descriptor (close-on-exec, non-blocking) that polls readable when a child of this process
/// has ended: SIGCHLD is blocked and read through a signalfd, so that a step's supervisor sleeps
/// until a task ends instead of polling wait4 (its tasks unblock it before exec: every signal
/// is unblocked in a job's process). For a single-threaded process. -1 with errno on failure,
/// SIGCHLD then left as it was.
int chess_child_end_fd(void);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child starts in `path`. glibc
/// declares it only under _GNU_SOURCE, which Swift's Glibc module is not built with.
int chess_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): every descriptor from `lowest` up
/// is closed in the child, whatever its close-on-exec flag (descriptors other threads open
/// without O_CLOEXEC included).
int chess_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// Asks the CPU to bring `bytes` at `address` into its caches ahead of a read (a hint; nothing
/// is read or faulted). Listings walk records of some 700 bytes whose fields lie on a dozen
/// cache lines: fetched ahead, a row's reads do not wait on memory one line at a time.
static inline void chess_prefetch(const void *address, long bytes) {
    for (long offset = 0; offset < bytes; offset += 64) __builtin_prefetch((const char *)address + offset);
}

#endif
