/* net.h: the libuv glue: listeners, connections, reads, writes, timers and
 * signals. The only module besides server.c that includes <uv.h>. */
#ifndef EMBER_NET_H
#define EMBER_NET_H

#include <stdint.h>

struct client;

/* Creates the loop, binds every configured address, installs signal
 * handlers and the cron timer. Returns 0, or -1 after logging why. */
int net_setup(void);
/* Runs the loop until net_stop(). */
void net_run(void);
/* Stops accepting, closes every client and the loop's handles. */
void net_teardown(void);
/* Makes net_run() return after the current iteration. */
void net_stop(void);
/* Re-arms the cron timer at a new hz. */
void net_set_hz(int hz);

/* Flushes the output of every client on the pending-write list. */
void net_flush_pending(void);
/* Starts closing a client's connection; the client is freed in the close
 * callback. */
void net_close_client(struct client *c);

#endif
