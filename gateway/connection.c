/* webremote: one signaling WebSocket (a browser or an agent). */
#include "config.h"

#include "gateway/connection.h"

#include "common/rate-limit.h"

/* docs/protocol.md, "Rate limits". */
#define RATE_PER_SECOND 50.0
#define RATE_BURST 200.0
#define DROPS_BEFORE_CLOSE 200
#define KEEPALIVE_SECONDS 20

struct _WrConnection {
  GObject parent_instance;

  SoupWebsocketConnection *ws;
  WrChannel inbound;
  char *peer_address;
  gulong message_id;
  gulong closed_id;

  WrConnectionMessageFunc on_message;
  WrConnectionClosedFunc on_closed;
  gpointer user_data;
  gboolean closed;
  gboolean closing; /* a close was decided; ignore what is still buffered */

  WrRateLimit rate;
  guint drops;
  gint64 last_rate_error_us;

  WrPrincipal *principal;
  char *agent_id;
};

G_DEFINE_FINAL_TYPE (WrConnection, wr_connection, G_TYPE_OBJECT)

static void
handle_text (WrConnection *self, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;
  g_autoptr (JsonObject) msg = NULL;

  msg = wr_message_parse (data, len, self->inbound, &ref, &error);
  if (!msg) {
    g_debug ("refused a message from %s: %s", self->peer_address,
        error->message);
    wr_connection_send_error (self, error->code, error->message, ref);
    return;
  }
  if (self->on_message)
    self->on_message (self, msg, self->user_data);
}

static gboolean
take_rate_token (WrConnection *self)
{
  gint64 now;

  if (wr_rate_limit_take (&self->rate))
    return TRUE;

  self->drops++;
  if (self->drops >= DROPS_BEFORE_CLOSE) {
    self->closing = TRUE;
    g_message ("closing the connection from %s: rate limit exceeded",
        self->peer_address);
    wr_connection_close (self, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "rate limit exceeded");
    return FALSE;
  }
  now = g_get_monotonic_time ();
  if (now - self->last_rate_error_us >= G_USEC_PER_SEC) {
    self->last_rate_error_us = now;
    wr_connection_send_error (self, WR_PROTOCOL_ERROR_RATE_LIMITED,
        "too many messages; this one was dropped", NULL);
  }
  return FALSE;
}

static void
on_ws_message (SoupWebsocketConnection *ws, SoupWebsocketDataType type,
    GBytes *bytes, WrConnection *self)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (self->closed || self->closing || !take_rate_token (self))
    return;

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    wr_connection_send_error (self, WR_PROTOCOL_ERROR_BAD_JSON,
        "binary messages are not accepted", NULL);
    return;
  }

  /* the handler may drop the last outside reference */
  g_object_ref (self);
  handle_text (self, data, len);
  g_object_unref (self);
}

static void
on_ws_closed (SoupWebsocketConnection *ws, WrConnection *self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  g_object_ref (self);
  if (self->on_closed)
    self->on_closed (self, self->user_data);
  g_object_unref (self);
}

WrConnection *
wr_connection_new (SoupWebsocketConnection *ws, WrChannel inbound,
    const char *peer_address)
{
  WrConnection *self = g_object_new (WR_TYPE_CONNECTION, NULL);

  self->ws = g_object_ref (ws);
  self->inbound = inbound;
  self->peer_address = g_strdup (peer_address ? peer_address : "?");
  g_object_set (ws,
      "max-incoming-payload-size", (guint64) WR_CONNECTION_MAX_FRAME,
      "keepalive-interval", (guint) KEEPALIVE_SECONDS,
      NULL);
  self->message_id = g_signal_connect (ws, "message",
      G_CALLBACK (on_ws_message), self);
  self->closed_id = g_signal_connect (ws, "closed",
      G_CALLBACK (on_ws_closed), self);
  return self;
}

void
wr_connection_set_handlers (WrConnection *self,
    WrConnectionMessageFunc on_message, WrConnectionClosedFunc on_closed,
    gpointer user_data)
{
  self->on_message = on_message;
  self->on_closed = on_closed;
  self->user_data = user_data;
}

gboolean
wr_connection_is_open (WrConnection *self)
{
  return !self->closed && soup_websocket_connection_get_state (self->ws)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

void
wr_connection_send (WrConnection *self, const char *text)
{
  if (wr_connection_is_open (self))
    soup_websocket_connection_send_text (self->ws, text);
}

void
wr_connection_send_error (WrConnection *self, WrProtocolError code,
    const char *message, const char *ref)
{
  g_autofree char *text = wr_message_error_new (code, message, ref);

  wr_connection_send (self, text);
}

void
wr_connection_close (WrConnection *self, gushort code, const char *reason)
{
  if (soup_websocket_connection_get_state (self->ws)
      == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (self->ws, code, reason);
}

const char *
wr_connection_get_peer_address (WrConnection *self)
{
  return self->peer_address;
}

void
wr_connection_set_principal (WrConnection *self, const WrPrincipal *principal)
{
  wr_principal_free (self->principal);
  self->principal = principal ? wr_principal_copy (principal) : NULL;
}

const WrPrincipal *
wr_connection_get_principal (WrConnection *self)
{
  return self->principal;
}

void
wr_connection_set_agent_id (WrConnection *self, const char *agent_id)
{
  g_free (self->agent_id);
  self->agent_id = g_strdup (agent_id);
}

const char *
wr_connection_get_agent_id (WrConnection *self)
{
  return self->agent_id;
}

static void
wr_connection_dispose (GObject *object)
{
  WrConnection *self = WR_CONNECTION (object);

  if (self->ws) {
    g_clear_signal_handler (&self->message_id, self->ws);
    g_clear_signal_handler (&self->closed_id, self->ws);
    wr_connection_close (self, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_clear_object (&self->ws);
  }
  G_OBJECT_CLASS (wr_connection_parent_class)->dispose (object);
}

static void
wr_connection_finalize (GObject *object)
{
  WrConnection *self = WR_CONNECTION (object);

  g_free (self->peer_address);
  g_free (self->agent_id);
  wr_principal_free (self->principal);
  G_OBJECT_CLASS (wr_connection_parent_class)->finalize (object);
}

static void
wr_connection_init (WrConnection *self)
{
  wr_rate_limit_init (&self->rate, RATE_PER_SECOND, RATE_BURST);
}

static void
wr_connection_class_init (WrConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wr_connection_dispose;
  object_class->finalize = wr_connection_finalize;
}
