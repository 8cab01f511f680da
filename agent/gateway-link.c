/* webremote-agent: the WebSocket to the gateway, kept up by reconnecting. */
#include "config.h"

#include "agent/gateway-link.h"

#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

#include "common/backoff.h"
#include "common/pinned-tls-database.h"
#include "common/crypto.h"
#include "common/protocol.h"

/* The largest frame we buffer: the protocol's 64 KiB messages plus 1 MiB
 * slack, as the gateway does (docs/protocol.md, Sizes). */
#define WR_MAX_INCOMING_PAYLOAD (1024 * 1024 + 64 * 1024)
#define WR_KEEPALIVE_TICK_MS 1000
#define WR_STOP_TIMEOUT_MS 2000
#define WR_CONNECT_TIMEOUT_MS 30000

struct _WrGatewayLink {
  GObject parent;

  char *display_url;
  char *ws_url;
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

  GSourceFunc stop_cb;
  gpointer stop_data;
  guint stop_timeout_id;
};

enum {
  SIGNAL_CONNECTED,
  SIGNAL_MESSAGE,
  SIGNAL_DISCONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (WrGatewayLink, wr_gateway_link, G_TYPE_OBJECT)

static void wr_gateway_link_connect (WrGatewayLink *self);

static void
finish_stop (WrGatewayLink *self)
{
  GSourceFunc cb = self->stop_cb;

  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  self->stop_cb = NULL;
  if (cb)
    cb (self->stop_data);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  WrGatewayLink *self = user_data;

  self->reconnect_id = 0;
  wr_gateway_link_connect (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (WrGatewayLink *self)
{
  guint delay;

  if (self->stopping || self->reconnect_id)
    return;
  delay = wr_backoff_next (&self->backoff);
  g_message ("reconnecting to the gateway in %u ms", delay);
  self->reconnect_id = g_timeout_add (delay, reconnect_cb, self);
}

/* Forgets the connection (after close, error or a dead link) and tells
 * the owner, who ends every session. */
static void
drop_connection (WrGatewayLink *self)
{
  g_autoptr (SoupWebsocketConnection) conn = g_steal_pointer (&self->conn);

  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (!conn)
    return;
  g_signal_handlers_disconnect_by_data (conn, self);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
        self->stopping ? "agent shutting down" : "link timeout");

  if (self->stopping) {
    g_print ("webremote-agent: disconnected from %s\n", self->display_url);
    fflush (stdout);
  } else {
    g_print ("webremote-agent: lost the connection to %s\n",
        self->display_url);
    fflush (stdout);
  }
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0);
  schedule_reconnect (self);
}

static void
send_raw (WrGatewayLink *self, const char *text)
{
  if (self->conn && soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (self->conn, text);
}

static void
send_simple (WrGatewayLink *self, const char *type)
{
  g_autoptr (JsonBuilder) b = wr_message_new (type);
  g_autofree char *text = wr_message_builder_finish (b);

  send_raw (self, text);
}

static gboolean
keepalive_cb (gpointer user_data)
{
  WrGatewayLink *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (now - self->last_rx_us > (gint64) WR_GATEWAY_DEAD_AFTER_MS * 1000) {
    g_warning ("nothing from the gateway for %d s: the link is dead",
        WR_GATEWAY_DEAD_AFTER_MS / 1000);
    self->keepalive_id = 0;
    drop_connection (self);
    return G_SOURCE_REMOVE;
  }
  if (now - self->last_ping_us >= (gint64) WR_GATEWAY_PING_INTERVAL_MS * 1000) {
    self->last_ping_us = now;
    send_simple (self, "ping");
  }
  return G_SOURCE_CONTINUE;
}

static void
on_ws_message (SoupWebsocketConnection *conn, gint type, GBytes *bytes,
    gpointer user_data)
{
  WrGatewayLink *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) msg = NULL;
  g_autofree char *ref = NULL;
  const char *data;
  const char *mtype;
  gsize len;

  self->last_rx_us = g_get_monotonic_time ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_warning ("ignoring a binary message from the gateway");
    return;
  }
  data = g_bytes_get_data (bytes, &len);
  msg = wr_message_parse (data, len, WR_CHANNEL_GATEWAY_TO_AGENT, &ref,
      &error);
  if (!msg) {
    g_warning ("ignoring an invalid message from the gateway (%s): %s",
        wr_protocol_error_code_to_string (error->code), error->message);
    return;
  }

  mtype = wr_message_get_type (msg);
  if (g_str_equal (mtype, "ping")) {
    send_simple (self, "pong");
    return;
  }
  if (g_str_equal (mtype, "pong"))
    return;
  if (g_str_equal (mtype, "error")) {
    g_warning ("the gateway reports an error: %s: %s",
        wr_message_get_string (msg, "code"),
        wr_message_get_string (msg, "message"));
  }
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);
}

static void
on_ws_closed (SoupWebsocketConnection *conn, gpointer user_data)
{
  WrGatewayLink *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (conn);
  const char *reason = soup_websocket_connection_get_close_data (conn);

  if (!self->stopping && code == 0)
    g_warning ("the connection to the gateway broke");
  else if (!self->stopping)
    g_warning ("the gateway closed the connection (code %u%s%s)", code,
        reason && *reason ? ", " : "", reason ? reason : "");
  drop_connection (self);
  if (self->stopping)
    finish_stop (self);
}

static void
on_ws_error (SoupWebsocketConnection *conn, GError *error, gpointer user_data)
{
  g_warning ("gateway WebSocket error: %s", error->message);
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

static void
log_certificate_problem (WrGatewayLink *self, GTlsCertificate *cert,
    GTlsCertificateFlags errors)
{
  g_autofree char *fingerprint = cert ? wr_certificate_fingerprint (cert)
      : NULL;
  g_autofree char *why = NULL;

  if (WR_IS_PINNED_TLS_DATABASE (self->tls_database)) {
    const char *pin = wr_pinned_tls_database_get_pin (
        WR_PINNED_TLS_DATABASE (self->tls_database));
    if (fingerprint && !wr_constant_time_equal (fingerprint, pin)) {
      g_warning ("gateway certificate fingerprint %s does not match the "
          "pinned %s; refusing to connect", fingerprint, pin);
      return;
    }
  }
  why = describe_tls_errors (errors);
  g_warning ("gateway certificate (fingerprint %s) is not trusted (%s); "
      "refusing to connect", fingerprint ? fingerprint : "?", why);
}

/* libsoup asks here when the TLS database refused the certificate. Never
 * accept: the pin or CA is the only trust. This runs before the HTTP
 * request (and so the token) is written. */
static gboolean
on_accept_certificate (SoupMessage *msg, GTlsCertificate *cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  log_certificate_problem (user_data, cert, errors);
  return FALSE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WrGatewayLink *self = user_data;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (
      SOUP_SESSION (source), result);
  SoupWebsocketConnection *conn;
  guint status = msg ? soup_message_get_status (msg) : 0;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  if (self->stopping) {
    g_clear_object (&conn);
    g_object_unref (self);
    return;
  }
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_object (&self->cancellable);
  if (msg)
    g_signal_handlers_disconnect_by_func (msg, on_accept_certificate, self);

  if (!conn) {
    if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
      g_warning ("the gateway refused the agent certificate (HTTP %u)",
          status);
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
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), self);
  g_signal_connect (conn, "error", G_CALLBACK (on_ws_error), self);
  self->last_rx_us = self->last_ping_us = g_get_monotonic_time ();
  self->keepalive_id = g_timeout_add (WR_KEEPALIVE_TICK_MS, keepalive_cb,
      self);

  g_print ("webremote-agent: connected to %s\n", self->display_url);
  fflush (stdout);
  g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
  g_object_unref (self);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  WrGatewayLink *self = user_data;

  self->connect_timeout_id = 0;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  return G_SOURCE_REMOVE;
}

static void
wr_gateway_link_connect (WrGatewayLink *self)
{
  g_autoptr (SoupMessage) msg = NULL;

  if (self->stopping || self->conn || self->cancellable)
    return;

  msg = soup_message_new ("GET", self->ws_url);
  if (!msg) {
    g_warning ("invalid gateway URL %s", self->ws_url);
    return;
  }
  /* The certificate from enrollment is the agent's only credential
   * (mTLS); without one the gateway refuses the agent. */
  if (self->client_certificate)
    soup_message_set_tls_client_certificate (msg, self->client_certificate);
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (on_accept_certificate), self);

  self->cancellable = g_cancellable_new ();
  /* The session has no I/O timeout (it would also cut an idle WebSocket),
   * so bound the connect and upgrade here. */
  self->connect_timeout_id = g_timeout_add (WR_CONNECT_TIMEOUT_MS,
      connect_timeout_cb, self);
  g_message ("connecting to %s", self->ws_url);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->cancellable, on_connected,
      g_object_ref (self));
}

void
wr_gateway_link_start (WrGatewayLink *self)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));
  self->stopping = FALSE;
  wr_gateway_link_connect (self);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  WrGatewayLink *self = user_data;

  self->stop_timeout_id = 0;
  drop_connection (self);
  finish_stop (self);
  return G_SOURCE_REMOVE;
}

void
wr_gateway_link_stop (WrGatewayLink *self, GSourceFunc callback,
    gpointer user_data)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));

  self->stopping = TRUE;
  self->stop_cb = callback;
  self->stop_data = user_data;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  if (self->cancellable) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
  }
  if (self->conn && soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN) {
    /* Wait for the close handshake, but not forever. */
    soup_websocket_connection_close (self->conn,
        SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "agent shutting down");
    self->stop_timeout_id = g_timeout_add (WR_STOP_TIMEOUT_MS,
        stop_timeout_cb, self);
    return;
  }
  drop_connection (self);
  finish_stop (self);
}

gboolean
wr_gateway_link_is_connected (WrGatewayLink *self)
{
  return self->conn && soup_websocket_connection_get_state (self->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

gboolean
wr_gateway_link_send (WrGatewayLink *self, const char *text)
{
  if (!wr_gateway_link_is_connected (self))
    return FALSE;
  soup_websocket_connection_send_text (self->conn, text);
  return TRUE;
}

void
wr_gateway_link_reset_backoff (WrGatewayLink *self)
{
  wr_backoff_reset (&self->backoff);
}

static void
wr_gateway_link_dispose (GObject *object)
{
  WrGatewayLink *self = WR_GATEWAY_LINK (object);

  self->stopping = TRUE;
  self->stop_cb = NULL;
  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->connect_timeout_id, g_source_remove);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->conn) {
    g_signal_handlers_disconnect_by_data (self->conn, self);
    g_clear_object (&self->conn);
  }
  g_clear_object (&self->session);
  g_clear_object (&self->tls_database);
  g_clear_object (&self->client_certificate);
  G_OBJECT_CLASS (wr_gateway_link_parent_class)->dispose (object);
}

static void
wr_gateway_link_finalize (GObject *object)
{
  WrGatewayLink *self = WR_GATEWAY_LINK (object);

  g_free (self->display_url);
  g_free (self->ws_url);
  G_OBJECT_CLASS (wr_gateway_link_parent_class)->finalize (object);
}

static void
wr_gateway_link_class_init (WrGatewayLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_gateway_link_dispose;
  object_class->finalize = wr_gateway_link_finalize;

  signals[SIGNAL_CONNECTED] = g_signal_new ("connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
  signals[SIGNAL_MESSAGE] = g_signal_new ("message",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
  signals[SIGNAL_DISCONNECTED] = g_signal_new ("disconnected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}

static void
wr_gateway_link_init (WrGatewayLink *self)
{
}

WrGatewayLink *
wr_gateway_link_new (const char *display_url, const char *ws_url,
    GTlsDatabase *tls_database, guint reconnect_min_ms,
    guint reconnect_max_ms)
{
  WrGatewayLink *self = g_object_new (WR_TYPE_GATEWAY_LINK, NULL);

  self->display_url = g_strdup (display_url);
  self->ws_url = g_strdup (ws_url);
  self->tls_database = g_object_ref (tls_database);
  /* The TLS database is the only trust anchor: the system CAs do not
   * apply. No proxy: the agent talks to its gateway directly. */
  self->session = soup_session_new_with_options (
      "tls-database", tls_database,
      "proxy-resolver", NULL,
      "user-agent", "webremote-agent/" WR_VERSION,
      "timeout", 0,
      NULL);
  wr_backoff_init (&self->backoff, reconnect_min_ms, reconnect_max_ms);
  return self;
}

void
wr_gateway_link_set_client_certificate (WrGatewayLink *self,
    GTlsCertificate *certificate)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));
  g_set_object (&self->client_certificate, certificate);
}
