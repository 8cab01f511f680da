/* webremote-agent: one capture + encode pipeline per X display, shared by
 * every peer through a tee. */
#include "config.h"

#include "agent/display-pipeline.h"

#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (wr_display_pipeline_debug);
#define GST_CAT_DEFAULT wr_display_pipeline_debug

struct _WrDisplayPipeline {
  GObject parent;

  char *display;
  char *encoder_name;
  GstElement *pipeline;
  GstElement *encoder;
  GstElement *tee;
  guint bus_watch_id;
  gboolean stopped;

  /* branch element -> its tee src pad (both owned) */
  GHashTable *branches;

  /* Written by a streaming thread, read anywhere. */
  gint video_width;
  gint video_height;
  gint keyframe_requests;
};

enum {
  SIGNAL_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (WrDisplayPipeline, wr_display_pipeline, G_TYPE_OBJECT)

static GstElement *
make (const char *factory, const char *name, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (!e)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element '%s' is missing", factory);
  return e;
}

static void
configure_encoder (GstElement *enc, const char *name, int framerate,
    int bitrate_kbps)
{
  if (g_str_equal (name, "x264enc")) {
    gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "ultrafast");
    gst_util_set_object_arg (G_OBJECT (enc), "tune", "zerolatency");
    g_object_set (enc,
        "bframes", 0,
        "key-int-max", (guint) WR_KEYINT_INFINITE,
        "bitrate", (guint) bitrate_kbps,
        NULL);
  } else if (g_str_equal (name, "openh264enc")) {
    gst_util_set_object_arg (G_OBJECT (enc), "complexity", "low");
    gst_util_set_object_arg (G_OBJECT (enc), "rate-control", "bitrate");
    g_object_set (enc,
        "bitrate", (guint) bitrate_kbps * 1000,
        /* 0 = only the first frame is an IDR; the rest come on request. */
        "gop-size", (guint) 0,
        NULL);
  }
}

/* Streaming thread: remember the raw video size for input scaling. */
static GstPadProbeReturn
raw_caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrDisplayPipeline *self = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstCaps *caps;
  GstStructure *s;
  int w = 0, h = 0;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  gst_event_parse_caps (event, &caps);
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_get_int (s, "width", &w)
      && gst_structure_get_int (s, "height", &h)) {
    g_atomic_int_set (&self->video_width, w);
    g_atomic_int_set (&self->video_height, h);
    GST_INFO ("display %s: video is %dx%d", self->display, w, h);
  }
  return GST_PAD_PROBE_OK;
}

/* Any thread: count keyframe requests that reach the encoder, whether we
 * sent them or a peer's PLI/FIR travelled up through tee and queue. */
static GstPadProbeReturn
force_key_unit_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrDisplayPipeline *self = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (gst_video_event_is_force_key_unit (event)) {
    g_atomic_int_inc (&self->keyframe_requests);
    GST_DEBUG ("display %s: keyframe requested", self->display);
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *
find_branch (WrDisplayPipeline *self, GstObject *src)
{
  for (GstObject *o = src; o; o = GST_OBJECT_PARENT (o))
    if (g_hash_table_contains (self->branches, o))
      return GST_ELEMENT (o);
  return NULL;
}

static gboolean
bus_cb (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  /* A handler may drop the last reference to us. */
  g_autoptr (WrDisplayPipeline) self = g_object_ref (user_data);

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree char *dbg = NULL;
      g_autofree char *text = NULL;
      GstElement *branch;

      gst_message_parse_error (msg, &err, &dbg);
      branch = find_branch (self, GST_MESSAGE_SRC (msg));
      g_warning ("display %s: pipeline error from %s: %s (%s)",
          self->display, GST_MESSAGE_SRC_NAME (msg), err->message,
          dbg ? dbg : "");
      text = g_strdup_printf ("%s: %s", GST_MESSAGE_SRC_NAME (msg),
          err->message);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, branch, text);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      g_message ("display %s: pipeline warning from %s: %s", self->display,
          GST_MESSAGE_SRC_NAME (msg), err->message);
      break;
    }
    case GST_MESSAGE_EOS:
      g_warning ("display %s: capture ended", self->display);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, NULL, "capture ended");
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
build (WrDisplayPipeline *self, int framerate, int bitrate_kbps,
    GError **error)
{
  GstElement *src, *rate_filter, *convert, *raw_filter, *h264_filter, *pay,
      *rtp_filter;
  g_autoptr (GstCaps) rate_caps = NULL;
  g_autoptr (GstCaps) raw_caps = NULL;
  g_autoptr (GstCaps) h264_caps = NULL;
  g_autoptr (GstCaps) rtp_caps = NULL;
  g_autoptr (GstPad) enc_sink = NULL;
  g_autoptr (GstPad) enc_src = NULL;
  g_autoptr (GstBus) bus = NULL;
  g_autofree char *name = g_strdup_printf ("display-%s", self->display);

  self->pipeline = gst_pipeline_new (name);
  gst_object_ref_sink (self->pipeline);

  if (!(src = make ("ximagesrc", "capture", error))
      || !(rate_filter = make ("capsfilter", "rate", error))
      || !(convert = make ("videoconvert", "convert", error))
      || !(raw_filter = make ("capsfilter", "raw", error))
      || !(self->encoder = make (self->encoder_name, "encoder", error))
      || !(h264_filter = make ("capsfilter", "h264", error))
      || !(pay = make ("rtph264pay", "pay", error))
      || !(rtp_filter = make ("capsfilter", "rtp", error))
      || !(self->tee = make ("tee", "tee", error)))
    return FALSE;

  /* use-damage=false: damage tracking costs far more CPU than it saves
   * and drops frames (platform-notes.md). */
  g_object_set (src,
      "display-name", self->display,
      "use-damage", FALSE,
      "show-pointer", TRUE,
      NULL);
  rate_caps = gst_caps_new_simple ("video/x-raw",
      "framerate", GST_TYPE_FRACTION, framerate, 1, NULL);
  g_object_set (rate_filter, "caps", rate_caps, NULL);
  raw_caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "I420", NULL);
  g_object_set (raw_filter, "caps", raw_caps, NULL);
  configure_encoder (self->encoder, self->encoder_name, framerate,
      bitrate_kbps);
  /* Browsers reject High; constrained baseline decodes everywhere. */
  h264_caps = gst_caps_new_simple ("video/x-h264",
      "profile", G_TYPE_STRING, "constrained-baseline", NULL);
  g_object_set (h264_filter, "caps", h264_caps, NULL);
  /* SPS/PPS before every IDR, so a late joiner can decode the keyframe it
   * asked for. */
  g_object_set (pay,
      "config-interval", -1,
      "mtu", (guint) 1200,
      "pt", (guint) 96,
      NULL);
  gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode", "zero-latency");
  /* The rtcp-fb fields make webrtcbin offer NACK and PLI/FIR, without
   * which browsers never ask for a keyframe. */
  rtp_caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video",
      "encoding-name", G_TYPE_STRING, "H264",
      "payload", G_TYPE_INT, 96,
      "clock-rate", G_TYPE_INT, 90000,
      "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
      NULL);
  g_object_set (rtp_filter, "caps", rtp_caps, NULL);
  /* No peer yet, or a peer still negotiating, must not stall capture. */
  g_object_set (self->tee, "allow-not-linked", TRUE, NULL);

  gst_bin_add_many (GST_BIN (self->pipeline), src, rate_filter, convert,
      raw_filter, self->encoder, h264_filter, pay, rtp_filter, self->tee,
      NULL);
  if (!gst_element_link_many (src, rate_filter, convert, raw_filter,
          self->encoder, h264_filter, pay, rtp_filter, self->tee, NULL)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the capture pipeline for %s", self->display);
    return FALSE;
  }

  enc_sink = gst_element_get_static_pad (self->encoder, "sink");
  gst_pad_add_probe (enc_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      raw_caps_probe, self, NULL);
  enc_src = gst_element_get_static_pad (self->encoder, "src");
  gst_pad_add_probe (enc_src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      force_key_unit_probe, self, NULL);

  bus = gst_element_get_bus (self->pipeline);
  self->bus_watch_id = gst_bus_add_watch (bus, bus_cb, self);

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "cannot start capturing %s (is the X display reachable?)",
        self->display);
    return FALSE;
  }
  return TRUE;
}

WrDisplayPipeline *
wr_display_pipeline_new (const char *display, const char *encoder,
    int framerate, int bitrate_kbps, GError **error)
{
  g_autoptr (WrDisplayPipeline) self = g_object_new (WR_TYPE_DISPLAY_PIPELINE,
      NULL);

  self->display = g_strdup (display);
  self->encoder_name = g_strdup (encoder);
  if (!build (self, framerate, bitrate_kbps, error)) {
    wr_display_pipeline_stop (self);
    return NULL;
  }
  g_message ("display %s: capture started (%s, %d fps, %d kbit/s)", display,
      encoder, framerate, bitrate_kbps);
  return g_steal_pointer (&self);
}

const char *
wr_display_pipeline_get_display (WrDisplayPipeline *self)
{
  return self->display;
}

const char *
wr_display_pipeline_get_encoder (WrDisplayPipeline *self)
{
  return self->encoder_name;
}

guint
wr_display_pipeline_get_n_branches (WrDisplayPipeline *self)
{
  return g_hash_table_size (self->branches);
}

gboolean
wr_display_pipeline_get_video_size (WrDisplayPipeline *self, int *width,
    int *height)
{
  *width = g_atomic_int_get (&self->video_width);
  *height = g_atomic_int_get (&self->video_height);
  return *width > 0 && *height > 0;
}

guint
wr_display_pipeline_get_keyframe_requests (WrDisplayPipeline *self)
{
  return (guint) g_atomic_int_get (&self->keyframe_requests);
}

gboolean
wr_display_pipeline_add_branch (WrDisplayPipeline *self, GstElement *branch,
    GError **error)
{
  g_autoptr (GstPad) sink = NULL;
  GstPad *tee_pad = NULL;

  g_return_val_if_fail (!self->stopped, FALSE);

  /* The bin takes its own reference (the peer sank the floating one); an
   * extra one here kept every ended peer's webrtcbin, its ICE thread and
   * sockets alive for good. */
  gst_bin_add (GST_BIN (self->pipeline), branch);
  sink = gst_element_get_static_pad (branch, "sink");
  /* The branch runs before it is linked. The tee pushes into a new pad as
   * soon as it is linked; a branch still in NULL answers FLUSHING, which
   * the tee passes upstream, and the capture thread then stops for good
   * without an error: this peer and every later one on the display never
   * see caps, and so never make an offer. The new tee pad carries the
   * stream's sticky events (caps included) and sends them before its first
   * buffer. */
  if (!sink || !gst_element_sync_state_with_parent (branch)
      || !(tee_pad = gst_element_request_pad_simple (self->tee, "src_%u"))
      || gst_pad_link (tee_pad, sink) != GST_PAD_LINK_OK) {
    if (tee_pad)
      gst_element_release_request_pad (self->tee, tee_pad);
    g_clear_object (&tee_pad);
    gst_element_set_state (branch, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self->pipeline), branch);
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link a new peer to the %s pipeline", self->display);
    return FALSE;
  }
  g_hash_table_insert (self->branches, gst_object_ref (branch), tee_pad);
  return TRUE;
}

typedef struct {
  WrDisplayPipeline *self;  /* ref */
  GstElement *branch;       /* ref */
  GstPad *tee_pad;          /* ref */
} Detach;

static void
detach_clear (gpointer data)
{
  Detach *d = data;

  g_object_unref (d->self);
  gst_object_unref (d->branch);
  gst_object_unref (d->tee_pad);
}

/* Shared by the pad probe and the idle source. */
static void
detach_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, detach_clear);
}

/* Main context: the branch no longer receives data. Going to NULL may join
 * webrtcbin's threads, so it must not happen on a streaming thread. */
static gboolean
detach_finish (gpointer data)
{
  Detach *d = data;

  if (!d->self->stopped) {
    gst_element_release_request_pad (d->self->tee, d->tee_pad);
    gst_element_set_state (d->branch, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (d->self->pipeline), d->branch);
  }
  return G_SOURCE_REMOVE;
}

/* Runs when the tee pad is idle: between two buffers, on the streaming
 * thread, or right away in the caller when nothing flows. */
static GstPadProbeReturn
detach_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Detach *d = data;
  g_autoptr (GstPad) sink = gst_element_get_static_pad (d->branch, "sink");
  GSource *source;

  gst_pad_unlink (d->tee_pad, sink);

  source = g_idle_source_new ();
  g_source_set_callback (source, detach_finish, g_atomic_rc_box_acquire (d),
      detach_release);
  g_source_attach (source, NULL);
  g_source_unref (source);
  return GST_PAD_PROBE_REMOVE;
}

void
wr_display_pipeline_remove_branch (WrDisplayPipeline *self,
    GstElement *branch)
{
  GstPad *tee_pad = NULL;
  Detach *d;

  if (!g_hash_table_steal_extended (self->branches, branch, NULL,
          (gpointer *) &tee_pad))
    return;

  if (g_hash_table_size (self->branches) == 0 || self->stopped) {
    /* Last peer: nobody watches, stop capturing and encoding. */
    wr_display_pipeline_stop (self);
    gst_element_set_state (branch, GST_STATE_NULL);
    gst_object_unref (tee_pad);
    gst_object_unref (branch);
    return;
  }

  d = g_atomic_rc_box_new0 (Detach);
  d->self = g_object_ref (self);
  d->branch = branch;      /* the table's ref */
  d->tee_pad = tee_pad;    /* the table's ref */
  gst_pad_add_probe (tee_pad, GST_PAD_PROBE_TYPE_IDLE, detach_probe, d,
      detach_release);
}

void
wr_display_pipeline_request_keyframe (WrDisplayPipeline *self)
{
  g_autoptr (GstPad) src = NULL;

  if (self->stopped || !self->encoder)
    return;
  src = gst_element_get_static_pad (self->encoder, "src");
  gst_pad_send_event (src, gst_video_event_new_upstream_force_key_unit (
          GST_CLOCK_TIME_NONE, TRUE, 0));
}

void
wr_display_pipeline_stop (WrDisplayPipeline *self)
{
  if (self->stopped)
    return;
  self->stopped = TRUE;
  g_clear_handle_id (&self->bus_watch_id, g_source_remove);
  if (self->pipeline) {
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
    g_message ("display %s: capture stopped", self->display);
  }
}

static void
wr_display_pipeline_dispose (GObject *object)
{
  WrDisplayPipeline *self = WR_DISPLAY_PIPELINE (object);

  wr_display_pipeline_stop (self);
  g_hash_table_remove_all (self->branches);
  g_clear_pointer (&self->pipeline, gst_object_unref);
  self->encoder = NULL;
  self->tee = NULL;
  G_OBJECT_CLASS (wr_display_pipeline_parent_class)->dispose (object);
}

static void
wr_display_pipeline_finalize (GObject *object)
{
  WrDisplayPipeline *self = WR_DISPLAY_PIPELINE (object);

  g_hash_table_unref (self->branches);
  g_free (self->display);
  g_free (self->encoder_name);
  G_OBJECT_CLASS (wr_display_pipeline_parent_class)->finalize (object);
}

static void
wr_display_pipeline_class_init (WrDisplayPipelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_display_pipeline_dispose;
  object_class->finalize = wr_display_pipeline_finalize;

  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
      GST_TYPE_ELEMENT, G_TYPE_STRING);

  GST_DEBUG_CATEGORY_INIT (wr_display_pipeline_debug, "wr-display-pipeline",
      0, "webremote display pipeline");
}

static void
wr_display_pipeline_init (WrDisplayPipeline *self)
{
  self->branches = g_hash_table_new_full (NULL, NULL, gst_object_unref,
      gst_object_unref);
}
