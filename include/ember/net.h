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

/* While a script runs (the loop is inside a callback and libuv's uv_run is
 * not reentrant): reads whatever other clients sent, without blocking,
 * executes it (dispatch answers -BUSY to most commands), and flushes their
 * replies. Call it from the script's periodic hook. */
void net_poll_while_busy(void);

/* Flushes the output of every client on the pending-write list. */
void net_flush_pending(void);
/* Starts closing a client's connection; the client is freed in the close
 * callback. */
void net_close_client(struct client *c);

#endif
