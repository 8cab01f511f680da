/* webremote: agents authenticated by their enrolled client certificate
 * (docs/security.md, "Agent enrollment and mTLS"). */
#pragma once

#include <libsoup/soup.h>

#include "gateway/gateway.h"

G_BEGIN_DECLS

/**
 * wr_enroll_authenticate_peer:
 * Checks the TLS client certificate of @msg: signed by our CA, valid now,
 * naming one agent, the current certificate of that agent in the store,
 * which is not revoked.
 * Returns: (transfer full) (nullable): the agent id; %NULL with @error
 *   saying why it is refused.
 */
char *wr_enroll_authenticate_peer (WrGateway *gw, GTlsCertificate *peer,
    char **serial, GError **error);

/**
 * wr_enroll_watch_revocations:
 * Every few seconds, closes the connection of any online agent whose
 * certificate was revoked or whose record was deleted meanwhile (by
 * webremotectl, another gateway, or the API).
 */
void wr_enroll_watch_revocations (WrGateway *gw, guint interval_seconds);

/** wr_enroll_remember: @id is online with the certificate @serial. */
void wr_enroll_remember (const char *id, const char *serial);

/** wr_enroll_close_agent: closes @id's live connection, if any. */
void wr_enroll_close_agent (WrGateway *gw, const char *id,
    const char *reason);

/* The renewal endpoint, POST /api/v1/agent/renew: a soup handler (on the
 * main loop: it needs the TLS peer certificate). */
void wr_enroll_renew_handler (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data);

G_END_DECLS
