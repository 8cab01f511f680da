/* webremote integration tests: the audit events of accounts, access and
 * agents (issue 5), written by a real gateway and webremotectl:
 *
 *   /integration/audit/events
 *     a gateway, Xvfb and an enrolled agent on SQLite; sign-ins that work
 *     and fail, sign-out, refresh token reuse, users, roles, groups,
 *     grants, API tokens, moving and removing the agent; then every
 *     expected row is read back from the gateway's store (actor, outcome,
 *     address, key detail fields), no row holds a password or a token,
 *     and the chain verifies.
 *   /integration/audit/BACKEND/fail-closed
 *     with a database trigger that refuses every audit row: a sign-in is
 *     503 with no refresh cookie, a new user is 503 and does not exist;
 *     without the trigger both work again.
 */
#include "config.h"

#include <string.h>

#include "api-test-util.h"
#include "common/totp.h"
#include "gateway/audit.h"
#include "gateway/db.h"
#include "gateway/store-audit.h"
#include "gateway/store.h"

#define PASSWORD_1 "first audit password"
#define PASSWORD_2 "second audit password"
#define CSRF_HEADER "X-Requested-With"
#define CSRF_VALUE "webremote"

/* Every secret the test handed to or got from the gateway: no audit row
 * may contain any of them. */
static GPtrArray *secrets;

static void
remember_secret (const char *s)
{
  if (s && *s)
    g_ptr_array_add (secrets, g_strdup (s));
}

/* The store the gateway of @h uses. */
static char *
store_location (WrHarness *h)
{
  return h->store_url ? g_strdup (h->store_url)
      : g_build_filename (h->state_dir, "webremote.db", NULL);
}

/* POST with optional refresh cookie and the CSRF header. */
static WrHttpResponse *
post_with_cookie (WrHarness *h, const char *path, const char *token,
    const char *cookie, const char *body)
{
  g_autofree char *cookie_header = cookie
      ? g_strdup_printf ("wr_refresh=%s", cookie) : NULL;
  g_autoptr (GBytes) bytes = body ? g_bytes_new (body, strlen (body)) : NULL;
  const char *headers[5] = { CSRF_HEADER, CSRF_VALUE, NULL, NULL, NULL };
  g_autoptr (GError) error = NULL;
  WrHttpResponse *r;

  if (cookie_header) {
    headers[2] = "Cookie";
    headers[3] = cookie_header;
  }
  r = wr_harness_request (h, "POST", path, token, NULL, bytes, headers,
      &error);
  g_assert_no_error (error);
  return r;
}

static WrHttpResponse *
post_login (WrHarness *h, const char *user, const char *password)
{
  g_autofree char *u = wr_json_quote (user);
  g_autofree char *p = wr_json_quote (password);
  g_autofree char *body = g_strdup_printf ("{\"username\":%s,"
      "\"password\":%s}", u, p);

  return post_with_cookie (h, "/api/v1/login", NULL, NULL, body);
}

/* A sign-in that must work: its access token and refresh cookie. */
static void
login_ok (WrHarness *h, const char *user, const char *password,
    char **token, char **cookie)
{
  g_autoptr (WrHttpResponse) r = post_login (h, user, password);

  wr_api_check (r, "login", 200, NULL);
  *token = g_strdup (json_object_get_string_member (wr_api_object (r),
          "token"));
  *cookie = wr_http_response_get_cookie (r, "wr_refresh", NULL);
  g_assert_nonnull (*cookie);
  g_assert_cmpstr (*cookie, !=, "");
  remember_secret (*token);
  remember_secret (*cookie);
}

/* The audit rows of the store, oldest first. */
static GPtrArray *
read_rows (WrHarness *h)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *location = store_location (h);
  g_autoptr (WrStore) store = wr_store_open (location, &error);
  g_autoptr (GPtrArray) newest_first = NULL;
  WrAuditFilter filter = { .limit = 1000 };
  GPtrArray *rows;

  g_assert_no_error (error);
  newest_first = wr_store_audit_query (store, &filter, &error);
  g_assert_no_error (error);
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify) wr_audit_row_free);
  for (guint i = newest_first->len; i > 0; i--)
    g_ptr_array_add (rows, g_ptr_array_steal_index (newest_first, i - 1));
  return rows;
}

static gboolean
detail_has (const WrAuditRow *row, const char *const *parts)
{
  for (guint i = 0; parts && parts[i]; i++)
    if (!strstr (row->detail, parts[i]))
      return FALSE;
  return TRUE;
}

/* Asserts that some row at or after *@from matches, and moves *@from past
 * it (so the rows also come in the order the actions were made). @actor,
 * @address, @agent: %NULL matches a NULL column; "*" matches anything. */
static const WrAuditRow *
expect_row (GPtrArray *rows, guint *from, const char *type,
    const char *outcome, const char *actor, const char *address,
    const char *agent, const char *const *detail_parts)
{
  for (guint i = *from; i < rows->len; i++) {
    const WrAuditRow *row = rows->pdata[i];

    if (g_strcmp0 (row->type, type) != 0
        || g_strcmp0 (row->outcome, outcome) != 0
        || (g_strcmp0 (actor, "*") != 0 && g_strcmp0 (row->actor, actor))
        || (g_strcmp0 (address, "*") != 0
            && g_strcmp0 (row->address, address))
        || (g_strcmp0 (agent, "*") != 0 && g_strcmp0 (row->agent, agent))
        || !detail_has (row, detail_parts))
      continue;
    *from = i + 1;
    return row;
  }
  {
    GString *all = g_string_new (NULL);

    for (guint i = 0; i < rows->len; i++) {
      const WrAuditRow *row = rows->pdata[i];

      g_string_append_printf (all, "  %" G_GINT64_FORMAT " %s %s actor=%s "
          "address=%s agent=%s %s\n", row->seq, row->type, row->outcome,
          row->actor, row->address, row->agent, row->detail);
    }
    g_error ("no audit row %s/%s actor=%s address=%s agent=%s (detail %s) "
        "after row %u; the log:\n%s", type, outcome, actor, address, agent,
        detail_parts && detail_parts[0] ? detail_parts[0] : "-", *from,
        all->str);
  }
  return NULL;
}

#define D(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
test_events (void)
{
  g_autoptr (WrHarness) h = wr_harness_new (640, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *token = NULL, *cookie = NULL;
  g_autofree char *token2 = NULL, *cookie2 = NULL;
  g_autofree char *api_token = NULL;
  g_autofree char *ctl_actor = g_strconcat ("ctl:", g_get_user_name (),
      NULL);
  g_autofree char *agent_actor = NULL;
  g_autofree char *path = NULL;
  g_autofree char *location = NULL;
  gint64 grant = 0;
  guint at = 0;
  gboolean renewed = FALSE;

  wr_watchdog_arm (150);
  secrets = g_ptr_array_new_with_free_func (g_free);
  /* a test-only certificate lifetime, so that the agent renews soon */
  h->gateway_extra_config = g_strdup ("[auth]\naddress-max-failures=1000\n"
      "[ca]\nagent-cert-seconds=18\n");
  g_assert_true (wr_harness_start_all (h, &error));
  g_assert_no_error (error);
  remember_secret (h->token);
  remember_secret (h->admin_password);
  remember_secret (PASSWORD_1);
  remember_secret (PASSWORD_2);
  agent_actor = g_strconcat ("agent:", h->agent_id, NULL);

  /* the agent renews its certificate within about 12 s */
  for (guint i = 0; i < 200 && !renewed; i++) {
    g_autoptr (GPtrArray) now = read_rows (h);

    for (guint r = 0; r < now->len; r++)
      renewed |= g_str_equal (((WrAuditRow *) now->pdata[r])->type,
          "agent.renew");
    if (!renewed)
      g_usleep (200 * 1000);
  }
  if (!renewed)
    g_error ("no agent.renew row within 40 s");

  /* sign-ins that fail: a wrong password, an unknown user */
  {
    g_autoptr (WrHttpResponse) r1 = post_login (h, "admin", PASSWORD_2);
    g_autoptr (WrHttpResponse) r2 = post_login (h, "nobody-here",
        PASSWORD_2);

    wr_api_check (r1, "login with a wrong password", 401, "unauthorized");
    wr_api_check (r2, "login of an unknown user", 401, "unauthorized");
  }

  /* accounts */
  {
    g_autoptr (WrHttpResponse) r = NULL;

    r = wr_api_expect (h, "POST", "/api/v1/users", h->token,
        "{\"name\":\"aud-u\",\"password\":\"" PASSWORD_1 "\","
        "\"display_name\":\"Aud U\"}", 201, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "PATCH", "/api/v1/users/aud-u", h->token,
        "{\"display_name\":\"Audrey\"}", 200, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "PATCH", "/api/v1/users/aud-u", h->token,
        "{\"password\":\"" PASSWORD_2 "\"}", 200, NULL);
  }

  /* aud-u signs in, refreshes, then the old refresh token comes again */
  login_ok (h, "aud-u", PASSWORD_2, &token, &cookie);
  {
    g_autoptr (WrHttpResponse) ok = post_with_cookie (h,
        "/api/v1/auth/refresh", NULL, cookie, NULL);
    g_autoptr (WrHttpResponse) reuse = NULL;
    g_autofree char *next = NULL;

    wr_api_check (ok, "refresh", 200, NULL);
    next = wr_http_response_get_cookie (ok, "wr_refresh", NULL);
    remember_secret (next);
    remember_secret (json_object_get_string_member (wr_api_object (ok),
            "token"));
    reuse = post_with_cookie (h, "/api/v1/auth/refresh", NULL, cookie, NULL);
    wr_api_check (reuse, "refresh reuse", 401, "unauthorized");
  }
  /* a new sign-in, then signing out */
  login_ok (h, "aud-u", PASSWORD_2, &token2, &cookie2);
  {
    g_autoptr (WrHttpResponse) out = post_with_cookie (h,
        "/api/v1/auth/logout", token2, cookie2, NULL);
    g_autoptr (WrHttpResponse) gone = NULL;

    g_assert_cmpuint (out->status, ==, 204);
    gone = wr_api (h, "GET", "/api/v1/me", token2, NULL);
    g_assert_cmpuint (gone->status, ==, 401);
  }

  /* aud-u's own account: TOTP on and off, a new password */
  {
    g_autofree char *t3 = NULL, *c3 = NULL;
    g_autofree char *code = NULL;
    g_autofree char *body = NULL;
    g_autoptr (WrHttpResponse) setup = NULL;
    g_autoptr (WrHttpResponse) enable = NULL;
    g_autoptr (WrHttpResponse) disable = NULL;
    g_autoptr (WrHttpResponse) password = NULL;
    const char *secret;
    JsonArray *codes;

    login_ok (h, "aud-u", PASSWORD_2, &t3, &c3);
    setup = wr_api_expect (h, "POST", "/api/v1/me/totp/setup", t3, "{}",
        200, NULL);
    secret = json_object_get_string_member (wr_api_object (setup), "secret");
    remember_secret (secret);
    code = wr_totp_code (secret, g_get_real_time () / G_USEC_PER_SEC, 6);
    body = g_strdup_printf ("{\"code\":\"%s\"}", code);
    enable = wr_api_expect (h, "POST", "/api/v1/me/totp/enable", t3, body,
        200, NULL);
    codes = json_object_get_array_member (wr_api_object (enable),
        "recovery_codes");
    for (guint i = 0; i < json_array_get_length (codes); i++)
      remember_secret (json_array_get_string_element (codes, i));
    disable = wr_api_expect (h, "POST", "/api/v1/me/totp/disable", t3,
        "{\"password\":\"" PASSWORD_2 "\"}", 204, NULL);
    password = wr_api_expect (h, "POST", "/api/v1/me/password", t3,
        "{\"current_password\":\"" PASSWORD_2 "\",\"new_password\":\""
        PASSWORD_1 "\"}", 204, NULL);
  }

  /* roles, groups, grants, API tokens */
  {
    g_autoptr (WrHttpResponse) r = NULL;

    r = wr_api_expect (h, "POST", "/api/v1/roles", h->token,
        "{\"name\":\"aud-role\",\"permissions\":[\"view\"]}", 201, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "PATCH", "/api/v1/roles/aud-role", h->token,
        "{\"permissions\":[\"view\",\"control\"]}", 200, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "POST", "/api/v1/groups", h->token,
        "{\"name\":\"aud-group\",\"recording\":\"strict\","
        "\"retention_days\":30}", 201, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "PATCH", "/api/v1/groups/aud-group", h->token,
        "{\"recording\":\"best-effort\"}", 200, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    grant = wr_api_grant (h, "aud-u", "aud-role", "aud-group");
    path = g_strdup_printf ("/api/v1/grants/%" G_GINT64_FORMAT, grant);
    r = wr_api_expect (h, "DELETE", path, h->token, NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "POST", "/api/v1/me/tokens", h->token,
        "{\"name\":\"aud-tok\",\"scopes\":[\"view\"],\"expires_in\":3600}",
        201, NULL);
    api_token = g_strdup (json_object_get_string_member (wr_api_object (r),
            "token"));
    remember_secret (api_token);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "DELETE", "/api/v1/me/tokens/aud-tok", h->token,
        NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);

    /* the agent: moved, then removed */
    g_free (path);
    path = g_strdup_printf ("/api/v1/agents/%s/group", h->agent_id);
    r = wr_api_expect (h, "PUT", path, h->token,
        "{\"group\":\"aud-group\"}", 200, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    g_free (path);
    path = g_strdup_printf ("/api/v1/agents/%s", h->agent_id);
    r = wr_api_expect (h, "DELETE", path, h->token, NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);

    r = wr_api_expect (h, "DELETE", "/api/v1/groups/aud-group", h->token,
        NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "DELETE", "/api/v1/roles/aud-role", h->token,
        NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (h, "DELETE", "/api/v1/users/aud-u", h->token, NULL,
        204, NULL);
  }

  /* ---- what the log says ---- */
  rows = read_rows (h);
  /* the first start made the admin account */
  expect_row (rows, &at, "user.create", "ok", "system", NULL, NULL,
      D ("\"user\":\"admin\""));
  expect_row (rows, &at, "grant.create", "ok", "system", NULL, NULL,
      D ("\"subject\":\"admin\"", "\"role\":\"admin\""));
  /* enrollment by the harness: webremotectl's token, the agent's CSR */
  expect_row (rows, &at, "enroll.token_create", "ok", ctl_actor, NULL, NULL,
      D ("\"group\":\"default\"", "\"expires_at\":"));
  expect_row (rows, &at, "agent.enroll", "ok", agent_actor, "127.0.0.1",
      h->agent_id, D ("\"serial\":\"", "\"group\":\"default\""));
  expect_row (rows, &at, "login", "ok", "admin", "127.0.0.1", NULL,
      D ("\"method\":\"password\""));
  expect_row (rows, &at, "agent.renew", "ok", agent_actor, "127.0.0.1",
      h->agent_id, D ("\"serial\":\"", "\"old_serial\":\""));
  expect_row (rows, &at, "login", "failed", "admin", "127.0.0.1", NULL,
      D ("\"reason\":\"wrong_password\""));
  /* an unknown name is not kept: it may be a mistyped password */
  expect_row (rows, &at, "login", "failed", NULL, "127.0.0.1", NULL,
      D ("\"reason\":\"unknown_user\""));
  expect_row (rows, &at, "user.create", "ok", "admin", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\"", "\"display_name\":\"Aud U\""));
  expect_row (rows, &at, "user.update", "ok", "admin", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\"", "\"display_name\":\"Audrey\""));
  expect_row (rows, &at, "user.password", "ok", "admin", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\""));
  expect_row (rows, &at, "login", "ok", "aud-u", "127.0.0.1", NULL,
      D ("\"method\":\"password\""));
  expect_row (rows, &at, "token.refresh_reuse", "denied", "aud-u",
      "127.0.0.1", NULL, D ("\"family\":\""));
  expect_row (rows, &at, "login", "ok", "aud-u", "127.0.0.1", NULL, NULL);
  expect_row (rows, &at, "logout", "ok", "aud-u", "127.0.0.1", NULL, NULL);
  expect_row (rows, &at, "login", "ok", "aud-u", "127.0.0.1", NULL, NULL);
  expect_row (rows, &at, "user.totp", "ok", "aud-u", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\"", "\"enabled\":true"));
  expect_row (rows, &at, "user.totp", "ok", "aud-u", "127.0.0.1", NULL,
      D ("\"enabled\":false"));
  expect_row (rows, &at, "user.password", "ok", "aud-u", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\""));
  expect_row (rows, &at, "role.create", "ok", "admin", "127.0.0.1", NULL,
      D ("\"role\":\"aud-role\"", "\"permissions\":\"view\""));
  expect_row (rows, &at, "role.update", "ok", "admin", "127.0.0.1", NULL,
      D ("\"permissions\":\"view control\""));
  expect_row (rows, &at, "group.create", "ok", "admin", "127.0.0.1", NULL,
      D ("\"group\":\"aud-group\"", "\"recording\":\"strict\"",
          "\"retention_days\":30"));
  expect_row (rows, &at, "group.update", "ok", "admin", "127.0.0.1", NULL,
      D ("\"recording\":\"best-effort\""));
  {
    g_autofree char *id = g_strdup_printf ("\"grant\":%" G_GINT64_FORMAT,
        grant);

    expect_row (rows, &at, "grant.create", "ok", "admin", "127.0.0.1", NULL,
        D (id, "\"subject\":\"aud-u\"", "\"role\":\"aud-role\"",
            "\"group\":\"aud-group\""));
    expect_row (rows, &at, "grant.delete", "ok", "admin", "127.0.0.1", NULL,
        D (id, "\"subject\":\"aud-u\""));
  }
  expect_row (rows, &at, "api_token.create", "ok", "admin", "127.0.0.1",
      NULL, D ("\"name\":\"aud-tok\"", "\"scopes\":\"view\""));
  expect_row (rows, &at, "api_token.revoke", "ok", "admin", "127.0.0.1",
      NULL, D ("\"name\":\"aud-tok\""));
  expect_row (rows, &at, "agent.group", "ok", "admin", "127.0.0.1",
      h->agent_id, D ("\"group\":\"aud-group\""));
  expect_row (rows, &at, "agent.revoke", "ok", "admin", "127.0.0.1",
      h->agent_id, NULL);
  expect_row (rows, &at, "group.delete", "ok", "admin", "127.0.0.1", NULL,
      D ("\"group\":\"aud-group\""));
  expect_row (rows, &at, "role.delete", "ok", "admin", "127.0.0.1", NULL,
      D ("\"role\":\"aud-role\""));
  expect_row (rows, &at, "user.delete", "ok", "admin", "127.0.0.1", NULL,
      D ("\"user\":\"aud-u\""));

  /* no secret in any row */
  for (guint i = 0; i < rows->len; i++) {
    const WrAuditRow *row = rows->pdata[i];
    g_autofree char *text = g_strjoin ("|", row->type, row->actor
        ? row->actor : "", row->address ? row->address : "", row->agent
        ? row->agent : "", row->detail, NULL);

    for (guint s = 0; s < secrets->len; s++)
      if (strstr (text, secrets->pdata[s]))
        g_error ("audit row %" G_GINT64_FORMAT " (%s) holds a secret: %s",
            row->seq, row->type, text);
    g_assert_null (strstr (text, "$argon2"));
  }

  /* the same rows through the API an auditor uses */
  {
    g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET",
        "/api/v1/audit?type=user.&limit=100", h->token, NULL, 200, NULL);
    JsonArray *events = json_object_get_array_member (wr_api_object (r),
        "events");
    gboolean seen = FALSE;

    g_assert_nonnull (events);
    for (guint i = 0; i < json_array_get_length (events); i++) {
      JsonObject *e = json_array_get_object_element (events, i);
      JsonObject *detail = json_object_get_object_member (e, "detail");

      g_assert_true (g_str_has_prefix (json_object_get_string_member (e,
                  "type"), "user."));
      if (g_str_equal (json_object_get_string_member (e, "type"),
              "user.create")
          && g_strcmp0 (json_object_get_string_member (e, "actor"),
              "admin") == 0
          && g_strcmp0 (json_object_get_string_member (detail, "user"),
              "aud-u") == 0)
        seen = TRUE;
    }
    g_assert_true (seen);
  }

  /* and the chain holds */
  location = store_location (h);
  {
    g_autoptr (WrStore) store = wr_store_open (location, &error);
    g_auto (WrAuditReport) report = { 0 };

    g_assert_no_error (error);
    if (!wr_audit_verify_store (store, NULL, &report, &error))
      g_error ("the audit chain does not verify: %s (row %" G_GINT64_FORMAT
          ")", error->message, report.bad_seq);
    g_assert_cmpint (report.rows, >=, rows->len);
  }
  g_clear_pointer (&secrets, g_ptr_array_unref);
  wr_watchdog_disarm ();
}

/* Makes every audit row of the gateway's store fail (a real trigger), or
 * removes the trigger again. */
static void
break_audit (WrHarness *h, gboolean broken)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *location = store_location (h);
  g_autoptr (WrDb) db = wr_db_open (location, &error);
  const char *sql;

  g_assert_no_error (error);
  if (g_str_equal (wr_db_get_backend_name (db), "postgresql"))
    sql = broken ? "CREATE FUNCTION wr_no_audit () RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'no audit'; END $$ LANGUAGE plpgsql; "
        "CREATE TRIGGER wr_no_audit BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION wr_no_audit ();"
        : "DROP TRIGGER wr_no_audit ON audit_events; "
        "DROP FUNCTION wr_no_audit ();";
  else
    sql = broken ? "CREATE TRIGGER wr_no_audit BEFORE INSERT ON "
        "audit_events BEGIN SELECT RAISE (ABORT, 'no audit'); END;"
        : "DROP TRIGGER wr_no_audit;";
  g_assert_true (wr_db_exec_script (db, sql, &error));
  g_assert_no_error (error);
}

static gboolean
user_exists (WrHarness *h, const char *name)
{
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET", "/api/v1/users",
      h->token, NULL, 200, NULL);
  JsonArray *users = json_object_get_array_member (wr_api_object (r),
      "users");

  for (guint i = 0; i < json_array_get_length (users); i++)
    if (g_strcmp0 (json_object_get_string_member (
                json_array_get_object_element (users, i), "name"), name) == 0)
      return TRUE;
  return FALSE;
}

static void
test_fail_closed (gconstpointer data)
{
  WrBackend backend = GPOINTER_TO_INT (data);
  g_autoptr (WrHarness) h = NULL;
  g_autofree char *token = NULL, *cookie = NULL;

  wr_watchdog_arm (90);
  secrets = g_ptr_array_new_with_free_func (g_free);
  h = wr_api_gateway_new (backend, NULL);

  break_audit (h, TRUE);
  {
    g_autoptr (WrHttpResponse) login = post_login (h, "admin",
        h->admin_password);
    g_autoptr (WrHttpResponse) wrong = post_login (h, "admin", PASSWORD_1);
    g_autoptr (WrHttpResponse) create = wr_api (h, "POST", "/api/v1/users",
        h->token, "{\"name\":\"fc-user\",\"password\":\"" PASSWORD_1 "\"}");
    g_autoptr (WrHttpResponse) group = wr_api (h, "POST", "/api/v1/groups",
        h->token, "{\"name\":\"fc-group\",\"recording\":\"strict\"}");
    g_autofree char *refresh = wr_http_response_get_cookie (login,
        "wr_refresh", NULL);

    wr_api_check (login, "login while the audit log fails", 503,
        "unavailable");
    g_assert_true (refresh == NULL || *refresh == '\0');
    g_assert_false (json_object_has_member (wr_api_object (login), "token"));
    wr_api_check (wrong, "failed login while the audit log fails", 503,
        "unavailable");
    wr_api_check (create, "user create while the audit log fails", 503,
        "unavailable");
    wr_api_check (group, "group create while the audit log fails", 503,
        "unavailable");
  }
  g_assert_false (user_exists (h, "fc-user"));
  {
    g_autoptr (WrHttpResponse) groups = wr_api_expect (h, "GET",
        "/api/v1/groups", h->token, NULL, 200, NULL);

    g_assert_null (strstr (groups->body, "fc-group"));
  }

  break_audit (h, FALSE);
  login_ok (h, "admin", h->admin_password, &token, &cookie);
  {
    g_autoptr (WrHttpResponse) create = wr_api_expect (h, "POST",
        "/api/v1/users", h->token, "{\"name\":\"fc-user\",\"password\":\""
        PASSWORD_1 "\"}", 201, NULL);
  }
  g_assert_true (user_exists (h, "fc-user"));
  g_clear_pointer (&secrets, g_ptr_array_unref);
  wr_watchdog_disarm ();
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/integration/audit/events", test_events);
  for (int b = 0; b < WR_N_BACKENDS; b++) {
    g_autofree char *path = g_strdup_printf ("/integration/audit/%s/"
        "fail-closed", wr_backend_names[b]);

    g_test_add_data_func (path, GINT_TO_POINTER (b), test_fail_closed);
  }
  ret = g_test_run ();
  wr_api_cleanup ();
  return ret;
}
