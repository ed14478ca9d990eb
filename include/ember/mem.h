/* mem.h: the one door to the heap.
 *
 * Every allocation in ember goes through these functions. They never return
 * NULL: on failure they log and abort, as Redis's zmalloc does, so callers do
 * not check. With jemalloc (Release and Debug builds) used-memory figures come
 * from the allocator's own statistics; the Asan build uses libc malloc and
 * reports what it can. */
#ifndef EMBER_MEM_H
#define EMBER_MEM_H

#include <stddef.h>

void *em_malloc(size_t size);
void *em_calloc(size_t n, size_t size);
void *em_realloc(void *ptr, size_t size);
void em_free(void *ptr);
/* A NUL-terminated copy of `s[0..len)`. */
char *em_strndup(const char *s, size_t len);

/* Bytes the allocator really reserved for `ptr` (>= the size asked for). */
size_t mem_usable_size(const void *ptr);
/* What mem_usable_size() would say of a fresh block of `size` bytes (its
 * size class; `size` itself without jemalloc). */
size_t mem_size_class(size_t size);

struct mem_stats {
    size_t allocated; /* bytes in live allocations (Redis's used_memory) */
    size_t active;    /* bytes in active pages */
    size_t resident;  /* bytes the allocator holds resident */
    size_t mapped;
    size_t retained;
};

/* Refreshes and returns the allocator's statistics (a few microseconds with
 * jemalloc: call it from the cron or INFO, not per command). */
void mem_stats_read(struct mem_stats *out);
/* Process RSS in bytes from /proc/self/statm, 0 if unknown. */
size_t mem_rss(void);
/* "jemalloc-5.3.0" or "libc". */
const char *mem_allocator_name(void);

#endif
