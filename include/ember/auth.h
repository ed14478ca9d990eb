/* auth.h: who may run commands: requirepass, AUTH and protected mode.
 *
 * ember has Redis's "default" user only. With `requirepass` set, a new
 * connection is unauthenticated: dispatch answers NOAUTH to everything but
 * the commands flagged CMD_NO_AUTH (AUTH, HELLO, QUIT, RESET), and the
 * parser applies Redis's tighter unauthenticated request limits. Passwords
 * are compared in constant time. */
#ifndef EMBER_AUTH_H
#define EMBER_AUTH_H

#include <stdbool.h>

#include "ember/util.h"

struct client;

/* True if the default user has a password (requirepass). */
bool auth_required(void);
/* Sets the client's initial state on connect (authenticated iff no password). */
void auth_client_init(struct client *c);
/* Checks user/password for the default user; on success marks the client
 * authenticated. `user` NULL means "default". */
bool auth_check(struct client *c, const struct slice *user, struct slice pass);
/* Redis's protected-mode rule: a non-loopback peer while the default user
 * has no password. */
bool auth_protected_mode_denies(const struct client *c);
/* The text Redis sends before closing such a connection (without '-' and
 * CRLF). */
extern const char auth_denied_message[];

#endif
