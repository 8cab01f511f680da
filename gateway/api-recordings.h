/* webremote: the recordings API (docs/api.md, "Recordings") and the signed
 * media links that serve segments and evidence bundles with HTTP Range.
 *
 * The JSON endpoints are routes of api.c (handlers in api-routes.h); the
 * media links have their own libsoup handler because they stream files.
 */
#pragma once

#include <libsoup/soup.h>

#include "gateway/gateway.h"

G_BEGIN_DECLS

/* How long a media link is good for. */
#define WR_MEDIA_TOKEN_LIFETIME_S 600

typedef enum {
  WR_MEDIA_SEGMENT = 's',
  WR_MEDIA_BUNDLE = 'b',
} WrMediaKind;

/**
 * wr_media_token_make:
 * Returns: (transfer full): a token naming (@kind, @recording, @index,
 * @user, @expires), MAC'd with HMAC-SHA256 under a random key made once
 * per process; base64url.
 */
char *wr_media_token_make (WrMediaKind kind, const char *recording,
    gint64 index, const char *user, gint64 expires);

/**
 * wr_media_token_check:
 * @now: unix seconds
 * Returns: %TRUE when the MAC matches (constant-time) and the token has
 * not expired; the out values are then set (transfer full).
 */
gboolean wr_media_token_check (const char *token, gint64 now,
    WrMediaKind *kind, char **recording, gint64 *index, char **user);

/* The libsoup handler of /api/v1/media/<token>. */
void wr_api_media_handle (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data);

/**
 * wr_http_parse_range:
 * @header: (nullable): the Range header
 * @size: the file's size
 * @start: (out): first byte
 * @end: (out): last byte (inclusive)
 *
 * Returns: 200 (no usable Range: the whole file), 206 (@start..@end) or
 * 416 (not satisfiable).
 */
guint wr_http_parse_range (const char *header, gint64 size, gint64 *start,
    gint64 *end);

G_END_DECLS
