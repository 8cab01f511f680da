/* webremote: a WSS client link to the gateway, kept up by reconnecting. */
#include "config.h"

#include "common/ws-link.h"

#include <libsoup/soup.h>
#include <string.h>

#include "common/backoff.h"
#include "common/crypto.h"
#include "common/pinned-tls-database.h"

/* The largest frame we buffer: the protocol's 64 KiB messages plus 1 MiB
 * slack, as the gateway does (docs/protocol.md, Sizes). */
#define WR_MAX_INCOMING_PAYLOAD (1024 * 1024 + 64 * 1024)
#define WR_KEEPALIVE_TICK_MS 1000
#define WR_CONNECT_TIMEOUT_MS 30000

/* Log lines carry the owner's domain, as before the link was shared. */
#define LINK_LOG(self, level, ...) \
  g_log ((self)->log_domain, (level), __VA_ARGS__)
#define LINK_MESSAGE(self, ...) LINK_LOG (self, G_LOG_LEVEL_MESSAGE, __VA_ARGS__)
#define LINK_WARNING(self, ...) LINK_LOG (self, G_LOG_LEVEL_WARNING, __VA_ARGS__)

struct _WrWsLink {
  GObject parent;

  char *display_url;
  char *ws_url;
  char *log_domain;
  char *credential_name;
  char *going_away;
  WrChannel channel;
  gboolean answer_invalid;
  WrWsLinkCallbacks callbacks;
  gpointer user_data;

  char *token;
  GTlsCertificate *client_certificate;
  GTlsDatabase *tls_database;
  SoupSession *session;

  WrBackoff backoff;
  GCancellable *cancellable;      /* of the connect in flight */
  SoupWebsocketConnection *conn;  /* open connection or NULL */
  guint reconnect_id;
  guint connect_timeout_id;
  guint keepalive_id;
  gint64 last_rx_us;
  gint64 last_ping_us;
  gboolean stopping;
};

G_DEFINE_FINAL_TYPE (WrWsLink, wr_ws_link, G_TYPE_OBJECT)

static void link_connect (WrWsLink *self);

static gboolean
reconnect_cb (gpointer user_data)
{
  WrWsLink *self = user_data;

  self->reconnect_id = 0;
  link_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (WrWsLink *self)
{
  guint delay;

  if (self->stopping || self->reconnect_id)
    return;
  delay = wr_backoff_next (&self->backoff);
  LINK_MESSAGE (self, "reconnecting to the gateway in %u ms", delay);
  self->reconnect_id = g_timeout_add (delay, reconnect_cb, self);
}

void
wr_ws_link_drop (WrWsLink *self)
{
  g_autoptr (SoupWebsocketConnection) conn = g_steal_pointer (&self->conn);

  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (!conn)
    return;
  g_signal_handlers_disconnect_by_data (conn, self);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        self->stopping ? self->going_away : "link timeout");

  /* The owner may let go of the link from "closed". */
  g_object_ref (self);
  if (self->callbacks.closed)
    self->callbacks.closed (self, self->user_data);
  schedule_reconnect (self);
  g_object_unref (self);
}

gboolean
wr_ws_link_is_open (WrWsLink *self)
{
  return self->conn && soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

gboolean
wr_ws_link_send (WrWsLink *self, const char *text)
{
  if (!wr_ws_link_is_open (self))
    return FALSE;
  soup_websocket_connection_send_text (self->conn, text);
  return TRUE;
}

static void
send_simple (WrWsLink *self, const char *type)
{
  g_autoptr (JsonBuilder) b = wr_message_new (type);
  g_autofree char *text = wr_message_builder_finish (b);

  wr_ws_link_send (self, text);
}

static gboolean
keepalive_cb (gpointer user_data)
{
  WrWsLink *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_rx_us > (gint64) WR_WS_LINK_DEAD_AFTER_MS * 1000) {
    LINK_WARNING (self, "nothing from the gateway for %d s: the link is dead",
        WR_WS_LINK_DEAD_AFTER_MS / 1000);
    self->keepalive_id = 0;
    wr_ws_link_drop (self);
    return G_SOURCE_REMOVE;
  }
  if (now - self->last_ping_us >= (gint64) WR_WS_LINK_PING_INTERVAL_MS * 1000) {
    self->last_ping_us = now;
    send_simple (self, "ping");
  }
  return G_SOURCE_CONTINUE;
}

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  WrWsLink *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree char *ref = NULL;
  const char *data;
  const char *mtype;
  gsize len;

  self->last_rx_us = g_get_monotonic_time ();
  data = g_bytes_get_data (bytes, &len);
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    if (self->answer_invalid) {
      g_autofree char *text = wr_message_error_new (WR_PROTOCOL_ERROR_BAD_JSON,
          "binary messages are not part of the protocol", NULL);
      wr_ws_link_send (self, text);
    } else {
      LINK_WARNING (self, "ignoring a binary message from the gateway");
    }
    return;
  }
  msg = wr_message_parse (data, len, self->channel, &ref, &error);
  if (!msg) {
    g_autofree char *text = NULL;

    if (!self->answer_invalid) {
      LINK_WARNING (self, "ignoring an invalid message from the gateway "
          "(%s): %s", wr_protocol_error_code_to_string (error->code),
          error->message);
      return;
    }
    LINK_WARNING (self, "invalid message from the gateway (%s): %s",
        wr_protocol_error_code_to_string (error->code), error->message);
    /* Never answer an error with an error: two confused peers would
     * ping-pong forever. */
    if (!(data && len < WR_PROTOCOL_MAX_MESSAGE_SIZE
            && g_strstr_len (data, (gssize) len, "\"type\":\"error\"")))
      text = wr_message_error_from_gerror (error, ref);
    if (text)
      wr_ws_link_send (self, text);
    return;
  }

  mtype = wr_message_get_type (msg);
  if (g_str_equal (mtype, "ping")) {
    send_simple (self, "pong");
    return;
  }
  if (g_str_equal (mtype, "pong"))
    return;  /* keepalive answer: last_rx_us is enough */
  if (g_str_equal (mtype, "error")) {
    LINK_WARNING (self, "the gateway reports an error: %s: %s",
        wr_message_get_string (msg, "code"),
        wr_message_get_string (msg, "message"));
  }
  if (self->callbacks.message)
    self->callbacks.message (self, msg, ref, self->user_data);
}

static void
on_ws_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  WrWsLink *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const char *reason = soup_websocket_connection_get_close_data (conn);

  if (!self->stopping && code == 0)
    LINK_WARNING (self, "the connection to the gateway broke");
  else if (!self->stopping)
    LINK_WARNING (self, "the gateway closed the connection (code %u%s%s)",
        code, reason && *reason ? ", " : "", reason ? reason : "");
  wr_ws_link_drop (self);
}

static void
on_ws_error (SoupWebsocketConnection *conn, GError *error, gpointer user_data)
{
  WrWsLink *self = user_data;

  LINK_WARNING (self, "gateway WebSocket error: %s", error->message);
}

static char *
describe_tls_errors (GTlsCertificateFlags errors)
{
  static const struct {
    GTlsCertificateFlags flag;
    const char *text;
  } names[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "host name mismatch" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
  };
  g_autoptr (GString) out = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
    if (!(errors & names[i].flag))
      continue;
    if (out->len)
      g_string_append (out, ", ");
    g_string_append (out, names[i].text);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* libsoup asks here when the TLS database refused the certificate. Never
 * accept: the pin or CA is the only trust. This runs before the HTTP
 * request (and so the token) is written. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  WrWsLink *self = user_data;
  g_autofree char *fingerprint = cert ? wr_certificate_fingerprint (cert)
      : NULL;
  g_autofree char *why = NULL;

  if (self->tls_database && WR_IS_PINNED_TLS_DATABASE (self->tls_database)) {
    const char *pin = wr_pinned_tls_database_get_pin (
        WR_PINNED_TLS_DATABASE (self->tls_database));
    if (fingerprint && !wr_constant_time_equal (fingerprint, pin)) {
      LINK_WARNING (self, "gateway certificate fingerprint %s does not match "
          "the pinned %s; refusing to connect", fingerprint, pin);
      return FALSE;
    }
  }
  why = describe_tls_errors (errors);
  LINK_WARNING (self, "gateway certificate (fingerprint %s) is not trusted "
      "(%s); refusing to connect", fingerprint ? fingerprint : "?", why);
  return FALSE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrWsLink *self = user_data;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (
      SOUP_SESSION (source), result);
  guint status = msg ? soup_message_get_status (msg) : 0;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  if (msg)
    g_signal_handlers_disconnect_by_func (msg, on_accept_certificate, self);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_object (&self->cancellable);
  if (self->stopping) {
    g_clear_object (&conn);
    if (self->callbacks.connect_abandoned)
      self->callbacks.connect_abandoned (self, self->user_data);
    g_object_unref (self);
    return;
  }
  if (!conn) {
    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
      LINK_WARNING (self, "the gateway refused the %s (HTTP %u)",
          self->credential_name, status);
    else
      LINK_WARNING (self, "cannot connect to the gateway %s: %s",
          self->display_url, error->message);
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
  if (self->callbacks.connected)
    self->callbacks.connected (self, self->user_data);
  g_object_unref (self);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  WrWsLink *self = user_data;

  self->connect_timeout_id = 0;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

static void
link_connect (WrWsLink *self)
{
  g_autoptr (SoupMessage) msg = NULL;

  if (self->stopping || self->conn || self->cancellable)
    return;

  msg = soup_message_new ("GET", self->ws_url);
  if (!msg) {
    LINK_WARNING (self, "invalid gateway URL %s", self->ws_url);
    return;
  }
  if (self->client_certificate)
    soup_message_set_tls_client_certificate (msg, self->client_certificate);
  if (self->token) {
    g_autofree char *auth = g_strdup_printf ("Bearer %s", self->token);

    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Authorization", auth);
    memset (auth, 0, strlen (auth));
  }
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);

  self->cancellable = g_cancellable_new ();
  /* The session has no I/O timeout (it would also cut an idle WebSocket),
   * so bound the connect and upgrade here. */
  self->connect_timeout_id = g_timeout_add (WR_CONNECT_TIMEOUT_MS,
      connect_timeout_cb, self);
  LINK_MESSAGE (self, "connecting to %s", self->ws_url);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, on_connected,
      g_object_ref (self));
}

void
wr_ws_link_start (WrWsLink *self)
{
  g_return_if_fail (WR_IS_WS_LINK (self));
  self->stopping = FALSE;
  link_connect (self);
}

void
wr_ws_link_stop (WrWsLink *self)
{
  g_return_if_fail (WR_IS_WS_LINK (self));
  self->stopping = TRUE;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

gboolean
wr_ws_link_is_stopping (WrWsLink *self)
{
  return self->stopping;
}

gboolean
wr_ws_link_is_connecting (WrWsLink *self)
{
  return self->cancellable != NULL;
}

gboolean
wr_ws_link_close (WrWsLink *self)
{
  if (!wr_ws_link_is_open (self))
    return FALSE;
  soup_websocket_connection_close (self->conn,
      SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
      self->stopping ? self->going_away : NULL);
  return TRUE;
}

void
wr_ws_link_reset_backoff (WrWsLink *self)
{
  wr_backoff_reset (&self->backoff);
}

void
wr_ws_link_set_client_certificate (WrWsLink *self,
    GTlsCertificate *certificate)
{
  g_return_if_fail (WR_IS_WS_LINK (self));
  g_set_object (&self->client_certificate, certificate);
}

static void
wipe_token (WrWsLink *self)
{
  if (self->token)
    memset (self->token, 0, strlen (self->token));
  g_clear_pointer (&self->token, g_free);
}

void
wr_ws_link_set_bearer_token (WrWsLink *self, const char *token)
{
  g_return_if_fail (WR_IS_WS_LINK (self));
  wipe_token (self);
  self->token = g_strdup (token);
}

static void
wr_ws_link_dispose (GObject *object)
{
  WrWsLink *self = WR_WS_LINK (object);

  self->stopping = TRUE;
  memset (&self->callbacks, 0, sizeof self->callbacks);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    g_clear_object (&self->conn);
  }
  g_clear_object (&self->session);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->client_certificate);
  G_OBJECT_CLASS (wr_ws_link_parent_class)->dispose (object);
}

static void
wr_ws_link_finalize (GObject *object)
{
  WrWsLink *self = WR_WS_LINK (object);

  g_clear_object (&self->cancellable);
  wipe_token (self);
  g_free (self->display_url);
  g_free (self->ws_url);
  g_free (self->log_domain);
  g_free (self->credential_name);
  g_free (self->going_away);
  G_OBJECT_CLASS (wr_ws_link_parent_class)->finalize (object);
}

static void
wr_ws_link_class_init (WrWsLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_ws_link_dispose;
  object_class->finalize = wr_ws_link_finalize;
}

static void
wr_ws_link_init (WrWsLink *self)
{
}

WrWsLink *
wr_ws_link_new (const WrWsLinkOptions *options)
{
  WrWsLink *self = g_object_new (WR_TYPE_WS_LINK, NULL);

  self->display_url = g_strdup (options->display_url);
  self->ws_url = g_strdup (options->ws_url);
  self->log_domain = g_strdup (options->log_domain);
  self->credential_name = g_strdup (options->credential_name);
  self->going_away = g_strdup (options->going_away);
  self->channel = options->channel;
  self->answer_invalid = options->answer_invalid;
  if (options->callbacks)
    self->callbacks = *options->callbacks;
  self->user_data = options->user_data;
  if (options->tls_database)
    self->tls_database = g_object_ref (options->tls_database);
  /* The TLS database is the only trust anchor: the system CAs do not
   * apply (they do without one). Setting a NULL "tls-database" would turn
   * verification against the system CAs off, so it is set only when
   * given. No proxy: the gateway is talked to directly. */
  self->session = soup_session_new_with_options (
      "proxy-resolver", NULL,
      "user-agent", options->user_agent,
      "timeout", 0,
      NULL);
  if (self->tls_database)
    soup_session_set_tls_database (self->session, self->tls_database);
  wr_backoff_init (&self->backoff, options->reconnect_min_ms,
      options->reconnect_max_ms);
  return self;
}

void
wr_ws_link_destroy (WrWsLink *self)
{
  if (!self)
    return;
  g_object_run_dispose (G_OBJECT (self));
  g_object_unref (self);
}
