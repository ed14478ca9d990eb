/* log.c: the server log, in Redis's line format.
 *
 *   1234:M 25 Nov 2026 02:33:58.123 * Ready to accept connections
 *
 * Each line is formatted whole and written with one fprintf, then flushed,
 * so a crash loses nothing already logged. A log file is opened for
 * appending and closed again around every line, as Redis's serverLogRaw()
 * does: a log rotated away by logrotate (rename, no copytruncate) is
 * followed by the next line without a signal or a restart. log_setup()
 * opens the file once only to report a bad path up front.
 *
 * Messages longer than Redis's LOG_MAX_LEN (1024 bytes) are cut, as there.
 * The module keeps its state in file statics: there is one log per process. */
#include "ember/log.h"

#include "ember/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_LEN 1024 /* Redis's limit for one message */

static enum log_level log_level = LOG_NOTICE;
static char *log_path; /* NULL: stdout */

int log_setup(enum log_level level, const char *path)
{
    char *new_path = NULL;
    if (path != NULL && path[0] != '\0') {
        FILE *fp = fopen(path, "a");
        if (fp == NULL) return -1; /* errno from fopen */
        fclose(fp);
        new_path = em_strndup(path, strlen(path));
    }
    em_free(log_path);
    log_path = new_path;
    log_level = level;
    return 0;
}

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

void log_teardown(void)
{
    em_free(log_path);
    log_path = NULL;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < log_level || level >= LOG_NOTHING) return;

    char msg[LOG_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timeval tv;
    struct tm tm;
    char when[64];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));

    /* Keep errno as the caller left it: a log line between a failing call
     * and its strerror() must not change the story. */
    int saved_errno = errno;
    FILE *fp = log_path == NULL ? stdout : fopen(log_path, "a");
    if (fp != NULL) {
        /* 'M': ember has no replicas, so every process is a master. */
        fprintf(fp, "%d:M %s %c %s\n", (int)getpid(), when, marks[level], msg);
        fflush(fp);
        if (fp != stdout) fclose(fp);
    }
    errno = saved_errno;
}
