/* Unit tests for agent/encoder-probe.c: encoder choice and fallback. */
#include "config.h"

#include "agent/encoder-probe.h"

#include <gst/gst.h>

static void
test_prefers_x264 (void)
{
  const char *const all[] = { "vp8enc", "openh264enc", "x264enc", NULL };

  g_assert_cmpstr (wr_encoder_choose (all), ==, "x264enc");
}

static void
test_falls_back_to_openh264 (void)
{
  const char *const some[] = { "vp8enc", "openh264enc", NULL };

  g_assert_cmpstr (wr_encoder_choose (some), ==, "openh264enc");
}

static void
test_none_usable (void)
{
  const char *const vp8_only[] = { "vp8enc", "vp9enc", NULL };
  const char *const none[] = { NULL };

  g_assert_null (wr_encoder_choose (vp8_only));
  g_assert_null (wr_encoder_choose (none));
  g_assert_null (wr_encoder_choose (NULL));
}

static void
test_probe_lists_registered_encoders (void)
{
  g_auto (GStrv) found = wr_encoder_probe ();

  g_assert_nonnull (found);
  for (int i = 0; found[i]; i++) {
    g_autoptr (GstElementFactory) f = gst_element_factory_find (found[i]);
    g_assert_nonnull (f);
  }
  /* The project's scripts install x264 (gstreamer1.0-plugins-ugly). */
  if (!g_strv_contains ((const char *const *) found, "x264enc"))
    g_test_skip ("x264enc is not installed");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/agent/encoder/x264-is-preferred", test_prefers_x264);
  g_test_add_func ("/agent/encoder/falls-back-to-openh264",
      test_falls_back_to_openh264);
  g_test_add_func ("/agent/encoder/no-h264-encoder-means-none",
      test_none_usable);
  g_test_add_func ("/agent/encoder/probe-lists-only-registered-encoders",
      test_probe_lists_registered_encoders);
  return g_test_run ();
}
