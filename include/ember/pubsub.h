/* pubsub.h: publish/subscribe and keyspace notifications.
 *
 * Channels map to the clients subscribed to them; patterns are kept with
 * their subscribers and matched against each published channel. A client
 * with any subscription is "in subscribed mode": in RESP2 it may then only
 * run (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET (command.c asks
 * pubsub_allowed_in_subscribed_mode()). Messages are RESP3 push frames for
 * RESP3 clients and arrays for RESP2 ones.
 *
 * Keyspace notifications (notify-keyspace-events) publish to
 * __keyspace@<db>__:<key> and __keyevent@<db>__:<event>. */
#ifndef EMBER_PUBSUB_H
#define EMBER_PUBSUB_H

#include <stdbool.h>

#include "ember/util.h"

struct client;
struct command;

/* Per-client subscriptions (owned by the client). */
struct pubsub_state {
    struct slice *channels; /* owned copies */
    int channel_count;
    int channel_cap;
    struct slice *patterns;
    int pattern_count;
    int pattern_cap;
    struct slice *shard_channels;
    int shard_count;
    int shard_cap;
};

void pubsub_setup(void);
void pubsub_teardown(void);

/* Sends `msg` on `channel` to every subscriber; returns how many got it. */
long long pubsub_publish(struct slice channel, struct slice msg);

/* Subscriptions of a client (channels + patterns), for "subscribed mode". */
int pubsub_count(const struct client *c);
int pubsub_pattern_count(const struct client *c);
/* Drops every subscription of a client (disconnect, RESET). */
void pubsub_release(struct client *c);

/* True if `cmd` may run while a RESP2 client is subscribed. */
bool pubsub_allowed_in_subscribed_mode(const struct command *cmd);

/* Publishes a keyspace event if notify-keyspace-events asks for its class
 * (`type` is one of config.h's NOTIFY_* bits). Cheap when notifications
 * are off, the default. */
void notify_keyspace_event(int type, const char *event, struct slice key, int dbid);

#endif
