/* Unit tests for agent/backoff.c: full-jitter exponential backoff. */
#include "config.h"

#include "common/backoff.h"

static void
test_delays_stay_within_the_growing_cap (void)
{
  WrBackoff b;
  guint cap = 500;

  wr_backoff_init (&b, 500, 8000);
  for (int i = 0; i < 20; i++) {
    guint d = wr_backoff_next (&b);
    g_assert_cmpuint (d, >=, 500);
    g_assert_cmpuint (d, <=, cap);
    cap = MIN (cap * 2, 8000);
  }
  g_assert_cmpuint (b.cap_ms, ==, 8000);
}

static void
test_delays_are_jittered (void)
{
  WrBackoff b;
  guint min = G_MAXUINT, max = 0;

  wr_backoff_init (&b, 100, 10000);
  for (int i = 0; i < 10; i++)
    wr_backoff_next (&b);
  for (int i = 0; i < 200; i++) {
    guint d = wr_backoff_next (&b);
    min = MIN (min, d);
    max = MAX (max, d);
  }
  /* Uniform in [100, 10000]: 200 draws spread out. */
  g_assert_cmpuint (max - min, >, 5000);
}

static void
test_reset_starts_over (void)
{
  WrBackoff b;

  wr_backoff_init (&b, 500, 8000);
  for (int i = 0; i < 10; i++)
    wr_backoff_next (&b);
  wr_backoff_reset (&b);
  g_assert_cmpuint (wr_backoff_next (&b), ==, 500);
  g_assert_cmpuint (wr_backoff_next (&b), <=, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/backoff/delays-stay-within-the-doubling-cap",
      test_delays_stay_within_the_growing_cap);
  g_test_add_func ("/agent/backoff/delays-are-jittered",
      test_delays_are_jittered);
  g_test_add_func ("/agent/backoff/reset-after-welcome-starts-over",
      test_reset_starts_over);
  return g_test_run ();
}
