/* persist.h: snapshots on disk (SAVE, BGSAVE, save points, start-up load),
 * built on the RDB codec (rdb.h). The commands are in t_persist.c. */
#ifndef EMBER_PERSIST_H
#define EMBER_PERSIST_H

#include <stdbool.h>

/* What INFO persistence and LASTSAVE report. */
struct persist_status {
    long long changes_since_last_save; /* server.dirty since the last save */
    bool bgsave_in_progress;
    long long last_save_time; /* unix seconds (start-up time until a save) */
    bool last_bgsave_ok;
    long long last_bgsave_time_sec;    /* -1 before the first */
    long long current_bgsave_time_sec; /* -1 when none runs */
    long long saves;                   /* successful saves since start-up */
    long long save_keys_total;         /* keys of the running BGSAVE, else 0 */
    long long save_keys_processed;     /* its last progress report (about 1/s) */
    double fork_perc;                  /* processed / total, in percent */
    long long cow_size, cow_peak;      /* the running child's private dirty bytes */
    long long cow_size_age;            /* seconds since cow_size was measured */
    long long last_cow_size;           /* bytes the last BGSAVE child dirtied */
    long long last_load_keys_loaded;   /* by the start-up load */
    long long last_load_keys_expired;
    long long latest_fork_usec; /* INFO stats */
    long long total_forks;
};
void persist_status(struct persist_status *out);

/* Writes the keyspace to dir/dbfilename now (temp file, fsync, rename).
 * 0 or -1 (logged). */
int persist_save_sync(void);
/* Reaps a finished BGSAVE child and starts one when a save point is due;
 * call from server_cron. */
void persist_cron(void);
/* Loads dbfilename (relative to dir, the working directory) if it exists.
 * 0 (loaded or no file) or -1 (the reason is logged; Redis exits). */
int persist_load_at_startup(void);
/* Saves before exiting when save points are configured (kills a running
 * BGSAVE child first). */
void persist_save_on_shutdown(void);

#endif
