/* webremote: reconnect delays with full-jitter exponential backoff. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Full jitter (the AWS architecture blog's "Exponential Backoff And
 * Jitter"): each delay is uniform in [min, cap] and cap doubles from min up
 * to max, so many agents that lose the gateway at once do not come back in
 * lockstep. */
typedef struct {
  guint min_ms;
  guint max_ms;
  guint cap_ms;   /* upper bound of the next delay */
} WrBackoff;

void wr_backoff_init (WrBackoff *b, guint min_ms, guint max_ms);

/**
 * wr_backoff_next:
 * Returns: the next delay in milliseconds, in [min, cap]; then doubles cap
 * (at most max).
 */
guint wr_backoff_next (WrBackoff *b);

/* After a successful connection: the next delay is back in [min, min]. */
void wr_backoff_reset (WrBackoff *b);

G_END_DECLS
