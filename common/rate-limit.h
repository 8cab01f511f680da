/* webremote: token-bucket rate limiter for messages from the network. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double rate;      /* tokens added per second */
  double burst;     /* bucket size */
  double tokens;
  gint64 last_us;   /* g_get_monotonic_time() of the last refill */
} WrRateLimit;

/**
 * wr_rate_limit_init:
 * Starts a full bucket of @burst tokens refilled at @rate per second.
 */
void wr_rate_limit_init (WrRateLimit *rl, double rate, double burst);

/**
 * wr_rate_limit_take:
 * Returns: %TRUE and takes one token when one is available, else %FALSE.
 */
gboolean wr_rate_limit_take (WrRateLimit *rl);

G_END_DECLS
