/* log.h: the server log, in Redis's line format.
 *
 *   1234:M 25 Nov 2026 02:33:58.123 * Ready to accept connections
 *
 * pid, role ('M'), local time with milliseconds, a level mark ('.' debug,
 * '-' verbose, '*' notice, '#' warning) and the message. Lines below the
 * configured level are dropped before formatting. */
#ifndef EMBER_LOG_H
#define EMBER_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING, LOG_NOTHING };

/* Sets the level and the destination: `path` NULL or "" means stdout. Returns
 * 0, or -1 (errno set) when the file cannot be opened for appending; the old
 * destination stays in force then. */
int log_setup(enum log_level level, const char *path);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Closes a log file opened by log_setup(). */
void log_teardown(void);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...)   log_write(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_write(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...)  log_write(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...)    log_write(LOG_WARNING, __VA_ARGS__)

#endif
