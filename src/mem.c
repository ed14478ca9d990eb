/* mem.c: the heap, through one door.
 *
 * Release and Debug builds link Debian's jemalloc, which is unprefixed: it
 * replaces malloc for the whole process (libuv included), so the allocator's
 * own counters cover every byte ember asks for. The Asan build links no
 * jemalloc, because the sanitizer must own malloc; its figures come from
 * malloc_usable_size and /proc. Allocation failure is not recoverable here:
 * we log and abort, as Redis's zmalloc does, so no caller checks for NULL. */
#include "ember/mem.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef EMBER_JEMALLOC
#include <jemalloc/jemalloc.h>
#elif defined(__SANITIZE_ADDRESS__)
/* The sanitizer owns malloc in the Asan build: glibc's mallinfo sees
 * nothing, but the sanitizer counts what it hands out. */
size_t __sanitizer_get_current_allocated_bytes(void); /* exported by libasan */
#define EMBER_SANITIZER_STATS 1
#endif

static void oom(size_t size)
{
    /* The log module may allocate; write straight to stderr instead. */
    fprintf(stderr, "ember: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *em_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) oom(size);
    return p;
}

void *em_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) oom(n * size);
    return p;
}

void *em_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL) oom(size);
    return p;
}

void em_free(void *ptr)
{
    free(ptr);
}

char *em_strndup(const char *s, size_t len)
{
    char *p = em_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t mem_usable_size(const void *ptr)
{
    if (ptr == NULL) return 0;
#ifdef EMBER_JEMALLOC
    return malloc_usable_size((void *)ptr);
#else
    return malloc_usable_size((void *)ptr);
#endif
}

size_t mem_size_class(size_t size)
{
#ifdef EMBER_JEMALLOC
    return nallocx(size, 0);
#else
    return size;
#endif
}

#ifdef EMBER_JEMALLOC
static size_t read_stat(const char *name)
{
    size_t v = 0, sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0) return 0;
    return v;
}
#endif

void mem_stats_read(struct mem_stats *out)
{
    memset(out, 0, sizeof(*out));
#ifdef EMBER_JEMALLOC
    /* jemalloc caches its statistics; bumping the epoch refreshes them. */
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    out->allocated = read_stat("stats.allocated");
    out->active = read_stat("stats.active");
    out->resident = read_stat("stats.resident");
    out->mapped = read_stat("stats.mapped");
    out->retained = read_stat("stats.retained");
#elif defined(EMBER_SANITIZER_STATS)
    out->allocated = __sanitizer_get_current_allocated_bytes();
    out->active = out->allocated;
    out->resident = mem_rss();
    out->mapped = out->resident;
#else
    struct mallinfo2 mi = mallinfo2();
    out->allocated = mi.uordblks + mi.hblkhd;
    out->active = out->allocated;
    out->resident = mem_rss();
    out->mapped = out->resident;
#endif
}

size_t mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

const char *mem_allocator_name(void)
{
#ifdef EMBER_JEMALLOC
    static char name[32];
    if (name[0] == '\0') {
        const char *v = NULL;
        size_t sz = sizeof(v);
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v != NULL) {
            /* "5.3.0-0-g54eaed1d..." -> "jemalloc-5.3.0" */
            snprintf(name, sizeof(name), "jemalloc-%.*s", (int)strcspn(v, "-"), v);
        } else {
            snprintf(name, sizeof(name), "jemalloc");
        }
    }
    return name;
#else
    return "libc";
#endif
}
