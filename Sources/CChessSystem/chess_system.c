#define _GNU_SOURCE
#include "chess_system.h"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void close_range_or_loop(int from, int to) {
    if (from > to) return;
    if (syscall(SYS_close_range, (unsigned int)from, (unsigned int)to, 0U) == 0) return;
    struct rlimit limit;
    long top = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < top) top = (long)limit.rlim_cur;
    if ((long)to < top) top = (long)to + 1;
    for (long fd = from; fd < top; fd++) close((int)fd);
}

void chess_close_from(int lowest, int keep) {
    if (lowest < 0) lowest = 0;
    if (keep >= lowest) {
        close_range_or_loop(lowest, keep - 1);
        close_range_or_loop(keep + 1, 0x7fffffff);
    } else {
        close_range_or_loop(lowest, 0x7fffffff);
    }
}

int chess_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int chess_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0U); }

int chess_child_end_fd(void) {
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, &old) != 0) return -1;
    int fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        int saved = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return -1;
    }
    return fd;
}

int chess_watch_directory(const char *path) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return -1;
    if (inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int chess_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int chess_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}
