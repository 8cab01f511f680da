/* webremote integration tests: the permission matrix (issue 3).
 *
 * Every built-in role (and a user without any grant, and no token at all)
 * against every REST route of gateway/api.c and every session scope, on
 * both store backends. One Xvfb, gateway and two agents per backend serve
 * every case of that backend (the cases run in order and share users):
 *
 *   /integration/rbac/BACKEND/api-matrix
 *   /integration/rbac/BACKEND/session-scopes
 *   /integration/rbac/BACKEND/group-scoping
 *   /integration/rbac/BACKEND/api-tokens
 *   /integration/rbac/BACKEND/require-reason
 *
 * What is asserted is what a user observes: HTTP statuses and error codes,
 * what GET /api/v1/agents lists, and the scopes in session.granted (or the
 * error) on the client WebSocket, with a real agent connected.
 */
#include "config.h"

#include <string.h>

#include <gst/gst.h>

#include "api-test-util.h"
#include "common/protocol.h"
#include "test-viewer.h"

#define MAIN_AGENT "integ-agent"
#define LAB_AGENT "integ-lab-agent"
#define ALL_SCOPES "clipboard command control file-transfer record view"

static const char *const agent_scopes[] = { "view", "control", "clipboard",
  "file-transfer", "command", "record", NULL };

/* A user with one built-in role on every group (or none). */
typedef struct {
  const char *user;
  const char *role;         /* NULL: no grant at all */
  const char *agent_perms;  /* sorted, what GET /agents shows */
  gboolean admin;
  gboolean audit;
} Persona;

static const Persona personas[] = {
  { "m-admin", "admin", ALL_SCOPES, TRUE, TRUE },
  { "m-operator", "operator", ALL_SCOPES, FALSE, FALSE },
  { "m-viewer", "viewer", "view", FALSE, FALSE },
  { "m-auditor", "auditor", "", FALSE, TRUE },
  { "m-nobody", NULL, "", FALSE, FALSE },
};
#define N_PERSONAS G_N_ELEMENTS (personas)

typedef struct {
  WrHarness *h;
  char *tokens[N_PERSONAS];
  char *lab_token;          /* m-lab: viewer on the group "lab" only */
  gint64 grant_ids[N_PERSONAS];
} Backend;

static Backend backends[WR_N_BACKENDS];

/* One call that must answer @status (@code); the response is dropped. */
static void
expect (WrHarness *h, const char *method, const char *path,
    const char *token, const char *body, guint status, const char *code)
{
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, method, path, token, body,
      status, code);
}

static void
backend_ensure (WrBackend which)
{
  Backend *b = &backends[which];
  g_autoptr (GError) error = NULL;
  WrHarness *h;

  if (b->h)
    return;
  h = b->h = wr_harness_new (640, 480);
  h->store_url = wr_api_store_url (which);
  /* every case signs in many times from 127.0.0.1 */
  h->gateway_extra_config = g_strdup ("[auth]\naddress-max-failures=100000\n");
  wr_harness_start_all (h, &error);
  g_assert_no_error (error);
  wr_harness_start_extra_agent (h, LAB_AGENT, "lab machine", &error);
  g_assert_no_error (error);
  g_assert_true (wr_api_wait_agent (h, LAB_AGENT, 15000));

  for (guint i = 0; i < N_PERSONAS; i++) {
    wr_api_create_user (h, personas[i].user, WR_TEST_PASSWORD);
    if (personas[i].role)
      b->grant_ids[i] = wr_api_grant (h, personas[i].user, personas[i].role,
          NULL);
    b->tokens[i] = wr_api_login (h, personas[i].user, WR_TEST_PASSWORD);
  }

  expect (h, "POST", "/api/v1/groups", h->token, "{\"name\":\"lab\"}", 201,
      NULL);
  expect (h, "PUT", "/api/v1/agents/" LAB_AGENT "/group", h->token,
      "{\"group\":\"lab\"}", 200, NULL);
  wr_api_create_user (h, "m-lab", WR_TEST_PASSWORD);
  wr_api_grant (h, "m-lab", "viewer", "lab");
  b->lab_token = wr_api_login (h, "m-lab", WR_TEST_PASSWORD);
}

static void
backend_free (Backend *b)
{
  for (guint i = 0; i < N_PERSONAS; i++)
    g_free (b->tokens[i]);
  g_free (b->lab_token);
  g_clear_pointer (&b->h, wr_harness_free);
}

/* ---------------------------------------------------------------------- */
/* REST                                                                   */
/* ---------------------------------------------------------------------- */

/* The status of an admin-only route: @ok for admins, else 403 forbidden,
 * 401 without a token. */
static void
expect_admin (WrHarness *h, const Persona *p, const char *token,
    const char *method, const char *path, const char *body, guint ok)
{
  if (!token)
    expect (h, method, path, token, body, 401, "unauthorized");
  else if (p->admin)
    expect (h, method, path, token, body, ok, NULL);
  else
    expect (h, method, path, token, body, 403, "forbidden");
}

/* A route for any signed-in user: @status (@code), 401 without a token. */
static void
expect_user (WrHarness *h, const char *token, const char *method,
    const char *path, const char *body, guint status, const char *code)
{
  if (!token)
    expect (h, method, path, token, body, 401, "unauthorized");
  else
    expect (h, method, path, token, body, status, code);
}

static JsonObject *
find_by (JsonArray *array, const char *member, const char *value)
{
  for (guint i = 0; array && i < json_array_get_length (array); i++) {
    JsonObject *o = json_array_get_object_element (array, i);
    if (g_strcmp0 (json_object_get_string_member_with_default (o, member,
                ""), value) == 0)
      return o;
  }
  return NULL;
}

/* GET /api/v1/agents as @token: the ids listed, sorted. */
static char *
listed_agents (WrHarness *h, const char *token)
{
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET", "/api/v1/agents",
      token, NULL, 200, NULL);
  JsonArray *agents = json_object_get_array_member (wr_api_object (r),
      "agents");
  g_autoptr (JsonArray) ids = json_array_new ();

  for (guint i = 0; i < json_array_get_length (agents); i++)
    json_array_add_string_element (ids, json_object_get_string_member (
            json_array_get_object_element (agents, i), "id"));
  return wr_json_strings_sorted (ids);
}

/* The agent's `permissions` in GET /api/v1/agents/ID, sorted. */
static char *
agent_permissions (WrHarness *h, const char *token, const char *id)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/agents/%s", id);
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET", path, token, NULL,
      200, NULL);

  return wr_json_strings_sorted (json_object_get_array_member (
          wr_api_object (r), "permissions"));
}

static void
check_me (WrHarness *h, const Persona *p, const char *token)
{
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *perms = NULL;
  JsonObject *o;

  if (!token) {
    expect (h, "GET", "/api/v1/me", NULL, NULL, 401, "unauthorized");
    return;
  }
  r = wr_api_expect (h, "GET", "/api/v1/me", token, NULL, 200, NULL);
  o = wr_api_object (r);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, p->user);
  perms = wr_json_strings_sorted (json_object_get_array_member (o,
          "permissions"));
  /* the built-in admin role has every system permission */
  g_assert_cmpstr (perms, ==, p->admin ? "admin audit enroll"
      : p->audit ? "audit" : "");
}

/* Every route of gateway/api.c as one persona (@p NULL: no token). */
static void
run_matrix_for (WrHarness *h, Backend *b, const Persona *p,
    const char *token, gint64 someone_elses_grant)
{
  const char *who = p ? p->user : "anonymous";
  gboolean sees = p && strstr (p->agent_perms, "view") != NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autoptr (WrHttpResponse) r = NULL;
  Persona anon = { "anonymous", NULL, "", FALSE, FALSE };

  if (!p)
    p = &anon;
  g_test_message ("permission matrix as %s", who);

  /* own account */
  check_me (h, p, token);
  expect_user (h, token, "GET", "/api/v1/me/tokens", NULL, 200, NULL);
  /* a token never carries system permissions its owner lacks */
  expect_user (h, token, "POST", "/api/v1/me/tokens",
      "{\"name\":\"t-admin\",\"scopes\":[\"admin\"]}",
      p->admin ? 201 : 403, p->admin ? NULL : "forbidden");
  expect_user (h, token, "POST", "/api/v1/me/tokens",
      "{\"name\":\"t-audit\",\"scopes\":[\"audit\"]}",
      p->audit ? 201 : 403, p->audit ? NULL : "forbidden");
  expect_user (h, token, "DELETE", "/api/v1/me/tokens/t-admin", NULL,
      p->admin ? 204 : 404, p->admin ? NULL : "not_found");
  expect_user (h, token, "DELETE", "/api/v1/me/tokens/t-audit", NULL,
      p->audit ? 204 : 404, p->audit ? NULL : "not_found");
  expect_user (h, token, "POST", "/api/v1/me/password",
      "{\"current_password\":\"not the password\","
      "\"new_password\":\"another long password\"}", 403, "wrong_password");
  expect_user (h, token, "POST", "/api/v1/me/totp/setup", NULL, 200, NULL);
  /* 000000 is right once in 10^6 * 3 windows: not worth a retry */
  expect_user (h, token, "POST", "/api/v1/me/totp/enable",
      "{\"code\":\"000000\"}", 400, "totp_invalid");
  expect_user (h, token, "POST", "/api/v1/me/totp/disable",
      "{\"password\":\"not the password\"}", 403, "wrong_password");

  /* machines */
  if (token) {
    g_autofree char *listed = listed_agents (h, token);
    g_assert_cmpstr (listed, ==, sees ? MAIN_AGENT " " LAB_AGENT : "");
  } else {
    expect (h, "GET", "/api/v1/agents", NULL, NULL, 401, "unauthorized");
  }
  if (sees) {
    g_autofree char *perms = agent_permissions (h, token, MAIN_AGENT);
    g_assert_cmpstr (perms, ==, p->agent_perms);
  } else {
    expect_user (h, token, "GET", "/api/v1/agents/" MAIN_AGENT, NULL, 404,
        "not_found");
  }
  expect_user (h, token, "GET", "/api/v1/agents/no-such-agent", NULL, 404,
      "not_found");
  expect_admin (h, p, token, "PUT", "/api/v1/agents/" MAIN_AGENT "/group",
      "{\"group\":\"default\"}", 200);
  expect_user (h, token, "GET", "/api/v1/sessions", NULL, 200, NULL);

  /* users */
  expect_admin (h, p, token, "GET", "/api/v1/users", NULL, 200);
  body = g_strdup_printf ("{\"name\":\"mx-%s\",\"password\":\"%s\"}", who,
      WR_TEST_PASSWORD);
  expect_admin (h, p, token, "POST", "/api/v1/users", body, 201);
  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"display_name\":\"changed by %s\"}", who);
  expect_admin (h, p, token, "PATCH", "/api/v1/users/m-nobody", body, 200);
  g_clear_pointer (&body, g_free);
  /* admins delete what they made; the others try a real user */
  path = g_strdup_printf ("/api/v1/users/%s", p->admin ? "mx-m-admin"
      : "m-nobody");
  expect_admin (h, p, token, "DELETE", path, NULL, 204);
  g_clear_pointer (&path, g_free);

  /* roles */
  expect_admin (h, p, token, "GET", "/api/v1/roles", NULL, 200);
  body = g_strdup_printf ("{\"name\":\"rx-%s\",\"permissions\":[\"view\","
      "\"clipboard\"]}", who);
  expect_admin (h, p, token, "POST", "/api/v1/roles", body, 201);
  g_clear_pointer (&body, g_free);
  /* the others try to widen the built-in viewer role */
  path = g_strdup_printf ("/api/v1/roles/%s", p->admin ? "rx-m-admin"
      : "viewer");
  expect_admin (h, p, token, "PATCH", path,
      "{\"permissions\":[\"view\",\"control\"]}", 200);
  expect_admin (h, p, token, "DELETE", path, NULL, 204);
  g_clear_pointer (&path, g_free);

  /* groups */
  expect_admin (h, p, token, "GET", "/api/v1/groups", NULL, 200);
  body = g_strdup_printf ("{\"name\":\"gx-%s\"}", who);
  expect_admin (h, p, token, "POST", "/api/v1/groups", body, 201);
  g_clear_pointer (&body, g_free);
  path = g_strdup_printf ("/api/v1/groups/%s", p->admin ? "gx-m-admin"
      : "lab");
  expect_admin (h, p, token, "PATCH", path, "{\"require_reason\":true}",
      200);
  expect_admin (h, p, token, "DELETE", path, NULL, 204);
  g_clear_pointer (&path, g_free);

  /* grants: the others try to make themselves admin */
  expect_admin (h, p, token, "GET", "/api/v1/grants", NULL, 200);
  body = g_strdup_printf ("{\"subject_kind\":\"user\",\"subject\":\"%s\","
      "\"role\":\"admin\",\"group\":\"lab\"}", who);
  r = wr_api (h, "POST", "/api/v1/grants", token, body);
  wr_api_check (r, body, !token ? 401 : p->admin ? 201 : 403,
      !token ? "unauthorized" : p->admin ? NULL : "forbidden");
  path = g_strdup_printf ("/api/v1/grants/%" G_GINT64_FORMAT, p->admin
      ? json_object_get_int_member (wr_api_object (r), "id")
      : someone_elses_grant);
  expect_admin (h, p, token, "DELETE", path, NULL, 204);
  g_clear_pointer (&path, g_free);

  /* unknown routes and methods tell outsiders nothing */
  expect_user (h, token, "GET", "/api/v1/no-such-endpoint", NULL, 404,
      "not_found");
  expect_user (h, token, "DELETE", "/api/v1/me", NULL, 405,
      "method_not_allowed");
  /* public */
  g_clear_pointer (&r, wr_http_response_free);
  r = wr_api_expect (h, "GET", "/api/v1/auth/sso", token, NULL, 200, NULL);
  g_assert_false (json_object_get_boolean_member (wr_api_object (r),
          "enabled"));
  /* single sign-on is not set up on this gateway */
  expect (h, "GET", "/api/v1/auth/sso/start", token, NULL, 404, "not_found");
  expect (h, "GET", "/api/v1/auth/sso/callback?code=x&state=y", token, NULL,
      404, "not_found");
  /* the refresh cookie is the only credential there: a bearer is not one */
  {
    const char *csrf[] = { "X-Requested-With", "webremote", NULL };
    g_autoptr (GError) error = NULL;
    g_autoptr (WrHttpResponse) refresh = wr_harness_request (h, "POST",
        "/api/v1/auth/refresh", token, NULL, NULL, csrf, &error);
    g_assert_no_error (error);
    wr_api_check (refresh, "POST /api/v1/auth/refresh without a cookie", 401,
        "unauthorized");
  }
}

static void
test_api_matrix (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = &backends[which];
  g_autoptr (WrHttpResponse) users = NULL;
  g_autoptr (WrHttpResponse) roles = NULL;
  g_autoptr (WrHttpResponse) groups = NULL;
  g_autoptr (WrHttpResponse) grants = NULL;
  JsonArray *list;
  JsonObject *o;
  WrHarness *h;

  wr_watchdog_arm (120);
  backend_ensure (which);
  h = b->h;

  /* admin first: the others then try to undo or redo what it did */
  for (guint i = 0; i < N_PERSONAS; i++)
    run_matrix_for (h, b, &personas[i], b->tokens[i],
        b->grant_ids[(i + 1) % N_PERSONAS] ? b->grant_ids[(i + 1)
            % N_PERSONAS] : b->grant_ids[0]);
  run_matrix_for (h, b, NULL, NULL, b->grant_ids[2]);

  /* built-in roles and the default group refuse changes even to admins */
  expect (h, "PATCH", "/api/v1/roles/viewer", h->token,
      "{\"permissions\":[\"view\",\"control\"]}", 409, "builtin");
  expect (h, "DELETE", "/api/v1/roles/operator", h->token, NULL, 409,
      "builtin");
  expect (h, "DELETE", "/api/v1/groups/default", h->token, NULL, 409, NULL);

  /* Nothing a refused call asked for happened. */
  users = wr_api_expect (h, "GET", "/api/v1/users", h->token, NULL, 200,
      NULL);
  list = json_object_get_array_member (wr_api_object (users), "users");
  for (guint i = 0; i < N_PERSONAS; i++)
    g_assert_nonnull (find_by (list, "name", personas[i].user));
  o = find_by (list, "name", "m-nobody");
  g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==,
      "changed by m-admin");
  for (guint i = 0; i < N_PERSONAS; i++) {
    g_autofree char *name = g_strdup_printf ("mx-%s", personas[i].user);
    g_assert_null (find_by (list, "name", name));
  }
  g_assert_null (find_by (list, "name", "mx-anonymous"));

  roles = wr_api_expect (h, "GET", "/api/v1/roles", h->token, NULL, 200,
      NULL);
  list = json_object_get_array_member (wr_api_object (roles), "roles");
  for (guint i = 0; i < json_array_get_length (list); i++) {
    const char *name = json_object_get_string_member (
        json_array_get_object_element (list, i), "name");
    g_assert_false (g_str_has_prefix (name, "rx-"));
  }
  o = find_by (list, "name", "viewer");
  g_assert_true (json_object_get_boolean_member (o, "builtin"));
  {
    g_autofree char *perms = wr_json_strings_sorted (
        json_object_get_array_member (o, "permissions"));
    g_assert_cmpstr (perms, ==, "view");
  }
  g_assert_nonnull (find_by (list, "name", "operator"));
  g_assert_nonnull (find_by (list, "name", "admin"));
  g_assert_nonnull (find_by (list, "name", "auditor"));

  groups = wr_api_expect (h, "GET", "/api/v1/groups", h->token, NULL, 200,
      NULL);
  list = json_object_get_array_member (wr_api_object (groups), "groups");
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  g_assert_nonnull (find_by (list, "name", "default"));
  o = find_by (list, "name", "lab");
  g_assert_nonnull (o);
  g_assert_false (json_object_get_boolean_member (o, "require_reason"));

  /* the grants the others tried to delete are all still there, and no
   * one made themselves admin */
  grants = wr_api_expect (h, "GET", "/api/v1/grants", h->token, NULL, 200,
      NULL);
  list = json_object_get_array_member (wr_api_object (grants), "grants");
  for (guint i = 0; i < N_PERSONAS; i++) {
    gboolean found = FALSE;
    for (guint j = 0; j < json_array_get_length (list); j++) {
      JsonObject *g = json_array_get_object_element (list, j);
      if (g_strcmp0 (json_object_get_string_member (g, "subject"),
              personas[i].user) == 0) {
        g_assert_cmpstr (json_object_get_string_member (g, "role"), ==,
            personas[i].role);
        g_assert_cmpint (json_object_get_int_member (g, "id"), ==,
            b->grant_ids[i]);
        g_assert_false (found);
        found = TRUE;
      }
    }
    g_assert_true (found == (personas[i].role != NULL));
  }
  for (guint i = 0; i < N_PERSONAS; i++)
    check_me (h, &personas[i], b->tokens[i]);
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */
/* ---------------------------------------------------------------------- */

static WrTestViewer *
viewer_for (WrHarness *h, const char *token)
{
  g_autoptr (GError) error = NULL;
  WrTestViewer *v = wr_test_viewer_new (h->base_url, h->fingerprint, token);

  wr_test_viewer_connect (v, 5000, NULL, &error);
  g_assert_no_error (error);
  return v;
}

/* Sends session.request and returns its answer: session.granted or error
 * (transfer full). Other messages (offers of ended sessions) are dropped. */
static JsonObject *
session_request (WrTestViewer *v, const char *agent,
    const char *const *scopes, const char *reason)
{
  static guint next_id;
  g_autoptr (JsonBuilder) b = wr_message_new ("session.request");
  g_autofree char *id = g_strdup_printf ("rbac-%u", ++next_id);
  g_autofree char *text = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, agent);
  if (scopes) {
    json_builder_set_member_name (b, "scopes");
    json_builder_begin_array (b);
    for (; *scopes; scopes++)
      json_builder_add_string_value (b, *scopes);
    json_builder_end_array (b);
  }
  if (reason) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  text = wr_message_builder_finish (b);
  g_assert_true (wr_test_viewer_send_text (v, text));

  while (g_get_monotonic_time () < deadline) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    JsonObject *m = wr_test_viewer_wait_message (v, NULL,
        (guint) MAX (left, 1));
    const char *type;

    if (!m)
      break;
    type = json_object_get_string_member_with_default (m, "type", "");
    if ((g_str_equal (type, "session.granted") || g_str_equal (type, "error"))
        && g_strcmp0 (json_object_get_string_member_with_default (m, "ref",
                ""), id) == 0)
      return m;
    json_object_unref (m);
  }
  g_error ("no answer to %s within 5 s", text);
  return NULL;
}

/* Requests a session and checks the answer: granted with exactly
 * @expected (sorted words), or the error @error_code. Ends a granted
 * session unless @keep. */
static void
expect_session (WrTestViewer *v, const char *who, const char *agent,
    const char *const *scopes, const char *reason, const char *expected,
    const char *error_code, gboolean keep)
{
  g_autoptr (JsonObject) m = session_request (v, agent, scopes, reason);
  const char *type = json_object_get_string_member (m, "type");
  g_autofree char *asked = scopes ? g_strjoinv (",", (char **) scopes)
      : g_strdup ("(default)");

  if (error_code) {
    if (!g_str_equal (type, "error"))
      g_error ("%s asking %s for [%s]: granted %s, expected the error %s",
          who, agent, asked, wr_json_strings_sorted (
              json_object_get_array_member (m, "scopes")), error_code);
    g_assert_cmpstr (json_object_get_string_member (m, "code"), ==,
        error_code);
    return;
  }
  if (!g_str_equal (type, "session.granted"))
    g_error ("%s asking %s for [%s]: error %s (%s), expected the scopes %s",
        who, agent, asked, json_object_get_string_member (m, "code"),
        json_object_get_string_member (m, "message"), expected);
  {
    g_autofree char *got = wr_json_strings_sorted (
        json_object_get_array_member (m, "scopes"));
    if (!g_str_equal (got, expected))
      g_error ("%s asking %s for [%s]: granted \"%s\", expected \"%s\"", who,
          agent, asked, got, expected);
  }
  g_assert_cmpstr (json_object_get_string_member (m, "agent"), ==, agent);
  if (!keep)
    wr_test_viewer_end_session (v);
}

/* The intersection of @requested with @perms (sorted words). */
static char *
intersect (const char *const *requested, const char *perms)
{
  g_auto (GStrv) have = g_strsplit (perms, " ", -1);
  g_autoptr (GString) out = g_string_new (NULL);

  for (const char *const *r = requested; *r; r++)
    if (g_strv_contains ((const char *const *) have, *r)
        && !strstr (out->str, *r)) {
      if (out->len)
        g_string_append_c (out, ' ');
      g_string_append (out, *r);
    }
  return wr_words_sorted (out->str);
}

/* The sessions GET /api/v1/sessions shows @token: "user:sid" words. */
static char *
listed_sessions (WrHarness *h, const char *token)
{
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET",
      "/api/v1/sessions", token, NULL, 200, NULL);
  JsonArray *list = json_object_get_array_member (wr_api_object (r),
      "sessions");
  g_autoptr (JsonArray) items = json_array_new ();

  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *s = json_array_get_object_element (list, i);
    g_autofree char *item = g_strdup_printf ("%s:%s",
        json_object_get_string_member (s, "user"),
        json_object_get_string_member (s, "sid"));
    json_array_add_string_element (items, item);
  }
  return wr_json_strings_sorted (items);
}

static void
test_session_scopes (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = &backends[which];
  WrTestViewer *viewers[N_PERSONAS] = { NULL };
  g_autoptr (GString) all_sessions = g_string_new (NULL);
  g_autoptr (WrTestViewer) anon = NULL;
  g_autoptr (GError) error = NULL;
  guint http_status = 0;
  WrHarness *h;

  wr_watchdog_arm (120);
  backend_ensure (which);
  h = b->h;

  /* no token, no WebSocket */
  anon = wr_test_viewer_new (h->base_url, h->fingerprint, NULL);
  g_assert_false (wr_test_viewer_connect (anon, 5000, &http_status, &error));
  g_assert_cmpuint (http_status, ==, 401);
  g_clear_error (&error);

  for (guint i = 0; i < N_PERSONAS; i++) {
    const Persona *p = &personas[i];
    gboolean sees = strstr (p->agent_perms, "view") != NULL;
    WrTestViewer *v = viewers[i] = viewer_for (h, b->tokens[i]);
    const char *const view_only[] = { "control", NULL };
    const char *const bogus[] = { "view", "bogus", NULL };
    const char *const defaults[] = { "view", "control", NULL };
    g_autofree char *expected = NULL;

    g_test_message ("session scopes as %s", p->user);
    /* the gateway's default: view and control */
    expected = intersect (defaults, p->agent_perms);
    expect_session (v, p->user, MAIN_AGENT, NULL, NULL, expected,
        sees ? NULL : "not_found", FALSE);
    g_clear_pointer (&expected, g_free);
    /* view plus each scope alone */
    for (guint s = 0; agent_scopes[s]; s++) {
      const char *const asked[] = { "view", agent_scopes[s], NULL };
      expected = intersect (asked, p->agent_perms);
      expect_session (v, p->user, MAIN_AGENT, asked, NULL, expected,
          sees ? NULL : "not_found", FALSE);
      g_clear_pointer (&expected, g_free);
    }
    /* no session without view, whatever else is granted */
    expect_session (v, p->user, MAIN_AGENT, view_only, NULL, NULL,
        sees ? "forbidden" : "not_found", FALSE);
    /* an unknown scope is an error, not silently dropped; an agent the
     * user may not view does not exist for them, whatever they ask */
    expect_session (v, p->user, MAIN_AGENT, bogus, NULL, NULL,
        sees ? "invalid_field" : "not_found", FALSE);
    /* everything: kept open for the session list below */
    expected = intersect (agent_scopes, p->agent_perms);
    expect_session (v, p->user, MAIN_AGENT, agent_scopes, NULL, expected,
        sees ? NULL : "not_found", TRUE);
    if (sees) {
      g_autofree char *item = g_strdup_printf ("%s:%s", p->user,
          wr_test_viewer_get_sid (v));
      g_autofree char *mine = listed_sessions (h, b->tokens[i]);

      g_string_append_printf (all_sessions, "%s ", item);
      if (!p->admin)
        g_assert_cmpstr (mine, ==, item);
    }
  }

  /* admins see every session, the others only theirs */
  {
    g_autofree char *expected = wr_words_sorted (all_sessions->str);
    g_autofree char *as_admin = listed_sessions (h, b->tokens[0]);
    g_autofree char *as_auditor = listed_sessions (h, b->tokens[3]);
    g_assert_cmpstr (as_admin, ==, expected);
    g_assert_cmpstr (as_auditor, ==, "");
  }

  for (guint i = 0; i < N_PERSONAS; i++) {
    wr_test_viewer_end_session (viewers[i]);
    wr_test_viewer_free (viewers[i]);
  }
  wr_watchdog_disarm ();
}

static void
test_group_scoping (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = &backends[which];
  const char *const view_control[] = { "view", "control", NULL };
  g_autoptr (WrTestViewer) lab = NULL;
  g_autofree char *listed = NULL;
  WrHarness *h;

  wr_watchdog_arm (60);
  backend_ensure (which);
  h = b->h;

  /* viewer on "lab" only: the lab machine, and nothing in "default" */
  listed = listed_agents (h, b->lab_token);
  g_assert_cmpstr (listed, ==, LAB_AGENT);
  g_clear_pointer (&listed, g_free);
  {
    g_autofree char *perms = agent_permissions (h, b->lab_token, LAB_AGENT);
    g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET",
        "/api/v1/agents/" LAB_AGENT, b->lab_token, NULL, 200, NULL);
    g_assert_cmpstr (perms, ==, "view");
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "group"), ==, "lab");
  }
  expect (h, "GET", "/api/v1/agents/" MAIN_AGENT, b->lab_token, NULL, 404,
      "not_found");
  lab = viewer_for (h, b->lab_token);
  expect_session (lab, "m-lab", LAB_AGENT, view_control, NULL, "view", NULL,
      FALSE);
  expect_session (lab, "m-lab", MAIN_AGENT, view_control, NULL, NULL,
      "not_found", FALSE);

  /* a viewer on every group sees both */
  listed = listed_agents (h, b->tokens[2]);
  g_assert_cmpstr (listed, ==, MAIN_AGENT " " LAB_AGENT);
  g_clear_pointer (&listed, g_free);

  /* moving the machine out of the group takes it away at once */
  expect (h, "PUT", "/api/v1/agents/" LAB_AGENT "/group", h->token,
      "{\"group\":\"default\"}", 200, NULL);
  listed = listed_agents (h, b->lab_token);
  g_assert_cmpstr (listed, ==, "");
  g_clear_pointer (&listed, g_free);
  expect_session (lab, "m-lab", LAB_AGENT, view_control, NULL, NULL,
      "not_found", FALSE);
  /* into a group that does not exist: refused, nothing moves */
  expect (h, "PUT", "/api/v1/agents/" LAB_AGENT "/group", h->token,
      "{\"group\":\"no-such-group\"}", 404, "not_found");
  expect (h, "PUT", "/api/v1/agents/no-such-agent/group", h->token,
      "{\"group\":\"lab\"}", 404, "not_found");
  expect (h, "PUT", "/api/v1/agents/" LAB_AGENT "/group", h->token,
      "{\"group\":\"lab\"}", 200, NULL);
  listed = listed_agents (h, b->lab_token);
  g_assert_cmpstr (listed, ==, LAB_AGENT);
  g_clear_pointer (&listed, g_free);
  wr_watchdog_disarm ();
}

static void
test_require_reason (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = &backends[which];
  g_autoptr (WrTestViewer) lab = NULL;
  g_autoptr (WrTestViewer) viewer = NULL;
  g_autoptr (WrHttpResponse) r = NULL;
  g_autoptr (WrHttpResponse) sessions = NULL;
  JsonObject *s;
  WrHarness *h;

  wr_watchdog_arm (60);
  backend_ensure (which);
  h = b->h;

  r = wr_api_expect (h, "PATCH", "/api/v1/groups/lab", h->token,
      "{\"require_reason\":true}", 200, NULL);
  g_assert_true (json_object_get_boolean_member (wr_api_object (r),
          "require_reason"));
  g_clear_pointer (&r, wr_http_response_free);
  r = wr_api_expect (h, "GET", "/api/v1/agents/" LAB_AGENT, b->lab_token,
      NULL, 200, NULL);
  g_assert_true (json_object_get_boolean_member (wr_api_object (r),
          "require_reason"));

  lab = viewer_for (h, b->lab_token);
  expect_session (lab, "m-lab", LAB_AGENT, NULL, NULL, NULL,
      "reason_required", FALSE);
  expect_session (lab, "m-lab", LAB_AGENT, NULL, "  ", NULL,
      "reason_required", FALSE);
  expect_session (lab, "m-lab", LAB_AGENT, NULL, "ticket INC-42: printer",
      "view", NULL, TRUE);
  /* the reason is stored with the session */
  sessions = wr_api_expect (h, "GET", "/api/v1/sessions", b->lab_token,
      NULL, 200, NULL);
  s = find_by (json_object_get_array_member (wr_api_object (sessions),
          "sessions"), "sid", wr_test_viewer_get_sid (lab));
  g_assert_nonnull (s);
  g_assert_cmpstr (json_object_get_string_member_with_default (s, "reason",
          "(no reason member)"), ==, "ticket INC-42: printer");
  g_assert_cmpstr (json_object_get_string_member (s, "agent"), ==,
      LAB_AGENT);
  wr_test_viewer_end_session (lab);

  /* other groups do not ask */
  viewer = viewer_for (h, b->tokens[2]);
  expect_session (viewer, "m-viewer", MAIN_AGENT, NULL, NULL, "view", NULL,
      FALSE);

  /* and once the policy is off, neither does lab */
  expect (h, "PATCH", "/api/v1/groups/lab", h->token,
      "{\"require_reason\":false}", 200, NULL);
  expect_session (lab, "m-lab", LAB_AGENT, NULL, NULL, "view", NULL, FALSE);
  wr_watchdog_disarm ();
}

/* API tokens narrow what their owner may do, and die when revoked. */
static void
test_api_tokens (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  Backend *b = &backends[which];
  const char *admin;
  const char *const view_control[] = { "view", "control", NULL };
  g_autoptr (WrHttpResponse) r = NULL;
  g_autoptr (WrTestViewer) v = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *view_token = NULL;
  g_autofree char *admin_token = NULL;
  g_autofree char *listed = NULL;
  guint http_status = 0;
  JsonArray *list;
  JsonObject *o;
  WrHarness *h;

  wr_watchdog_arm (60);
  backend_ensure (which);
  h = b->h;
  admin = b->tokens[0];

  r = wr_api_expect (h, "POST", "/api/v1/me/tokens", admin,
      "{\"name\":\"ci view\",\"scopes\":[\"view\"],\"expires_in\":3600}",
      201, NULL);
  o = wr_api_object (r);
  view_token = g_strdup (json_object_get_string_member (o, "token"));
  g_assert_cmpuint (strlen (view_token), >=, 32);
  listed = wr_json_strings_sorted (json_object_get_array_member (o,
          "scopes"));
  g_assert_cmpstr (listed, ==, "view");
  g_clear_pointer (&listed, g_free);
  g_assert_cmpint (json_object_get_int_member (o, "expires_at"), >,
      g_get_real_time () / G_USEC_PER_SEC + 3500);
  g_clear_pointer (&r, wr_http_response_free);

  r = wr_api_expect (h, "POST", "/api/v1/me/tokens", admin,
      "{\"name\":\"ci admin\",\"scopes\":[\"admin\"]}", 201, NULL);
  admin_token = g_strdup (json_object_get_string_member (wr_api_object (r),
          "token"));
  g_clear_pointer (&r, wr_http_response_free);

  /* the list shows names and scopes, never the token */
  r = wr_api_expect (h, "GET", "/api/v1/me/tokens", admin, NULL, 200, NULL);
  list = json_object_get_array_member (wr_api_object (r), "tokens");
  o = find_by (list, "name", "ci view");
  g_assert_nonnull (o);
  g_assert_false (json_object_has_member (o, "token"));
  g_assert_null (strstr (r->body, view_token));
  g_assert_null (strstr (r->body, admin_token));
  g_clear_pointer (&r, wr_http_response_free);

  /* view only: the machines, with view only, and no admin routes even
   * though its owner is an admin */
  listed = listed_agents (h, view_token);
  g_assert_cmpstr (listed, ==, MAIN_AGENT " " LAB_AGENT);
  g_clear_pointer (&listed, g_free);
  listed = agent_permissions (h, view_token, MAIN_AGENT);
  g_assert_cmpstr (listed, ==, "view");
  g_clear_pointer (&listed, g_free);
  r = wr_api_expect (h, "GET", "/api/v1/me", view_token, NULL, 200, NULL);
  listed = wr_json_strings_sorted (json_object_get_array_member (
          wr_api_object (r), "permissions"));
  g_assert_cmpstr (listed, ==, "");
  g_clear_pointer (&listed, g_free);
  g_clear_pointer (&r, wr_http_response_free);
  expect (h, "GET", "/api/v1/users", view_token, NULL, 403, "forbidden");
  expect (h, "POST", "/api/v1/users", view_token,
      "{\"name\":\"by-token\",\"password\":\"" WR_TEST_PASSWORD "\"}",
      403, "forbidden");
  expect (h, "GET", "/api/v1/grants", view_token, NULL, 403, "forbidden");
  expect (h, "PUT", "/api/v1/agents/" MAIN_AGENT "/group", view_token,
      "{\"group\":\"lab\"}", 403, "forbidden");
  /* nor can it mint a wider one */
  expect (h, "POST", "/api/v1/me/tokens", view_token,
      "{\"name\":\"wider\",\"scopes\":[\"view\",\"control\"]}", 403,
      "forbidden");
  /* sessions are narrowed too */
  v = viewer_for (h, view_token);
  expect_session (v, "the view token", MAIN_AGENT, view_control, NULL,
      "view", NULL, FALSE);

  /* admin only: the admin routes, and no machine */
  expect (h, "GET", "/api/v1/users", admin_token, NULL, 200, NULL);
  listed = listed_agents (h, admin_token);
  g_assert_cmpstr (listed, ==, "");
  g_clear_pointer (&listed, g_free);

  /* bad scopes and lifetimes */
  expect (h, "POST", "/api/v1/me/tokens", admin,
      "{\"name\":\"bad\",\"scopes\":[\"root\"]}", 400, "bad_request");
  expect (h, "POST", "/api/v1/me/tokens", admin,
      "{\"name\":\"bad\",\"scopes\":[\"view\"],\"expires_in\":5}", 400,
      "bad_request");

  /* revoked: refused at once, on the API and the WebSocket */
  expect (h, "DELETE", "/api/v1/me/tokens/ci%20view", admin, NULL, 204,
      NULL);
  expect (h, "GET", "/api/v1/agents", view_token, NULL, 401,
      "unauthorized");
  expect (h, "DELETE", "/api/v1/me/tokens/ci%20view", admin, NULL, 404,
      "not_found");
  g_clear_pointer (&v, wr_test_viewer_free);
  v = wr_test_viewer_new (h->base_url, h->fingerprint, view_token);
  g_assert_false (wr_test_viewer_connect (v, 5000, &http_status, &error));
  g_assert_cmpuint (http_status, ==, 401);
  /* the other one lives on until it goes too */
  expect (h, "GET", "/api/v1/users", admin_token, NULL, 200, NULL);
  expect (h, "DELETE", "/api/v1/me/tokens/ci%20admin", admin, NULL, 204,
      NULL);
  expect (h, "GET", "/api/v1/users", admin_token, NULL, 401,
      "unauthorized");
  wr_watchdog_disarm ();
}

int
main (int argc, char **argv)
{
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  for (int b = 0; b < WR_N_BACKENDS; b++) {
    const struct {
      const char *name;
      GTestDataFunc func;
    } tests[] = {
      { "api-matrix", test_api_matrix },
      { "session-scopes", test_session_scopes },
      { "group-scoping", test_group_scoping },
      { "api-tokens", test_api_tokens },
      { "require-reason", test_require_reason },
    };
    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/integration/rbac/%s/%s",
          wr_backend_names[b], tests[t].name);
      g_test_add_data_func (path, GINT_TO_POINTER (b), tests[t].func);
    }
  }

  ret = g_test_run ();
  for (int b = 0; b < WR_N_BACKENDS; b++)
    backend_free (&backends[b]);
  wr_api_cleanup ();
  return ret;
}
