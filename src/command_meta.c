/* command_meta.c: COMMAND INFO tips and key specs, COMMAND DOCS, and the
 * key-spec walk behind COMMAND GETKEYS.
 *
 * The data (command_meta.inc) is generated from redis-server 7.0.15 by
 * tools/gen_command_meta.py, for the commands ember implements only. It is
 * all static const, so it costs no start-up work and no heap (for 279
 * commands: a 31 KB string pool, 612 argument rows of 14 bytes, 162 key
 * specs of 16, about 51 KB in all):
 *
 *   meta_commands[]  one 30-byte row per command, sorted by full name
 *        |  name, summary, ... : offsets into meta_pool (0 = absent)
 *        |  tips, history      : index into meta_lists (pool offsets)
 *        |  keyspecs           : index of the first of nkeyspecs rows
 *        v  args               : index of the first of nargs rows
 *   meta_args[]      each argument list contiguous; a oneof/block argument
 *                    points at its own children's list
 *   meta_pool        every string once, NUL-separated
 *
 * Replies are built with reply.c's map/set/array helpers, so RESP2 clients
 * see flat arrays and RESP3 clients maps and sets, as with redis-server. */
#include "ember/command_meta.h"

#include "ember/reply.h"
#include "ember/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum meta_arg_type {
    ARG_STRING,
    ARG_INTEGER,
    ARG_DOUBLE,
    ARG_KEY,
    ARG_PATTERN,
    ARG_UNIX_TIME,
    ARG_PURE_TOKEN,
    ARG_ONEOF,
    ARG_BLOCK,
};

enum meta_arg_flag {
    ARG_OPTIONAL = 1 << 0,
    ARG_MULTIPLE = 1 << 1,
    ARG_MULTIPLE_TOKEN = 1 << 2,
};

enum meta_doc_flag {
    DOC_DEPRECATED = 1 << 0,
    DOC_SYSCMD = 1 << 1,
};

enum meta_begin_search { BS_UNKNOWN, BS_INDEX, BS_KEYWORD };
enum meta_find_keys { FK_UNKNOWN, FK_RANGE, FK_KEYNUM };

struct meta_keyspec {
    uint16_t notes, keyword; /* pool offsets */
    uint16_t flags;          /* enum keyspec_flag */
    uint8_t bs_type, fk_type;
    int16_t pos; /* BS_INDEX: the index; BS_KEYWORD: where the search starts */
    /* FK_RANGE: lastkey, keystep, limit; FK_KEYNUM: keynumidx, firstkey, keystep */
    int16_t fk[3];
};

struct meta_arg {
    uint16_t name, token, since, deprecated_since; /* pool offsets */
    uint16_t children;                             /* index in meta_args */
    uint8_t type, flags;
    int8_t key_spec_index; /* -1: not a key */
    uint8_t nchildren;
};

struct command_meta {
    uint16_t name; /* "config|get" */
    uint16_t summary, since, group, complexity, deprecated_since, replaced_by;
    uint16_t tips, history; /* index in meta_lists */
    uint16_t keyspecs, args;
    uint8_t ntips, nhistory, nkeyspecs;
    int16_t nargs; /* -1: no "arguments" field at all */
    uint8_t doc_flags;
};

#include "command_meta.inc"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *str(uint16_t off)
{
    return meta_pool + off;
}

static int by_name(const void *key, const void *elem)
{
    const struct command_meta *m = elem;
    return strcmp(key, str(m->name));
}

const struct command_meta *command_meta_find(const char *fullname)
{
    return bsearch(fullname, meta_commands, COUNT(meta_commands), sizeof(meta_commands[0]),
                   by_name);
}

bool command_meta_movablekeys(const struct command_meta *m)
{
    if (m == NULL) return false;
    for (int i = 0; i < m->nkeyspecs; i++) {
        const struct meta_keyspec *ks = &meta_keyspecs[m->keyspecs + i];
        if (ks->bs_type != BS_INDEX || ks->fk_type != FK_RANGE) return true;
    }
    return false;
}

bool command_meta_has_keys(const struct command_meta *m)
{
    if (m == NULL) return false;
    for (int i = 0; i < m->nkeyspecs; i++) {
        if (!(meta_keyspecs[m->keyspecs + i].flags & KS_NOT_KEY)) return true;
    }
    return false;
}

/* ---- COMMAND INFO ---- */

void command_meta_reply_tips(struct client *c, const struct command_meta *m)
{
    int n = m != NULL ? m->ntips : 0;
    reply_set_len(c, n);
    for (int i = 0; i < n; i++)
        reply_bulk_cstr(c, str(meta_lists[m->tips + i]));
}

void command_meta_reply_key_flags(struct client *c, uint16_t flags)
{
    static const char *const names[] = {
        "RO",     "RW",     "OW",      "RM",         "access",         "update",
        "insert", "delete", "not_key", "incomplete", "variable_flags",
    };
    int n = 0;
    for (size_t i = 0; i < COUNT(names); i++)
        n += (flags >> i) & 1;
    reply_set_len(c, n);
    for (size_t i = 0; i < COUNT(names); i++) {
        if (flags & (1u << i)) reply_status(c, names[i]);
    }
}

static void reply_begin_search(struct client *c, const struct meta_keyspec *ks)
{
    static const char *const types[] = {"unknown", "index", "keyword"};
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, types[ks->bs_type]);
    reply_bulk_cstr(c, "spec");
    if (ks->bs_type == BS_INDEX) {
        reply_map_len(c, 1);
        reply_bulk_cstr(c, "index");
        reply_int(c, ks->pos);
    } else if (ks->bs_type == BS_KEYWORD) {
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "keyword");
        reply_bulk_cstr(c, str(ks->keyword));
        reply_bulk_cstr(c, "startfrom");
        reply_int(c, ks->pos);
    } else {
        reply_map_len(c, 0);
    }
}

static void reply_find_keys(struct client *c, const struct meta_keyspec *ks)
{
    static const char *const types[] = {"unknown", "range", "keynum"};
    static const char *const fields[][3] = {
        {NULL, NULL, NULL},
        {"lastkey", "keystep", "limit"},
        {"keynumidx", "firstkey", "keystep"},
    };
    reply_map_len(c, 2);
    reply_bulk_cstr(c, "type");
    reply_bulk_cstr(c, types[ks->fk_type]);
    reply_bulk_cstr(c, "spec");
    if (ks->fk_type == FK_UNKNOWN) {
        reply_map_len(c, 0);
        return;
    }
    reply_map_len(c, 3);
    for (int i = 0; i < 3; i++) {
        reply_bulk_cstr(c, fields[ks->fk_type][i]);
        reply_int(c, ks->fk[i]);
    }
}

void command_meta_reply_keyspecs(struct client *c, const struct command_meta *m)
{
    int n = m != NULL ? m->nkeyspecs : 0;
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) {
        const struct meta_keyspec *ks = &meta_keyspecs[m->keyspecs + i];
        reply_map_len(c, ks->notes ? 4 : 3);
        if (ks->notes) {
            reply_bulk_cstr(c, "notes");
            reply_bulk_cstr(c, str(ks->notes));
        }
        reply_bulk_cstr(c, "flags");
        command_meta_reply_key_flags(c, ks->flags);
        reply_bulk_cstr(c, "begin_search");
        reply_begin_search(c, ks);
        reply_bulk_cstr(c, "find_keys");
        reply_find_keys(c, ks);
    }
}

/* ---- COMMAND DOCS ---- */

static void reply_field(struct client *c, const char *name, uint16_t value)
{
    if (value == 0) return;
    reply_bulk_cstr(c, name);
    reply_bulk_cstr(c, str(value));
}

static void reply_args(struct client *c, uint16_t first, int n)
{
    static const char *const types[] = {
        "string",    "integer",    "double", "key",   "pattern",
        "unix-time", "pure-token", "oneof",  "block",
    };
    static const char *const flag_names[] = {"optional", "multiple", "multiple_token"};
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        const struct meta_arg *a = &meta_args[first + i];
        bool nested = a->type == ARG_ONEOF || a->type == ARG_BLOCK;
        int fields = 2 + (a->key_spec_index >= 0) + (a->token != 0) + (a->since != 0) +
                     (a->deprecated_since != 0) + (a->flags != 0) + nested;
        reply_map_len(c, fields);
        reply_field(c, "name", a->name);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, types[a->type]);
        if (a->key_spec_index >= 0) {
            reply_bulk_cstr(c, "key_spec_index");
            reply_int(c, a->key_spec_index);
        }
        reply_field(c, "token", a->token);
        reply_field(c, "since", a->since);
        reply_field(c, "deprecated_since", a->deprecated_since);
        if (a->flags != 0) {
            reply_bulk_cstr(c, "flags");
            reply_set_len(c, __builtin_popcount(a->flags));
            for (size_t j = 0; j < COUNT(flag_names); j++) {
                if (a->flags & (1u << j)) reply_status(c, flag_names[j]);
            }
        }
        if (nested) {
            reply_bulk_cstr(c, "arguments");
            reply_args(c, a->children, a->nchildren);
        }
    }
}

int command_meta_doc_fields(const struct command_meta *m)
{
    return 3 + (m->complexity != 0) + (m->doc_flags != 0) + (m->deprecated_since != 0) +
           (m->replaced_by != 0) + (m->nhistory > 0) + (m->nargs >= 0);
}

void command_meta_reply_docs(struct client *c, const struct command_meta *m)
{
    reply_field(c, "summary", m->summary);
    reply_field(c, "since", m->since);
    reply_field(c, "group", m->group);
    reply_field(c, "complexity", m->complexity);
    if (m->doc_flags != 0) {
        reply_bulk_cstr(c, "doc_flags");
        reply_set_len(c, __builtin_popcount(m->doc_flags));
        if (m->doc_flags & DOC_DEPRECATED) reply_status(c, "deprecated");
        if (m->doc_flags & DOC_SYSCMD) reply_status(c, "syscmd");
    }
    reply_field(c, "deprecated_since", m->deprecated_since);
    reply_field(c, "replaced_by", m->replaced_by);
    if (m->nhistory > 0) {
        reply_bulk_cstr(c, "history");
        reply_set_len(c, m->nhistory);
        for (int i = 0; i < m->nhistory; i++) {
            reply_array_len(c, 2);
            reply_bulk_cstr(c, str(meta_lists[m->history + 2 * i]));
            reply_bulk_cstr(c, str(meta_lists[m->history + 2 * i + 1]));
        }
    }
    if (m->nargs >= 0) {
        reply_bulk_cstr(c, "arguments");
        reply_args(c, m->args, m->nargs);
    }
}

/* ---- Keys by key specs (Redis's getKeysUsingKeySpecs) ---- */

/* Where the spec's keys start, or 0 if its keyword is absent; -1 if unknown. */
static int spec_first(const struct meta_keyspec *ks, int argc, const struct slice *argv)
{
    if (ks->bs_type == BS_INDEX) return ks->pos;
    if (ks->bs_type != BS_KEYWORD) return -1;
    /* A negative start searches backwards from the end. */
    int start = ks->pos > 0 ? ks->pos : argc + ks->pos;
    int end = ks->pos > 0 ? argc - 1 : 1;
    for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (slice_eq_nocase(argv[i], str(ks->keyword))) return i + 1;
    }
    return 0;
}

int command_meta_get_keys(const struct command_meta *m, int argc, const struct slice *argv,
                          struct meta_key *out, int max)
{
    int n = 0;
    for (int j = 0; j < m->nkeyspecs; j++) {
        const struct meta_keyspec *ks = &meta_keyspecs[m->keyspecs + j];
        if (ks->flags & KS_NOT_KEY) continue;
        int first = spec_first(ks, argc, argv);
        if (first < 0) return -1;
        if (first == 0) continue;
        int last, step;
        if (ks->fk_type == FK_RANGE) {
            step = ks->fk[1];
            if (ks->fk[0] >= 0) {
                last = first + ks->fk[0];
            } else if (ks->fk[2] == 0) {
                last = argc + ks->fk[0];
            } else {
                last = first + ((argc - first) / ks->fk[2] + ks->fk[0]);
            }
        } else if (ks->fk_type == FK_KEYNUM) {
            step = ks->fk[2];
            long long numkeys;
            int idx = first + ks->fk[0];
            if (idx >= argc || !str_to_ll(argv[idx].ptr, argv[idx].len, &numkeys) || numkeys < 0 ||
                numkeys > argc) {
                return -1;
            }
            first += ks->fk[1];
            last = first + (int)numkeys - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc) return -1;
        for (int i = first; i <= last && n < max; i += step)
            out[n++] = (struct meta_key){i, ks->flags};
        if (ks->flags & KS_INCOMPLETE) return -1;
    }
    return n;
}
