/* webremote: token-bucket rate limiter for messages from the network. */
#include "config.h"

#include "common/rate-limit.h"

void
wr_rate_limit_init (WrRateLimit *rl, double rate, double burst)
{
  rl->rate = rate;
  rl->burst = burst;
  rl->tokens = burst;
  rl->last_us = g_get_monotonic_time ();
}

gboolean
wr_rate_limit_take (WrRateLimit *rl)
{
  gint64 now = g_get_monotonic_time ();

  rl->tokens += (double) (now - rl->last_us) * rl->rate / G_USEC_PER_SEC;
  if (rl->tokens > rl->burst)
    rl->tokens = rl->burst;
  rl->last_us = now;
  if (rl->tokens < 1.0)
    return FALSE;
  rl->tokens -= 1.0;
  return TRUE;
}
