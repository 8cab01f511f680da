/* webremote-recorder: the WebSocket to the gateway and its recordings.
 *
 * Every incoming message is validated against the gateway -> recorder
 * table (common/protocol.c) first; anything invalid, or naming a recording
 * we do not have, is answered with an `error` and otherwise ignored. All
 * of this runs on the main context (WrRecordingPipeline emits there). */
#include "config.h"

#include "pipelines/recorder-link.h"

#include <string.h>

#include "common/protocol.h"
#include "common/ws-link.h"
#include "pipelines/recording-pipeline.h"

#define WR_SHUTDOWN_TIMEOUT_MS 12000

struct _WrRecorderLink {
  GObject parent;

  char *display_url;
  char *name;
  char *dir;
  char **ice_addresses;
  guint segment_seconds;
  WrWsLink *ws;

  /* sid -> WrRecordingPipeline */
  GHashTable *recordings;

  gboolean shutting_down;
  GSourceFunc shutdown_cb;
  gpointer shutdown_data;
  guint shutdown_timeout_id;
};

G_DEFINE_FINAL_TYPE (WrRecorderLink, wr_recorder_link, G_TYPE_OBJECT)

static void maybe_finish_shutdown (WrRecorderLink *self);

/* ---- sending ---- */

static void
send_text (WrRecorderLink *self, const char *text)
{
  if (!wr_ws_link_send (self->ws, text))
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
    wr_ws_link_reset_backoff (self->ws);
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
    /* logged by the link */
  } else {
    /* Valid on this channel but not handled: say so. */
    send_error (self, WR_PROTOCOL_ERROR_UNKNOWN_TYPE,
        "this message type is not handled by the recorder", ref);
  }
}

/* ---- connection ---- */

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
on_link_connected (WrWsLink *ws, gpointer user_data)
{
  WrRecorderLink *self = user_data;
  g_autoptr (JsonBuilder) b = NULL;

  g_message ("connected to %s as recorder %s", self->display_url,
      self->name);
  b = wr_message_new ("recorder.hello");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, self->name);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, WR_VERSION);
  send_builder (self, b);
}

static void
on_link_message (WrWsLink *ws, JsonObject *msg, const char *ref,
    gpointer user_data)
{
  handle_message (user_data, msg, ref);
}

static void
on_link_closed (WrWsLink *ws, gpointer user_data)
{
  WrRecorderLink *self = user_data;

  /* The gateway ends the recorder's agent sessions with the link, so the
   * recordings cannot go on: finish their files cleanly. Their last
   * reports cannot reach the gateway, which marks them interrupted. */
  if (g_hash_table_size (self->recordings) > 0) {
    g_warning ("lost the gateway with %u recordings running; finishing "
        "their files", g_hash_table_size (self->recordings));
    stop_all (self);
  }
  maybe_finish_shutdown (self);
}

static void
on_link_connect_abandoned (WrWsLink *ws, gpointer user_data)
{
  maybe_finish_shutdown (user_data);
}

static const WrWsLinkCallbacks link_callbacks = {
  .connected = on_link_connected,
  .message = on_link_message,
  .closed = on_link_closed,
  .connect_abandoned = on_link_connect_abandoned,
};

/* ---- public ---- */

WrRecorderLink *
wr_recorder_link_new (const WrRecorderLinkOptions *options, GError **error)
{
  WrRecorderLink *self;
  g_autoptr (GUri) uri = NULL;
  const char *host;
  g_autofree char *bracketed = NULL;
  g_autofree char *ws_url = NULL;
  WrWsLinkOptions link_options = {
    .log_domain = G_LOG_DOMAIN,
    .user_agent = "webremote-recorder/" WR_VERSION,
    .credential_name = "recorder token",
    .going_away = "recorder shutting down",
    .channel = WR_CHANNEL_GATEWAY_TO_RECORDER,
    /* docs/protocol.md: anything invalid is answered with an `error` */
    .answer_invalid = TRUE,
    .callbacks = &link_callbacks,
  };

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
    ws_url = g_strdup_printf ("wss://%s:%d/ws/recorder", bracketed,
        g_uri_get_port (uri));
  else
    ws_url = g_strdup_printf ("wss://%s/ws/recorder", bracketed);
  self->name = g_strdup (options->name);
  self->dir = g_strdup (options->dir);
  self->ice_addresses = g_strdupv ((char **) options->ice_addresses);
  self->segment_seconds = options->segment_seconds;

  link_options.display_url = options->gateway_url;
  link_options.ws_url = ws_url;
  link_options.tls_database = options->tls_database;
  link_options.reconnect_min_ms = options->reconnect_min_ms;
  link_options.reconnect_max_ms = options->reconnect_max_ms;
  link_options.user_data = self;
  self->ws = wr_ws_link_new (&link_options);
  wr_ws_link_set_bearer_token (self->ws, options->token);
  return self;
}

void
wr_recorder_link_start (WrRecorderLink *self)
{
  wr_ws_link_start (self->ws);
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
  /* every record.stopped is out: now close */
  if (wr_ws_link_close (self->ws))
    return;  /* "closed" comes back here */
  if (wr_ws_link_is_connecting (self->ws))
    return;  /* "connect_abandoned" comes back here */
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
  wr_ws_link_stop (self->ws);
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
  g_clear_pointer (&self->ws, wr_ws_link_destroy);
  if (self->recordings) {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->recordings);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_signal_handlers_disconnect_by_data (value, self);
    g_clear_pointer (&self->recordings, g_hash_table_unref);
  }
  G_OBJECT_CLASS (wr_recorder_link_parent_class)->dispose (object);
}

static void
wr_recorder_link_finalize (GObject *object)
{
  WrRecorderLink *self = WR_RECORDER_LINK (object);

  g_free (self->display_url);
  g_free (self->name);
  g_free (self->dir);
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
