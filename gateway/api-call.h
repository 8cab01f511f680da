/* webremote: one REST API request, handled off the main loop.
 *
 * The main loop must never wait for the store or for a password hash, so
 * every API handler runs in a worker thread on a WrApiCall: a copy of what
 * the handler may read from the request, and the response it builds. Only
 * the main context touches the SoupServerMessage (api.c pauses it, runs the
 * call in a GTask thread, then fills the response in and unpauses it).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/auth.h"

G_BEGIN_DECLS

typedef struct {
  /* request: set on the main context, read-only in the worker */
  char *method;
  char *path;           /* below /api/v1, such as "/users/alice" */
  char *arg;            /* the route's '*' segment, unescaped (nullable) */
  GBytes *body;         /* never NULL; at most WR_HTTP_MAX_BODY bytes */
  char *bearer;         /* Authorization: Bearer (nullable) */
  char *refresh_cookie; /* the wr_refresh cookie (nullable) */
  gboolean csrf_header; /* X-Requested-With: webremote was sent */
  gboolean same_origin; /* no Origin header, or it names this host */
  char *client_address;
  GHashTable *query;    /* (nullable) name -> value */
  WrPrincipal *user;    /* (nullable): set once the caller is known */
  JsonNode *live;       /* (nullable): a snapshot of main-loop state taken
                         * by the route's prepare step */

  /* response: built by the handler */
  guint status;
  JsonNode *json;       /* (nullable) */
  char *location;       /* (nullable): for redirects */
  GPtrArray *cookies;   /* Set-Cookie values */
  GBytes *download;     /* (nullable): a file to send instead of JSON */
  char *download_type;  /* its Content-Type */
  char *download_name;  /* its attachment file name */
} WrApiCall;

WrApiCall *wr_api_call_new (void);
void wr_api_call_free (WrApiCall *call);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrApiCall, wr_api_call_free)

/** wr_api_call_respond: @status with @json (transfer full; nullable). */
void wr_api_call_respond (WrApiCall *call, guint status, JsonNode *json);

/** wr_api_call_error: `{"code", "message"}` with @status. */
void wr_api_call_error (WrApiCall *call, guint status, const char *code,
    const char *message);

/**
 * wr_api_call_respond_download:
 * @content_type: e.g. "application/x-tar"
 * @file_name: the attachment's name (Content-Disposition); ASCII letters,
 *   digits, '.', '-' and '_' only
 * @data: (transfer full): the body
 */
void wr_api_call_respond_download (WrApiCall *call, const char *content_type,
    const char *file_name, GBytes *data);

/** wr_api_call_redirect: 302 to @location (a path on this origin). */
void wr_api_call_redirect (WrApiCall *call, const char *location);

/** wr_api_call_add_cookie: adds a Set-Cookie header value. */
void wr_api_call_add_cookie (WrApiCall *call, const char *value);

/**
 * wr_api_call_read_object:
 * Returns: (transfer full) (nullable): the body as a JSON object, or %NULL
 * with a 400 response already set.
 */
JsonObject *wr_api_call_read_object (WrApiCall *call);

/*
 * Typed readers for request bodies. Each returns FALSE and sets a 400
 * response naming the field when it is missing (and @required), of the
 * wrong type, longer than @max_len bytes or not valid UTF-8; optional
 * absent fields leave *out untouched (NULL / the default).
 */
gboolean wr_api_get_string (WrApiCall *call, JsonObject *body,
    const char *field, gboolean required, gsize max_len, const char **out);
gboolean wr_api_get_bool (WrApiCall *call, JsonObject *body,
    const char *field, gboolean *out);
gboolean wr_api_get_int (WrApiCall *call, JsonObject *body,
    const char *field, gint64 min, gint64 max, gint64 *out);
/* An array of at most @max_items strings; *out is a new NULL-terminated
 * array of pointers into @body (free the array only). */
gboolean wr_api_get_string_array (WrApiCall *call, JsonObject *body,
    const char *field, gboolean required, guint max_items, const char ***out);

G_END_DECLS
