/* webremote: the REST API under /api/v1 (docs/api.md): the route table and
 * the hop from the main loop to a worker thread and back. */
#include "config.h"

#include "gateway/api.h"

#include <string.h>

#include "gateway/api-routes.h"
#include "gateway/http-response.h"

#define API_PREFIX "/api/v1"
#define CSRF_HEADER_VALUE "webremote"

typedef enum {
  ACCESS_PUBLIC,  /* no login */
  ACCESS_USER,    /* any signed-in user (handlers filter what they show) */
  ACCESS_ADMIN,   /* the admin permission */
  ACCESS_AUDIT,   /* the audit permission */
} Access;

/* One route: method, path pattern ('*' matches one segment, passed to the
 * handler as call->arg), who may call it, whether it reads the refresh
 * cookie (then CSRF protection applies), and its steps. */
typedef struct {
  const char *method;
  const char *path;
  Access access;
  gboolean cookie;
  WrApiHandler prepare;  /* main context, optional */
  WrApiHandler handler;  /* worker thread */
  WrApiHandler apply;    /* main context after the handler, optional */
} ApiRoute;

static const ApiRoute routes[] = {
  { "POST", "/login", ACCESS_PUBLIC, FALSE, NULL, wr_api_login, NULL },
  { "POST", "/enroll", ACCESS_PUBLIC, FALSE, NULL, wr_api_enroll, NULL },
  { "POST", "/logout", ACCESS_PUBLIC, TRUE, NULL, wr_api_logout, NULL },
  { "POST", "/auth/logout", ACCESS_PUBLIC, TRUE, NULL, wr_api_logout, NULL },
  { "POST", "/auth/refresh", ACCESS_PUBLIC, TRUE, NULL, wr_api_refresh,
    NULL },
  { "GET", "/auth/sso", ACCESS_PUBLIC, FALSE, NULL, wr_api_sso_info, NULL },
  { "GET", "/auth/sso/start", ACCESS_PUBLIC, FALSE, NULL, wr_api_sso_start,
    NULL },
  { "GET", "/auth/sso/callback", ACCESS_PUBLIC, FALSE, NULL,
    wr_api_sso_callback, NULL },

  { "GET", "/me", ACCESS_USER, FALSE, NULL, wr_api_me, NULL },
  { "POST", "/me/password", ACCESS_USER, FALSE, NULL, wr_api_me_password,
    NULL },
  { "POST", "/me/totp/setup", ACCESS_USER, FALSE, NULL,
    wr_api_me_totp_setup, NULL },
  { "POST", "/me/totp/enable", ACCESS_USER, FALSE, NULL,
    wr_api_me_totp_enable, NULL },
  { "POST", "/me/totp/disable", ACCESS_USER, FALSE, NULL,
    wr_api_me_totp_disable, NULL },
  { "GET", "/me/tokens", ACCESS_USER, FALSE, NULL, wr_api_me_tokens_list,
    NULL },
  { "POST", "/me/tokens", ACCESS_USER, FALSE, NULL, wr_api_me_tokens_create,
    NULL },
  { "DELETE", "/me/tokens/*", ACCESS_USER, FALSE, NULL,
    wr_api_me_tokens_revoke, NULL },

  { "GET", "/agents", ACCESS_USER, FALSE, wr_api_agents_prepare,
    wr_api_agents_list, NULL },
  { "GET", "/agents/*", ACCESS_USER, FALSE, wr_api_agents_prepare,
    wr_api_agents_get, NULL },
  { "DELETE", "/agents/*", ACCESS_ADMIN, FALSE, NULL, wr_api_agent_delete,
    wr_api_agent_delete_apply },
  { "PUT", "/agents/*/group", ACCESS_ADMIN, FALSE, NULL,
    wr_api_agent_set_group, NULL },
  { "GET", "/sessions", ACCESS_USER, FALSE, wr_api_sessions_prepare,
    wr_api_sessions_list, NULL },

  { "GET", "/users", ACCESS_ADMIN, FALSE, NULL, wr_api_users_list, NULL },
  { "POST", "/users", ACCESS_ADMIN, FALSE, NULL, wr_api_users_create, NULL },
  { "PATCH", "/users/*", ACCESS_ADMIN, FALSE, NULL, wr_api_users_update,
    wr_api_users_apply },
  { "DELETE", "/users/*", ACCESS_ADMIN, FALSE, NULL, wr_api_users_delete,
    wr_api_users_apply },
  { "GET", "/roles", ACCESS_ADMIN, FALSE, NULL, wr_api_roles_list, NULL },
  { "POST", "/roles", ACCESS_ADMIN, FALSE, NULL, wr_api_roles_create, NULL },
  { "PATCH", "/roles/*", ACCESS_ADMIN, FALSE, NULL, wr_api_roles_update,
    NULL },
  { "DELETE", "/roles/*", ACCESS_ADMIN, FALSE, NULL, wr_api_roles_delete,
    NULL },
  { "GET", "/groups", ACCESS_ADMIN, FALSE, NULL, wr_api_groups_list, NULL },
  { "POST", "/groups", ACCESS_ADMIN, FALSE, NULL, wr_api_groups_create,
    NULL },
  { "PATCH", "/groups/*", ACCESS_ADMIN, FALSE, NULL, wr_api_groups_update,
    NULL },
  { "DELETE", "/groups/*", ACCESS_ADMIN, FALSE, NULL, wr_api_groups_delete,
    NULL },
  { "GET", "/grants", ACCESS_ADMIN, FALSE, NULL, wr_api_grants_list, NULL },
  { "POST", "/grants", ACCESS_ADMIN, FALSE, NULL, wr_api_grants_create,
    NULL },
  { "DELETE", "/grants/*", ACCESS_ADMIN, FALSE, NULL, wr_api_grants_delete,
    NULL },
  /* audit (api-audit.c) */
  { "GET", "/audit", ACCESS_AUDIT, FALSE, NULL, wr_api_audit_list, NULL },
  { "GET", "/audit/export", ACCESS_AUDIT, FALSE, NULL, wr_api_audit_export,
    NULL },
  /* recordings (api-recordings.c) */
  { "GET", "/recordings", ACCESS_AUDIT, FALSE, NULL, wr_api_recordings_list,
    NULL },
  { "GET", "/recordings/*", ACCESS_AUDIT, FALSE, NULL, wr_api_recordings_get,
    NULL },
  { "POST", "/recordings/*/hold", ACCESS_AUDIT, FALSE, NULL,
    wr_api_recordings_hold, NULL },
  { "DELETE", "/recordings/*", ACCESS_ADMIN, FALSE, NULL,
    wr_api_recordings_delete, NULL },
};

static void
not_found (WrGateway *gw, WrApiCall *call)
{
  wr_api_call_error (call, 404, "not_found", "no such endpoint");
}

static void
method_not_allowed (WrGateway *gw, WrApiCall *call)
{
  wr_api_call_error (call, 405, "method_not_allowed", "method not allowed");
}

static const ApiRoute not_found_route = {
  "*", "*", ACCESS_USER, FALSE, NULL, not_found, NULL
};
static const ApiRoute method_not_allowed_route = {
  "*", "*", ACCESS_USER, FALSE, NULL, method_not_allowed, NULL
};

/* Segment-wise match; a '*' segment matches one non-empty segment, which
 * is unescaped into *arg. */
static gboolean
route_matches (const char *pattern, const char *path, char **arg)
{
  g_auto (GStrv) p = g_strsplit (pattern, "/", -1);
  g_auto (GStrv) s = g_strsplit (path, "/", -1);
  g_autofree char *found = NULL;
  guint i;

  if (g_strv_length (p) != g_strv_length (s))
    return FALSE;
  for (i = 0; p[i]; i++) {
    if (g_str_equal (p[i], "*")) {
      if (!*s[i])
        return FALSE;
      found = g_uri_unescape_string (s[i], NULL);
      if (!found || !*found || !g_utf8_validate (found, -1, NULL))
        return FALSE;
    } else if (!g_str_equal (p[i], s[i])) {
      return FALSE;
    }
  }
  *arg = g_steal_pointer (&found);
  return TRUE;
}

typedef struct {
  WrGateway *gw;
  const ApiRoute *route;
  SoupServerMessage *msg;  /* ref */
  WrApiCall *call;
  gboolean gone;           /* the client went away meanwhile */
  gulong disconnected_id;
} Pending;

static void
pending_free (Pending *p)
{
  if (p->disconnected_id)
    g_signal_handler_disconnect (p->msg, p->disconnected_id);
  g_object_unref (p->msg);
  wr_api_call_free (p->call);
  g_free (p);
}

static void
on_disconnected (SoupServerMessage *msg, Pending *p)
{
  p->gone = TRUE;
}

static char *
cookie_value (SoupServerMessage *msg, const char *name)
{
  const char *header = soup_message_headers_get_list (
      soup_server_message_get_request_headers (msg), "Cookie");
  g_autoptr (GHashTable) params = NULL;
  const char *value;

  if (!header || strlen (header) > 8192)
    return NULL;
  params = soup_header_parse_semi_param_list (header);
  value = g_hash_table_lookup (params, name);
  return value && *value ? g_strdup (value) : NULL;
}

/* Browsers send Origin on every cross-site POST; when present it must name
 * this very host. */
static gboolean
origin_is_same (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (h, "Origin");
  const char *host = soup_message_headers_get_one (h, "Host");
  g_autoptr (GUri) uri = NULL;
  g_autofree char *origin_host = NULL;

  if (!origin)
    return TRUE;
  if (!host)
    return FALSE;
  uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    return FALSE;
  origin_host = g_uri_get_port (uri) > 0
      ? g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri))
      : g_strdup (g_uri_get_host (uri));
  return g_ascii_strcasecmp (origin_host, host) == 0;
}

static WrApiCall *
call_from_message (SoupServerMessage *msg, const char *sub, char *arg,
    GHashTable *query)
{
  WrApiCall *call = wr_api_call_new ();
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const char *bearer = wr_http_get_bearer (msg);
  const char *xrw = soup_message_headers_get_one (h, "X-Requested-With");

  call->method = g_strdup (soup_server_message_get_method (msg));
  call->path = g_strdup (sub);
  call->arg = arg;
  call->body = soup_message_body_flatten (
      soup_server_message_get_request_body (msg));
  call->bearer = g_strdup (bearer);
  call->refresh_cookie = cookie_value (msg, "wr_refresh");
  call->csrf_header = xrw && g_str_equal (xrw, CSRF_HEADER_VALUE);
  call->same_origin = origin_is_same (msg);
  call->client_address = g_strdup (soup_server_message_get_remote_host (msg));
  if (query)
    call->query = g_hash_table_ref (query);
  return call;
}

/* Worker thread: who is calling, may they, then the handler. */
static void
run_in_worker (GTask *task, gpointer source, gpointer data,
    GCancellable *cancellable)
{
  Pending *p = data;
  WrApiCall *call = p->call;
  const ApiRoute *route = p->route;

  if (route->cookie && call->refresh_cookie
      && (!call->csrf_header || !call->same_origin)) {
    wr_api_call_error (call, 403, "csrf",
        "this request needs the X-Requested-With: webremote header and "
        "must come from this site");
    g_task_return_boolean (task, TRUE);
    return;
  }

  if (route->access != ACCESS_PUBLIC) {
    g_autoptr (GError) error = NULL;

    call->user = call->bearer ? wr_auth_authenticate_token (p->gw->auth,
        call->bearer, &error) : NULL;
    if (error) {
      /* fail closed: the store could not say who this is */
      wr_api_call_error (call, 503, "unavailable",
          "the service is temporarily unavailable");
      g_task_return_boolean (task, TRUE);
      return;
    }
    if (!call->user) {
      wr_api_call_error (call, 401, "unauthorized", "sign in first");
      g_task_return_boolean (task, TRUE);
      return;
    }
    if (route->access == ACCESS_ADMIN
        && !wr_principal_has (call->user, WR_PERM_ADMIN)) {
      wr_api_call_error (call, 403, "forbidden",
          "this needs the admin permission");
      g_task_return_boolean (task, TRUE);
      return;
    }
    if (route->access == ACCESS_AUDIT
        && !wr_principal_has (call->user, WR_PERM_AUDIT)) {
      wr_api_call_error (call, 403, "forbidden",
          "this needs the audit permission");
      g_task_return_boolean (task, TRUE);
      return;
    }
  }
  route->handler (p->gw, call);
  g_task_return_boolean (task, TRUE);
}

static void
respond (SoupServerMessage *msg, WrApiCall *call)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  for (guint i = 0; i < call->cookies->len; i++)
    soup_message_headers_append (h, "Set-Cookie",
        g_ptr_array_index (call->cookies, i));
  if (call->status == 401)
    soup_message_headers_replace (h, "WWW-Authenticate",
        "Bearer realm=\"webremote\"");
  if (call->location) {
    wr_http_set_security_headers (msg);
    soup_message_headers_replace (h, "Cache-Control", "no-store");
    soup_message_headers_replace (h, "Location", call->location);
    soup_server_message_set_status (msg, call->status, NULL);
  } else if (call->json) {
    wr_http_respond_json (msg, call->status, g_steal_pointer (&call->json));
  } else if (call->download) {
    g_autofree char *disposition = g_strdup_printf (
        "attachment; filename=\"%s\"", call->download_name);
    gsize len;
    gconstpointer data = g_bytes_get_data (call->download, &len);

    wr_http_set_security_headers (msg);
    soup_message_headers_replace (h, "Cache-Control", "no-store");
    soup_message_headers_replace (h, "Content-Disposition", disposition);
    soup_server_message_set_response (msg, call->download_type,
        SOUP_MEMORY_COPY, data, len);
    soup_server_message_set_status (msg, call->status, NULL);
  } else {
    wr_http_set_security_headers (msg);
    soup_message_headers_replace (h, "Cache-Control", "no-store");
    soup_server_message_set_status (msg, call->status, NULL);
  }
}

static void
on_worker_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Pending *p = data;

  if (p->route->apply && p->call->status < 300)
    p->route->apply (p->gw, p->call);
  if (!p->gone) {
    respond (p->msg, p->call);
    soup_server_message_unpause (p->msg);
  }
  pending_free (p);
}

void
wr_api_handle (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  WrGateway *gw = user_data;
  const char *method = soup_server_message_get_method (msg);
  const ApiRoute *route = NULL;
  gboolean path_known = FALSE;
  g_autofree char *arg = NULL;
  g_autoptr (GTask) task = NULL;
  const char *sub;
  Pending *p;

  if (!g_str_has_prefix (path, API_PREFIX)
      || (path[strlen (API_PREFIX)] != '/' && path[strlen (API_PREFIX)])) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "no such endpoint");
    return;
  }
  sub = path + strlen (API_PREFIX);

  for (gsize i = 0; i < G_N_ELEMENTS (routes) && !route; i++) {
    g_autofree char *a = NULL;
    if (!route_matches (routes[i].path, sub, &a))
      continue;
    path_known = TRUE;
    if (g_str_equal (routes[i].method, method)) {
      route = &routes[i];
      arg = g_steal_pointer (&a);
    }
  }
  /* Unknown endpoints answer 401 to anyone not signed in, like every other
   * one, so nothing tells an outsider which endpoints exist. */
  if (!route)
    route = path_known ? &method_not_allowed_route : &not_found_route;

  p = g_new0 (Pending, 1);
  p->gw = gw;
  p->route = route;
  p->msg = g_object_ref (msg);
  p->call = call_from_message (msg, sub, g_steal_pointer (&arg), query);
  p->disconnected_id = g_signal_connect (msg, "disconnected",
      G_CALLBACK (on_disconnected), p);
  if (route->prepare)
    route->prepare (gw, p->call);

  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, on_worker_done, p);
  g_task_set_task_data (task, p, NULL);
  g_task_run_in_thread (task, run_in_worker);
}
