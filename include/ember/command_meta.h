/* command_meta.h: Redis 7.0's descriptive command metadata (key specs, tips,
 * argument trees, history), copied from redis-server 7.0.15 by
 * tools/gen_command_meta.py into static tables.
 *
 * command.c's table stays the source of what dispatch checks (arity, flags,
 * first/last/step); this module answers the parts of COMMAND INFO and COMMAND
 * DOCS that only describe the interface, and finds keys by key specs for
 * COMMAND GETKEYS/GETKEYSANDFLAGS. Lookups are by full name ("config|get"). */
#ifndef EMBER_COMMAND_META_H
#define EMBER_COMMAND_META_H

#include <stdbool.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct command_meta;

/* Key-spec flags, in the order Redis prints them. */
enum keyspec_flag {
    KS_RO = 1 << 0,
    KS_RW = 1 << 1,
    KS_OW = 1 << 2,
    KS_RM = 1 << 3,
    KS_ACCESS = 1 << 4,
    KS_UPDATE = 1 << 5,
    KS_INSERT = 1 << 6,
    KS_DELETE = 1 << 7,
    KS_NOT_KEY = 1 << 8,
    KS_INCOMPLETE = 1 << 9,
    KS_VARIABLE_FLAGS = 1 << 10,
};

/* One key found in a command line: its argv index and key-spec flags. */
struct meta_key {
    int pos;
    uint16_t flags;
};

/* The metadata of "name" or "parent|sub" (lower case), or NULL when
 * redis-server 7.0.15 has no such command. */
const struct command_meta *command_meta_find(const char *fullname);

/* True if some key spec is not a plain index + range one: Redis then prints
 * the "movablekeys" flag. */
bool command_meta_movablekeys(const struct command_meta *m);

/* True if some key spec names real keys (not only channels, "not_key"). */
bool command_meta_has_keys(const struct command_meta *m);

/* COMMAND INFO's 8th and 9th fields: tips and key specs (empty if m is NULL). */
void command_meta_reply_tips(struct client *c, const struct command_meta *m);
void command_meta_reply_keyspecs(struct client *c, const struct command_meta *m);

/* COMMAND DOCS: how many map fields command_meta_reply_docs() writes, then
 * the fields themselves, in Redis's order (summary ... arguments); the caller
 * adds "subcommands" after them. */
int command_meta_doc_fields(const struct command_meta *m);
void command_meta_reply_docs(struct client *c, const struct command_meta *m);

/* Finds the keys of argv[0..argc) (argv[0] is the command name; for a
 * subcommand argv[1] is its name) with Redis's key-spec walk. Writes at most
 * `max` keys to out. Returns how many it found, or -1 when the arguments do
 * not fit the specs (bad key count, keys past the end). */
int command_meta_get_keys(const struct command_meta *m, int argc, const struct slice *argv,
                          struct meta_key *out, int max);

/* Replies a key's flags as COMMAND GETKEYSANDFLAGS does: a set of names. */
void command_meta_reply_key_flags(struct client *c, uint16_t flags);

#endif
