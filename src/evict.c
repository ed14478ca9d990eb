/* evict.c: maxmemory enforcement (see evict.h). Placeholder until the
 * policies land: nothing is evicted and nothing is refused. */
#include "ember/evict.h"

#include "ember/mem.h"

bool evict_before_command(struct client *c, const struct command *cmd)
{
    (void)c;
    (void)cmd;
    return true;
}

size_t evict_used_memory(void)
{
    struct mem_stats ms;
    mem_stats_read(&ms);
    return ms.allocated;
}
