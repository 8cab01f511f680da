/* webremote: one signaling WebSocket (a browser or an agent).
 *
 * WrConnection owns the SoupWebsocketConnection and is the only place that
 * reads from it: it bounds sizes, rate-limits, parses and validates every
 * message against the protocol table, answers bad input with a typed error
 * and hands only valid messages to its owner.
 */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "common/protocol.h"
#include "gateway/auth.h"

G_BEGIN_DECLS

/* Frames larger than this are not buffered at all; libsoup closes the
 * connection with 1009. Between WR_PROTOCOL_MAX_MESSAGE_SIZE and this, the
 * message is refused with `too_large` and the connection lives on. */
#define WR_CONNECTION_MAX_FRAME (1024 * 1024 + 64 * 1024)

#define WR_TYPE_CONNECTION (wr_connection_get_type ())
G_DECLARE_FINAL_TYPE (WrConnection, wr_connection, WR, CONNECTION, GObject)

typedef void (*WrConnectionMessageFunc) (WrConnection *conn, JsonObject *msg,
    gpointer user_data);
typedef void (*WrConnectionClosedFunc) (WrConnection *conn,
    gpointer user_data);

/**
 * wr_connection_new:
 * @ws: the accepted WebSocket
 * @inbound: the channel messages from this peer travel on
 * @peer_address: (nullable): the remote address, for logs
 */
WrConnection *wr_connection_new (SoupWebsocketConnection *ws,
    WrChannel inbound, const char *peer_address);

/**
 * wr_connection_set_handlers:
 * Valid messages go to @on_message; @on_closed runs once when the WebSocket
 * is gone. Both run on the main context.
 */
void wr_connection_set_handlers (WrConnection *self,
    WrConnectionMessageFunc on_message, WrConnectionClosedFunc on_closed,
    gpointer user_data);

/** wr_connection_send: sends one text message if the WebSocket is open. */
void wr_connection_send (WrConnection *self, const char *text);

/** wr_connection_send_error: sends an `error` message. */
void wr_connection_send_error (WrConnection *self, WrProtocolError code,
    const char *message, const char *ref);

/** wr_connection_close: closes the WebSocket with @code and @reason. */
void wr_connection_close (WrConnection *self, gushort code,
    const char *reason);

gboolean wr_connection_is_open (WrConnection *self);
const char *wr_connection_get_peer_address (WrConnection *self);

/* Who is on the other end: a user (client channel) or an agent id (agent
 * channel, set by agent.hello). */
void wr_connection_set_principal (WrConnection *self,
    const WrPrincipal *principal);
const WrPrincipal *wr_connection_get_principal (WrConnection *self);
void wr_connection_set_agent_id (WrConnection *self, const char *agent_id);
const char *wr_connection_get_agent_id (WrConnection *self);

G_END_DECLS
