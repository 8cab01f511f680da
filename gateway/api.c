/* webremote: the REST API under /api/v1 (docs/api.md). */
#include "config.h"

#include "gateway/api.h"

#include <string.h>

#include "gateway/http-response.h"

#define API_PREFIX "/api/v1"

typedef void (*ApiHandler) (WrGateway *gw, SoupServerMessage *msg,
    const char *arg, const WrPrincipal *user);

/* One route: method, path (a trailing '*' takes one path segment as @arg),
 * whether it needs a login, and its handler. */
typedef struct {
  const char *method;
  const char *path;
  gboolean public;
  ApiHandler handler;
} ApiRoute;

static JsonNode *
user_json (const WrPrincipal *user)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, user->name);
  json_builder_set_member_name (b, "admin");
  json_builder_add_boolean_value (b, user->admin);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
api_login (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *unused)
{
  g_autoptr (JsonObject) body = wr_http_read_json_object (msg);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrPrincipal) user = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autofree char *token = NULL;
  const char *username, *password;
  gint64 expires_in = 0;

  if (!body)
    return;
  username = json_object_has_member (body, "username")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (body, "username"))
      ? json_object_get_string_member_with_default (body, "username", NULL)
      : NULL;
  password = json_object_has_member (body, "password")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (body, "password"))
      ? json_object_get_string_member_with_default (body, "password", NULL)
      : NULL;
  if (!username || !password || strlen (username) > 128
      || strlen (password) > 1024) {
    wr_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad_request",
        "username and password are required strings");
    return;
  }

  token = wr_auth_login (gw->auth, username, password,
      soup_server_message_get_remote_host (msg), &expires_in, &user, &error);
  if (!token) {
    if (g_error_matches (error, WR_AUTH_ERROR, WR_AUTH_ERROR_RATE_LIMITED)) {
      wr_http_respond_error (msg, 429,
          "rate_limited", "too many failed logins; try again later");
    } else if (g_error_matches (error, WR_AUTH_ERROR,
            WR_AUTH_ERROR_INVALID_CREDENTIALS)) {
      g_message ("failed login from %s",
          soup_server_message_get_remote_host (msg));
      wr_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
          "wrong username or password");
    } else {
      g_warning ("login failed: %s", error->message);
      wr_http_respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
          "internal", "internal error");
    }
    return;
  }

  g_message ("%s logged in from %s", user->name,
      soup_server_message_get_remote_host (msg));
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "expires_in");
  json_builder_add_int_value (b, expires_in);
  json_builder_set_member_name (b, "user");
  json_builder_add_value (b, user_json (user));
  json_builder_end_object (b);
  wr_http_respond_json (msg, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
api_logout (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *user)
{
  wr_auth_logout (gw->auth, wr_http_get_bearer (msg));
  wr_http_set_security_headers (msg);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
api_me (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *user)
{
  wr_http_respond_json (msg, SOUP_STATUS_OK, user_json (user));
}

static void
api_agents (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *user)
{
  wr_http_respond_json (msg, SOUP_STATUS_OK,
      wr_agent_registry_to_json (gw->registry));
}

static void
api_agent (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *user)
{
  WrAgentRecord *r = wr_agent_registry_lookup (gw->registry, arg);

  if (!r) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "no such agent");
    return;
  }
  wr_http_respond_json (msg, SOUP_STATUS_OK, wr_agent_record_to_json (r));
}

/* Live sessions: every one for an admin, else the caller's own. */
static void
api_sessions (WrGateway *gw, SoupServerMessage *msg, const char *arg,
    const WrPrincipal *user)
{
  wr_http_respond_json (msg, SOUP_STATUS_OK,
      wr_signaling_sessions_to_json (gw->signaling,
          user->admin ? NULL : user->name));
}

static const ApiRoute routes[] = {
  { "POST", "/login", TRUE, api_login },
  { "POST", "/logout", FALSE, api_logout },
  { "GET", "/me", FALSE, api_me },
  { "GET", "/agents", FALSE, api_agents },
  { "GET", "/agents/*", FALSE, api_agent },
  { "GET", "/sessions", FALSE, api_sessions },
};

/* Matches @path against @pattern; on a '*' match, *arg is the segment. */
static gboolean
route_matches (const char *pattern, const char *path, char **arg)
{
  gsize plen = strlen (pattern);

  if (pattern[plen - 1] != '*')
    return g_str_equal (pattern, path);
  if (strncmp (pattern, path, plen - 1) != 0)
    return FALSE;
  path += plen - 1;
  if (!*path || strchr (path, '/'))
    return FALSE;
  *arg = g_uri_unescape_string (path, NULL);
  return *arg != NULL && **arg != '\0';
}

void
wr_api_handle (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer user_data)
{
  WrGateway *gw = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *sub;
  gboolean path_known = FALSE;

  if (!g_str_has_prefix (path, API_PREFIX)) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "no such endpoint");
    return;
  }
  sub = path + strlen (API_PREFIX);

  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++) {
    g_autofree char *arg = NULL;
    g_autoptr (WrPrincipal) user = NULL;

    if (!route_matches (routes[i].path, sub, &arg))
      continue;
    path_known = TRUE;
    if (!g_str_equal (routes[i].method, method))
      continue;

    if (!routes[i].public) {
      user = wr_auth_authenticate_token (gw->auth, wr_http_get_bearer (msg));
      if (!user) {
        soup_message_headers_replace (
            soup_server_message_get_response_headers (msg),
            "WWW-Authenticate", "Bearer realm=\"webremote\"");
        wr_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
            "log in first");
        return;
      }
    }
    routes[i].handler (gw, msg, arg, user);
    return;
  }

  /* Say nothing about which endpoints exist to someone not logged in. */
  {
    g_autoptr (WrPrincipal) user = wr_auth_authenticate_token (gw->auth,
        wr_http_get_bearer (msg));
    if (!user) {
      wr_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
          "log in first");
      return;
    }
  }
  if (path_known)
    wr_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "method_not_allowed", "method not allowed");
  else
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "no such endpoint");
}
