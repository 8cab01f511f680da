/* webremote-recorder: the WebSocket to the gateway and its recordings.
 *
 * Every incoming message is validated against the gateway -> recorder
 * table (common/protocol.c) first; anything invalid, or naming a recording
 * we do not have, is answered with an `error` and otherwise ignored. All
 * of this runs on the main context (WrRecordingPipeline emits there). */
#include "config.h"

#include "pipelines/recorder-link.h"

#include <libsoup/soup.h>
#include <string.h>

#include "common/backoff.h"
#include "common/crypto.h"
#include "common/pinned-tls-database.h"
#include "common/protocol.h"
#include "pipelines/recording-pipeline.h"

/* The protocol's 64 KiB messages plus slack, as the agent does. */
#define WR_MAX_INCOMING_PAYLOAD (1024 * 1024 + 64 * 1024)
#define WR_KEEPALIVE_TICK_MS 1000
#define WR_CONNECT_TIMEOUT_MS 30000
#define WR_SHUTDOWN_TIMEOUT_MS 12000

struct _WrRecorderLink {
  GObject parent;

  char *display_url;
  char *ws_url;
  char *name;
  char *dir;
  char *token;
  char **ice_addresses;
  guint segment_seconds;
  GTlsDatabase *tls_database;
  SoupSession *session;

  WrBackoff backoff;
  GCancellable *cancellable;
  SoupWebsocketConnection *conn;
  guint reconnect_id;
  guint connect_timeout_id;
  guint keepalive_id;
  gint64 last_rx_us;
  gint64 last_ping_us;

  /* sid -> WrRecordingPipeline */
  GHashTable *recordings;

  gboolean shutting_down;
  GSourceFunc shutdown_cb;
  gpointer shutdown_data;
  guint shutdown_timeout_id;
};

G_DEFINE_FINAL_TYPE (WrRecorderLink, wr_recorder_link, G_TYPE_OBJECT)

static void link_connect (WrRecorderLink *self);
static void maybe_finish_shutdown (WrRecorderLink *self);

/* ---- sending ---- */

static gboolean
is_open (WrRecorderLink *self)
{
  return self->conn && soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
send_text (WrRecorderLink *self, const char *text)
{
  if (is_open (self))
    soup_websocket_connection_send_text (self->conn, text);
  else
    g_message ("the gateway link is down; dropping a message");
}

static void
send_builder (WrRecorderLink *self, JsonBuilder *b)
{
  g_autofree char *text = wr_message_builder_finish (b);

  send_text (self, text);
}

static JsonBuilder *
message_for (const char *type, const char *sid)
{
  JsonBuilder *b = wr_message_new (type);

  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, sid);
  return b;
}

static void
send_error (WrRecorderLink *self, WrProtocolError code, const char *message,
    const char *ref)
{
  g_autofree char *text = wr_message_error_new (code, message, ref);

  send_text (self, text);
}

/* ---- recordings ---- */

/* A GSourceFunc of its own: g_object_unref cast to one returns whatever
 * is left in the return register, often TRUE when other references
 * remain, and the idle then unrefs again on every iteration until the
 * pipeline is freed under its pending callbacks (g_object_unref
 * CRITICALs, g_thread_pool_free from a second dispose, SIGSEGV). */
static gboolean
unref_idle (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
drop_recording (WrRecorderLink *self, const char *sid)
{
  WrRecordingPipeline *rec = g_hash_table_lookup (self->recordings, sid);

  if (!rec)
    return;
  g_signal_handlers_disconnect_by_data (rec, self);
  /* Going to NULL joins streaming threads: not from within a signal of
   * the pipeline itself, so from an idle. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, unref_idle, g_object_ref (rec),
      NULL);
  g_hash_table_remove (self->recordings, sid);
  maybe_finish_shutdown (self);
}

static void
on_answer (WrRecordingPipeline *rec, const char *sdp, gpointer user_data)
{
  JsonBuilder *b = message_for ("sdp.answer",
      wr_recording_pipeline_get_id (rec));

  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  send_builder (user_data, b);
  g_object_unref (b);
}

static void
on_ice_candidate (WrRecordingPipeline *rec, guint mline,
    const char *candidate, gpointer user_data)
{
  JsonBuilder *b = message_for ("ice.candidate",
      wr_recording_pipeline_get_id (rec));

  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, candidate);
  json_builder_set_member_name (b, "sdp_mline_index");
  json_builder_add_int_value (b, mline);
  send_builder (user_data, b);
  g_object_unref (b);
}

static void
on_started (WrRecordingPipeline *rec, const char *codec,
    const char *container, gpointer user_data)
{
  JsonBuilder *b = message_for ("record.started",
      wr_recording_pipeline_get_id (rec));

  json_builder_set_member_name (b, "codec");
  json_builder_add_string_value (b, codec);
  json_builder_set_member_name (b, "container");
  json_builder_add_string_value (b, container);
  send_builder (user_data, b);
  g_object_unref (b);
}

static void
on_segment (WrRecordingPipeline *rec, guint index, const char *file,
    guint64 size, const char *sha256, gint64 start_ms, gint64 end_ms,
    gpointer user_data)
{
  JsonBuilder *b = message_for ("record.segment",
      wr_recording_pipeline_get_id (rec));

  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, index);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, file);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) size);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, sha256);
  json_builder_set_member_name (b, "start_ms");
  json_builder_add_int_value (b, start_ms);
  json_builder_set_member_name (b, "end_ms");
  json_builder_add_int_value (b, end_ms);
  send_builder (user_data, b);
  g_object_unref (b);
}

static void
on_stopped (WrRecordingPipeline *rec, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autofree char *sid = g_strdup (wr_recording_pipeline_get_id (rec));
  JsonBuilder *b = message_for ("record.stopped", sid);

  g_message ("recording %s stopped", sid);
  send_builder (self, b);
  g_object_unref (b);
  drop_recording (self, sid);
}

static void
on_failed (WrRecordingPipeline *rec, const char *reason, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autofree char *sid = g_strdup (wr_recording_pipeline_get_id (rec));
  JsonBuilder *b = message_for ("record.failed", sid);
  g_autofree char *short_reason = g_utf8_substring (reason, 0, 200);

  g_warning ("recording %s failed: %s", sid, reason);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, short_reason);
  send_builder (self, b);
  g_object_unref (b);
  drop_recording (self, sid);
}

static void
send_failed (WrRecorderLink *self, const char *sid, const char *reason)
{
  JsonBuilder *b = message_for ("record.failed", sid);

  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  send_builder (self, b);
  g_object_unref (b);
}

static void
handle_record_start (WrRecorderLink *self, JsonObject *msg, const char *ref)
{
  const char *sid = wr_message_get_string (msg, "sid");
  guint seconds = self->segment_seconds ? self->segment_seconds
      : (guint) wr_message_get_int (msg, "segment_seconds", 10);
  JsonArray *ice_servers = json_object_get_array_member (msg, "ice_servers");
  g_autoptr (GError) error = NULL;
  WrRecordingPipeline *rec;

  if (self->shutting_down) {
    send_failed (self, sid, "the recorder is shutting down");
    return;
  }
  if (!wr_recording_id_is_valid (sid)) {
    send_error (self, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "sid: not usable as a recording id", ref);
    return;
  }
  if (g_hash_table_contains (self->recordings, sid)) {
    send_error (self, WR_PROTOCOL_ERROR_INVALID_FIELD,
        "sid: this recording is already running", ref);
    return;
  }
  if (g_hash_table_size (self->recordings) >= WR_RECORDER_MAX_RECORDINGS) {
    send_failed (self, sid, "too many recordings on this recorder");
    return;
  }
  rec = wr_recording_pipeline_new (sid, self->dir, seconds,
      (const char *const *) self->ice_addresses, ice_servers, &error);
  if (!rec) {
    g_warning ("recording %s cannot start: %s", sid, error->message);
    send_failed (self, sid, error->message);
    return;
  }
  g_message ("recording %s: session %s, agent %s, display %s, %u s "
      "segments, into %s", sid, wr_message_get_string (msg, "session"),
      wr_message_get_string (msg, "agent"),
      wr_message_get_string (msg, "display"), seconds,
      wr_recording_pipeline_get_directory (rec));
  g_signal_connect (rec, "answer", G_CALLBACK (on_answer), self);
  g_signal_connect (rec, "ice-candidate", G_CALLBACK (on_ice_candidate),
      self);
  g_signal_connect (rec, "started", G_CALLBACK (on_started), self);
  g_signal_connect (rec, "segment", G_CALLBACK (on_segment), self);
  g_signal_connect (rec, "stopped", G_CALLBACK (on_stopped), self);
  g_signal_connect (rec, "failed", G_CALLBACK (on_failed), self);
  g_hash_table_insert (self->recordings, g_strdup (sid), rec);
}

static WrRecordingPipeline *
lookup (WrRecorderLink *self, JsonObject *msg, const char *ref)
{
  const char *sid = wr_message_get_string (msg, "sid");
  WrRecordingPipeline *rec = g_hash_table_lookup (self->recordings, sid);

  if (!rec)
    send_error (self, WR_PROTOCOL_ERROR_NOT_FOUND,
        "sid: no such recording on this recorder", ref);
  return rec;
}

static void
handle_message (WrRecorderLink *self, JsonObject *msg, const char *ref)
{
  const char *type = wr_message_get_type (msg);
  WrRecordingPipeline *rec;

  if (g_str_equal (type, "recorder.welcome")) {
    g_message ("the gateway accepted recorder %s (gateway %s)",
        wr_message_get_string (msg, "name"),
        wr_message_get_string (msg, "version"));
    wr_backoff_reset (&self->backoff);
  } else if (g_str_equal (type, "record.start")) {
    handle_record_start (self, msg, ref);
  } else if (g_str_equal (type, "sdp.offer")) {
    g_autoptr (GError) error = NULL;

    if ((rec = lookup (self, msg, ref))
        && !wr_recording_pipeline_set_offer (rec,
            wr_message_get_string (msg, "sdp"), &error))
      send_error (self, WR_PROTOCOL_ERROR_INVALID_FIELD, error->message,
          ref);
  } else if (g_str_equal (type, "ice.candidate")) {
    if ((rec = lookup (self, msg, ref)))
      wr_recording_pipeline_add_ice_candidate (rec,
          (guint) wr_message_get_int (msg, "sdp_mline_index", 0),
          wr_message_get_string (msg, "candidate"));
  } else if (g_str_equal (type, "record.stop")) {
    if ((rec = lookup (self, msg, ref))) {
      const char *reason = wr_message_get_string (msg, "reason");
      g_message ("recording %s: stop (%s)",
          wr_recording_pipeline_get_id (rec), reason ? reason : "no reason");
      wr_recording_pipeline_stop (rec);
    }
  } else if (g_str_equal (type, "error")) {
    g_warning ("the gateway reports an error: %s: %s",
        wr_message_get_string (msg, "code"),
        wr_message_get_string (msg, "message"));
  } else if (g_str_equal (type, "pong")) {
    /* keepalive answer: last_rx_us is enough */
  } else {
    /* Valid on this channel but not handled: say so. */
    send_error (self, WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "this message type is not handled by the recorder", ref);
  }
}

/* ---- connection ---- */

static gboolean
reconnect_cb (gpointer user_data)
{
  WrRecorderLink *self = user_data;

  self->reconnect_id = 0;
  link_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (WrRecorderLink *self)
{
  guint delay;

  if (self->shutting_down || self->reconnect_id)
    return;
  delay = wr_backoff_next (&self->backoff);
  g_message ("reconnecting to the gateway in %u ms", delay);
  self->reconnect_id = g_timeout_add (delay, reconnect_cb, self);
}

static void
stop_all (WrRecorderLink *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->recordings);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    wr_recording_pipeline_stop (value);
}

static void
drop_connection (WrRecorderLink *self)
{
  g_autoptr (SoupWebsocketConnection) conn = g_steal_pointer (&self->conn);

  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (!conn)
    return;
  g_signal_handlers_disconnect_by_data (conn, self);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        self->shutting_down ? "recorder shutting down" : "link timeout");
  /* The gateway ends the recorder's agent sessions with the link, so the
   * recordings cannot go on: finish their files cleanly. Their last
   * reports cannot reach the gateway, which marks them interrupted. */
  if (g_hash_table_size (self->recordings) > 0) {
    g_warning ("lost the gateway with %u recordings running; finishing "
        "their files", g_hash_table_size (self->recordings));
    stop_all (self);
  }
  schedule_reconnect (self);
  maybe_finish_shutdown (self);
}

static gboolean
keepalive_cb (gpointer user_data)
{
  WrRecorderLink *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_rx_us > (gint64) WR_RECORDER_DEAD_AFTER_MS * 1000) {
    g_warning ("nothing from the gateway for %d s: the link is dead",
        WR_RECORDER_DEAD_AFTER_MS / 1000);
    self->keepalive_id = 0;
    drop_connection (self);
    return G_SOURCE_REMOVE;
  }
  if (now - self->last_ping_us
      >= (gint64) WR_RECORDER_PING_INTERVAL_MS * 1000) {
    g_autoptr (JsonBuilder) b = wr_message_new ("ping");
    self->last_ping_us = now;
    send_builder (self, b);
  }
  return G_SOURCE_CONTINUE;
}

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree char *ref = NULL;
  const char *data;
  gsize len;

  self->last_rx_us = g_get_monotonic_time ();
  data = g_bytes_get_data (bytes, &len);
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    send_error (self, WR_PROTOCOL_ERROR_BAD_JSON,
        "binary messages are not part of the protocol", NULL);
    return;
  }
  msg = wr_message_parse (data, len, WR_CHANNEL_GATEWAY_TO_RECORDER, &ref,
      &error);
  if (!msg) {
    g_autofree char *text = NULL;

    g_warning ("invalid message from the gateway (%s): %s",
        wr_protocol_error_code_to_string (error->code), error->message);
    /* Never answer an error with an error: two confused peers would
     * ping-pong forever. */
    if (!(data && len < WR_PROTOCOL_MAX_MESSAGE_SIZE
            && g_strstr_len (data, (gssize) len, "\"type\":\"error\"")))
      text = wr_message_error_from_gerror (error, ref);
    if (text)
      send_text (self, text);
    return;
  }
  handle_message (self, msg, ref);
}

static void
on_ws_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);

  if (!self->shutting_down)
    g_warning ("the gateway closed the connection (code %u)", code);
  drop_connection (self);
}

static void
on_ws_error (SoupWebsocketConnection *conn, GError *error, gpointer user_data)
{
  g_warning ("gateway WebSocket error: %s", error->message);
}

/* Never accept a certificate the database refused: the pin or CA is the
 * only trust. Runs before the request (and the token) is written. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autofree char *fingerprint = cert ? wr_certificate_fingerprint (cert)
      : NULL;

  if (self->tls_database && WR_IS_PINNED_TLS_DATABASE (self->tls_database))
    g_warning ("gateway certificate fingerprint %s does not match the "
        "pinned %s; refusing to connect", fingerprint ? fingerprint : "?",
        wr_pinned_tls_database_get_pin (
            WR_PINNED_TLS_DATABASE (self->tls_database)));
  else
    g_warning ("gateway certificate (fingerprint %s) is not trusted "
        "(flags 0x%x); refusing to connect",
        fingerprint ? fingerprint : "?", errors);
  return FALSE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (
      SOUP_SESSION (source), result);
  guint status = msg ? soup_message_get_status (msg) : 0;
  SoupWebsocketConnection *conn;
  g_autoptr (JsonBuilder) b = NULL;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  if (msg)
    g_signal_handlers_disconnect_by_func (msg, on_accept_certificate, self);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_object (&self->cancellable);
  if (self->shutting_down) {
    g_clear_object (&conn);
    maybe_finish_shutdown (self);
    g_object_unref (self);
    return;
  }
  if (!conn) {
    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
      g_warning ("the gateway refused the recorder token (HTTP %u)", status);
    else
      g_warning ("cannot connect to the gateway %s: %s", self->display_url,
          error->message);
    schedule_reconnect (self);
    g_object_unref (self);
    return;
  }

  self->conn = conn;
  g_object_set (conn, "max-incoming-payload-size",
      (guint64) WR_MAX_INCOMING_PAYLOAD, NULL);
  soup_websocket_connection_set_keepalive_interval (conn, 0);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), self);
  g_signal_connect (conn, "error", G_CALLBACK (on_ws_error), self);
  self->last_rx_us = self->last_ping_us = g_get_monotonic_time ();
  self->keepalive_id = g_timeout_add (WR_KEEPALIVE_TICK_MS, keepalive_cb,
      self);
  g_message ("connected to %s as recorder %s", self->display_url,
      self->name);

  b = wr_message_new ("recorder.hello");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, self->name);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, WR_VERSION);
  send_builder (self, b);
  g_object_unref (self);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  WrRecorderLink *self = user_data;

  self->connect_timeout_id = 0;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

static void
link_connect (WrRecorderLink *self)
{
  g_autoptr (SoupMessage) msg = NULL;
  g_autofree char *auth = NULL;

  if (self->shutting_down || self->conn || self->cancellable)
    return;
  msg = soup_message_new ("GET", self->ws_url);
  if (!msg) {
    g_warning ("invalid gateway URL %s", self->display_url);
    return;
  }
  auth = g_strdup_printf ("Bearer %s", self->token);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", auth);
  memset (auth, 0, strlen (auth));
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);
  self->cancellable = g_cancellable_new ();
  self->connect_timeout_id = g_timeout_add (WR_CONNECT_TIMEOUT_MS,
      connect_timeout_cb, self);
  g_message ("connecting to %s", self->ws_url);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, on_connected,
      g_object_ref (self));
}

/* ---- public ---- */

WrRecorderLink *
wr_recorder_link_new (const WrRecorderLinkOptions *options, GError **error)
{
  WrRecorderLink *self;
  g_autoptr (GUri) uri = NULL;
  const char *host;
  g_autofree char *bracketed = NULL;

  uri = g_uri_parse (options->gateway_url, G_URI_FLAGS_NONE, error);
  if (!uri)
    return NULL;
  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
      || !(host = g_uri_get_host (uri)) || !*host) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "the gateway URL must be https://HOST[:PORT]");
    return NULL;
  }
  self = g_object_new (WR_TYPE_RECORDER_LINK, NULL);
  bracketed = strchr (host, ':') ? g_strdup_printf ("[%s]", host)
      : g_strdup (host);
  self->display_url = g_strdup (options->gateway_url);
  if (g_uri_get_port (uri) > 0)
    self->ws_url = g_strdup_printf ("wss://%s:%d/ws/recorder", bracketed,
        g_uri_get_port (uri));
  else
    self->ws_url = g_strdup_printf ("wss://%s/ws/recorder", bracketed);
  self->name = g_strdup (options->name);
  self->dir = g_strdup (options->dir);
  self->token = g_strdup (options->token);
  self->ice_addresses = g_strdupv ((char **) options->ice_addresses);
  self->segment_seconds = options->segment_seconds;
  if (options->tls_database)
    self->tls_database = g_object_ref (options->tls_database);
  self->session = soup_session_new_with_options (
      "proxy-resolver", NULL,
      "user-agent", "webremote-recorder/" WR_VERSION,
      "timeout", 0,
      NULL);
  if (self->tls_database)
    soup_session_set_tls_database (self->session, self->tls_database);
  wr_backoff_init (&self->backoff, options->reconnect_min_ms,
      options->reconnect_max_ms);
  return self;
}

void
wr_recorder_link_start (WrRecorderLink *self)
{
  link_connect (self);
}

guint
wr_recorder_link_get_n_recordings (WrRecorderLink *self)
{
  return g_hash_table_size (self->recordings);
}

static void
maybe_finish_shutdown (WrRecorderLink *self)
{
  GSourceFunc cb;

  if (!self->shutting_down || g_hash_table_size (self->recordings) > 0)
    return;
  if (is_open (self)) {
    /* every record.stopped is out: now close */
    soup_websocket_connection_close (self->conn,
        SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "recorder shutting down");
    return;  /* "closed" comes back here */
  }
  if (self->cancellable)
    return;  /* on_connected comes back here */
  cb = self->shutdown_cb;
  self->shutdown_cb = NULL;
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  if (cb)
    cb (self->shutdown_data);
}

static gboolean
shutdown_timeout_cb (gpointer user_data)
{
  WrRecorderLink *self = user_data;
  GSourceFunc cb = self->shutdown_cb;

  self->shutdown_timeout_id = 0;
  self->shutdown_cb = NULL;
  g_warning ("shutdown: giving up waiting after %d s",
      WR_SHUTDOWN_TIMEOUT_MS / 1000);
  if (cb)
    cb (self->shutdown_data);
  return G_SOURCE_REMOVE;
}

void
wr_recorder_link_shutdown (WrRecorderLink *self, GSourceFunc done,
    gpointer user_data)
{
  if (self->shutting_down)
    return;
  self->shutting_down = TRUE;
  self->shutdown_cb = done;
  self->shutdown_data = user_data;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  self->shutdown_timeout_id = g_timeout_add (WR_SHUTDOWN_TIMEOUT_MS,
      shutdown_timeout_cb, self);
  stop_all (self);
  maybe_finish_shutdown (self);
}

static void
wr_recorder_link_dispose (GObject *object)
{
  WrRecorderLink *self = WR_RECORDER_LINK (object);

  self->shutting_down = TRUE;
  self->shutdown_cb = NULL;
  g_clear_handle_id (&self->shutdown_timeout_id, g_source_remove);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->recordings) {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->recordings);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_signal_handlers_disconnect_by_data (value, self);
    g_clear_pointer (&self->recordings, g_hash_table_unref);
  }
  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    g_clear_object (&self->conn);
  }
  g_clear_object (&self->session);
  g_clear_object (&self->tls_database);
  G_OBJECT_CLASS (wr_recorder_link_parent_class)->dispose (object);
}

static void
wr_recorder_link_finalize (GObject *object)
{
  WrRecorderLink *self = WR_RECORDER_LINK (object);

  g_free (self->display_url);
  g_free (self->ws_url);
  g_free (self->name);
  g_free (self->dir);
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_strfreev (self->ice_addresses);
  G_OBJECT_CLASS (wr_recorder_link_parent_class)->finalize (object);
}

static void
wr_recorder_link_class_init (WrRecorderLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_recorder_link_dispose;
  object_class->finalize = wr_recorder_link_finalize;
}

static void
wr_recorder_link_init (WrRecorderLink *self)
{
  self->recordings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_object_unref);
}
