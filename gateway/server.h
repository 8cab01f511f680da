/* webremote: the HTTPS server: routes, WebSocket upgrades, listening. */
#pragma once

#include "gateway/gateway.h"

G_BEGIN_DECLS

/**
 * wr_server_new:
 * Makes the SoupServer with its handlers: /api/v1 (api.c), /ws/client and
 * /ws/agent (signaling.c), /healthz, and the web client (static-files.c).
 * Returns: (transfer full): the server.
 */
SoupServer *wr_server_new (WrGateway *gw, GTlsCertificate *cert);

/**
 * wr_server_listen:
 * @backlog: listen(2) backlog; libsoup's own default of 10 drops
 *   connections when many agents reconnect at once
 * @bound_port: (out): the port actually bound (useful with port 0)
 *
 * Creates the listening socket itself, then hands it to libsoup.
 */
gboolean wr_server_listen (SoupServer *server, const char *address,
    guint16 port, int backlog, guint16 *bound_port, GError **error);

G_END_DECLS
