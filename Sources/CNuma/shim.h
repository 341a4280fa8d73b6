#ifndef CHESS_CNUMA_SHIM_H
#define CHESS_CNUMA_SHIM_H
#include <numa.h>

/* glibc's sched_{set,get}affinity under names of our own: declaring them through <sched.h>
   needs _GNU_SOURCE, which would give this module different system headers than the rest. */
extern int chess_sched_setaffinity(int pid, unsigned long size, const unsigned long *mask) __asm__("sched_setaffinity");
extern int chess_sched_getaffinity(int pid, unsigned long size, unsigned long *mask) __asm__("sched_getaffinity");

#define CHESS_MAX_CPUS 4096

/// Binds the calling process (and what it execs) to these OS CPUs. Returns 0 or -1 (errno).
static inline int chess_bind_cpus(const int *cpus, int count) {
    unsigned long mask[CHESS_MAX_CPUS / (8 * sizeof(unsigned long))] = {0};
    const int bits = 8 * sizeof(unsigned long);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CHESS_MAX_CPUS) mask[cpus[i] / bits] |= 1UL << (cpus[i] % bits);
    }
    return chess_sched_setaffinity(0, sizeof(mask), mask);
}

/// Binds the calling process's memory to these NUMA nodes (libnuma's membind). Returns 0, or
/// -1 when libnuma reports no NUMA support.
static inline int chess_bind_memory(const int *nodes, int count) {
    if (numa_available() < 0 || count == 0) return -1;
    struct bitmask *mask = numa_allocate_nodemask();
    for (int i = 0; i < count; i++) numa_bitmask_setbit(mask, (unsigned int)nodes[i]);
    numa_set_membind(mask);
    numa_free_nodemask(mask);
    return 0;
}

/// The CPUs this process may run on, written into `cpus` (at most `capacity`); returns the count.
static inline int chess_allowed_cpus(int *cpus, int capacity) {
    unsigned long mask[CHESS_MAX_CPUS / (8 * sizeof(unsigned long))] = {0};
    const int bits = 8 * sizeof(unsigned long);
    if (chess_sched_getaffinity(0, sizeof(mask), mask) != 0) return -1;
    int n = 0;
    for (int i = 0; i < CHESS_MAX_CPUS && n < capacity; i++) if (mask[i / bits] & (1UL << (i % bits))) cpus[n++] = i;
    return n;
}
#endif
