/* webremote: the REST API under /api/v1 (docs/api.md). */
#pragma once

#include "gateway/gateway.h"

G_BEGIN_DECLS

/**
 * wr_api_handle:
 * The SoupServerCallback for everything under /api/v1; @user_data is the
 * WrGateway.
 */
void wr_api_handle (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data);

G_END_DECLS
