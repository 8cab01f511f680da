/* webremote integration tests: the REST API of one gateway on either store
 * backend (SQLite in its state directory, or a throwaway PostgreSQL).
 *
 * Shared by test-rbac.c, test-identity.c and test-api-input.c. Every
 * helper asserts: a transport error or an unexpected status fails the test
 * with the method, path and response body in the message.
 */
#pragma once

#include "harness.h"

G_BEGIN_DECLS

typedef enum {
  WR_BACKEND_SQLITE,
  WR_BACKEND_POSTGRESQL,
  WR_N_BACKENDS
} WrBackend;

extern const char *const wr_backend_names[WR_N_BACKENDS];

/* Strong enough for the password policy. */
#define WR_TEST_PASSWORD "correct horse battery"

/**
 * wr_api_store_url:
 * Returns: (transfer full) (nullable): for PostgreSQL, a fresh schema of
 * the program's cluster (started on first use, stopped by
 * wr_api_cleanup()); %NULL for SQLite (the gateway's default file).
 */
char *wr_api_store_url (WrBackend backend);

/* Stops the PostgreSQL cluster, if one was started. */
void wr_api_cleanup (void);

/**
 * wr_api_gateway_new:
 * @extra_config: (nullable): appended to the gateway's keyfile
 * Starts a gateway (no Xvfb, no agent) on @backend, signs in as admin
 * (h->token).
 */
WrHarness *wr_api_gateway_new (WrBackend backend, const char *extra_config);

/* One request with a JSON (or any text) body; asserts it was answered. */
WrHttpResponse *wr_api (WrHarness *h, const char *method, const char *path,
    const char *token, const char *body);

/* The response as an object (borrowed); asserts it is one. */
JsonObject *wr_api_object (WrHttpResponse *r);

/* Asserts the status, and when @code is not NULL the error code, and that
 * every 4xx/5xx body is a JSON {code, message} with non-empty strings. */
void wr_api_check (WrHttpResponse *r, const char *what, guint status,
    const char *code);

/* A request that must answer @status (and @code); returns the response. */
WrHttpResponse *wr_api_expect (WrHarness *h, const char *method,
    const char *path, const char *token, const char *body, guint status,
    const char *code);

/* @s as a JSON string literal, quotes included. */
char *wr_json_quote (const char *s);

/* @s escaped for one URL path segment. */
char *wr_path_escape (const char *s);

/* POST /api/v1/login; asserts 200 and returns the access token. */
char *wr_api_login (WrHarness *h, const char *user, const char *password);

/* POST /api/v1/users (asserts 201) as h->token. */
void wr_api_create_user (WrHarness *h, const char *name,
    const char *password);

/* POST /api/v1/grants (asserts 201) as h->token; @group NULL for every
 * group. Returns the grant id. */
gint64 wr_api_grant (WrHarness *h, const char *subject, const char *role,
    const char *group);

/* The string members of a JSON array as a sorted, space-joined string. */
char *wr_json_strings_sorted (JsonArray *array);

/* Sorts the words of @words (space-separated); "" for none. */
char *wr_words_sorted (const char *words);

/* Waits (as h->token) until GET /api/v1/agents lists @id online with a
 * display. */
gboolean wr_api_wait_agent (WrHarness *h, const char *id, guint timeout_ms);

G_END_DECLS
