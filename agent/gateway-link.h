/* webremote-agent: the WebSocket to the gateway, kept up by reconnecting. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define WR_TYPE_GATEWAY_LINK (wr_gateway_link_get_type ())
G_DECLARE_FINAL_TYPE (WrGatewayLink, wr_gateway_link, WR, GATEWAY_LINK,
    GObject)

/* Built on WrWsLink (common/ws-link.h): JSON ping every 20 s, the link is
 * dead when nothing came for 60 s, full-jitter reconnects. */

/**
 * wr_gateway_link_new:
 * @display_url: the gateway URL for log lines (https://HOST:PORT)
 * @ws_url: the wss:// URL of /ws/agent
 * @tls_database: (transfer none): the only trust anchor: a
 *   WrPinnedTlsDatabase or a CA file database
 *
 * Signals, all on the main context:
 * - "connected": the WebSocket is open; send agent.hello now.
 * - "message" (JsonObject *msg): a validated gateway -> agent message other
 *   than ping/pong.
 * - "disconnected": the WebSocket went away; a reconnect is scheduled.
 *
 * Returns: (transfer full): a link; call wr_gateway_link_start().
 */
WrGatewayLink *wr_gateway_link_new (const char *display_url,
    const char *ws_url, GTlsDatabase *tls_database,
    guint reconnect_min_ms, guint reconnect_max_ms);

void wr_gateway_link_start (WrGatewayLink *self);

/**
 * wr_gateway_link_set_client_certificate:
 * Authenticates with @certificate (and its key) over mTLS, the agent's
 * only credential, from the next connection on (a renewed certificate does not drop
 * the current one).
 */
void wr_gateway_link_set_client_certificate (WrGatewayLink *self,
    GTlsCertificate *certificate);

/**
 * wr_gateway_link_stop:
 * Stops reconnecting and closes the WebSocket with 1000 (going away);
 * @callback, when set, runs once it is closed (or after a short timeout).
 */
void wr_gateway_link_stop (WrGatewayLink *self, GSourceFunc callback,
    gpointer user_data);

gboolean wr_gateway_link_is_connected (WrGatewayLink *self);

/**
 * wr_gateway_link_send:
 * Sends one text message. Returns: %FALSE when the link is down.
 */
gboolean wr_gateway_link_send (WrGatewayLink *self, const char *text);

/* Called when agent.welcome arrived: the connection is accepted, so the
 * next reconnect starts from the minimum delay again. */
void wr_gateway_link_reset_backoff (WrGatewayLink *self);

G_END_DECLS
