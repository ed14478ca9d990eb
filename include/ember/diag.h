/* diag.h: what operators look at: MONITOR, SLOWLOG, LATENCY, and the
 * per-command latency histograms behind INFO latencystats.
 *
 * command_call() reports every executed command once, with its duration,
 * through diag_after_command(); everything here hangs off that call, so
 * the hot path pays one branch per feature that is switched off. */
#ifndef EMBER_DIAG_H
#define EMBER_DIAG_H

#include <stdbool.h>

struct client;
struct command;
struct sbuf;

/* After a command ran for `usec` microseconds on c->argv. */
void diag_after_command(struct client *c, struct command *cmd, long long usec);

/* A monitor client going away. */
void diag_forget(struct client *c);

/* Appends INFO's "# Latencystats" body (latency_percentiles_usec_<cmd>
 * lines) to buf via the callback. */
typedef void diag_print_fn(void *arg, const char *line);
void diag_latencystats(diag_print_fn *fn, void *arg);

void diag_setup(void);
void diag_teardown(void);

#endif
