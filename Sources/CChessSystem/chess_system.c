#define _GNU_SOURCE
#include "chess_system.h"
#include <sys/resource.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

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
