/* webremote integration tests: sign-in, refresh tokens, TOTP, lockout and
 * rate limits through the REST API (issue 3), on both store backends:
 *
 *   /integration/identity/BACKEND/refresh-rotation-and-reuse
 *   /integration/identity/BACKEND/refresh-needs-csrf-header-and-same-origin
 *   /integration/identity/BACKEND/password-change-revokes
 *   /integration/identity/BACKEND/totp
 *   /integration/identity/BACKEND/lockout-and-rate-limit-across-gateways
 *   /integration/identity/BACKEND/logout-revokes
 *
 * All but the lockout case share one gateway per backend; that one starts
 * two gateways on one store (one PostgreSQL schema, or one SQLite file).
 */
#include "config.h"

#include <string.h>

#include "api-test-util.h"
#include "common/totp.h"

#define CSRF_HEADER "X-Requested-With"
#define CSRF_VALUE "webremote"

static WrHarness *gateways[WR_N_BACKENDS];

static WrHarness *
gateway_for (WrBackend which)
{
  if (!gateways[which])
    gateways[which] = wr_api_gateway_new (which,
        "[auth]\naddress-max-failures=100000\nlockout-threshold=50\n");
  return gateways[which];
}

/* A sign-in: the access token and the refresh cookie's value. */
typedef struct {
  char *token;
  char *cookie;
} Login;

static void
login_clear (Login *l)
{
  g_clear_pointer (&l->token, g_free);
  g_clear_pointer (&l->cookie, g_free);
}

/* Takes token and cookie from a 200 answer of login or refresh. */
static void
take_login (WrHttpResponse *r, Login *out)
{
  g_autofree char *header = NULL;
  JsonObject *o = wr_api_object (r);

  login_clear (out);
  out->token = g_strdup (json_object_get_string_member (o, "token"));
  g_assert_nonnull (out->token);
  g_assert_cmpint (json_object_get_int_member (o, "expires_in"), >, 0);
  g_assert_cmpint (json_object_get_int_member (o, "expires_in"), <=, 600);
  out->cookie = wr_http_response_get_cookie (r, "wr_refresh", &header);
  if (!out->cookie || !*out->cookie)
    g_error ("no wr_refresh cookie in the answer (Set-Cookie: %s)",
        header ? header : "none");
}

static WrHttpResponse *
post_login (WrHarness *h, const char *user, const char *password,
    const char *extra)
{
  g_autofree char *u = wr_json_quote (user);
  g_autofree char *p = wr_json_quote (password);
  g_autofree char *body = g_strdup_printf ("{\"username\":%s,"
      "\"password\":%s%s%s}", u, p, extra ? "," : "", extra ? extra : "");

  return wr_api (h, "POST", "/api/v1/login", NULL, body);
}

static void
login (WrHarness *h, const char *user, const char *password, Login *out)
{
  g_autoptr (WrHttpResponse) r = post_login (h, user, password, NULL);

  wr_api_check (r, "login", 200, NULL);
  take_login (r, out);
}

/* POST under /api/v1/auth/ with the refresh cookie (nullable), the CSRF
 * header (when @csrf) and an Origin (nullable). */
static WrHttpResponse *
auth_post (WrHarness *h, const char *what, const char *token,
    const char *cookie, gboolean csrf, const char *origin)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/%s", what);
  g_autofree char *cookie_header = cookie
      ? g_strdup_printf ("wr_refresh=%s", cookie) : NULL;
  const char *headers[7] = { NULL };
  g_autoptr (GError) error = NULL;
  WrHttpResponse *r;
  guint n = 0;

  if (cookie_header) {
    headers[n++] = "Cookie";
    headers[n++] = cookie_header;
  }
  if (csrf) {
    headers[n++] = CSRF_HEADER;
    headers[n++] = CSRF_VALUE;
  }
  if (origin) {
    headers[n++] = "Origin";
    headers[n++] = origin;
  }
  r = wr_harness_request (h, "POST", path, token, NULL, NULL, headers,
      &error);
  g_assert_no_error (error);
  return r;
}

/* A refresh that must succeed: rotates @l in place. */
static void
refresh_ok (WrHarness *h, Login *l, const char *origin)
{
  g_autoptr (WrHttpResponse) r = auth_post (h, "auth/refresh", NULL,
      l->cookie, TRUE, origin);
  g_autofree char *old_token = g_strdup (l->token);
  g_autofree char *old_cookie = g_strdup (l->cookie);

  wr_api_check (r, "refresh", 200, NULL);
  take_login (r, l);
  g_assert_cmpstr (l->token, !=, old_token);
  g_assert_cmpstr (l->cookie, !=, old_cookie);
}

/* A refresh that must fail with @status/@code, and hand out no new
 * refresh cookie. */
static void
refresh_refused (WrHarness *h, const char *cookie, gboolean csrf,
    const char *origin, guint status, const char *code)
{
  g_autoptr (WrHttpResponse) r = auth_post (h, "auth/refresh", NULL, cookie,
      csrf, origin);
  g_autofree char *value = NULL;

  wr_api_check (r, "refresh", status, code);
  /* a refused refresh never hands out a new refresh token */
  value = wr_http_response_get_cookie (r, "wr_refresh", NULL);
  g_assert_true (!value || !*value);
}

static void
expect_me (WrHarness *h, const char *token, guint status, const char *user)
{
  g_autoptr (WrHttpResponse) r = wr_api_expect (h, "GET", "/api/v1/me",
      token, NULL, status, status == 401 ? "unauthorized" : NULL);

  if (user)
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "name"), ==, user);
}

static void
create_user (WrHarness *h, const char *name)
{
  wr_api_create_user (h, name, WR_TEST_PASSWORD);
}

/* ---------------------------------------------------------------------- */

static void
test_refresh_rotation (gconstpointer data)
{
  WrHarness *h;
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *header = NULL;
  g_autofree char *c1 = NULL;
  g_auto (GStrv) attrs = NULL;
  Login l = { NULL };
  gboolean http_only = FALSE, secure = FALSE, strict = FALSE, path = FALSE;

  wr_watchdog_arm (60);
  h = gateway_for (GPOINTER_TO_INT (data));
  create_user (h, "r-rotate");

  r = post_login (h, "r-rotate", WR_TEST_PASSWORD, NULL);
  wr_api_check (r, "login", 200, NULL);
  take_login (r, &l);
  g_free (wr_http_response_get_cookie (r, "wr_refresh", &header));
  /* HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth */
  attrs = g_strsplit (header, ";", -1);
  for (char **a = attrs + 1; *a; a++) {
    const char *attr = g_strstrip (*a);
    if (g_ascii_strcasecmp (attr, "HttpOnly") == 0)
      http_only = TRUE;
    else if (g_ascii_strcasecmp (attr, "Secure") == 0)
      secure = TRUE;
    else if (g_ascii_strcasecmp (attr, "SameSite=Strict") == 0)
      strict = TRUE;
    else if (g_ascii_strcasecmp (attr, "Path=/api/v1/auth") == 0)
      path = TRUE;
  }
  if (!http_only || !secure || !strict || !path)
    g_error ("the refresh cookie lacks an attribute: Set-Cookie: %s",
        header);
  /* the refresh token is only in the cookie */
  g_assert_null (strstr (r->body, l.cookie));
  expect_me (h, l.token, 200, "r-rotate");

  /* rotation: new cookie, new access token, both work */
  c1 = g_strdup (l.cookie);
  refresh_ok (h, &l, NULL);
  expect_me (h, l.token, 200, "r-rotate");
  refresh_ok (h, &l, NULL);
  expect_me (h, l.token, 200, "r-rotate");

  /* The first cookie again: refused, and the whole family is revoked, so
   * the newest cookie (which the thief or the user holds) fails too. */
  refresh_refused (h, c1, TRUE, NULL, 401, "unauthorized");
  refresh_refused (h, l.cookie, TRUE, NULL, 401, "unauthorized");

  /* another sign-in of the same user is another family: unharmed */
  login_clear (&l);
  login (h, "r-rotate", WR_TEST_PASSWORD, &l);
  refresh_ok (h, &l, NULL);
  /* nonsense cookies */
  refresh_refused (h, NULL, TRUE, NULL, 401, "unauthorized");
  refresh_refused (h, "not-a-token", TRUE, NULL, 401, "unauthorized");
  refresh_ok (h, &l, NULL);
  login_clear (&l);
  wr_watchdog_disarm ();
}

static void
test_refresh_csrf (gconstpointer data)
{
  WrHarness *h;
  g_autofree char *same_origin = NULL;
  Login l = { NULL };

  wr_watchdog_arm (60);
  h = gateway_for (GPOINTER_TO_INT (data));
  create_user (h, "r-csrf");
  login (h, "r-csrf", WR_TEST_PASSWORD, &l);

  /* without the header, or from another site: 403 csrf, and the cookie
   * was not used up (a forged request must not burn the user's sign-in) */
  refresh_refused (h, l.cookie, FALSE, NULL, 403, "csrf");
  refresh_refused (h, l.cookie, TRUE, "https://evil.example", 403, "csrf");
  refresh_refused (h, l.cookie, TRUE, "http://evil.example:8443", 403,
      "csrf");
  refresh_refused (h, l.cookie, TRUE, "null", 403, "csrf");
  /* the gateway's own origin, with http:// instead of https:// */
  {
    g_autofree char *http_origin = g_strdup_printf ("http://127.0.0.1:%u",
        h->port);
    refresh_refused (h, l.cookie, TRUE, http_origin, 403, "csrf");
  }
  {
    g_autoptr (WrHttpResponse) r = auth_post (h, "auth/logout", l.token,
        l.cookie, FALSE, NULL);
    wr_api_check (r, "logout without the header", 403, "csrf");
  }
  {
    g_autoptr (WrHttpResponse) r = auth_post (h, "auth/logout", l.token,
        l.cookie, TRUE, "https://evil.example");
    wr_api_check (r, "logout from another site", 403, "csrf");
  }
  expect_me (h, l.token, 200, "r-csrf");

  /* the same origin is fine (browsers send it on POST) */
  same_origin = g_strdup_printf ("https://127.0.0.1:%u", h->port);
  refresh_ok (h, &l, same_origin);
  refresh_ok (h, &l, NULL);
  login_clear (&l);
  wr_watchdog_disarm ();
}

static void
test_logout_revokes (gconstpointer data)
{
  WrHarness *h;
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *cleared = NULL;
  g_autofree char *header = NULL;
  g_autofree char *old_cookie = NULL;
  Login l = { NULL }, other = { NULL };

  wr_watchdog_arm (60);
  h = gateway_for (GPOINTER_TO_INT (data));
  create_user (h, "r-logout");
  login (h, "r-logout", WR_TEST_PASSWORD, &l);
  login (h, "r-logout", WR_TEST_PASSWORD, &other);
  refresh_ok (h, &l, NULL);
  old_cookie = g_strdup (l.cookie);

  r = auth_post (h, "auth/logout", l.token, l.cookie, TRUE, NULL);
  wr_api_check (r, "logout", 204, NULL);
  /* the answer clears the cookie */
  cleared = wr_http_response_get_cookie (r, "wr_refresh", &header);
  g_assert_nonnull (cleared);
  g_assert_cmpstr (cleared, ==, "");
  g_assert_nonnull (strstr (header, "Max-Age=0"));
  /* the access token and the refresh family are dead */
  expect_me (h, l.token, 401, NULL);
  refresh_refused (h, l.cookie, TRUE, NULL, 401, "unauthorized");
  /* the other sign-in lives on */
  expect_me (h, other.token, 200, "r-logout");

  /* the old alias, with the bearer token only: no cookie, so nothing to
   * forge and no CSRF header needed (API clients of issue 2 send none) */
  g_clear_pointer (&r, wr_http_response_free);
  r = auth_post (h, "logout", other.token, NULL, FALSE, NULL);
  wr_api_check (r, "logout (alias)", 204, NULL);
  expect_me (h, other.token, 401, NULL);
  /* its refresh cookie is still good (it was not sent) */
  refresh_ok (h, &other, NULL);
  /* and logout with the cookie only ends that family */
  g_clear_pointer (&r, wr_http_response_free);
  r = auth_post (h, "auth/logout", NULL, other.cookie, TRUE, NULL);
  wr_api_check (r, "logout with the cookie only", 204, NULL);
  refresh_refused (h, other.cookie, TRUE, NULL, 401, "unauthorized");
  /* logging out twice is harmless */
  g_clear_pointer (&r, wr_http_response_free);
  r = auth_post (h, "auth/logout", l.token, l.cookie, TRUE, NULL);
  wr_api_check (r, "logout again", 204, NULL);
  login_clear (&l);
  login_clear (&other);
  wr_watchdog_disarm ();
}

static void
test_password_change_revokes (gconstpointer data)
{
  WrHarness *h;
  Login a = { NULL }, b = { NULL };
  const char *new_password = "a brand new passphrase";
  g_autoptr (WrHttpResponse) r = NULL;

  wr_watchdog_arm (60);
  h = gateway_for (GPOINTER_TO_INT (data));
  create_user (h, "r-passwd");
  login (h, "r-passwd", WR_TEST_PASSWORD, &a);
  login (h, "r-passwd", WR_TEST_PASSWORD, &b);

  /* refused changes revoke nothing */
  r = wr_api_expect (h, "POST", "/api/v1/me/password", a.token,
      "{\"current_password\":\"wrong password\","
      "\"new_password\":\"a brand new passphrase\"}", 403,
      "wrong_password");
  g_clear_pointer (&r, wr_http_response_free);
  r = wr_api_expect (h, "POST", "/api/v1/me/password", a.token,
      "{\"current_password\":\"" WR_TEST_PASSWORD "\","
      "\"new_password\":\"short\"}", 400, "weak_password");
  g_clear_pointer (&r, wr_http_response_free);
  expect_me (h, a.token, 200, "r-passwd");

  r = wr_api_expect (h, "POST", "/api/v1/me/password", a.token,
      "{\"current_password\":\"" WR_TEST_PASSWORD "\","
      "\"new_password\":\"a brand new passphrase\"}", 204, NULL);
  g_clear_pointer (&r, wr_http_response_free);

  /* every sign-in of the user is gone, this one included */
  expect_me (h, a.token, 401, NULL);
  expect_me (h, b.token, 401, NULL);
  refresh_refused (h, a.cookie, TRUE, NULL, 401, "unauthorized");
  refresh_refused (h, b.cookie, TRUE, NULL, 401, "unauthorized");

  r = post_login (h, "r-passwd", WR_TEST_PASSWORD, NULL);
  wr_api_check (r, "login with the old password", 401, "unauthorized");
  g_clear_pointer (&r, wr_http_response_free);
  login_clear (&a);
  login (h, "r-passwd", new_password, &a);
  expect_me (h, a.token, 200, "r-passwd");
  login_clear (&a);
  login_clear (&b);
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

static WrHttpResponse *
login_with (WrHarness *h, const char *password, const char *member,
    const char *code)
{
  g_autofree char *extra = member
      ? g_strdup_printf ("\"%s\":\"%s\"", member, code) : NULL;

  return post_login (h, "t-user", password, extra);
}

static void
expect_login (WrHarness *h, const char *password, const char *member,
    const char *code, guint status, const char *error_code)
{
  g_autoptr (WrHttpResponse) r = login_with (h, password, member, code);
  g_autofree char *what = g_strdup_printf ("login with %s %s",
      member ? member : "no code", code ? code : "");

  wr_api_check (r, what, status, error_code);
}

static void
test_totp (gconstpointer data)
{
  WrHarness *h;
  g_autoptr (WrHttpResponse) r = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *enable_code = NULL;
  g_autofree char *next_code = NULL;
  g_autofree char *wrong = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GPtrArray) recovery = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) distinct = g_hash_table_new (g_str_hash,
      g_str_equal);
  JsonArray *codes;
  const char *uri;
  Login l = { NULL };
  gint64 now;

  wr_watchdog_arm (60);
  h = gateway_for (GPOINTER_TO_INT (data));
  create_user (h, "t-user");
  login (h, "t-user", WR_TEST_PASSWORD, &l);

  r = wr_api_expect (h, "POST", "/api/v1/me/totp/setup", l.token, NULL, 200,
      NULL);
  secret = g_strdup (json_object_get_string_member (wr_api_object (r),
          "secret"));
  uri = json_object_get_string_member (wr_api_object (r), "otpauth_uri");
  g_assert_true (g_str_has_prefix (uri, "otpauth://totp/"));
  g_assert_nonnull (strstr (uri, secret));
  g_clear_pointer (&r, wr_http_response_free);

  /* pending: sign-in does not ask for a code yet */
  expect_login (h, WR_TEST_PASSWORD, NULL, NULL, 200, NULL);
  /* a wrong code does not turn it on */
  now = g_get_real_time () / G_USEC_PER_SEC;
  for (guint i = 0; !wrong; i++) {
    g_autofree char *candidate = g_strdup_printf ("%06u", i);
    gboolean valid = FALSE;
    for (int d = -2; d <= 2; d++) {
      g_autofree char *c = wr_totp_code (secret, now + d * 30, 6);
      valid |= g_str_equal (c, candidate);
    }
    if (!valid)
      wrong = g_steal_pointer (&candidate);
  }
  body = g_strdup_printf ("{\"code\":\"%s\"}", wrong);
  r = wr_api_expect (h, "POST", "/api/v1/me/totp/enable", l.token, body,
      400, "totp_invalid");
  g_clear_pointer (&r, wr_http_response_free);
  g_clear_pointer (&body, g_free);

  enable_code = wr_totp_code (secret, g_get_real_time () / G_USEC_PER_SEC,
      6);
  body = g_strdup_printf ("{\"code\":\"%s\"}", enable_code);
  r = wr_api_expect (h, "POST", "/api/v1/me/totp/enable", l.token, body,
      200, NULL);
  codes = json_object_get_array_member (wr_api_object (r), "recovery_codes");
  g_assert_cmpuint (json_array_get_length (codes), ==, 10);
  for (guint i = 0; i < 10; i++) {
    const char *c = json_array_get_string_element (codes, i);
    g_assert_cmpuint (strlen (c), >=, 8);
    g_ptr_array_add (recovery, g_strdup (c));
    g_hash_table_add (distinct, (gpointer) recovery->pdata[i]);
  }
  g_assert_cmpuint (g_hash_table_size (distinct), ==, 10);
  g_clear_pointer (&r, wr_http_response_free);
  r = wr_api_expect (h, "GET", "/api/v1/me", l.token, NULL, 200, NULL);
  g_assert_true (json_object_get_boolean_member (wr_api_object (r),
          "totp_enabled"));
  g_clear_pointer (&r, wr_http_response_free);

  /* password alone is not enough any more */
  expect_login (h, WR_TEST_PASSWORD, NULL, NULL, 401, "totp_required");
  expect_login (h, WR_TEST_PASSWORD, "totp_code", wrong, 401,
      "totp_invalid");
  /* the code that turned it on was used once already */
  expect_login (h, WR_TEST_PASSWORD, "totp_code", enable_code, 401,
      "totp_invalid");
  /* a right code with a wrong password says nothing about the code */
  next_code = wr_totp_code (secret, g_get_real_time () / G_USEC_PER_SEC + 30,
      6);
  expect_login (h, "wrong password!", "totp_code", next_code, 401,
      "unauthorized");
  /* the next step's code (within the window): accepted once */
  expect_login (h, WR_TEST_PASSWORD, "totp_code", next_code, 200, NULL);
  expect_login (h, WR_TEST_PASSWORD, "totp_code", next_code, 401,
      "totp_invalid");

  /* recovery codes: each works once */
  expect_login (h, WR_TEST_PASSWORD, "recovery_code", recovery->pdata[0],
      200, NULL);
  expect_login (h, WR_TEST_PASSWORD, "recovery_code", recovery->pdata[0],
      401, "totp_invalid");
  expect_login (h, WR_TEST_PASSWORD, "recovery_code", "not-a-code", 401,
      "totp_invalid");
  expect_login (h, "wrong password!", "recovery_code", recovery->pdata[1],
      401, "unauthorized");
  expect_login (h, WR_TEST_PASSWORD, "recovery_code", recovery->pdata[1],
      200, NULL);
  expect_login (h, WR_TEST_PASSWORD, "recovery_code", recovery->pdata[1],
      401, "totp_invalid");

  /* turning it off needs the password */
  r = wr_api_expect (h, "POST", "/api/v1/me/totp/disable", l.token,
      "{\"password\":\"wrong password!\"}", 403, "wrong_password");
  g_clear_pointer (&r, wr_http_response_free);
  expect_login (h, WR_TEST_PASSWORD, NULL, NULL, 401, "totp_required");
  r = wr_api_expect (h, "POST", "/api/v1/me/totp/disable", l.token,
      "{\"password\":\"" WR_TEST_PASSWORD "\"}", 204, NULL);
  g_clear_pointer (&r, wr_http_response_free);
  expect_login (h, WR_TEST_PASSWORD, NULL, NULL, 200, NULL);
  r = wr_api_expect (h, "GET", "/api/v1/me", l.token, NULL, 200, NULL);
  g_assert_false (json_object_get_boolean_member (wr_api_object (r),
          "totp_enabled"));
  g_clear_pointer (&r, wr_http_response_free);
  login_clear (&l);
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

static void
expect_login_on (WrHarness *h, const char *user, const char *password,
    guint status, const char *code)
{
  g_autoptr (WrHttpResponse) r = post_login (h, user, password, NULL);
  g_autofree char *what = g_strdup_printf ("login as %s on the gateway at "
      "port %u", user, h->port);

  wr_api_check (r, what, status, code);
}

static void
test_lockout_two_gateways (gconstpointer data)
{
  WrBackend which = GPOINTER_TO_INT (data);
  const char *conf = "[auth]\nlockout-threshold=3\nlockout-seconds=600\n"
      "address-max-failures=8\naddress-window=60\n";
  g_autoptr (WrHarness) one = wr_harness_new (640, 480);
  g_autoptr (WrHarness) two = wr_harness_new (640, 480);
  g_autoptr (WrHttpResponse) r = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *users;
  WrHarness *gw[2];
  guint failures = 0;

  wr_watchdog_arm (90);
  /* one store: a PostgreSQL schema, or one SQLite file both open */
  one->store_url = which == WR_BACKEND_SQLITE
      ? g_build_filename (one->tmp_dir, "shared.db", NULL)
      : wr_api_store_url (which);
  two->store_url = g_strdup (one->store_url);
  one->gateway_extra_config = g_strdup (conf);
  two->gateway_extra_config = g_strdup (conf);
  /* the first one makes the admin account */
  g_free (two->admin_password);
  two->admin_password = g_strdup (one->admin_password);
  wr_harness_start_gateway (one, &error);
  g_assert_no_error (error);
  wr_harness_login (one, &error);
  g_assert_no_error (error);
  wr_harness_start_gateway (two, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (one->port, !=, two->port);
  gw[0] = one;
  gw[1] = two;

  wr_api_create_user (one, "l-user", WR_TEST_PASSWORD);
  /* both see the same accounts */
  expect_login_on (two, "l-user", WR_TEST_PASSWORD, 200, NULL);
  expect_login_on (one, "l-user", WR_TEST_PASSWORD, 200, NULL);

  /* three failures, spread over both, lock the account everywhere */
  expect_login_on (one, "l-user", "wrong password 1", 401, "unauthorized");
  expect_login_on (two, "l-user", "wrong password 2", 401, "unauthorized");
  expect_login_on (one, "l-user", "wrong password 3", 401, "unauthorized");
  failures = 3;
  expect_login_on (two, "l-user", WR_TEST_PASSWORD, 423, "locked");
  expect_login_on (one, "l-user", WR_TEST_PASSWORD, 423, "locked");
  /* others are not locked out */
  expect_login_on (two, "admin", one->admin_password, 200, NULL);

  r = wr_api_expect (one, "GET", "/api/v1/users", one->token, NULL, 200,
      NULL);
  users = json_object_get_array_member (wr_api_object (r), "users");
  for (guint i = 0; i < json_array_get_length (users); i++) {
    JsonObject *u = json_array_get_object_element (users, i);
    if (g_str_equal (json_object_get_string_member (u, "name"), "l-user"))
      g_assert_cmpint (json_object_get_int_member (u, "locked_until"), >,
          g_get_real_time () / G_USEC_PER_SEC + 500);
  }

  /* failures for unknown names count against the address: after 8 in
   * all, both refuse everything from it, right passwords included */
  for (guint i = 0; failures < 8; i++, failures++) {
    g_autofree char *ghost = g_strdup_printf ("ghost-%u", i);
    expect_login_on (gw[i % 2], ghost, "whatever it is", 401,
        "unauthorized");
  }
  expect_login_on (one, "admin", one->admin_password, 429, "rate_limited");
  expect_login_on (two, "admin", one->admin_password, 429, "rate_limited");
  expect_login_on (two, "ghost-x", "whatever it is", 429, "rate_limited");
  /* signed-in users carry on */
  g_clear_pointer (&r, wr_http_response_free);
  r = wr_api_expect (one, "GET", "/api/v1/users", one->token, NULL, 200,
      NULL);
  wr_watchdog_disarm ();
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  for (int b = 0; b < WR_N_BACKENDS; b++) {
    const struct {
      const char *name;
      GTestDataFunc func;
    } tests[] = {
      { "refresh-rotation-and-reuse", test_refresh_rotation },
      { "refresh-needs-csrf-header-and-same-origin", test_refresh_csrf },
      { "password-change-revokes", test_password_change_revokes },
      { "totp", test_totp },
      { "lockout-and-rate-limit-across-gateways",
        test_lockout_two_gateways },
      { "logout-revokes", test_logout_revokes },
    };
    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/integration/identity/%s/%s",
          wr_backend_names[b], tests[t].name);
      g_test_add_data_func (path, GINT_TO_POINTER (b), tests[t].func);
    }
  }

  ret = g_test_run ();
  for (int b = 0; b < WR_N_BACKENDS; b++)
    g_clear_pointer (&gateways[b], wr_harness_free);
  wr_api_cleanup ();
  return ret;
}
