/* webremote integration tests: a GStreamer viewer playing the browser. */
#include "config.h"

#include "test-viewer.h"

#include <string.h>

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <libsoup/soup.h>

#include "common/protocol.h"
#include "harness.h"
#include "pipelines/webrtc-ice.h"

struct _WrTestViewer {
  gint ref_count;
  char *base_url;
  char *fingerprint;
  char *token;
  GMainContext *context;

  SoupSession *session;
  SoupWebsocketConnection *ws;
  gboolean connect_done;
  GError *connect_error;
  guint connect_status;
  gboolean closed;
  gushort close_code;
  GQueue messages;              /* JsonObject, received, not yet taken */
  guint next_id;

  char *sid;
  gint64 request_time;
  /* Progress of the negotiation, for failure messages. */
  guint offers;
  guint answers_sent;
  guint remote_candidates;
  guint local_candidates;

  GstElement *pipeline;
  GstElement *webrtc;
  guint bus_watch;

  /* Codec negotiation (issue #6): the ICE ufrag of the last offer (another
   * one means a new connection), the video codec it offered, and
   * a codec this viewer refuses as a browser that cannot decode it would
   * (m=video 0 in the answer). */
  char *offer_fingerprint;
  char *offer_codec;            /* (locked) */
  char *refuse_codec;           /* (locked) */
  guint refused_answers;        /* (locked) */
  guint restarts;
  gboolean keep_profile_messages; /* (locked) */

  /* Written from streaming threads, read from the main thread. */
  GMutex lock;
  guint64 frames;               /* (locked) */
  gint64 first_frame_time;      /* (locked) */
  int width;                    /* (locked) */
  int height;                   /* (locked) */
  gboolean pipeline_error;      /* (locked) */
  GstWebRTCDataChannel *input;  /* (locked) (owned) */
  GQueue input_messages;        /* (locked) char* */
};

static WrTestViewer *
viewer_ref (WrTestViewer *v)
{
  g_atomic_int_inc (&v->ref_count);
  return v;
}

static void
viewer_unref (WrTestViewer *v)
{
  if (!g_atomic_int_dec_and_test (&v->ref_count))
    return;
  g_free (v->base_url);
  g_free (v->fingerprint);
  g_free (v->token);
  g_free (v->sid);
  g_free (v->offer_fingerprint);
  g_free (v->offer_codec);
  g_free (v->refuse_codec);
  g_clear_error (&v->connect_error);
  g_queue_clear_full (&v->messages, (GDestroyNotify) json_object_unref);
  g_queue_clear_full (&v->input_messages, g_free);
  g_clear_object (&v->input);
  g_clear_object (&v->ws);
  g_clear_object (&v->session);
  g_main_context_unref (v->context);
  g_mutex_clear (&v->lock);
  g_free (v);
}

WrTestViewer *
wr_test_viewer_new (const char *base_url, const char *fingerprint,
    const char *token)
{
  WrTestViewer *v = g_new0 (WrTestViewer, 1);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  v->ref_count = 1;
  v->base_url = g_strdup (base_url);
  v->fingerprint = g_strdup (fingerprint);
  v->token = g_strdup (token);
  v->context = g_main_context_ref_thread_default ();
  v->session = soup_session_new ();
  g_mutex_init (&v->lock);
  g_queue_init (&v->messages);
  g_queue_init (&v->input_messages);
  return v;
}

/* ---------------------------------------------------------------------- */
/* WebSocket                                                              */
/* ---------------------------------------------------------------------- */

static void
send_message (WrTestViewer *v, JsonBuilder *b)
{
  g_autofree char *text = wr_message_builder_finish (b);

  wr_test_viewer_send_text (v, text);
}

gboolean
wr_test_viewer_send_text (WrTestViewer *v, const char *text)
{
  if (!v->ws || soup_websocket_connection_get_state (v->ws)
      != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;
  soup_websocket_connection_send_text (v->ws, text);
  return TRUE;
}

static void handle_offer (WrTestViewer *v, const char *sdp);
static void handle_remote_candidate (WrTestViewer *v, JsonObject *msg);

static void
on_ws_message (SoupWebsocketConnection *ws, gint type, GBytes *message,
    gpointer user_data)
{
  WrTestViewer *v = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  const char *data = g_bytes_get_data (message, &len);
  JsonNode *root;
  JsonObject *msg;
  const char *mtype;

  if (type != SOUP_WEBSOCKET_DATA_TEXT
      || !json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_warning ("viewer: the gateway sent a message that is not a JSON "
        "object (%" G_GSIZE_FORMAT " bytes)", len);
    return;
  }
  msg = json_node_get_object (root);
  mtype = json_object_has_member (msg, "type")
      ? json_object_get_string_member (msg, "type") : NULL;

  if (g_strcmp0 (mtype, "session.granted") == 0
      && json_object_has_member (msg, "sid")) {
    g_free (v->sid);
    v->sid = g_strdup (json_object_get_string_member (msg, "sid"));
  } else if (g_strcmp0 (mtype, "sdp.offer") == 0
      && json_object_has_member (msg, "sdp")) {
    v->offers++;
    handle_offer (v, json_object_get_string_member (msg, "sdp"));
  } else if (g_strcmp0 (mtype, "ice.candidate") == 0) {
    handle_remote_candidate (v, msg);
  } else if (g_strcmp0 (mtype, "error") == 0) {
    g_printerr ("viewer: error from the gateway: %s: %s\n",
        json_object_get_string_member_with_default (msg, "code", "?"),
        json_object_get_string_member_with_default (msg, "message", ""));
  }
  g_queue_push_tail (&v->messages, json_object_ref (msg));
}

static void
on_ws_closed (SoupWebsocketConnection *ws, gpointer user_data)
{
  WrTestViewer *v = user_data;

  v->closed = TRUE;
  v->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
on_ws_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrTestViewer *v = user_data;
  SoupWebsocketConnection *ws;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &v->connect_error);
  if (ws) {
    v->ws = ws;
    /* SDP and errors are small, but let a 64 KiB message through. */
    soup_websocket_connection_set_max_incoming_payload_size (ws, 1 << 20);
    soup_websocket_connection_set_keepalive_interval (ws, 0);
    g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), v);
    g_signal_connect (ws, "closed", G_CALLBACK (on_ws_closed), v);
  }
  v->connect_done = TRUE;
  viewer_unref (v);
}

static gboolean
connect_done (gpointer data)
{
  WrTestViewer *v = data;
  return v->connect_done;
}

typedef struct {
  WrTestViewer *v;
  const char *type;
  JsonObject *found;
} WaitMessage;

static gboolean
find_message (gpointer data)
{
  WaitMessage *w = data;

  for (GList *l = w->v->messages.head; l; l = l->next) {
    JsonObject *m = l->data;
    if (!w->type || g_strcmp0 (json_object_get_string_member_with_default (m,
                "type", ""), w->type) == 0) {
      w->found = m;
      g_queue_delete_link (&w->v->messages, l);
      return TRUE;
    }
  }
  return FALSE;
}

JsonObject *
wr_test_viewer_wait_message (WrTestViewer *v, const char *type,
    guint timeout_ms)
{
  WaitMessage w = { v, type, NULL };

  wr_wait_until (find_message, &w, timeout_ms);
  return w.found;
}

void
wr_test_viewer_clear_messages (WrTestViewer *v)
{
  g_queue_clear_full (&v->messages, (GDestroyNotify) json_object_unref);
  g_queue_init (&v->messages);
}

gboolean
wr_test_viewer_connect (WrTestViewer *v, guint timeout_ms,
    guint *http_status, GError **error)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (JsonObject) welcome = NULL;
  g_autofree char *url = NULL;

  g_return_val_if_fail (g_str_has_prefix (v->base_url, "https://"), FALSE);
  url = g_strconcat ("wss://", v->base_url + strlen ("https://"),
      "/ws/client", NULL);
  msg = soup_message_new ("GET", url);
  wr_message_pin_certificate (msg, v->fingerprint);
  if (v->token) {
    g_autofree char *auth = g_strdup_printf ("Bearer %s", v->token);
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", auth);
  }
  v->connect_done = FALSE;
  soup_session_websocket_connect_async (v->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_ws_connected, viewer_ref (v));
  if (!wr_wait_until (connect_done, v, timeout_ms)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "WebSocket upgrade did not finish within %u ms", timeout_ms);
    return FALSE;
  }
  v->connect_status = soup_message_get_status (msg);
  if (http_status)
    *http_status = v->connect_status;
  if (!v->ws) {
    g_propagate_error (error, g_steal_pointer (&v->connect_error));
    return FALSE;
  }
  welcome = wr_test_viewer_wait_message (v, "welcome", timeout_ms);
  if (!welcome) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "no welcome within %u ms", timeout_ms);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr_test_viewer_is_closed (WrTestViewer *v, gushort *code)
{
  if (code)
    *code = v->close_code;
  return v->closed;
}

/* ---------------------------------------------------------------------- */
/* Session                                                                */
/* ---------------------------------------------------------------------- */

typedef struct {
  WrTestViewer *v;
  char *ref;
  JsonObject *answer;
} WaitAnswer;

static gboolean
find_answer (gpointer data)
{
  WaitAnswer *w = data;

  for (GList *l = w->v->messages.head; l; l = l->next) {
    JsonObject *m = l->data;
    const char *type = json_object_get_string_member_with_default (m, "type",
        "");
    const char *ref = json_object_get_string_member_with_default (m, "ref",
        "");
    if ((strcmp (type, "session.granted") == 0 || strcmp (type, "error") == 0)
        && strcmp (ref, w->ref) == 0) {
      w->answer = json_object_ref (m);
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
wr_test_viewer_start_session (WrTestViewer *v, const char *agent,
    const char *display, guint timeout_ms, GError **error)
{
  return wr_test_viewer_start_session_with_scopes (v, agent, display, NULL,
      timeout_ms, error);
}

const char *
wr_test_viewer_get_sid (WrTestViewer *v)
{
  return v->sid;
}

gboolean
wr_test_viewer_start_session_with_scopes (WrTestViewer *v, const char *agent,
    const char *display, const char *const *scopes, guint timeout_ms,
    GError **error)
{
  g_autoptr (JsonBuilder) b = wr_message_new ("session.request");
  g_autofree char *id = g_strdup_printf ("req-%u", ++v->next_id);
  WaitAnswer w = { v, id, NULL };
  g_autoptr (JsonObject) answer = NULL;

  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, agent);
  if (display) {
    json_builder_set_member_name (b, "display");
    json_builder_add_string_value (b, display);
  }
  if (scopes) {
    json_builder_set_member_name (b, "scopes");
    json_builder_begin_array (b);
    for (; *scopes; scopes++)
      json_builder_add_string_value (b, *scopes);
    json_builder_end_array (b);
  }
  g_mutex_lock (&v->lock);
  v->first_frame_time = 0;
  v->frames = 0;
  g_mutex_unlock (&v->lock);
  v->request_time = g_get_monotonic_time ();
  send_message (v, b);

  if (!wr_wait_until (find_answer, &w, timeout_ms)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "no answer to session.request within %u ms", timeout_ms);
    return FALSE;
  }
  answer = w.answer;
  if (g_strcmp0 (json_object_get_string_member (answer, "type"),
          "error") == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "session.request refused: %s: %s",
        json_object_get_string_member_with_default (answer, "code", "?"),
        json_object_get_string_member_with_default (answer, "message", ""));
    return FALSE;
  }
  return TRUE;
}

void
wr_test_viewer_end_session (WrTestViewer *v)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (!v->sid)
    return;
  b = wr_message_new ("session.end");
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, v->sid);
  send_message (v, b);
  g_clear_pointer (&v->sid, g_free);
}

/* ---------------------------------------------------------------------- */
/* WebRTC: webrtcbin calls these on its own threads                       */
/* ---------------------------------------------------------------------- */

typedef struct {
  WrTestViewer *v;
  char *type;                   /* "sdp.answer" or "ice.candidate" */
  char *text;                   /* the SDP or the candidate */
  guint mline;
} Outgoing;

static gboolean
send_outgoing (gpointer data)
{
  Outgoing *o = data;
  g_autoptr (JsonBuilder) b = NULL;

  if (!o->v->sid)
    return G_SOURCE_REMOVE;
  b = wr_message_new (o->type);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, o->v->sid);
  if (strcmp (o->type, "sdp.answer") == 0) {
    o->v->answers_sent++;
    json_builder_set_member_name (b, "sdp");
    json_builder_add_string_value (b, o->text);
  } else {
    o->v->local_candidates++;
    json_builder_set_member_name (b, "candidate");
    json_builder_add_string_value (b, o->text);
    json_builder_set_member_name (b, "sdp_mline_index");
    json_builder_add_int_value (b, o->mline);
  }
  send_message (o->v, b);
  return G_SOURCE_REMOVE;
}

static void
outgoing_free (gpointer data)
{
  Outgoing *o = data;

  viewer_unref (o->v);
  g_free (o->type);
  g_free (o->text);
  g_free (o);
}

/* Copies the data and sends it from the viewer's main context: a
 * SoupWebsocketConnection must only be used there. */
static void
queue_outgoing (WrTestViewer *v, const char *type, const char *text,
    guint mline)
{
  Outgoing *o = g_new0 (Outgoing, 1);

  o->v = viewer_ref (v);
  o->type = g_strdup (type);
  o->text = g_strdup (text);
  o->mline = mline;
  g_main_context_invoke_full (v->context, G_PRIORITY_DEFAULT, send_outgoing,
      o, outgoing_free);
}

static void
on_answer_created (GstPromise *promise, gpointer user_data)
{
  WrTestViewer *v = user_data;
  const GstStructure *reply;
  GstWebRTCSessionDescription *answer = NULL;
  g_autofree char *text = NULL;

  reply = gst_promise_get_reply (promise);
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &answer, NULL);
  gst_promise_unref (promise);
  if (!answer) {
    g_printerr ("viewer: webrtcbin could not create an answer\n");
    g_mutex_lock (&v->lock);
    v->pipeline_error = TRUE;
    g_mutex_unlock (&v->lock);
    return;
  }
  g_signal_emit_by_name (v->webrtc, "set-local-description", answer, NULL);
  text = gst_sdp_message_as_text (answer->sdp);
  gst_webrtc_session_description_free (answer);
  g_mutex_lock (&v->lock);
  if (v->refuse_codec && v->offer_codec
      && g_ascii_strcasecmp (v->refuse_codec, v->offer_codec) == 0) {
    /* What Chromium answers to a codec it cannot decode. */
    char *m = strstr (text, "m=video ");
    if (m) {
      char *port = m + strlen ("m=video ");
      char *end = port + strspn (port, "0123456789");
      g_autofree char *head = g_strndup (text, port - text);
      char *rewritten = g_strconcat (head, "0", end, NULL);
      g_free (text);
      text = rewritten;
      v->refused_answers++;
    }
  }
  g_mutex_unlock (&v->lock);
  queue_outgoing (v, "sdp.answer", text, 0);
}

static void
on_offer_set (GstPromise *promise, gpointer user_data)
{
  WrTestViewer *v = user_data;
  GstPromise *next;

  gst_promise_unref (promise);
  next = gst_promise_new_with_change_func (on_answer_created, v, NULL);
  g_signal_emit_by_name (v->webrtc, "create-answer", NULL, next);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const char *candidate,
    gpointer user_data)
{
  queue_outgoing (user_data, "ice.candidate", candidate, mline);
}

static GstPadProbeReturn
on_decoded_frame (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  WrTestViewer *v = user_data;
  gint64 now = g_get_monotonic_time ();
  GstCaps *caps = gst_pad_get_current_caps (pad);
  int width = 0, height = 0;

  if (caps) {
    GstStructure *s = gst_caps_get_structure (caps, 0);
    gst_structure_get_int (s, "width", &width);
    gst_structure_get_int (s, "height", &height);
    gst_caps_unref (caps);
  }
  g_mutex_lock (&v->lock);
  v->frames++;
  if (!v->first_frame_time)
    v->first_frame_time = now;
  v->width = width;
  v->height = height;
  g_mutex_unlock (&v->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  WrTestViewer *v = user_data;
  g_autoptr (GstCaps) caps = NULL;
  const char *encoding = NULL;
  const char *chain[4] = { NULL };
  GstElement *prev = NULL;
  GstElement *first = NULL;
  GstElement *sink;
  g_autoptr (GstPad) sinkpad = NULL;
  g_autoptr (GstPad) firstpad = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps && gst_caps_get_size (caps) > 0)
    encoding = gst_structure_get_string (gst_caps_get_structure (caps, 0),
        "encoding-name");

  if (g_strcmp0 (encoding, "H264") == 0) {
    chain[0] = "rtph264depay";
    chain[1] = "h264parse";
    chain[2] = "avdec_h264";
  } else if (g_strcmp0 (encoding, "VP8") == 0) {
    chain[0] = "rtpvp8depay";
    chain[1] = "vp8dec";
  } else if (g_strcmp0 (encoding, "VP9") == 0) {
    chain[0] = "rtpvp9depay";
    chain[1] = "vp9dec";
  } else {
    g_printerr ("viewer: unexpected stream %s, not decoding it\n",
        encoding ? encoding : "(no encoding-name)");
    return;
  }

  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  {
    GstElement *queue = gst_element_factory_make ("queue", NULL);
    gst_bin_add (GST_BIN (v->pipeline), queue);
    first = prev = queue;
  }
  for (int i = 0; chain[i]; i++) {
    GstElement *e = gst_element_factory_make (chain[i], NULL);
    if (!e) {
      g_printerr ("viewer: missing element %s\n", chain[i]);
      return;
    }
    gst_bin_add (GST_BIN (v->pipeline), e);
    gst_element_link (prev, e);
    prev = e;
  }
  gst_bin_add (GST_BIN (v->pipeline), sink);
  gst_element_link (prev, sink);

  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, on_decoded_frame, v,
      NULL);
  gst_bin_sync_children_states (GST_BIN (v->pipeline));
  firstpad = gst_element_get_static_pad (first, "sink");
  if (gst_pad_link (pad, firstpad) != GST_PAD_LINK_OK)
    g_printerr ("viewer: could not link the %s stream\n", encoding);
}

static void
on_input_message (GstWebRTCDataChannel *channel, const char *text,
    gpointer user_data)
{
  WrTestViewer *v = user_data;
  gboolean keep;

  g_mutex_lock (&v->lock);
  keep = v->keep_profile_messages;
  g_mutex_unlock (&v->lock);
  /* The agent's pipeline profile messages (`profiles` when the channel
   * opens, `profile.changed`) only reach tests that ask for them. */
  if (!keep && text) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonNode *root;
    if (json_parser_load_from_data (parser, text, -1, NULL)
        && (root = json_parser_get_root (parser))
        && JSON_NODE_HOLDS_OBJECT (root)) {
      const char *type = json_object_get_string_member_with_default (
          json_node_get_object (root), "type", "");
      if (g_str_equal (type, "profiles")
          || g_str_equal (type, "profile.changed"))
        return;
    }
  }
  g_mutex_lock (&v->lock);
  g_queue_push_tail (&v->input_messages, g_strdup (text ? text : ""));
  g_mutex_unlock (&v->lock);
  g_main_context_wakeup (v->context);
}

static void
on_data_channel (GstElement *webrtc, GstWebRTCDataChannel *channel,
    gpointer user_data)
{
  WrTestViewer *v = user_data;
  g_autofree char *label = NULL;

  g_object_get (channel, "label", &label, NULL);
  if (g_strcmp0 (label, "input") != 0) {
    g_printerr ("viewer: ignoring DataChannel \"%s\"\n", label);
    return;
  }
  g_signal_connect (channel, "on-message-string",
      G_CALLBACK (on_input_message), v);
  g_mutex_lock (&v->lock);
  g_clear_object (&v->input);
  v->input = g_object_ref (channel);
  g_mutex_unlock (&v->lock);
  g_main_context_wakeup (v->context);
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *message, gpointer user_data)
{
  WrTestViewer *v = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    g_autofree char *debug = NULL;

    gst_message_parse_error (message, &error, &debug);
    g_printerr ("viewer: pipeline error from %s: %s (%s)\n",
        GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message,
        debug ? debug : "");
    g_mutex_lock (&v->lock);
    v->pipeline_error = TRUE;
    g_mutex_unlock (&v->lock);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
create_pipeline (WrTestViewer *v)
{
  static const char *const loopback[] = { "127.0.0.1", NULL };
  g_autoptr (GstBus) bus = NULL;

  v->pipeline = gst_pipeline_new (NULL);
  v->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!v->webrtc) {
    g_printerr ("viewer: no webrtcbin\n");
    return FALSE;
  }
  g_object_set (v->webrtc, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (v->pipeline), v->webrtc);

  /* libnice skips loopback unless asked, and must gather nothing else:
   * all test traffic stays on 127.0.0.1 (platform-notes.md). */
  if (!wr_webrtc_configure_ice (v->webrtc, loopback, NULL, NULL))
    g_printerr ("viewer: could not restrict ICE to 127.0.0.1\n");

  g_signal_connect (v->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), v);
  g_signal_connect (v->webrtc, "pad-added", G_CALLBACK (on_pad_added), v);
  g_signal_connect (v->webrtc, "on-data-channel",
      G_CALLBACK (on_data_channel), v);

  bus = gst_pipeline_get_bus (GST_PIPELINE (v->pipeline));
  v->bus_watch = gst_bus_add_watch (bus, on_bus_message, v);
  if (gst_element_set_state (v->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("viewer: the pipeline does not start\n");
    return FALSE;
  }
  return TRUE;
}

/* The value of the first @attr line of @sdp ("a=ATTR:VALUE"), or NULL. */
static char *
sdp_attribute (const char *sdp, const char *attr)
{
  g_autofree char *needle = g_strdup_printf ("a=%s:", attr);
  const char *at = strstr (sdp, needle);
  const char *end;

  if (!at)
    return NULL;
  at += strlen (needle);
  end = at + strcspn (at, "\r\n");
  return g_strndup (at, end - at);
}

static void
stop_pipeline (WrTestViewer *v)
{
  if (!v->pipeline)
    return;
  gst_element_set_state (v->pipeline, GST_STATE_NULL);
  if (v->bus_watch) {
    g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (v->pipeline));
    gst_bus_remove_watch (bus);
    v->bus_watch = 0;
  }
  gst_clear_object (&v->pipeline);
  v->webrtc = NULL;
  g_mutex_lock (&v->lock);
  g_clear_object (&v->input);
  g_mutex_unlock (&v->lock);
}

static void
handle_offer (WrTestViewer *v, const char *sdp)
{
  GstSDPMessage *message = NULL;
  GstWebRTCSessionDescription *offer;
  GstPromise *promise;
  g_autofree char *fingerprint = sdp_attribute (sdp, "ice-ufrag");
  char *rtpmap = NULL;

  /* An offer with other ICE credentials is a new connection (the agent
   * restarts it after a refused codec; the agent never restarts ICE on a
   * running one): answer it with a new one, as the web client does. (The
   * DTLS fingerprint stays: GStreamer shares one certificate per
   * process.) */
  if (v->pipeline && fingerprint && v->offer_fingerprint
      && g_strcmp0 (fingerprint, v->offer_fingerprint) != 0) {
    stop_pipeline (v);
    v->restarts++;
  }
  g_free (v->offer_fingerprint);
  v->offer_fingerprint = g_steal_pointer (&fingerprint);
  /* The codec of the video m-line: its first a=rtpmap after m=video. */
  {
    const char *video = strstr (sdp, "m=video ");
    g_autofree char *map = video ? sdp_attribute (video, "rtpmap") : NULL;
    if (map && (rtpmap = strchr (map, ' '))) {
      char *slash = strchr (rtpmap + 1, '/');
      g_mutex_lock (&v->lock);
      g_free (v->offer_codec);
      v->offer_codec = g_strndup (rtpmap + 1,
          slash ? (gsize) (slash - rtpmap - 1) : strlen (rtpmap + 1));
      g_mutex_unlock (&v->lock);
    }
  }

  if (!v->pipeline && !create_pipeline (v)) {
    g_mutex_lock (&v->lock);
    v->pipeline_error = TRUE;
    g_mutex_unlock (&v->lock);
    return;
  }
  if (gst_sdp_message_new_from_text (sdp, &message) != GST_SDP_OK) {
    g_printerr ("viewer: the offer is not SDP\n");
    return;
  }
  offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER,
      message);
  promise = gst_promise_new_with_change_func (on_offer_set, v, NULL);
  g_signal_emit_by_name (v->webrtc, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free (offer);
}

static void
handle_remote_candidate (WrTestViewer *v, JsonObject *msg)
{
  const char *candidate =
      json_object_get_string_member_with_default (msg, "candidate", "");
  gint64 mline =
      json_object_get_int_member_with_default (msg, "sdp_mline_index", 0);

  /* An empty candidate only marks the end of gathering. */
  if (!v->webrtc || !*candidate)
    return;
  v->remote_candidates++;
  g_signal_emit_by_name (v->webrtc, "add-ice-candidate", (guint) mline,
      candidate);
}

/* ---------------------------------------------------------------------- */
/* Stats and input                                                        */
/* ---------------------------------------------------------------------- */

guint64
wr_test_viewer_get_frames (WrTestViewer *v)
{
  guint64 n;

  g_mutex_lock (&v->lock);
  n = v->frames;
  g_mutex_unlock (&v->lock);
  return n;
}

typedef struct {
  WrTestViewer *v;
  guint64 n;
} WaitFrames;

static gboolean
enough_frames (gpointer data)
{
  WaitFrames *w = data;
  return wr_test_viewer_get_frames (w->v) >= w->n;
}

gboolean
wr_test_viewer_wait_frames (WrTestViewer *v, guint64 n, guint timeout_ms)
{
  WaitFrames w = { v, n };
  return wr_wait_until (enough_frames, &w, timeout_ms);
}

void
wr_test_viewer_get_video_size (WrTestViewer *v, int *width, int *height)
{
  g_mutex_lock (&v->lock);
  *width = v->width;
  *height = v->height;
  g_mutex_unlock (&v->lock);
}

gint64
wr_test_viewer_get_request_time (WrTestViewer *v)
{
  return v->request_time;
}

gint64
wr_test_viewer_get_first_frame_time (WrTestViewer *v)
{
  gint64 t;

  g_mutex_lock (&v->lock);
  t = v->first_frame_time;
  g_mutex_unlock (&v->lock);
  return t;
}

gboolean
wr_test_viewer_had_pipeline_error (WrTestViewer *v)
{
  gboolean e;

  g_mutex_lock (&v->lock);
  e = v->pipeline_error;
  g_mutex_unlock (&v->lock);
  return e;
}

static GstWebRTCDataChannel *
get_open_input (WrTestViewer *v)
{
  GstWebRTCDataChannel *channel = NULL;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED;

  g_mutex_lock (&v->lock);
  if (v->input)
    channel = g_object_ref (v->input);
  g_mutex_unlock (&v->lock);
  if (!channel)
    return NULL;
  g_object_get (channel, "ready-state", &state, NULL);
  if (state != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN) {
    g_object_unref (channel);
    return NULL;
  }
  return channel;
}

static gboolean
input_open (gpointer data)
{
  GstWebRTCDataChannel *channel = get_open_input (data);

  if (!channel)
    return FALSE;
  g_object_unref (channel);
  return TRUE;
}

gboolean
wr_test_viewer_wait_input_channel (WrTestViewer *v, guint timeout_ms)
{
  return wr_wait_until (input_open, v, timeout_ms);
}

gboolean
wr_test_viewer_send_input (WrTestViewer *v, const char *json)
{
  GstWebRTCDataChannel *channel = get_open_input (v);

  if (!channel)
    return FALSE;
  g_signal_emit_by_name (channel, "send-string", json);
  g_object_unref (channel);
  return TRUE;
}

static gboolean
has_input_message (gpointer data)
{
  WrTestViewer *v = data;
  gboolean any;

  g_mutex_lock (&v->lock);
  any = !g_queue_is_empty (&v->input_messages);
  g_mutex_unlock (&v->lock);
  return any;
}

JsonObject *
wr_test_viewer_wait_input_message (WrTestViewer *v, guint timeout_ms)
{
  g_autofree char *text = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!wr_wait_until (has_input_message, v, timeout_ms))
    return NULL;
  g_mutex_lock (&v->lock);
  text = g_queue_pop_head (&v->input_messages);
  g_mutex_unlock (&v->lock);
  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_warning ("viewer: the agent sent a non-JSON DataChannel message");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

char *
wr_test_viewer_describe (WrTestViewer *v)
{
  GstWebRTCICEConnectionState ice = GST_WEBRTC_ICE_CONNECTION_STATE_NEW;
  GstWebRTCPeerConnectionState pc = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_autofree char *ice_name = NULL;
  g_autofree char *pc_name = NULL;
  gboolean have_input;

  if (v->webrtc)
    g_object_get (v->webrtc, "ice-connection-state", &ice,
        "connection-state", &pc, NULL);
  ice_name = g_enum_to_string (GST_TYPE_WEBRTC_ICE_CONNECTION_STATE, ice);
  pc_name = g_enum_to_string (GST_TYPE_WEBRTC_PEER_CONNECTION_STATE, pc);
  g_mutex_lock (&v->lock);
  have_input = v->input != NULL;
  g_mutex_unlock (&v->lock);
  return g_strdup_printf ("sid %s, offers received %u, answers sent %u, "
      "candidates received %u / sent %u, ICE %s, connection %s, "
      "input channel %s, frames %" G_GUINT64_FORMAT ", WebSocket %s",
      v->sid ? v->sid : "(none)", v->offers, v->answers_sent,
      v->remote_candidates, v->local_candidates, ice_name, pc_name,
      have_input ? "yes" : "no", wr_test_viewer_get_frames (v),
      v->closed ? "closed" : v->ws ? "open" : "not connected");
}

/* ---------------------------------------------------------------------- */

void
wr_test_viewer_refuse_codec (WrTestViewer *v, const char *codec)
{
  g_mutex_lock (&v->lock);
  g_free (v->refuse_codec);
  v->refuse_codec = g_strdup (codec);
  g_mutex_unlock (&v->lock);
}

void
wr_test_viewer_keep_profile_messages (WrTestViewer *v, gboolean keep)
{
  g_mutex_lock (&v->lock);
  v->keep_profile_messages = keep;
  g_mutex_unlock (&v->lock);
}

guint
wr_test_viewer_get_offers (WrTestViewer *v)
{
  return v->offers;
}

guint
wr_test_viewer_get_refused_answers (WrTestViewer *v)
{
  guint n;

  g_mutex_lock (&v->lock);
  n = v->refused_answers;
  g_mutex_unlock (&v->lock);
  return n;
}

guint
wr_test_viewer_get_restarts (WrTestViewer *v)
{
  return v->restarts;
}

char *
wr_test_viewer_get_offer_codec (WrTestViewer *v)
{
  char *codec;

  g_mutex_lock (&v->lock);
  codec = g_strdup (v->offer_codec);
  g_mutex_unlock (&v->lock);
  return codec;
}

void
wr_test_viewer_free (WrTestViewer *v)
{
  if (!v)
    return;
  if (v->ws && soup_websocket_connection_get_state (v->ws)
      == SOUP_WEBSOCKET_STATE_OPEN) {
    wr_test_viewer_end_session (v);
    soup_websocket_connection_close (v->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
  }
  if (v->ws)
    g_signal_handlers_disconnect_by_data (v->ws, v);
  if (v->pipeline) {
    /* Stops webrtcbin's threads: no callback sees @v after this. */
    gst_element_set_state (v->pipeline, GST_STATE_NULL);
    if (v->bus_watch) {
      g_autoptr (GstBus) bus =
          gst_pipeline_get_bus (GST_PIPELINE (v->pipeline));
      gst_bus_remove_watch (bus);
    }
    gst_clear_object (&v->pipeline);
    v->webrtc = NULL;
  }
  viewer_unref (v);
}
