/* webremote integration tests: REST API helpers on both store backends. */
#include "config.h"

#include "api-test-util.h"

#include <string.h>

#include "tests/lib/pg-server.h"

const char *const wr_backend_names[WR_N_BACKENDS] = { "sqlite",
  "postgresql" };

static WrPgServer *pg_server;

char *
wr_api_store_url (WrBackend backend)
{
  g_autoptr (GError) error = NULL;
  char *url;

  if (backend == WR_BACKEND_SQLITE)
    return NULL;
  /* No skip: scripts/test installs PostgreSQL, so a cluster that does not
   * start is a failure. */
  if (!pg_server) {
    pg_server = wr_pg_server_start (&error);
    g_assert_no_error (error);
  }
  url = wr_pg_server_create_database (pg_server, &error);
  g_assert_no_error (error);
  return url;
}

void
wr_api_cleanup (void)
{
  g_clear_pointer (&pg_server, wr_pg_server_stop);
}

WrHarness *
wr_api_gateway_new (WrBackend backend, const char *extra_config)
{
  g_autoptr (GError) error = NULL;
  WrHarness *h = wr_harness_new (640, 480);

  h->store_url = wr_api_store_url (backend);
  h->gateway_extra_config = g_strdup (extra_config);
  wr_harness_start_gateway (h, &error);
  g_assert_no_error (error);
  wr_harness_login (h, &error);
  g_assert_no_error (error);
  return h;
}

WrHttpResponse *
wr_api (WrHarness *h, const char *method, const char *path,
    const char *token, const char *body)
{
  g_autoptr (GError) error = NULL;
  WrHttpResponse *r = wr_harness_http (h, method, path, token, body, &error);

  if (!r)
    g_error ("%s %s: no answer: %s", method, path, error->message);
  return r;
}

JsonObject *
wr_api_object (WrHttpResponse *r)
{
  if (!r->json || !JSON_NODE_HOLDS_OBJECT (r->json))
    g_error ("HTTP %u: the body is not a JSON object: %s", r->status,
        r->body);
  return json_node_get_object (r->json);
}

static const char *
string_member (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

void
wr_api_check (WrHttpResponse *r, const char *what, guint status,
    const char *code)
{
  if (r->status != status)
    g_error ("%s: HTTP %u, expected %u: %s", what, r->status, status,
        r->body);
  if (status >= 400) {
    JsonObject *o;
    const char *c, *m;

    if (!r->json || !JSON_NODE_HOLDS_OBJECT (r->json))
      g_error ("%s: HTTP %u with a body that is not a JSON object: %s", what,
          r->status, r->body);
    if (g_strcmp0 (r->content_type, "application/json") != 0)
      g_error ("%s: HTTP %u with Content-Type %s", what, r->status,
          r->content_type);
    o = json_node_get_object (r->json);
    c = string_member (o, "code");
    m = string_member (o, "message");
    if (!c || !*c || !m || !*m)
      g_error ("%s: HTTP %u: the error is not {code, message}: %s", what,
          r->status, r->body);
    if (code && g_strcmp0 (c, code) != 0)
      g_error ("%s: HTTP %u with code \"%s\", expected \"%s\": %s", what,
          r->status, c, code, r->body);
  }
}

WrHttpResponse *
wr_api_expect (WrHarness *h, const char *method, const char *path,
    const char *token, const char *body, guint status, const char *code)
{
  WrHttpResponse *r = wr_api (h, method, path, token, body);
  g_autofree char *what = g_strdup_printf ("%s %s%s%s", method, path,
      body ? " " : "", body ? body : "");

  wr_api_check (r, what, status, code);
  return r;
}

char *
wr_json_quote (const char *s)
{
  g_autoptr (JsonNode) n = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (n, s);
  return json_to_string (n, FALSE);
}

char *
wr_path_escape (const char *s)
{
  return g_uri_escape_string (s, NULL, FALSE);
}

char *
wr_api_login (WrHarness *h, const char *user, const char *password)
{
  g_autofree char *u = wr_json_quote (user);
  g_autofree char *p = wr_json_quote (password);
  g_autofree char *body = g_strdup_printf ("{\"username\":%s,"
      "\"password\":%s}", u, p);
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "POST", "/api/v1/login",
      NULL, body, 200, NULL);
  const char *token = string_member (wr_api_object (r), "token");

  g_assert_nonnull (token);
  return g_strdup (token);
}

void
wr_api_create_user (WrHarness *h, const char *name, const char *password)
{
  g_autofree char *n = wr_json_quote (name);
  g_autofree char *p = wr_json_quote (password);
  g_autofree char *body = g_strdup_printf ("{\"name\":%s,\"password\":%s}",
      n, p);
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "POST", "/api/v1/users",
      h->token, body, 201, NULL);

  g_assert_cmpstr (string_member (wr_api_object (r), "name"), ==, name);
}

gint64
wr_api_grant (WrHarness *h, const char *subject, const char *role,
    const char *group)
{
  g_autofree char *s = wr_json_quote (subject);
  g_autofree char *g = group ? wr_json_quote (group) : g_strdup ("null");
  g_autofree char *body = g_strdup_printf ("{\"subject_kind\":\"user\","
      "\"subject\":%s,\"role\":\"%s\",\"group\":%s}", s, role, g);
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "POST", "/api/v1/grants",
      h->token, body, 201, NULL);
  JsonObject *o = wr_api_object (r);

  g_assert_cmpstr (string_member (o, "subject"), ==, subject);
  g_assert_cmpstr (string_member (o, "role"), ==, role);
  return json_object_get_int_member (o, "id");
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char *
wr_json_strings_sorted (JsonArray *array)
{
  g_autoptr (GPtrArray) items = g_ptr_array_new ();

  for (guint i = 0; array && i < json_array_get_length (array); i++)
    g_ptr_array_add (items, (gpointer) json_array_get_string_element (array,
            i));
  g_ptr_array_sort (items, compare_strings);
  g_ptr_array_add (items, NULL);
  return g_strjoinv (" ", (char **) items->pdata);
}

char *
wr_words_sorted (const char *words)
{
  g_auto (GStrv) split = g_strsplit (words, " ", -1);
  g_autoptr (GPtrArray) items = g_ptr_array_new ();

  for (char **w = split; *w; w++)
    if (**w)
      g_ptr_array_add (items, *w);
  g_ptr_array_sort (items, compare_strings);
  g_ptr_array_add (items, NULL);
  return g_strjoinv (" ", (char **) items->pdata);
}

static gboolean
agent_listed (WrHarness *h, const char *id)
{
  g_autoptr (WrHttpResponse) r = wr_api (h, "GET", "/api/v1/agents",
      h->token, NULL);
  JsonArray *agents;

  if (r->status != 200)
    return FALSE;
  agents = json_object_get_array_member (wr_api_object (r), "agents");
  for (guint i = 0; agents && i < json_array_get_length (agents); i++) {
    JsonObject *a = json_array_get_object_element (agents, i);
    if (g_strcmp0 (string_member (a, "id"), id) == 0)
      return json_object_get_boolean_member_with_default (a, "online", FALSE)
          && json_object_has_member (a, "displays")
          && json_array_get_length (json_object_get_array_member (a,
                  "displays")) > 0;
  }
  return FALSE;
}

gboolean
wr_api_wait_agent (WrHarness *h, const char *id, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline) {
    if (agent_listed (h, id))
      return TRUE;
    wr_iterate_ms (50);
  }
  return FALSE;
}
