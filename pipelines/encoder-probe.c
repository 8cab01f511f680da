/* webremote pipelines: which video encoders this machine can use, each
 * confirmed by a short real encode. */
#include "config.h"

#include "pipelines/encoder-probe.h"

#include <gst/gst.h>

#include "pipelines/encoder-element.h"

GST_DEBUG_CATEGORY_STATIC (wr_encoder_probe_debug);
#define GST_CAT_DEFAULT wr_encoder_probe_debug

#define TEST_FRAMES 10
#define TEST_WIDTH 320
#define TEST_HEIGHT 240

/* What the built-in profile can fall back to by registry presence alone:
 * x264 first because ultrafast/zerolatency is cheap and always yields
 * constrained baseline, which every browser decodes. */
static const char *const builtin_encoders[] = {
  "x264enc", "openh264enc", NULL
};

static void
debug_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr_encoder_probe_debug, "wr-encoder-probe", 0,
        "webremote encoder probe");
    g_once_init_leave (&once, 1);
  }
}

const char *
wr_encoder_status_name (WrEncoderStatus status)
{
  switch (status) {
    case WR_ENCODER_OK:
      return "ok";
    case WR_ENCODER_NOT_INSTALLED:
      return "not-installed";
    case WR_ENCODER_FAILED:
      return "failed";
    case WR_ENCODER_TIMED_OUT:
      return "timed-out";
  }
  return "?";
}

void
wr_encoder_probe_result_free (WrEncoderProbeResult *r)
{
  if (!r)
    return;
  g_free (r->encoder);
  g_free (r->reason);
  g_free (r);
}

static GstPadProbeReturn
count_buffers (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

static gpointer
stop_pipeline_thread (gpointer data)
{
  GstElement *pipeline = data;

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return NULL;
}

static void
finish (WrEncoderProbeResult *r, WrEncoderStatus status, gint64 start,
    const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static void
finish (WrEncoderProbeResult *r, WrEncoderStatus status, gint64 start,
    const char *fmt, ...)
{
  va_list args;

  r->status = status;
  va_start (args, fmt);
  g_free (r->reason);
  r->reason = g_strdup_vprintf (fmt, args);
  va_end (args);
  r->elapsed_ms = (g_get_monotonic_time () - start) / 1000;
}

WrEncoderProbeResult *
wr_encoder_test (const char *encoder, const WrProfile *profile,
    guint timeout_ms)
{
  WrEncoderProbeResult *r = g_new0 (WrEncoderProbeResult, 1);
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);
  g_autoptr (GstElementFactory) factory = NULL;
  g_autoptr (WrProfile) builtin = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstCaps) raw_caps = NULL;
  g_autoptr (GstCaps) out_caps = NULL;
  g_autoptr (GstPad) sink_pad = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GstMessage) msg = NULL;
  GstElement *src, *raw, *enc, *out, *sink;
  gint frames = 0;
  gulong probe_id;
  gint64 start = g_get_monotonic_time ();

  debug_init ();
  r->encoder = g_strdup (encoder);
  r->codec = info ? info->codec : WR_CODEC_H264;
  r->hardware = info ? info->hardware : FALSE;
  if (!info) {
    finish (r, WR_ENCODER_FAILED, start, "unknown encoder");
    return r;
  }
  factory = gst_element_factory_find (encoder);
  if (!factory) {
    finish (r, WR_ENCODER_NOT_INSTALLED, start, "not installed");
    return r;
  }
  r->present = TRUE;
  if (!profile)
    profile = builtin = wr_profile_new_builtin ();

  enc = wr_encoder_element_new (profile, encoder, "encoder", &error);
  if (!enc) {
    finish (r, WR_ENCODER_FAILED, start, "cannot configure: %s",
        error->message);
    return r;
  }
  pipeline = gst_object_ref_sink (gst_pipeline_new ("encoder-test"));
  src = gst_element_factory_make ("videotestsrc", NULL);
  raw = gst_element_factory_make ("capsfilter", NULL);
  out = gst_element_factory_make ("capsfilter", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  if (!src || !raw || !out || !sink) {
    GstElement *made[] = { enc, src, raw, out, sink };
    for (guint i = 0; i < G_N_ELEMENTS (made); i++)
      if (made[i])
        gst_object_unref (gst_object_ref_sink (made[i]));
    finish (r, WR_ENCODER_FAILED, start, "videotestsrc, capsfilter or "
        "fakesink is missing");
    return r;
  }
  g_object_set (src, "num-buffers", TEST_FRAMES, NULL);
  raw_caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, TEST_WIDTH,
      "height", G_TYPE_INT, TEST_HEIGHT,
      "framerate", GST_TYPE_FRACTION, profile->framerate, 1, NULL);
  g_object_set (raw, "caps", raw_caps, NULL);
  out_caps = wr_encoder_output_caps (profile, encoder);
  g_object_set (out, "caps", out_caps, NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, raw, enc, out, sink, NULL);
  if (!gst_element_link_many (src, raw, enc, out, sink, NULL)) {
    g_autofree char *caps = gst_caps_to_string (out_caps);
    finish (r, WR_ENCODER_FAILED, start, "cannot link: it does not take "
        "I420 or does not produce %s", caps);
    return r;
  }
  sink_pad = gst_element_get_static_pad (sink, "sink");
  probe_id = gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_BUFFER,
      count_buffers, &frames, NULL);

  bus = gst_element_get_bus (pipeline);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (msg)
      gst_message_parse_error (msg, &error, NULL);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    finish (r, WR_ENCODER_FAILED, start, "failed to start: %s",
        error ? error->message : "state change failed");
    return r;
  }
  msg = gst_bus_timed_pop_filtered (bus, (GstClockTime) timeout_ms
      * GST_MSECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  r->frames = (guint) g_atomic_int_get (&frames);
  if (!msg) {
    /* A hung (hardware) encoder may also hang going to NULL: do that on
     * a thread of its own and move on. */
    gst_pad_remove_probe (sink_pad, probe_id);
    g_thread_unref (g_thread_new ("encoder-test-stop", stop_pipeline_thread,
            g_steal_pointer (&pipeline)));
    finish (r, WR_ENCODER_TIMED_OUT, start, "timed out after %u ms",
        timeout_ms);
    return r;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  r->frames = (guint) g_atomic_int_get (&frames);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    finish (r, WR_ENCODER_FAILED, start, "%s: %s",
        r->frames ? "failed while encoding" : "failed to start",
        error->message);
  } else if (r->frames == 0) {
    finish (r, WR_ENCODER_FAILED, start, "produced no frames");
  } else {
    finish (r, WR_ENCODER_OK, start, "ok");
  }
  GST_INFO ("%s: %s (%u frames, %" G_GINT64_FORMAT " ms)", encoder,
      r->reason, r->frames, r->elapsed_ms);
  return r;
}

GPtrArray *
wr_encoder_probe_all (guint timeout_ms)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_encoder_probe_result_free);

  for (const WrEncoderInfo *e = wr_encoder_info_all (); e->name; e++)
    g_ptr_array_add (out, wr_encoder_test (e->name, NULL, timeout_ms));
  return out;
}

const char *
wr_profile_choose_encoder (const WrProfile *profile, GPtrArray **results)
{
  g_autoptr (GPtrArray) tried = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_encoder_probe_result_free);
  const char *chosen = NULL;

  for (int i = 0; profile->encoders[i] && !chosen; i++) {
    WrEncoderProbeResult *r = wr_encoder_test (profile->encoders[i], profile,
        WR_ENCODER_TEST_TIMEOUT_MS);
    if (r->status == WR_ENCODER_OK)
      chosen = profile->encoders[i];
    g_ptr_array_add (tried, r);
  }
  if (results)
    *results = g_steal_pointer (&tried);
  return chosen;
}

char **
wr_encoder_probe (void)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new ();

  for (const WrEncoderInfo *e = wr_encoder_info_all (); e->name; e++) {
    g_autoptr (GstElementFactory) factory =
        gst_element_factory_find (e->name);
    if (factory)
      g_ptr_array_add (out, g_strdup (e->name));
  }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

const char *
wr_encoder_choose (const char *const *available)
{
  if (!available)
    return NULL;
  for (int i = 0; builtin_encoders[i]; i++)
    if (g_strv_contains (available, builtin_encoders[i]))
      return builtin_encoders[i];
  return NULL;
}
