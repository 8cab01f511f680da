/* webremote-agent: the WebSocket to the gateway, kept up by reconnecting. */
#include "config.h"

#include "agent/gateway-link.h"

#include <stdio.h>

#include "common/ws-link.h"

#define WR_STOP_TIMEOUT_MS 2000

struct _WrGatewayLink {
  GObject parent;

  char *display_url;
  WrWsLink *ws;

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

static void
finish_stop (WrGatewayLink *self)
{
  GSourceFunc cb = self->stop_cb;

  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  self->stop_cb = NULL;
  if (cb)
    cb (self->stop_data);
}

static void
on_link_connected (WrWsLink *ws, gpointer user_data)
{
  WrGatewayLink *self = user_data;

  g_print ("webremote-agent: connected to %s\n", self->display_url);
  fflush (stdout);
  g_signal_emit (self, signals[SIGNAL_CONNECTED], 0);
}

static void
on_link_message (WrWsLink *ws, JsonObject *msg, const char *ref,
    gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_MESSAGE], 0, msg);
}

/* The connection is gone (after close, error or a dead link): tell the
 * owner, who ends every session; the link then reconnects. */
static void
on_link_closed (WrWsLink *ws, gpointer user_data)
{
  WrGatewayLink *self = user_data;
  gboolean stopping = wr_ws_link_is_stopping (ws);

  if (stopping) {
    g_print ("webremote-agent: disconnected from %s\n", self->display_url);
    fflush (stdout);
  } else {
    g_print ("webremote-agent: lost the connection to %s\n",
        self->display_url);
    fflush (stdout);
  }
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0);
  if (stopping)
    finish_stop (self);
}

static const WrWsLinkCallbacks link_callbacks = {
  .connected = on_link_connected,
  .message = on_link_message,
  .closed = on_link_closed,
};

void
wr_gateway_link_start (WrGatewayLink *self)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));
  wr_ws_link_start (self->ws);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  WrGatewayLink *self = user_data;

  self->stop_timeout_id = 0;
  wr_ws_link_drop (self->ws);
  finish_stop (self);
  return G_SOURCE_REMOVE;
}

void
wr_gateway_link_stop (WrGatewayLink *self, GSourceFunc callback,
    gpointer user_data)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));

  self->stop_cb = callback;
  self->stop_data = user_data;
  wr_ws_link_stop (self->ws);
  if (wr_ws_link_close (self->ws)) {
    /* Wait for the close handshake, but not forever. */
    self->stop_timeout_id = g_timeout_add (WR_STOP_TIMEOUT_MS,
        stop_timeout_cb, self);
    return;
  }
  wr_ws_link_drop (self->ws);
  finish_stop (self);
}

gboolean
wr_gateway_link_is_connected (WrGatewayLink *self)
{
  return wr_ws_link_is_open (self->ws);
}

gboolean
wr_gateway_link_send (WrGatewayLink *self, const char *text)
{
  return wr_ws_link_send (self->ws, text);
}

void
wr_gateway_link_reset_backoff (WrGatewayLink *self)
{
  wr_ws_link_reset_backoff (self->ws);
}

static void
wr_gateway_link_dispose (GObject *object)
{
  WrGatewayLink *self = WR_GATEWAY_LINK (object);

  self->stop_cb = NULL;
  g_clear_handle_id (&self->stop_timeout_id, g_source_remove);
  g_clear_pointer (&self->ws, wr_ws_link_destroy);
  G_OBJECT_CLASS (wr_gateway_link_parent_class)->dispose (object);
}

static void
wr_gateway_link_finalize (GObject *object)
{
  WrGatewayLink *self = WR_GATEWAY_LINK (object);

  g_free (self->display_url);
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
  WrWsLinkOptions options = {
    .display_url = display_url,
    .ws_url = ws_url,
    .log_domain = G_LOG_DOMAIN,
    .user_agent = "webremote-agent/" WR_VERSION,
    /* The only trust anchor: the system CAs do not apply. */
    .tls_database = tls_database,
    .credential_name = "agent certificate",
    .going_away = "agent shutting down",
    .channel = WR_CHANNEL_GATEWAY_TO_AGENT,
    .answer_invalid = FALSE,
    .reconnect_min_ms = reconnect_min_ms,
    .reconnect_max_ms = reconnect_max_ms,
    .callbacks = &link_callbacks,
    .user_data = self,
  };

  self->display_url = g_strdup (display_url);
  self->ws = wr_ws_link_new (&options);
  return self;
}

/* The certificate from enrollment is the agent's only credential (mTLS);
 * without one the gateway refuses the agent. */
void
wr_gateway_link_set_client_certificate (WrGatewayLink *self,
    GTlsCertificate *certificate)
{
  g_return_if_fail (WR_IS_GATEWAY_LINK (self));
  wr_ws_link_set_client_certificate (self->ws, certificate);
}
