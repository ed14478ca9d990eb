/* script.h: server-side Lua, as Redis 7.0 runs it.
 *
 * Three files share this header:
 *  - script_lua.c: the runtime. A sandboxed Lua 5.1 VM (Debian's liblua5.1
 *    with lua-cjson and lua-bitop), the redis.* API, the conversions between
 *    RESP replies and Lua values in both directions, and one invocation at a
 *    time with its checks (read-only scripts, OOM, SCRIPT KILL, busy state).
 *  - script.c: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with the cache
 *    of compiled scripts keyed by SHA1.
 *  - function.c: FUNCTION and FCALL/FCALL_RO, libraries registered with
 *    redis.register_function().
 *
 * EVAL and functions each own a VM, as in Redis, so flushing one never
 * touches the other. A script runs atomically: nothing else executes while
 * it runs, except that past busy-reply-threshold the VM's count hook lets
 * the event loop answer other clients with -BUSY (net_poll_while_busy()),
 * and SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE get through. */
#ifndef EMBER_SCRIPT_H
#define EMBER_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember/util.h"

struct client;
struct lua_State;
struct script_vm;

/* Flags a script declares: "#!lua flags=..." on EVAL, the `flags` field of
 * redis.register_function(). */
enum script_flag {
    SCRIPT_FLAG_NO_WRITES = 1 << 0,
    SCRIPT_FLAG_ALLOW_OOM = 1 << 1,
    SCRIPT_FLAG_ALLOW_STALE = 1 << 2,
    SCRIPT_FLAG_NO_CLUSTER = 1 << 3,
    SCRIPT_FLAG_ALLOW_CROSS_SLOT = 1 << 4,
    /* An EVAL script without a shebang: Redis 6 rules (no flags checked up
     * front, writes allowed unless the command is EVAL_RO). */
    SCRIPT_FLAG_EVAL_COMPAT = 1 << 5,
};

/* Parses a flag name ("no-writes", "allow-oom", "allow-stale", "no-cluster",
 * "allow-cross-slot-keys") into *flag; false if unknown. The shebang matches
 * names exactly, redis.register_function() ignoring case. */
bool script_flag_parse(const char *name, size_t len, bool nocase, unsigned *flag);
/* Appends the names of `flags` (EVAL_COMPAT excluded) as RESP set members,
 * returning how many (FUNCTION LIST). */
int script_flags_reply(struct client *c, unsigned flags);

/* ---- The VM ---- */

enum script_vm_kind { SCRIPT_VM_EVAL, SCRIPT_VM_FUNCTIONS };

/* A sandboxed Lua VM with its own non-connected client for redis.call().
 * A functions VM has a second set of globals that library code sees while
 * FUNCTION LOAD runs it: redis.register_function (`register_fn`, function.c's),
 * redis.log and the version; pass NULL for an EVAL VM. */
struct script_vm *script_vm_create(enum script_vm_kind kind,
                                   int (*register_fn)(struct lua_State *));
/* Frees the VM; NULL is a no-op. Must not be called while a script runs. */
void script_vm_destroy(struct script_vm *vm);
struct lua_State *script_vm_lua(struct script_vm *vm);
/* Bytes the VM's allocator holds (INFO used_memory_vm_*). */
size_t script_vm_memory(const struct script_vm *vm);

/* Compiles `code` as a chunk named `chunkname` ("@user_script") and pushes
 * the resulting function. Returns false with the Lua message pushed instead
 * ("user_script:1: unexpected symbol near ..."). */
bool script_vm_compile(struct script_vm *vm, const char *code, size_t len, const char *chunkname);

/* What one invocation needs: the Lua function to call must be on the top of
 * the VM's stack; it is consumed. */
struct script_call {
    struct client *caller;
    const char *funcname; /* the SHA for EVAL, the function name for FCALL */
    unsigned flags;       /* enum script_flag */
    bool ro;              /* EVAL_RO, EVALSHA_RO, FCALL_RO */
    bool eval;            /* KEYS/ARGV globals; else (keys, args) parameters */
    const struct slice *keys;
    int nkeys;
    const struct slice *args;
    int nargs;
};

/* Runs the function on the top of the VM's stack for `call->caller` and
 * replies its result, or the error ("ERR user_script:1: ... script: <sha>,
 * on @user_script:1."). Checks the declared flags first (writes through a
 * *_RO command, OOM) and replies their errors without running. */
void script_vm_call(struct script_vm *vm, const struct script_call *call);

/* Functions VM: runs the library chunk on the top of the stack (consumed)
 * with the load-time globals, giving up after `timeout_ms` (0: never).
 * Returns false with *err (em_malloc'd) set to the message ("ERR
 * user_function:2: ..."). */
bool script_vm_load(struct script_vm *vm, long long timeout_ms, char **err);
/* Pushes Redis's error table {err="ERR <msg>"} (for register_function). */
void script_push_error(struct lua_State *L, const char *msg);

/* True while a script or function executes (for FUNCTION STATS, and to keep
 * SCRIPT FLUSH / FUNCTION FLUSH from freeing a running VM). */
bool script_is_running(void);
/* The running script's name, command line and milliseconds so far (for
 * FUNCTION STATS); false when none runs. */
bool script_running_info(const char **name, const struct client **caller, long long *ms,
                         bool *is_eval);
/* SCRIPT KILL (is_eval) / FUNCTION KILL: marks the running script to stop at
 * its next hook, or replies NOTBUSY / UNKILLABLE / BUSY. */
void script_kill(struct client *c, bool is_eval);

/* Pushes the Lua value redis.call() makes of one RESP2/RESP3 reply held in
 * p[0..len): integer -> number, bulk -> string, null bulk and null array ->
 * false, array -> table, status -> {ok=...}, error -> {err=...}, map ->
 * {map={...}}, set -> {set={m=true}}, null -> nil, boolean, double ->
 * {double=n}, big number -> {big_number=...}, verbatim ->
 * {verbatim_string={format=..., string=...}}; attributes are skipped. A
 * truncated reply is read as far as it goes (never past len). */
void script_reply_to_lua(struct lua_State *L, const char *p, size_t len);

/* SHA1 of `len` bytes as 40 lower-case hex digits and a NUL. */
void script_sha1hex(char out[41], const char *p, size_t len);
/* The same SHA1 as 20 raw bytes (DEBUG DIGEST uses it too). */
void script_sha1(uint8_t out[20], const void *p, size_t len);

/* ---- Start-up and shutdown (server.c) ---- */

/* script.c and function.c create their VMs lazily on first use; these free
 * them at shutdown so a leak check sees nothing. */
void script_teardown(void);
void function_teardown(void);

/* Persistence (rdb.c): every library's code, for RDB_OPCODE_FUNCTION2
 * records; and loading one back (as FUNCTION LOAD REPLACE, without the load
 * time limit). false with *err (em_malloc'd) set on failure. */
void function_each_library(void (*cb)(const char *code, size_t len, void *arg), void *arg);
bool function_load_library(const char *code, size_t len, char **err);

/* INFO figures. */
size_t script_eval_memory(void);        /* used_memory_vm_eval */
size_t script_cache_memory(void);       /* used_memory_scripts_eval */
long long script_cache_count(void);     /* number_of_cached_scripts */
size_t function_vm_memory(void);        /* used_memory_vm_functions */
size_t function_memory(void);           /* used_memory_functions */
long long function_count(void);         /* number_of_functions */
long long function_library_count(void); /* number_of_libraries */

#endif
