/* Tests for pipelines/encoder-probe.c: every encoder is confirmed by a real
 * test encode, and a profile falls back along its list when the preferred
 * encoders are missing (really missing: absent from this host, or removed
 * from the registry in this process) or fail to start. */
#include "config.h"

#include "pipelines/encoder-probe.h"

#include <gst/gst.h>

static WrProfile *
profile_with (const char *encoders)
{
  WrProfile *p = wr_profile_new_builtin ();

  g_strfreev (p->encoders);
  p->encoders = g_strsplit (encoders, ";", -1);
  return p;
}

static WrEncoderProbeResult *
result (GPtrArray *results, guint i)
{
  g_assert_cmpuint (i, <, results->len);
  return g_ptr_array_index (results, i);
}

static gboolean
hardware_present (void)
{
  const char *hw[] = { "nvh264enc", "vah264enc", "qsvh264enc" };

  for (guint i = 0; i < G_N_ELEMENTS (hw); i++) {
    g_autoptr (GstElementFactory) f = gst_element_factory_find (hw[i]);
    if (f)
      return TRUE;
  }
  return FALSE;
}

static void
test_missing_hardware_falls_back_to_x264 (void)
{
  g_autoptr (WrProfile) p = profile_with (
      "nvh264enc;vah264enc;qsvh264enc;x264enc;openh264enc");
  g_autoptr (GPtrArray) results = NULL;
  const char *chosen;

  if (hardware_present ()) {
    g_test_skip ("this host has a hardware H.264 encoder");
    return;
  }
  chosen = wr_profile_choose_encoder (p, &results);
  g_assert_cmpstr (chosen, ==, "x264enc");
  /* Tried in order, stopped at the first that worked. */
  g_assert_cmpuint (results->len, ==, 4);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpstr (result (results, i)->encoder, ==, p->encoders[i]);
    g_assert_true (result (results, i)->hardware);
    g_assert_false (result (results, i)->present);
    g_assert_cmpint (result (results, i)->status, ==,
        WR_ENCODER_NOT_INSTALLED);
    g_assert_cmpstr (result (results, i)->reason, ==, "not installed");
  }
  g_assert_cmpint (result (results, 3)->status, ==, WR_ENCODER_OK);
  g_assert_cmpuint (result (results, 3)->frames, ==, 10);
}

static void
test_failing_encoder_is_skipped_with_its_reason (void)
{
  g_autoptr (WrProfile) p = profile_with ("x264enc;openh264enc");
  g_autoptr (GPtrArray) results = NULL;
  g_autofree char *reason = NULL;
  WrKnobValue v;
  const char *chosen;

  /* pass2 needs a first-pass stats file: x264 is present and configured
   * but cannot start. */
  g_assert_true (wr_knob_parse (wr_knob_lookup ("x264enc", "pass"),
          "pass2", &v, &reason));
  g_ptr_array_add (p->knobs, g_memdup2 (&v, sizeof v));

  chosen = wr_profile_choose_encoder (p, &results);
  g_assert_cmpstr (chosen, ==, "openh264enc");
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpstr (result (results, 0)->encoder, ==, "x264enc");
  g_assert_true (result (results, 0)->present);
  g_assert_cmpint (result (results, 0)->status, ==, WR_ENCODER_FAILED);
  g_assert_cmpuint (result (results, 0)->frames, ==, 0);
  g_test_message ("x264enc: %s", result (results, 0)->reason);
  g_assert_true (g_str_has_prefix (result (results, 0)->reason,
          "failed to start: "));
  g_assert_cmpint (result (results, 1)->status, ==, WR_ENCODER_OK);
  g_assert_cmpuint (result (results, 1)->frames, >, 0);
}

/* A knob the element itself refuses (outside the installed element's
 * range, or a property it does not have) makes the encoder unusable with a
 * reason, instead of being clamped or ignored. */
static void
test_value_the_element_refuses_is_skipped (void)
{
  static const WrKnobSpec too_many_threads = {
    "vp8enc", "threads", WR_KNOB_INT, 0, G_MAXINT, 0, 0, NULL, "threads",
    "test"
  };
  static const WrKnobSpec no_such_property = {
    "x264enc", "warp", WR_KNOB_BOOL, 0, 1, 0, 0, NULL, "warp-drive", "test"
  };
  g_autoptr (WrProfile) p = profile_with ("vp8enc;x264enc;openh264enc");
  g_autoptr (GPtrArray) results = NULL;
  WrKnobValue threads = { &too_many_threads, 100000, 0, NULL, 0 };
  WrKnobValue warp = { &no_such_property, 1, 0, NULL, 0 };

  g_ptr_array_add (p->knobs, g_memdup2 (&threads, sizeof threads));
  g_ptr_array_add (p->knobs, g_memdup2 (&warp, sizeof warp));
  g_assert_cmpstr (wr_profile_choose_encoder (p, &results), ==,
      "openh264enc");
  g_assert_cmpuint (results->len, ==, 3);
  g_assert_cmpint (result (results, 0)->status, ==, WR_ENCODER_FAILED);
  g_assert_cmpstr (result (results, 0)->reason, ==, "cannot configure: "
      "vp8enc property 'threads': 100000 is out of its range 0..64");
  g_assert_cmpint (result (results, 1)->status, ==, WR_ENCODER_FAILED);
  g_assert_cmpstr (result (results, 1)->reason, ==, "cannot configure: "
      "x264enc property 'warp-drive': no such property in this version of "
      "the element");
  g_assert_cmpint (result (results, 2)->status, ==, WR_ENCODER_OK);
}

static void
test_probe_all_lists_hardware_first (void)
{
  g_autoptr (GPtrArray) all = wr_encoder_probe_all (
      WR_ENCODER_TEST_TIMEOUT_MS);
  gboolean seen_software = FALSE;
  gboolean x264_ok = FALSE;

  g_assert_cmpuint (all->len, ==, 8);
  for (guint i = 0; i < all->len; i++) {
    WrEncoderProbeResult *r = result (all, i);
    g_autoptr (GstElementFactory) f = gst_element_factory_find (r->encoder);

    if (!r->hardware)
      seen_software = TRUE;
    else
      g_assert_false (seen_software);
    g_assert_cmpint (r->present, ==, f != NULL);
    if (!f)
      g_assert_cmpint (r->status, ==, WR_ENCODER_NOT_INSTALLED);
    if (g_str_equal (r->encoder, "x264enc"))
      x264_ok = r->status == WR_ENCODER_OK;
  }
  g_assert_true (x264_ok);
}

/* Last: changes this process's registry for good. */
static void
test_x264_removed_falls_back_to_openh264 (void)
{
  g_autoptr (WrProfile) p = profile_with (
      "nvh264enc;vah264enc;qsvh264enc;x264enc;openh264enc");
  g_autoptr (GPtrArray) results = NULL;
  GstRegistry *registry = gst_registry_get ();
  GstPluginFeature *x264 = gst_registry_lookup_feature (registry, "x264enc");
  g_auto (GStrv) present = NULL;

  if (hardware_present ()) {
    g_test_skip ("this host has a hardware H.264 encoder");
    return;
  }
  g_assert_nonnull (x264);
  gst_registry_remove_feature (registry, x264);
  gst_object_unref (x264);

  g_assert_cmpstr (wr_profile_choose_encoder (p, &results), ==,
      "openh264enc");
  g_assert_cmpuint (results->len, ==, 5);
  g_assert_cmpstr (result (results, 3)->encoder, ==, "x264enc");
  g_assert_cmpint (result (results, 3)->status, ==,
      WR_ENCODER_NOT_INSTALLED);
  g_assert_cmpstr (result (results, 3)->reason, ==, "not installed");
  g_assert_cmpint (result (results, 4)->status, ==, WR_ENCODER_OK);

  /* The registry-only view agrees. */
  present = wr_encoder_probe ();
  g_assert_false (g_strv_contains ((const char *const *) present,
          "x264enc"));
  g_assert_cmpstr (wr_encoder_choose ((const char *const *) present), ==,
      "openh264enc");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/pipelines/encoder/missing-hardware-falls-back-to-x264",
      test_missing_hardware_falls_back_to_x264);
  g_test_add_func ("/pipelines/encoder/failing-encoder-is-skipped-with-reason",
      test_failing_encoder_is_skipped_with_its_reason);
  g_test_add_func ("/pipelines/encoder/value-the-element-refuses-is-skipped",
      test_value_the_element_refuses_is_skipped);
  g_test_add_func ("/pipelines/encoder/probe-lists-hardware-first",
      test_probe_all_lists_hardware_first);
  g_test_add_func ("/pipelines/encoder/x264-removed-falls-back-to-openh264",
      test_x264_removed_falls_back_to_openh264);
  return g_test_run ();
}
