/* webremote-agent: one viewer: a queue and a webrtcbin fed by the display
 * pipeline's tee, plus its "input" DataChannel.
 *
 * webrtcbin emits its signals and resolves promises on its own threads.
 * Handlers there only copy what they need and hand it to the main context
 * (Call below); everything else, including the WebSocket and Xlib, is
 * touched on the main context only.
 */
#include "config.h"

#include "agent/peer.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <stdlib.h>
#include <string.h>

#include "agent/input-channel.h"
#include "pipelines/webrtc-ice.h"

GST_DEBUG_CATEGORY_STATIC (wr_peer_debug);
#define GST_CAT_DEFAULT wr_peer_debug

/* Retry interval while webrtcbin's sink pad waits for its first caps. */
#define WR_CAPS_RETRY_MS 20

struct _WrPeer {
  GObject parent;

  char *sid;
  WrDisplayPipeline *pipeline;
  GstElement *branch;           /* bin: queue ! webrtcbin */
  GstElement *webrtc;
  GstPad *webrtc_sink;
  GstPad *queue_src;
  gulong caps_probe_id;
  GstWebRTCDataChannel *input_dc;
  WrInputChannel *input;

  gboolean started;
  gboolean negotiation_needed;
  gboolean caps_ready;
  gboolean offer_started;
  gboolean answered;
  gboolean connected;
  gboolean closed;
  guint caps_retry_id;
  guint offer_timeout_id;
  /* webrtcbin refuses an answer before its local offer is set, and the
   * viewer can answer faster than a busy webrtcbin thread sets it: an
   * early answer waits here. */
  gboolean local_set;
  GstSDPMessage *pending_answer;

  /* What the last offer carried (checked against the answer), and the
   * state of renegotiation after a live codec switch. */
  char *offered_codec;          /* "H264", "VP8", ... */
  char *offered_h264_level;     /* profile-level-id, e.g. "42e01f" */
  gboolean remote_set;          /* the last answer is in force */
  gboolean renegotiate_pending;
  char *renegotiate_codec;
  guint renegotiate_retry_id;
  guint renegotiate_tries;
  guint n_offers;
  gboolean dc_open;
};

/* A peer that cannot make its offer by then fails its session, so the
 * viewer is told instead of waiting forever. */
#define WR_OFFER_TIMEOUT_S 10

enum {
  SIGNAL_OFFER,
  SIGNAL_ICE_CANDIDATE,
  SIGNAL_CONNECTED,
  SIGNAL_FAILED,
  SIGNAL_INPUT_REFUSED,
  SIGNAL_CHANNEL_OPEN,
  SIGNAL_PROFILE_REQUEST,
  SIGNAL_CODEC_REFUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (WrPeer, wr_peer, G_TYPE_OBJECT)

/* ---- hand-off from webrtcbin threads to the main context ---- */

typedef enum {
  CALL_NEGOTIATION_NEEDED,
  CALL_CAPS,
  CALL_OFFER,
  CALL_ICE_CANDIDATE,
  CALL_CONNECTION_STATE,
  CALL_DC_OPEN,
  CALL_DC_MESSAGE,
  CALL_DC_CLOSE,
  CALL_FAILED,
  CALL_LOCAL_SET,
  CALL_REMOTE_SET,
  CALL_CODEC_REFUSED,
} CallKind;

typedef struct {
  WrPeer *peer;   /* ref */
  CallKind kind;
  char *text;     /* NUL-terminated; may hold NULs within len */
  gsize len;
  guint number;
} Call;

static void
call_free (gpointer data)
{
  Call *c = data;

  g_object_unref (c->peer);
  g_free (c->text);
  g_free (c);
}

static void handle_call (Call *c);
static void post_data (WrPeer *self, CallKind kind, const char *data,
    gsize len, guint number);

/* Any thread. Copies @text. */
static void
post (WrPeer *self, CallKind kind, const char *text, guint number)
{
  post_data (self, kind, text, text ? strlen (text) : 0, number);
}

static gboolean
call_dispatch (gpointer data)
{
  Call *c = data;

  if (!c->peer->closed)
    handle_call (c);
  return G_SOURCE_REMOVE;
}

/* Any thread. Copies @len bytes of @data. */
static void
post_data (WrPeer *self, CallKind kind, const char *data, gsize len,
    guint number)
{
  Call *c = g_new0 (Call, 1);
  GSource *source = g_idle_source_new ();

  c->peer = g_object_ref (self);
  c->kind = kind;
  if (data) {
    c->text = g_malloc (len + 1);
    memcpy (c->text, data, len);
    c->text[len] = '\0';
    c->len = len;
  }
  c->number = number;
  /* Always through a source, even on the main thread, so handlers never
   * run inside a GStreamer call made by the main thread itself. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, call_dispatch, c, call_free);
  g_source_attach (source, NULL);
  g_source_unref (source);
}

/* ---- webrtcbin thread callbacks ---- */

static void
on_negotiation_needed (GstElement *webrtc, gpointer user_data)
{
  post (user_data, CALL_NEGOTIATION_NEEDED, NULL, 0);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate,
    gpointer user_data)
{
  post (user_data, CALL_ICE_CANDIDATE, candidate, mline);
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  post (user_data, CALL_CONNECTION_STATE, NULL, state);
}

static GstPadProbeReturn
caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  /* Keep the probe (wr_peer_close removes it): a later caps change is
   * harmless, the offer is only made once. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS)
    post (user_data, CALL_CAPS, NULL, 0);
  return GST_PAD_PROBE_OK;
}

static void
on_local_description_set (GstPromise *promise, gpointer user_data)
{
  WrPeer *self = user_data;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    post (self, CALL_LOCAL_SET, NULL, 0);
  else
    post (self, CALL_FAILED, "setting the local offer failed", 0);
}

static void apply_answer (WrPeer *self, GstSDPMessage *msg);

static void
on_offer_created (GstPromise *promise, gpointer user_data)
{
  WrPeer *self = user_data;
  GstWebRTCSessionDescription *offer = NULL;
  const GstStructure *reply;
  g_autofree char *sdp = NULL;
  GstPromise *local;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED
      || !(reply = gst_promise_get_reply (promise))
      || !gst_structure_get (reply, "offer",
          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL)) {
    post (self, CALL_FAILED, "creating the WebRTC offer failed", 0);
    gst_promise_unref (promise);
    return;
  }
  gst_promise_unref (promise);

  /* Queue the offer before gathering starts, so that it leaves before any
   * of our candidates. */
  sdp = gst_sdp_message_as_text (offer->sdp);
  post (self, CALL_OFFER, sdp, 0);

  local = gst_promise_new_with_change_func (on_local_description_set,
      g_object_ref (self), g_object_unref);
  g_signal_emit_by_name (self->webrtc, "set-local-description", offer,
      local);
  gst_promise_unref (local);
  gst_webrtc_session_description_free (offer);
}

static void
on_remote_description_set (GstPromise *promise, gpointer user_data)
{
  WrPeer *self = user_data;
  const GstStructure *reply = NULL;
  g_autoptr (GError) error = NULL;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error")) {
    g_autofree char *text = NULL;
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    text = g_strdup_printf ("the viewer's answer was refused: %s",
        error ? error->message : "unknown error");
    post (self, CALL_FAILED, text, 0);
  } else if (reply || gst_promise_wait (promise)
      == GST_PROMISE_RESULT_REPLIED) {
    post (self, CALL_REMOTE_SET, NULL, 0);
  }
  gst_promise_unref (promise);
}

static void
on_dc_open (GstWebRTCDataChannel *dc, gpointer user_data)
{
  post (user_data, CALL_DC_OPEN, NULL, 0);
}

static void
on_dc_message (GstWebRTCDataChannel *dc, const char *text, gpointer user_data)
{
  if (text)
    post (user_data, CALL_DC_MESSAGE, text, 0);
}

static void
on_dc_data (GstWebRTCDataChannel *dc, GBytes *data, gpointer user_data)
{
  /* The protocol only has string messages; treat binary ones as text so
   * that they are validated (a NUL inside is bad_json) and answered the
   * same way. */
  gsize len = 0;
  const char *bytes = data ? g_bytes_get_data (data, &len) : NULL;

  post_data (user_data, CALL_DC_MESSAGE, bytes ? bytes : "", len, 0);
}

static void
on_dc_close (GstWebRTCDataChannel *dc, gpointer user_data)
{
  post (user_data, CALL_DC_CLOSE, NULL, 0);
}

/* ---- main context ---- */

static void
fail (WrPeer *self, const char *reason)
{
  if (self->closed)
    return;
  g_signal_emit (self, signals[SIGNAL_FAILED], 0, reason);
}

static void
maybe_offer (WrPeer *self)
{
  GstPromise *promise;

  if (!self->started || !self->negotiation_needed || !self->caps_ready
      || self->offer_started)
    return;
  self->offer_started = TRUE;
  g_clear_handle_id (&self->offer_timeout_id, g_source_remove);
  GST_INFO ("session %s: creating the offer", self->sid);
  promise = gst_promise_new_with_change_func (on_offer_created,
      g_object_ref (self), g_object_unref);
  g_signal_emit_by_name (self->webrtc, "create-offer", NULL, promise);
}

static gboolean
offer_timeout_cb (gpointer user_data)
{
  WrPeer *self = user_data;

  self->offer_timeout_id = 0;
  GST_WARNING ("session %s: no offer after %d s (negotiation needed: %d, "
      "caps: %d)", self->sid, WR_OFFER_TIMEOUT_S, self->negotiation_needed,
      self->caps_ready);
  fail (self, "the agent could not start the video stream");
  return G_SOURCE_REMOVE;
}

static gboolean
caps_retry_cb (gpointer user_data)
{
  WrPeer *self = user_data;

  self->caps_retry_id = 0;
  post (self, CALL_CAPS, NULL, 0);
  return G_SOURCE_REMOVE;
}

static void
handle_caps (WrPeer *self)
{
  /* The probe fires just before webrtcbin sees the caps event; the offer
   * needs webrtcbin to have taken it. */
  if (!gst_pad_has_current_caps (self->webrtc_sink)) {
    if (!self->caps_retry_id)
      self->caps_retry_id = g_timeout_add (WR_CAPS_RETRY_MS, caps_retry_cb,
          self);
    return;
  }
  self->caps_ready = TRUE;
  maybe_offer (self);
}

/* Remembers the codec of the video m-line of our offer @sdp. */
static void
note_offer (WrPeer *self, const char *sdp)
{
  GstSDPMessage *msg = NULL;

  g_clear_pointer (&self->offered_codec, g_free);
  g_clear_pointer (&self->offered_h264_level, g_free);
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK)
    return;
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, i);
    const char *fmt;
    g_autoptr (GstCaps) caps = NULL;
    GstStructure *st;
    int pt;

    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0
        || gst_sdp_media_formats_len (m) == 0)
      continue;
    fmt = gst_sdp_media_get_format (m, 0);
    pt = atoi (fmt);
    caps = gst_sdp_media_get_caps_from_media (m, pt);
    if (!caps || gst_caps_is_empty (caps))
      break;
    st = gst_caps_get_structure (caps, 0);
    self->offered_codec = g_strdup (gst_structure_get_string (st,
            "encoding-name"));
    self->offered_h264_level = g_strdup (gst_structure_get_string (st,
            "profile-level-id"));
    break;
  }
  gst_sdp_message_free (msg);
}

/* Whether the viewer's answer takes the codec we offered (issue #6
 * point 5). Chromium answers a codec it cannot decode (H.264 High) with
 * `m=video 0`; other viewers may leave out the payload type instead. */
static gboolean
answer_accepts_codec (WrPeer *self, const GstSDPMessage *msg, char **why)
{
  gboolean video = FALSE;

  if (!self->offered_codec)
    return TRUE;
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, i);

    if (g_strcmp0 (gst_sdp_media_get_media (m), "video") != 0)
      continue;
    video = TRUE;
    if (gst_sdp_media_get_port (m) == 0) {
      *why = g_strdup_printf ("the viewer refused the %s video (m=video 0)",
          self->offered_codec);
      return FALSE;
    }
    for (guint f = 0; f < gst_sdp_media_formats_len (m); f++) {
      int pt = atoi (gst_sdp_media_get_format (m, f));
      g_autoptr (GstCaps) caps = gst_sdp_media_get_caps_from_media (m, pt);
      GstStructure *st;
      const char *enc, *level;

      if (!caps || gst_caps_is_empty (caps))
        continue;
      st = gst_caps_get_structure (caps, 0);
      enc = gst_structure_get_string (st, "encoding-name");
      if (!enc || g_ascii_strcasecmp (enc, self->offered_codec) != 0)
        continue;
      level = gst_structure_get_string (st, "profile-level-id");
      /* H.264: the profile (first byte of profile-level-id) must be the
       * one offered; the level may differ. */
      if (level && self->offered_h264_level && strlen (level) >= 2
          && g_ascii_strncasecmp (level, self->offered_h264_level, 2) != 0) {
        *why = g_strdup_printf ("the viewer answered H.264 profile %s to "
            "an offer of %s", level, self->offered_h264_level);
        return FALSE;
      }
      return TRUE;
    }
    *why = g_strdup_printf ("the viewer's answer has no payload type for "
        "%s", self->offered_codec);
    return FALSE;
  }
  if (!video) {
    *why = g_strdup ("the viewer's answer has no video");
    return FALSE;
  }
  return TRUE;
}

static void try_renegotiate (WrPeer *self);

static gboolean
renegotiate_retry_cb (gpointer user_data)
{
  WrPeer *self = user_data;

  self->renegotiate_retry_id = 0;
  try_renegotiate (self);
  return G_SOURCE_REMOVE;
}

/* Main context. A new offer on the same connection once the last answer
 * is in force and the new codec's caps have reached webrtcbin (the offer
 * describes what its sink pad received). */
static void
try_renegotiate (WrPeer *self)
{
  g_autoptr (GstCaps) caps = NULL;
  const char *enc = NULL;

  if (!self->renegotiate_pending || self->closed)
    return;
  /* An offer in flight: after its answer (CALL_REMOTE_SET). */
  if (!self->offer_started || !self->remote_set)
    return;
  if (g_strcmp0 (self->offered_codec, self->renegotiate_codec) == 0) {
    self->renegotiate_pending = FALSE;
    return;
  }
  caps = gst_pad_get_current_caps (self->webrtc_sink);
  if (caps && gst_caps_get_size (caps) > 0)
    enc = gst_structure_get_string (gst_caps_get_structure (caps, 0),
        "encoding-name");
  if (g_strcmp0 (enc, self->renegotiate_codec) != 0) {
    if (++self->renegotiate_tries > 5000 / WR_CAPS_RETRY_MS) {
      fail (self, "the new codec never reached the connection");
      return;
    }
    if (!self->renegotiate_retry_id)
      self->renegotiate_retry_id = g_timeout_add (WR_CAPS_RETRY_MS,
          renegotiate_retry_cb, self);
    return;
  }
  g_message ("session %s: renegotiating for %s", self->sid, enc);
  self->renegotiate_pending = FALSE;
  self->offer_started = FALSE;
  self->answered = FALSE;
  self->local_set = FALSE;
  self->remote_set = FALSE;
  maybe_offer (self);
}

void
wr_peer_renegotiate (WrPeer *self, const char *codec)
{
  if (self->closed)
    return;
  g_free (self->renegotiate_codec);
  self->renegotiate_codec = g_strdup (codec);
  self->renegotiate_pending = TRUE;
  self->renegotiate_tries = 0;
  try_renegotiate (self);
}

gboolean
wr_peer_send (WrPeer *self, const char *text)
{
  if (self->closed || !self->input_dc || !self->dc_open)
    return FALSE;
  gst_webrtc_data_channel_send_string (self->input_dc, text);
  return TRUE;
}

const char *
wr_peer_get_offered_codec (WrPeer *self, const char **h264_level)
{
  if (h264_level)
    *h264_level = self->offered_h264_level;
  return self->offered_codec;
}

guint
wr_peer_get_n_offers (WrPeer *self)
{
  return self->n_offers;
}

static void
handle_input (WrPeer *self, const char *text, gsize len)
{
  g_autofree char *reply = NULL;
  int w, h;

  if (!self->input || !self->input_dc)
    return;
  if (wr_display_pipeline_get_video_size (self->pipeline, &w, &h))
    wr_input_channel_set_video_size (self->input, w, h);
  reply = wr_input_channel_handle (self->input, text, len);
  if (reply)
    gst_webrtc_data_channel_send_string (self->input_dc, reply);
}

static void
handle_call (Call *c)
{
  WrPeer *self = c->peer;

  switch (c->kind) {
    case CALL_NEGOTIATION_NEEDED:
      self->negotiation_needed = TRUE;
      maybe_offer (self);
      break;
    case CALL_CAPS:
      handle_caps (self);
      break;
    case CALL_LOCAL_SET:
      self->local_set = TRUE;
      if (self->pending_answer && !self->closed)
        apply_answer (self, g_steal_pointer (&self->pending_answer));
      break;
    case CALL_OFFER:
      note_offer (self, c->text);
      self->n_offers++;
      g_signal_emit (self, signals[SIGNAL_OFFER], 0, c->text);
      break;
    case CALL_REMOTE_SET:
      self->remote_set = TRUE;
      try_renegotiate (self);
      break;
    case CALL_CODEC_REFUSED:
      g_signal_emit (self, signals[SIGNAL_CODEC_REFUSED], 0, c->text);
      break;
    case CALL_ICE_CANDIDATE:
      g_signal_emit (self, signals[SIGNAL_ICE_CANDIDATE], 0, c->number,
          c->text ? c->text : "");
      break;
    case CALL_CONNECTION_STATE:
      GST_INFO ("session %s: connection state %u", self->sid, c->number);
      if (c->number == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
          && !self->connected) {
        self->connected = TRUE;
        g_message ("session %s: viewer connected", self->sid);
        g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
      } else if (c->number == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
        fail (self, "WebRTC connection failed");
      }
      break;
    case CALL_DC_OPEN:
      GST_INFO ("session %s: input channel open", self->sid);
      self->dc_open = TRUE;
      g_signal_emit (self, signals[SIGNAL_CHANNEL_OPEN], 0);
      break;
    case CALL_DC_MESSAGE:
      handle_input (self, c->text, c->len);
      break;
    case CALL_DC_CLOSE:
      g_message ("session %s: input channel closed; releasing input",
          self->sid);
      self->dc_open = FALSE;
      if (self->input)
        wr_input_channel_release_all (self->input);
      break;
    case CALL_FAILED:
      fail (self, c->text);
      break;
  }
}

/* Connects @callback so that the handler holds a reference on the peer: a
 * signal already being emitted on another thread when the peer closes
 * then still finds it alive. */
static void
connect_ref (gpointer instance, const char *signal, GCallback callback,
    WrPeer *self)
{
  g_signal_connect_data (instance, signal, callback, g_object_ref (self),
      (GClosureNotify) (void (*) (void)) g_object_unref, 0);
}

static gboolean
build (WrPeer *self, const char *const *ice_addresses, JsonArray *ice_servers,
    GError **error)
{
  /* Unique: a restarted connection's branch joins the pipeline while the
   * old one of the same session is still in it. */
  static gint serial;
  g_autofree char *name = g_strdup_printf ("peer-%s-%d", self->sid,
      g_atomic_int_add (&serial, 1));
  GstElement *queue;
  GstWebRTCRTPTransceiver *trans = NULL;
  g_autoptr (GstPad) queue_sink = NULL;

  queue = gst_element_factory_make ("queue", NULL);
  self->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!queue || !self->webrtc) {
    g_clear_object (&queue);
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element %s is missing", queue ? "webrtcbin" : "queue");
    return FALSE;
  }
  gst_object_ref_sink (self->webrtc);

  self->branch = gst_bin_new (name);
  gst_object_ref_sink (self->branch);

  /* A slow viewer drops its own packets instead of stalling the tee and
   * with it every other viewer. */
  g_object_set (queue,
      "leaky", 2,
      "max-size-buffers", 0,
      "max-size-bytes", 4 * 1024 * 1024,
      "max-size-time", (guint64) 300 * GST_MSECOND,
      NULL);
  gst_util_set_object_arg (G_OBJECT (self->webrtc), "bundle-policy",
      "max-bundle");
  gst_bin_add_many (GST_BIN (self->branch), queue, self->webrtc, NULL);

  {
    g_autofree char *log_name = g_strdup_printf ("session %s", self->sid);
    wr_webrtc_configure_ice (self->webrtc, ice_addresses, ice_servers,
        log_name);
  }

  /* Connect before the pad request: requesting it adds a transceiver, and
   * webrtcbin may emit on-negotiation-needed from its own thread right
   * away, only once; a handler connected later misses it and no offer is
   * ever made. */
  connect_ref (self->webrtc, "on-negotiation-needed",
      G_CALLBACK (on_negotiation_needed), self);
  connect_ref (self->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), self);
  connect_ref (self->webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), self);

  self->webrtc_sink = gst_element_request_pad_simple (self->webrtc,
      "sink_%u");
  self->queue_src = gst_element_get_static_pad (queue, "src");
  if (!self->webrtc_sink
      || gst_pad_link (self->queue_src, self->webrtc_sink)
      != GST_PAD_LINK_OK) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link the peer's queue to webrtcbin");
    return FALSE;
  }
  g_object_get (self->webrtc_sink, "transceiver", &trans, NULL);
  if (trans) {
    g_object_set (trans, "direction",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
  }
  self->caps_probe_id = gst_pad_add_probe (self->queue_src,
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, caps_probe, g_object_ref (self),
      g_object_unref);

  queue_sink = gst_element_get_static_pad (queue, "sink");
  gst_element_add_pad (self->branch, gst_ghost_pad_new ("sink", queue_sink));

  return TRUE;
}

/* Main context: the input channel runs from handle_call(). */
static void
on_input_refused (WrInputChannel *channel, const char *reason,
    gpointer user_data)
{
  WrPeer *self = user_data;

  if (!self->closed)
    g_signal_emit (self, signals[SIGNAL_INPUT_REFUSED], 0, reason);
}

/* Main context: profile.set from the viewer. The reply comes later, from
 * whoever handles the signal, through wr_peer_send(). */
static char *
on_profile_request (WrInputChannel *channel, const char *profile,
    const char *ref, gpointer user_data)
{
  WrPeer *self = user_data;
  char *reply = NULL;

  if (!self->closed)
    g_signal_emit (self, signals[SIGNAL_PROFILE_REQUEST], 0, profile, ref,
        &reply);
  return reply;
}

void
wr_peer_set_control (WrPeer *self, gboolean control)
{
  if (self->input)
    wr_input_channel_set_control (self->input, control);
}

WrPeer *
wr_peer_new (const char *sid, WrDisplayPipeline *pipeline,
    WrInputInjector *injector, gboolean control,
    const char *const *ice_addresses, JsonArray *ice_servers, GError **error)
{
  g_autoptr (WrPeer) self = g_object_new (WR_TYPE_PEER, NULL);

  self->sid = g_strdup (sid);
  self->pipeline = g_object_ref (pipeline);
  self->input = wr_input_channel_new (injector, control);
  wr_input_channel_set_refused_func (self->input, on_input_refused, self);
  wr_input_channel_set_profile_func (self->input, on_profile_request, self);
  if (!build (self, ice_addresses, ice_servers, error)) {
    wr_peer_close (self);
    return NULL;
  }
  return g_steal_pointer (&self);
}

const char *
wr_peer_get_sid (WrPeer *self)
{
  return self->sid;
}

GstElement *
wr_peer_get_branch (WrPeer *self)
{
  return self->branch;
}

void
wr_peer_start (WrPeer *self)
{
  g_autoptr (GstStructure) opts = NULL;

  if (self->started || self->closed)
    return;
  self->started = TRUE;
  self->offer_timeout_id = g_timeout_add_seconds (WR_OFFER_TIMEOUT_S,
      offer_timeout_cb, self);

  /* Created before the offer so that it is part of it (the agent is the
   * offerer; the viewer gets it through ondatachannel). */
  opts = gst_structure_new ("options", "ordered", G_TYPE_BOOLEAN, TRUE,
      NULL);
  g_signal_emit_by_name (self->webrtc, "create-data-channel", "input", opts,
      &self->input_dc);
  if (!self->input_dc) {
    fail (self, "cannot create the input data channel");
    return;
  }
  connect_ref (self->input_dc, "on-open", G_CALLBACK (on_dc_open), self);
  connect_ref (self->input_dc, "on-message-string",
      G_CALLBACK (on_dc_message), self);
  connect_ref (self->input_dc, "on-message-data", G_CALLBACK (on_dc_data),
      self);
  connect_ref (self->input_dc, "on-close", G_CALLBACK (on_dc_close), self);
  maybe_offer (self);
}

gboolean
wr_peer_set_answer (WrPeer *self, const char *sdp, GError **error)
{
  GstSDPMessage *msg = NULL;

  if (self->closed || !self->offer_started || self->answered) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "no offer is waiting for an answer");
    return FALSE;
  }
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK
      || gst_sdp_message_medias_len (msg) == 0) {
    if (msg)
      gst_sdp_message_free (msg);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the answer is not a usable SDP");
    return FALSE;
  }
  self->answered = TRUE;
  {
    g_autofree char *why = NULL;
    if (!answer_accepts_codec (self, msg, &why)) {
      /* Not applied: webrtcbin would wait for media that never flows.
       * The session manager falls back to another codec and restarts
       * this connection. */
      g_message ("session %s: %s", self->sid, why);
      gst_sdp_message_free (msg);
      post (self, CALL_CODEC_REFUSED, why, 0);
      return TRUE;
    }
  }
  if (!self->local_set) {
    GST_INFO ("session %s: the answer came before the local offer was set; "
        "holding it", self->sid);
    self->pending_answer = msg;
    return TRUE;
  }
  apply_answer (self, msg);
  return TRUE;
}

/* Takes @msg. */
static void
apply_answer (WrPeer *self, GstSDPMessage *msg)
{
  GstWebRTCSessionDescription *answer;
  GstPromise *promise;

  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER,
      msg);
  promise = gst_promise_new_with_change_func (on_remote_description_set,
      g_object_ref (self), g_object_unref);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", answer,
      promise);
  gst_webrtc_session_description_free (answer);
}

void
wr_peer_add_ice_candidate (WrPeer *self, guint mline, const char *candidate)
{
  /* An empty candidate is end-of-candidates (RFC 8838 section 13);
   * webrtcbin needs no notice of it. */
  if (self->closed || !candidate || !*candidate)
    return;
  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline,
      candidate);
}

void
wr_peer_close (WrPeer *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_clear_handle_id (&self->caps_retry_id, g_source_remove);
  g_clear_handle_id (&self->offer_timeout_id, g_source_remove);
  g_clear_handle_id (&self->renegotiate_retry_id, g_source_remove);
  if (self->caps_probe_id) {
    gst_pad_remove_probe (self->queue_src, self->caps_probe_id);
    self->caps_probe_id = 0;
  }
  if (self->input)
    wr_input_channel_release_all (self->input);
  if (self->input_dc)
    g_signal_handlers_disconnect_by_data (self->input_dc, self);
  if (self->webrtc)
    g_signal_handlers_disconnect_by_data (self->webrtc, self);
}

static void
wr_peer_dispose (GObject *object)
{
  WrPeer *self = WR_PEER (object);

  wr_peer_close (self);
  g_clear_pointer (&self->input, wr_input_channel_free);
  g_clear_pointer (&self->pending_answer, gst_sdp_message_free);
  g_clear_object (&self->input_dc);
  /* Not released here: the branch may still stream (the display pipeline
   * detaches it later). Until negotiation webrtcbin holds the queue's
   * thread in a blocking probe on this pad; releasing the pad takes it out
   * of webrtcbin, so the branch going to NULL no longer flushes it, the
   * thread is never woken and the main thread waits for it forever while
   * stopping the queue. webrtcbin releases its request pads itself when
   * it is disposed, in NULL. */
  g_clear_object (&self->webrtc_sink);
  g_clear_object (&self->queue_src);
  g_clear_object (&self->webrtc);
  g_clear_object (&self->branch);
  g_clear_object (&self->pipeline);
  G_OBJECT_CLASS (wr_peer_parent_class)->dispose (object);
}

static void
wr_peer_finalize (GObject *object)
{
  WrPeer *self = WR_PEER (object);

  g_free (self->sid);
  g_free (self->offered_codec);
  g_free (self->offered_h264_level);
  g_free (self->renegotiate_codec);
  G_OBJECT_CLASS (wr_peer_parent_class)->finalize (object);
}

static void
wr_peer_class_init (WrPeerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_peer_dispose;
  object_class->finalize = wr_peer_finalize;

  signals[SIGNAL_OFFER] = g_signal_new ("offer", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ICE_CANDIDATE] = g_signal_new ("ice-candidate",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  signals[SIGNAL_CONNECTED] = g_signal_new ("connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_INPUT_REFUSED] = g_signal_new ("input-refused",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);

  signals[SIGNAL_CHANNEL_OPEN] = g_signal_new ("channel-open",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  /* Returns the error to send back, or NULL (first handler wins). */
  signals[SIGNAL_PROFILE_REQUEST] = g_signal_new ("profile-request",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 2,
      G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_CODEC_REFUSED] = g_signal_new ("codec-refused",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);

  GST_DEBUG_CATEGORY_INIT (wr_peer_debug, "wr-peer", 0, "webremote peer");
}

static void
wr_peer_init (WrPeer *self)
{
}
