/* Tests for the agent's use of pipelines/encoder-probe.c and profiles:
 * encoder choice by registry presence, and display pipelines built from a
 * profile (test-pattern source, no X server): the chosen encoder, the
 * output size, the pinned H.264 profile and the RTP codec reach a peer. */
#include "config.h"

#include "agent/display-pipeline.h"
#include "pipelines/encoder-probe.h"

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
  g_assert_true (g_strv_contains ((const char *const *) found, "x264enc"));
}

typedef struct {
  gint buffers;
  GstCaps *caps;       /* last caps seen at the peer, under the lock */
  GMutex lock;
} Peer;

static GstPadProbeReturn
peer_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Peer *peer = data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    g_atomic_int_inc (&peer->buffers);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))
      == GST_EVENT_CAPS) {
    GstCaps *caps;
    gst_event_parse_caps (GST_PAD_PROBE_INFO_EVENT (info), &caps);
    g_mutex_lock (&peer->lock);
    gst_caps_replace (&peer->caps, caps);
    g_mutex_unlock (&peer->lock);
  }
  return GST_PAD_PROBE_OK;
}

/* Runs @profile with @encoder into a fakesink "peer" until it received
 * RTP; returns the caps the peer saw and the encoder's output caps. */
static void
run_profile (const WrProfile *profile, const char *encoder,
    GstCaps **rtp_caps, GstCaps **encoded_caps, int *width, int *height)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDisplayPipeline) p = NULL;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (sink, "sink");
  g_autoptr (GstElement) enc_filter = NULL;
  g_autoptr (GstPad) enc_pad = NULL;
  Peer peer = { 0 };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_mutex_init (&peer.lock);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER
      | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, peer_probe, &peer, NULL);

  p = wr_display_pipeline_new_for_profile (":unused", profile, encoder,
      &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpstr (wr_display_pipeline_get_encoder (p), ==, encoder);
  g_assert_cmpstr (wr_display_pipeline_get_profile_name (p), ==,
      profile->name);
  g_assert_true (wr_display_pipeline_add_branch (p, sink, &error));
  g_assert_no_error (error);
  while (g_atomic_int_get (&peer.buffers) < 5
      && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpint (g_atomic_int_get (&peer.buffers), >=, 5);

  g_mutex_lock (&peer.lock);
  *rtp_caps = gst_caps_ref (peer.caps);
  g_mutex_unlock (&peer.lock);
  /* The encoded stream, as the payloader got it. */
  {
    GstElement *pipeline = GST_ELEMENT (gst_object_get_parent (
            GST_OBJECT (sink)));
    enc_filter = gst_bin_get_by_name (GST_BIN (pipeline), "encoded");
    gst_object_unref (pipeline);
  }
  enc_pad = gst_element_get_static_pad (enc_filter, "src");
  *encoded_caps = gst_pad_get_current_caps (enc_pad);
  g_assert_true (wr_display_pipeline_get_video_size (p, width, height));

  wr_display_pipeline_remove_branch (p, sink);
  wr_display_pipeline_stop (p);
  gst_clear_caps (&peer.caps);
  g_mutex_clear (&peer.lock);
}

/* profile_idc and the constraint flags of the SPS the peer was told about
 * (sprop-parameter-sets, RFC 6184 section 8.1), i.e. what the encoder
 * really produced. */
static void
sps_profile (GstCaps *rtp, guint *profile_idc, guint *constraints)
{
  const char *sets = gst_structure_get_string (gst_caps_get_structure (rtp,
          0), "sprop-parameter-sets");
  g_auto (GStrv) parts = NULL;
  g_autofree guchar *sps = NULL;
  gsize len = 0;

  g_assert_nonnull (sets);
  parts = g_strsplit (sets, ",", -1);
  sps = g_base64_decode (parts[0], &len);
  g_assert_cmpuint (len, >=, 4);
  g_assert_cmpuint (sps[0] & 0x1f, ==, 7);   /* NAL type: SPS */
  *profile_idc = sps[1];
  *constraints = sps[2];
}

static WrProfile *
test_profile (const char *encoders)
{
  WrProfile *p = wr_profile_new_builtin ();

  g_free (p->name);
  p->name = g_strdup ("test");
  p->source = WR_SOURCE_TEST;
  p->width = 640;
  p->height = 360;
  p->framerate = 60;
  g_strfreev (p->encoders);
  p->encoders = g_strsplit (encoders, ";", -1);
  return p;
}

static void
test_h264_main_profile_is_pinned (void)
{
  g_autoptr (WrProfile) profile = test_profile (
      "nvh264enc;vah264enc;x264enc");
  g_autoptr (GstCaps) rtp = NULL;
  g_autoptr (GstCaps) encoded = NULL;
  g_autofree char *reason = NULL;
  WrKnobValue v;
  const char *encoder;
  int w = 0, h = 0;
  guint idc = 0, constraints = 0;

  /* veryfast alone would make x264 produce High, which Chromium
   * refuses; the profile's h264-profile must win. */
  profile->h264_profile = WR_H264_MAIN;
  g_assert_true (wr_knob_parse (wr_knob_lookup ("x264enc", "speed-preset"),
          "veryfast", &v, &reason));
  g_ptr_array_add (profile->knobs, g_memdup2 (&v, sizeof v));
  encoder = wr_profile_choose_encoder (profile, NULL);
  g_assert_cmpstr (encoder, ==, "x264enc");

  run_profile (profile, encoder, &rtp, &encoded, &w, &h);
  g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (
              encoded, 0), "profile"), ==, "main");
  g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (rtp,
              0), "encoding-name"), ==, "H264");
  sps_profile (rtp, &idc, &constraints);
  g_assert_cmpuint (idc, ==, 77);            /* main, not High (100) */
  g_assert_cmpint (w, ==, 640);
  g_assert_cmpint (h, ==, 360);
}

static void
test_default_is_constrained_baseline (void)
{
  g_autoptr (WrProfile) profile = test_profile ("openh264enc");
  g_autoptr (GstCaps) rtp = NULL;
  g_autoptr (GstCaps) encoded = NULL;
  int w = 0, h = 0;
  guint idc = 0, constraints = 0;

  profile->width = 320;
  profile->height = 240;
  run_profile (profile, "openh264enc", &rtp, &encoded, &w, &h);
  {
    g_autofree char *a = gst_caps_to_string (rtp);
    g_autofree char *b = gst_caps_to_string (encoded);
    g_test_message ("rtp caps: %s; encoded caps: %s", a, b);
  }
  g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (
              encoded, 0), "profile"), ==, "constrained-baseline");
  sps_profile (rtp, &idc, &constraints);
  g_assert_cmpuint (idc, ==, 66);            /* baseline ... */
  g_assert_cmpuint (constraints & 0x40, ==, 0x40);  /* ... constrained */
  g_assert_cmpint (w, ==, 320);
}

static void
test_vp8_profile_sends_vp8 (void)
{
  g_autoptr (WrProfile) profile = test_profile ("vp8enc");
  g_autoptr (GstCaps) rtp = NULL;
  g_autoptr (GstCaps) encoded = NULL;
  int w = 0, h = 0;

  profile->width = 0;
  profile->height = 0;
  profile->scale = 0.25;     /* of the test source's 1280x720 */
  run_profile (profile, "vp8enc", &rtp, &encoded, &w, &h);
  g_assert_true (gst_structure_has_name (gst_caps_get_structure (encoded, 0),
          "video/x-vp8"));
  g_assert_cmpstr (gst_structure_get_string (gst_caps_get_structure (rtp,
              0), "encoding-name"), ==, "VP8");
  g_assert_cmpint (w, ==, 320);
  g_assert_cmpint (h, ==, 180);
}

/* The session manager still calls wr_display_pipeline_new() with its own
 * encoder; the agent's active profile decides. */
static void
test_default_profile_wins (void)
{
  g_autoptr (WrProfile) profile = test_profile ("openh264enc");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDisplayPipeline) p = NULL;

  wr_display_pipeline_set_default_profile (profile, "openh264enc");
  p = wr_display_pipeline_new (":unused", "x264enc", 30, 6000, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_display_pipeline_get_encoder (p), ==, "openh264enc");
  g_assert_cmpstr (wr_display_pipeline_get_profile_name (p), ==, "test");
  wr_display_pipeline_stop (p);
  wr_display_pipeline_set_default_profile (NULL, NULL);
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
  g_test_add_func ("/agent/display-pipeline/h264-main-profile-is-pinned",
      test_h264_main_profile_is_pinned);
  g_test_add_func ("/agent/display-pipeline/default-is-constrained-baseline",
      test_default_is_constrained_baseline);
  g_test_add_func ("/agent/display-pipeline/vp8-profile-sends-vp8",
      test_vp8_profile_sends_vp8);
  g_test_add_func ("/agent/display-pipeline/active-profile-decides",
      test_default_profile_wins);
  return g_test_run ();
}
