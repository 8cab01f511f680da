/* webremote: JSON responses, errors and security headers for the API. */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Largest request body the gateway reads (login and API calls are small). */
#define WR_HTTP_MAX_BODY (64 * 1024)

/** wr_http_set_security_headers: headers every response carries. */
void wr_http_set_security_headers (SoupServerMessage *msg);

/** wr_http_respond_json: @status with @node (transfer full) as the body. */
void wr_http_respond_json (SoupServerMessage *msg, guint status,
    JsonNode *node);

/**
 * wr_http_respond_error:
 * Every error is `{"code": ..., "message": ...}` with no internal detail.
 */
void wr_http_respond_error (SoupServerMessage *msg, guint status,
    const char *code, const char *message);

/**
 * wr_http_read_json_object:
 * Returns: (transfer full) (nullable): the request body as a JSON object;
 * on %NULL a 400 or 413 error response has been set.
 */
JsonObject *wr_http_read_json_object (SoupServerMessage *msg);

/**
 * wr_http_get_bearer:
 * Returns: (transfer none) (nullable): the token of an
 * `Authorization: Bearer` header.
 */
const char *wr_http_get_bearer (SoupServerMessage *msg);

G_END_DECLS
