/* webremote: serves the built web client (web/dist). */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * wr_static_files_handle:
 * SoupServerCallback for "/"; @user_data is the web root directory (a
 * string that outlives the server). Paths that name no file get
 * index.html, so the client's own routes work on reload.
 */
void wr_static_files_handle (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data);

G_END_DECLS
