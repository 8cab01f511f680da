/* webremote-agent: one capture + encode pipeline per X display, shared by
 * every peer through a tee. */
#include "config.h"

#include "agent/display-pipeline.h"

#include <gio/gio.h>
#include <gst/video/video.h>
#include <X11/Xlib.h>

#include "agent/damage-capture.h"
#include "agent/playout-delay.h"
#include "pipelines/encoder-element.h"

GST_DEBUG_CATEGORY_STATIC (wr_display_pipeline_debug);
#define GST_CAT_DEFAULT wr_display_pipeline_debug

struct _WrDisplayPipeline {
  GObject parent;

  char *display;
  char *encoder_name;
  WrProfile *profile;
  GstElement *pipeline;
  GstElement *source;
  GstElement *encoder;        /* (locked by chain_lock) */
  GstElement *pay;            /* (locked by chain_lock) */
  GPtrArray *chain;           /* (locked by chain_lock) rate filter .. rtp
                               * filter, link order, owned refs */
  GMutex chain_lock;
  GstElement *tee;
  guint bus_watch_id;
  gboolean stopped;
  gboolean switching;         /* a live switch waits for the source pad */

  /* The RTP stream every chain continues: same SSRC and timestamp base,
   * so viewers see one stream across live switches. */
  guint ssrc;
  guint ts_offset;

  /* branch element -> its tee src pad (both owned) */
  GHashTable *branches;

  /* Written by a streaming thread, read anywhere. */
  gint video_width;
  gint video_height;
  gint keyframe_requests;
};

enum {
  SIGNAL_ERROR,
  SIGNAL_SWITCHED,
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

/* Set once by the agent's main() before any pipeline exists. */
static WrProfile *default_profile;
static char *default_encoder;

void
wr_display_pipeline_set_default_profile (const WrProfile *profile,
    const char *encoder)
{
  g_clear_pointer (&default_profile, wr_profile_free);
  g_clear_pointer (&default_encoder, g_free);
  if (profile) {
    default_profile = wr_profile_copy (profile);
    default_encoder = g_strdup (encoder);
  }
}

const WrProfile *
wr_display_pipeline_get_default_profile (const char **encoder)
{
  if (encoder)
    *encoder = default_encoder;
  return default_profile;
}

/* The size the encoder gets, or 0x0 for the source's own. */
static void
output_size (WrDisplayPipeline *self, const WrProfile *p, int *width,
    int *height)
{
  int w = 0, h = 0;

  *width = p->width;
  *height = p->height;
  if (p->width || p->scale <= 0)
    return;
  if (p->source == WR_SOURCE_TEST) {
    w = 1280;
    h = 720;
  } else if (p->source == WR_SOURCE_XIMAGE) {
    Display *dpy = XOpenDisplay (self->display);
    if (dpy) {
      w = DisplayWidth (dpy, DefaultScreen (dpy));
      h = DisplayHeight (dpy, DefaultScreen (dpy));
      XCloseDisplay (dpy);
    }
  }
  /* Even sizes for 4:2:0; an unreachable display fails later anyway. */
  *width = MAX (16, (int) (w * p->scale) & ~1);
  *height = MAX (16, (int) (h * p->scale) & ~1);
}

static GstElement *
make_source (WrDisplayPipeline *self, GError **error)
{
  GstElement *src;

  switch (self->profile->source) {
    case WR_SOURCE_TEST:
      if (!(src = make ("videotestsrc", "capture", error)))
        return NULL;
      g_object_set (src, "is-live", TRUE, NULL);
      return src;
    case WR_SOURCE_PIPEWIRE:
      return make ("pipewiresrc", "capture", error);
    case WR_SOURCE_XIMAGE:
    default:
      /* capture = damage (default): a frame only when the screen changed
       * (agent/damage-capture.h); tick, or a display without XDamage /
       * MIT-SHM: ximagesrc. */
      if (self->profile->capture == WR_CAPTURE_DAMAGE) {
        g_autoptr (GError) why = NULL;
        if (wr_damage_src_available (self->display, &why))
          return wr_damage_src_new (self->display, "capture");
        g_message ("display %s: damage capture unavailable (%s); capturing "
            "every frame", self->display, why->message);
      }
      if (!(src = make ("ximagesrc", "capture", error)))
        return NULL;
      /* use-damage=false: damage tracking costs far more CPU than it
       * saves and drops frames (platform-notes.md). */
      g_object_set (src,
          "display-name", self->display,
          "use-damage", FALSE,
          "show-pointer", TRUE,
          NULL);
      return src;
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
    /* The damage source sends nothing on a static screen: the keyframe
     * needs a frame to go out with. */
    if (WR_IS_DAMAGE_SRC (self->source))
      wr_damage_src_request_frame (WR_DAMAGE_SRC (self->source));
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

guint
wr_codec_payload_type (WrCodec codec)
{
  /* One payload type per codec: a live switch from H.264 to VP8 never
   * reuses a number the viewer has mapped to the other codec. */
  switch (codec) {
    case WR_CODEC_VP8: return 97;
    case WR_CODEC_VP9: return 98;
    case WR_CODEC_H264:
    default: return 96;
  }
}

/* The part of the pipeline a live switch replaces, from the caps after the
 * source to the caps in front of the tee: `capsfilter(framerate) [!
 * videoscale] ! videoconvert ! capsfilter(I420[, size]) ! ENCODER !
 * capsfilter(codec) ! PAYLOADER ! capsfilter(rtp)`, named as before (a
 * live switch removes the old chain before it adds the new one). The
 * elements are in no bin yet (owned by the array). */
static GPtrArray *
make_chain (WrDisplayPipeline *self, const WrProfile *p, const char *encoder,
    GstElement **encoder_out, GstElement **pay_out, GError **error)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (encoder);
  g_autoptr (GPtrArray) chain = g_ptr_array_new_with_free_func (
      gst_object_unref);
  GstElement *rate_filter, *scale = NULL, *convert, *raw_filter, *enc,
      *enc_filter, *pay, *rtp_filter;
  g_autoptr (GstCaps) rate_caps = NULL;
  g_autoptr (GstCaps) raw_caps = NULL;
  g_autoptr (GstCaps) enc_caps = NULL;
  g_autoptr (GstCaps) rtp_caps = NULL;
  guint pt;
  int width, height;

  if (!info) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "unknown encoder '%s'", encoder);
    return NULL;
  }
  pt = wr_codec_payload_type (info->codec);
  output_size (self, p, &width, &height);

#define ADD(e) g_ptr_array_add (chain, gst_object_ref_sink (e))
  if (!(rate_filter = make ("capsfilter", "rate", error)))
    return NULL;
  ADD (rate_filter);
  if (width) {
    if (!(scale = make ("videoscale", "scale", error)))
      return NULL;
    ADD (scale);
  }
  if (!(convert = make ("videoconvert", "convert", error)))
    return NULL;
  ADD (convert);
  if (!(raw_filter = make ("capsfilter", "raw", error)))
    return NULL;
  ADD (raw_filter);
  if (!(enc = wr_encoder_element_new (p, encoder, "encoder", error)))
    return NULL;
  ADD (enc);
  if (!(enc_filter = make ("capsfilter", "encoded", error)))
    return NULL;
  ADD (enc_filter);
  if (!(pay = make (wr_encoder_payloader (encoder), "pay", error)))
    return NULL;
  ADD (pay);
  if (!(rtp_filter = make ("capsfilter", "rtp", error)))
    return NULL;
  ADD (rtp_filter);
#undef ADD

  rate_caps = gst_caps_new_simple ("video/x-raw",
      "framerate", GST_TYPE_FRACTION, p->framerate, 1, NULL);
  if (p->source == WR_SOURCE_TEST && !width)
    gst_caps_set_simple (rate_caps, "width", G_TYPE_INT, 1280,
        "height", G_TYPE_INT, 720, NULL);
  g_object_set (rate_filter, "caps", rate_caps, NULL);
  raw_caps = gst_caps_new_simple ("video/x-raw",
      "format", G_TYPE_STRING, "I420", NULL);
  if (width)
    gst_caps_set_simple (raw_caps, "width", G_TYPE_INT, width,
        "height", G_TYPE_INT, height, NULL);
  g_object_set (raw_filter, "caps", raw_caps, NULL);
  /* H.264: the profile's constrained-baseline or main; browsers reject
   * High. */
  enc_caps = wr_encoder_output_caps (p, encoder);
  g_object_set (enc_filter, "caps", enc_caps, NULL);
  g_object_set (pay, "mtu", (guint) 1200, "pt", pt,
      "ssrc", self->ssrc, "timestamp-offset", self->ts_offset, NULL);
  if (info->codec == WR_CODEC_H264) {
    /* SPS/PPS before every IDR, so a late joiner can decode the keyframe
     * it asked for. */
    g_object_set (pay, "config-interval", -1, NULL);
    gst_util_set_object_arg (G_OBJECT (pay), "aggregate-mode",
        "zero-latency");
  } else {
    gst_util_set_object_arg (G_OBJECT (pay), "picture-id-mode", "15-bit");
  }
  /* The rtcp-fb fields make webrtcbin offer NACK and PLI/FIR, without
   * which browsers never ask for a keyframe. */
  rtp_caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, "video",
      "encoding-name", G_TYPE_STRING, wr_codec_name (info->codec),
      "payload", G_TYPE_INT, (int) pt,
      "clock-rate", G_TYPE_INT, 90000,
      "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE,
      "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
      NULL);
  /* Playout delay 0/0 (agent/playout-delay.h): the payloader writes it,
   * webrtcbin offers it, the browser shows frames as soon as decoded. */
  if (!g_getenv ("WR_NO_PLAYOUT_DELAY")) {
    wr_playout_delay_register ();
    gst_caps_set_simple (rtp_caps, "extmap-" G_STRINGIFY (
            WR_PLAYOUT_DELAY_EXT_ID), G_TYPE_STRING, WR_PLAYOUT_DELAY_URI,
        NULL);
  }
  g_object_set (rtp_filter, "caps", rtp_caps, NULL);

  *encoder_out = enc;
  *pay_out = pay;
  return g_steal_pointer (&chain);
}

static void
add_encoder_probes (WrDisplayPipeline *self, GstElement *encoder)
{
  g_autoptr (GstPad) enc_sink = gst_element_get_static_pad (encoder, "sink");
  g_autoptr (GstPad) enc_src = gst_element_get_static_pad (encoder, "src");

  gst_pad_add_probe (enc_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      raw_caps_probe, self, NULL);
  gst_pad_add_probe (enc_src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      force_key_unit_probe, self, NULL);
}

/* Adds @chain to the pipeline and links source ! chain ! tee. */
static gboolean
link_chain (WrDisplayPipeline *self, GPtrArray *chain)
{
  GstElement *first = g_ptr_array_index (chain, 0);
  GstElement *last = g_ptr_array_index (chain, chain->len - 1);

  for (guint i = 0; i < chain->len; i++)
    gst_bin_add (GST_BIN (self->pipeline), g_ptr_array_index (chain, i));
  for (guint i = 0; i + 1 < chain->len; i++)
    if (!gst_element_link (g_ptr_array_index (chain, i),
            g_ptr_array_index (chain, i + 1)))
      return FALSE;
  return gst_element_link (self->source, first)
      && gst_element_link (last, self->tee);
}

static gboolean
build (WrDisplayPipeline *self, GError **error)
{
  g_autoptr (GstBus) bus = NULL;
  g_autofree char *name = g_strdup_printf ("display-%s", self->display);

  self->pipeline = gst_pipeline_new (name);
  gst_object_ref_sink (self->pipeline);

  if (!(self->source = make_source (self, error)))
    return FALSE;
  gst_bin_add (GST_BIN (self->pipeline), self->source);
  if (!(self->tee = make ("tee", "tee", error)))
    return FALSE;
  gst_bin_add (GST_BIN (self->pipeline), self->tee);
  /* No peer yet, or a peer still negotiating, must not stall capture. */
  g_object_set (self->tee, "allow-not-linked", TRUE, NULL);

  self->chain = make_chain (self, self->profile, self->encoder_name,
      &self->encoder, &self->pay, error);
  if (!self->chain)
    return FALSE;
  if (!link_chain (self, self->chain)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the capture pipeline for %s", self->display);
    return FALSE;
  }
  add_encoder_probes (self, self->encoder);

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

/* ---- live switch ---- */

typedef struct {
  WrDisplayPipeline *self;    /* ref */
  GPtrArray *chain;           /* the new elements */
  GstElement *encoder;
  GstElement *pay;
  gboolean done;
  gboolean ok;
  gint finished;              /* swap_finished scheduled (atomic) */
} Swap;

static void
swap_clear (gpointer data)
{
  Swap *sw = data;

  g_object_unref (sw->self);
  g_clear_pointer (&sw->chain, g_ptr_array_unref);
}

static void
swap_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, swap_clear);
}

/* Main context, after the swap. */
static gboolean
swap_finished (gpointer data)
{
  Swap *sw = data;
  WrDisplayPipeline *self = sw->self;

  self->switching = FALSE;
  if (self->stopped)
    return G_SOURCE_REMOVE;
  if (!sw->ok) {
    g_warning ("display %s: the live switch could not link the new "
        "encoder", self->display);
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, NULL,
        "the live profile switch failed");
    return G_SOURCE_REMOVE;
  }
  /* A new encoder starts with a keyframe anyway; ask once more for
   * encoders that take a moment. */
  wr_display_pipeline_request_keyframe (self);
  g_signal_emit (self, signals[SIGNAL_SWITCHED], 0);
  return G_SOURCE_REMOVE;
}

/* Any thread: once. */
static void
schedule_finished (Swap *sw)
{
  GSource *source;

  if (!g_atomic_int_compare_and_exchange (&sw->finished, 0, 1))
    return;
  source = g_idle_source_new ();
  g_source_set_callback (source, swap_finished, g_atomic_rc_box_acquire (sw),
      swap_release);
  g_source_attach (source, NULL);
  g_source_unref (source);
}

/* The new chain's caps passed on to the tee: from now on a branch linked
 * to the tee (a restarted connection) gets the new codec's caps. */
static GstPadProbeReturn
new_caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  schedule_finished (data);
  return GST_PAD_PROBE_REMOVE;
}

/* Runs while nothing flows out of the source: between two buffers on the
 * capture thread, or at once in the caller when the source is idle. Only
 * this thread pushes through the chain, so the old chain can go and the
 * new one come without a buffer in flight. */
static GstPadProbeReturn
swap_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Swap *sw = data;
  WrDisplayPipeline *self = sw->self;
  g_autoptr (GPtrArray) old = NULL;
  g_autoptr (GstPad) first_sink = NULL;
  GstElement *last;
  guint seqnum = 0;

  if (sw->done)
    return GST_PAD_PROBE_REMOVE;
  sw->done = TRUE;

  g_mutex_lock (&self->chain_lock);
  old = g_steal_pointer (&self->chain);
  g_object_get (self->pay, "seqnum", &seqnum, NULL);
  self->chain = g_ptr_array_ref (sw->chain);
  self->encoder = sw->encoder;
  self->pay = sw->pay;
  g_mutex_unlock (&self->chain_lock);

  /* The viewers' decoders see one RTP stream go on: same SSRC and
   * timestamp base, the next sequence number. */
  g_object_set (sw->pay, "seqnum-offset", (int) ((seqnum + 1) & 0xffff),
      NULL);

  gst_element_unlink (self->source, g_ptr_array_index (old, 0));
  last = g_ptr_array_index (old, old->len - 1);
  gst_element_unlink (last, self->tee);
  for (guint i = 0; i < old->len; i++) {
    GstElement *e = g_ptr_array_index (old, i);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self->pipeline), e);
  }

  sw->ok = link_chain (self, sw->chain);
  if (sw->ok) {
    add_encoder_probes (self, sw->encoder);
    for (guint i = sw->chain->len; i > 0; i--)
      gst_element_sync_state_with_parent (g_ptr_array_index (sw->chain,
              i - 1));
    /* The source renegotiates (a new frame rate) before its next
     * buffer. */
    first_sink = gst_element_get_static_pad (g_ptr_array_index (sw->chain,
            0), "sink");
    gst_pad_send_event (first_sink, gst_event_new_reconfigure ());
  }
  if (sw->ok) {
    /* Probe on the tee's sink pad: the CAPS event is handled after the
     * probe, so the "switched" handler may still see the old caps for a
     * moment; it runs on the main context later anyway. */
    g_autoptr (GstPad) tee_sink = gst_element_get_static_pad (self->tee,
        "sink");
    gst_pad_add_probe (tee_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        new_caps_probe, g_atomic_rc_box_acquire (sw), swap_release);
  } else {
    schedule_finished (sw);
  }
  return GST_PAD_PROBE_REMOVE;
}

gboolean
wr_display_pipeline_switch (WrDisplayPipeline *self, const WrProfile *profile,
    const char *encoder, GError **error)
{
  g_autoptr (GstPad) src = NULL;
  GstElement *enc = NULL, *pay = NULL;
  GPtrArray *chain;
  Swap *sw;

  if (self->stopped) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
        "the capture pipeline of %s has stopped", self->display);
    return FALSE;
  }
  if (self->switching) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
        "a profile switch on %s is in progress", self->display);
    return FALSE;
  }
  if (profile->source != self->profile->source)
    g_message ("display %s: profile %s captures from %s; the running "
        "pipeline keeps %s until it restarts", self->display, profile->name,
        wr_source_kind_name (profile->source),
        wr_source_kind_name (self->profile->source));
  chain = make_chain (self, profile, encoder, &enc, &pay, error);
  if (!chain)
    return FALSE;

  g_message ("display %s: switching live from %s (%s) to %s (%s)",
      self->display, self->profile->name, self->encoder_name, profile->name,
      encoder);
  {
    WrProfile *copy = wr_profile_copy (profile);
    /* The running source stays. */
    copy->source = self->profile->source;
    wr_profile_free (self->profile);
    self->profile = copy;
  }
  g_free (self->encoder_name);
  self->encoder_name = g_strdup (encoder);
  self->switching = TRUE;

  sw = g_atomic_rc_box_new0 (Swap);
  sw->self = g_object_ref (self);
  sw->chain = chain;
  sw->encoder = enc;
  sw->pay = pay;
  src = gst_element_get_static_pad (self->source, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_IDLE, swap_probe, sw,
      swap_release);
  return TRUE;
}

WrCodec
wr_display_pipeline_get_codec (WrDisplayPipeline *self)
{
  const WrEncoderInfo *info = wr_encoder_info_lookup (self->encoder_name);

  return info ? info->codec : WR_CODEC_H264;
}

gboolean
wr_display_pipeline_is_switching (WrDisplayPipeline *self)
{
  return self->switching;
}

WrDisplayPipeline *
wr_display_pipeline_new_for_profile (const char *display,
    const WrProfile *profile, const char *encoder, GError **error)
{
  g_autoptr (WrDisplayPipeline) self = g_object_new (WR_TYPE_DISPLAY_PIPELINE,
      NULL);
  g_autofree char *summary = wr_profile_summary (profile);

  self->display = g_strdup (display);
  self->encoder_name = g_strdup (encoder);
  self->profile = wr_profile_copy (profile);
  if (!build (self, error)) {
    wr_display_pipeline_stop (self);
    return NULL;
  }
  g_message ("display %s: capture started (profile %s: %s, %s)", display,
      profile->name, encoder, summary);
  return g_steal_pointer (&self);
}

WrDisplayPipeline *
wr_display_pipeline_new (const char *display, const char *encoder,
    int framerate, int bitrate_kbps, GError **error)
{
  g_autoptr (WrProfile) builtin = NULL;

  if (default_profile)
    return wr_display_pipeline_new_for_profile (display, default_profile,
        default_encoder, error);
  builtin = wr_profile_new_builtin ();
  builtin->framerate = framerate;
  builtin->bitrate_kbps = bitrate_kbps;
  builtin->max_bitrate_kbps = MAX (builtin->max_bitrate_kbps, bitrate_kbps);
  builtin->min_bitrate_kbps = MIN (builtin->min_bitrate_kbps, bitrate_kbps);
  return wr_display_pipeline_new_for_profile (display, builtin, encoder,
      error);
}

const WrProfile *
wr_display_pipeline_get_profile (WrDisplayPipeline *self)
{
  return self->profile;
}

const char *
wr_display_pipeline_get_profile_name (WrDisplayPipeline *self)
{
  return self->profile ? self->profile->name : NULL;
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
  /* The new pad sends the caps (which the peer's offer needs) with its
   * first buffer; on a static screen the damage source sends none. */
  if (WR_IS_DAMAGE_SRC (self->source))
    wr_damage_src_request_frame (WR_DAMAGE_SRC (self->source));
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

  if (self->stopped)
    return;
  g_mutex_lock (&self->chain_lock);
  if (self->encoder)
    src = gst_element_get_static_pad (self->encoder, "src");
  g_mutex_unlock (&self->chain_lock);
  if (src)
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
  g_clear_pointer (&self->chain, g_ptr_array_unref);
  self->encoder = NULL;
  self->pay = NULL;
  self->source = NULL;
  self->tee = NULL;
  G_OBJECT_CLASS (wr_display_pipeline_parent_class)->dispose (object);
}

static void
wr_display_pipeline_finalize (GObject *object)
{
  WrDisplayPipeline *self = WR_DISPLAY_PIPELINE (object);

  g_hash_table_unref (self->branches);
  g_mutex_clear (&self->chain_lock);
  g_free (self->display);
  g_free (self->encoder_name);
  g_clear_pointer (&self->profile, wr_profile_free);
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
  signals[SIGNAL_SWITCHED] = g_signal_new ("switched",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);

  GST_DEBUG_CATEGORY_INIT (wr_display_pipeline_debug, "wr-display-pipeline",
      0, "webremote display pipeline");
}

static void
wr_display_pipeline_init (WrDisplayPipeline *self)
{
  self->branches = g_hash_table_new_full (NULL, NULL, gst_object_unref,
      gst_object_unref);
  g_mutex_init (&self->chain_lock);
  self->ssrc = g_random_int ();
  self->ts_offset = g_random_int ();
}
