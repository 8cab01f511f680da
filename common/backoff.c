/* webremote: reconnect delays with full-jitter exponential backoff. */
#include "config.h"

#include "common/backoff.h"

void
wr_backoff_init (WrBackoff *b, guint min_ms, guint max_ms)
{
  b->min_ms = MAX (min_ms, 1);
  b->max_ms = MAX (max_ms, b->min_ms);
  b->cap_ms = b->min_ms;
}

guint
wr_backoff_next (WrBackoff *b)
{
  guint delay;

  if (b->cap_ms > b->min_ms)
    delay = (guint) g_random_int_range ((gint32) b->min_ms,
        (gint32) MIN (b->cap_ms, (guint) G_MAXINT32 - 1) + 1);
  else
    delay = b->min_ms;

  if (b->cap_ms >= b->max_ms / 2)
    b->cap_ms = b->max_ms;
  else
    b->cap_ms *= 2;
  return delay;
}

void
wr_backoff_reset (WrBackoff *b)
{
  b->cap_ms = b->min_ms;
}
