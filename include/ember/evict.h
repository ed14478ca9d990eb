/* evict.h: maxmemory and the eviction policies (issue 8).
 *
 * Dispatch calls evict_before_command() before every command while
 * maxmemory is set: it evicts keys by the configured policy until used
 * memory is under the limit (with bounded work per call), and refuses
 * commands flagged CMD_DENYOOM with Redis's OOM error when it cannot. */
#ifndef EMBER_EVICT_H
#define EMBER_EVICT_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;

/* Returns false after replying -OOM when the command may not run. */
bool evict_before_command(struct client *c, const struct command *cmd);

/* Bytes in use by the allocator, cheap enough to read per command. */
size_t evict_used_memory(void);

#endif
