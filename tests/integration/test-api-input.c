/* webremote integration tests: bad input on every REST endpoint with a
 * body (issue 3), on both store backends:
 *
 *   /integration/api-input/BACKEND/malformed-bodies
 *   /integration/api-input/BACKEND/wrong-types-and-missing-fields
 *   /integration/api-input/BACKEND/oversized-bodies
 *   /integration/api-input/BACKEND/sql-metacharacters-round-trip
 *   /integration/api-input/BACKEND/path-arguments
 *   /integration/api-input/BACKEND/group-policy
 *
 * Every refusal must be a 4xx with a JSON {code, message} that says what
 * is wrong and nothing about the inside (no SQL), never a 5xx; and the
 * store must be unchanged afterwards: the lists of users, roles, groups,
 * grants and tokens read the same, and passwords still work.
 */
#include "config.h"

#include <string.h>

#include "api-test-util.h"

#define USER "i-user"
#define ROLE "i-role"
#define MIB10 (10 * 1024 * 1024)
#define MIB64 (64 * 1024 * 1024)

typedef enum {
  AUTH_NONE,
  AUTH_USER,   /* i-user, no grant */
  AUTH_ADMIN,
} Auth;

/* One endpoint with a body; @valid would be accepted (it is never sent,
 * only its mutants are), @fields says what each member must be:
 * S string (required), s string, B bool (required), b bool, i integer,
 * A array of strings (required). */
typedef struct {
  const char *method;
  const char *path;
  Auth auth;
  const char *valid;
  const char *fields;
} Endpoint;

static const Endpoint endpoints[] = {
  { "POST", "/api/v1/login", AUTH_NONE,
    "{\"username\":\"" USER "\",\"password\":\"" WR_TEST_PASSWORD "\"}",
    "username:S password:S totp_code:s recovery_code:s" },
  { "POST", "/api/v1/me/password", AUTH_USER,
    "{\"current_password\":\"" WR_TEST_PASSWORD "\","
    "\"new_password\":\"another good password\"}",
    "current_password:S new_password:S" },
  { "POST", "/api/v1/me/totp/enable", AUTH_USER, "{\"code\":\"123456\"}",
    "code:S" },
  { "POST", "/api/v1/me/totp/disable", AUTH_USER,
    "{\"password\":\"" WR_TEST_PASSWORD "\"}", "password:S" },
  { "POST", "/api/v1/me/tokens", AUTH_USER,
    "{\"name\":\"tok\",\"scopes\":[\"view\"],\"expires_in\":3600}",
    "name:S scopes:A expires_in:i" },
  { "POST", "/api/v1/users", AUTH_ADMIN,
    "{\"name\":\"new-user\",\"password\":\"" WR_TEST_PASSWORD "\","
    "\"display_name\":\"New\"}", "name:S password:S display_name:s" },
  { "PATCH", "/api/v1/users/" USER, AUTH_ADMIN,
    "{\"display_name\":\"I\",\"disabled\":true,"
    "\"password\":\"another good password\",\"totp_enabled\":false}",
    "display_name:s disabled:b password:s totp_enabled:b" },
  { "POST", "/api/v1/roles", AUTH_ADMIN,
    "{\"name\":\"new-role\",\"permissions\":[\"view\"]}",
    "name:S permissions:A" },
  { "PATCH", "/api/v1/roles/" ROLE, AUTH_ADMIN,
    "{\"permissions\":[\"view\",\"control\"]}", "permissions:A" },
  { "POST", "/api/v1/groups", AUTH_ADMIN,
    "{\"name\":\"new-group\",\"require_reason\":true,"
    "\"recording\":\"strict\"}", "name:S require_reason:b recording:s" },
  /* at least one of require_reason, recording and retention_days */
  { "PATCH", "/api/v1/groups/default", AUTH_ADMIN,
    "{\"require_reason\":true}", "require_reason:b recording:s" },
  { "PUT", "/api/v1/agents/some-agent/group", AUTH_ADMIN,
    "{\"group\":\"default\"}", "group:S" },
  { "POST", "/api/v1/grants", AUTH_ADMIN,
    "{\"subject_kind\":\"user\",\"subject\":\"" USER "\",\"role\":\"viewer\","
    "\"group\":\"default\"}", "subject_kind:S subject:S role:S group:s" },
};

typedef struct {
  WrHarness *h;
  char *user_token;
} Gateway;

static Gateway gateways[WR_N_BACKENDS];

static Gateway *
gateway_for (WrBackend which)
{
  Gateway *g = &gateways[which];

  if (!g->h) {
    g->h = wr_api_gateway_new (which,
        "[auth]\naddress-max-failures=100000\nlockout-threshold=1000\n");
    wr_api_create_user (g->h, USER, WR_TEST_PASSWORD);
    g->user_token = wr_api_login (g->h, USER, WR_TEST_PASSWORD);
    {
      g_autoptr (WrHttpResponse) r = wr_api_expect (g->h, "POST",
          "/api/v1/roles", g->h->token,
          "{\"name\":\"" ROLE "\",\"permissions\":[\"view\"]}", 201, NULL);
      g_autoptr (WrHttpResponse) off = NULL;
      g_autoptr (WrHttpResponse) group = wr_api_expect (g->h, "POST",
          "/api/v1/groups", g->h->token,
          "{\"name\":\"i-reason\",\"require_reason\":true}", 201, NULL);

      /* a disabled account and a group with a policy: a null must not
       * turn either off */
      wr_api_create_user (g->h, "i-off", WR_TEST_PASSWORD);
      off = wr_api_expect (g->h, "PATCH", "/api/v1/users/i-off", g->h->token,
          "{\"disabled\":true}", 200, NULL);
    }
  }
  return g;
}

static const char *
token_for (Gateway *g, Auth auth)
{
  return auth == AUTH_ADMIN ? g->h->token
      : auth == AUTH_USER ? g->user_token : NULL;
}

/* ---------------------------------------------------------------------- */
/* What must hold after every refusal                                     */
/* ---------------------------------------------------------------------- */

/* The store as the API shows it. */
static char *
snapshot (Gateway *g)
{
  const char *admin_paths[] = { "/api/v1/users", "/api/v1/roles",
    "/api/v1/groups", "/api/v1/grants", "/api/v1/me/tokens" };
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (admin_paths); i++) {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "GET", admin_paths[i],
        g->h->token, NULL);
    g_string_append_printf (s, "%s: %u %s\n", admin_paths[i], r->status,
        r->body);
  }
  {
    /* i-user's sign-in, which a password change would end */
    g_autoptr (WrHttpResponse) me = wr_api (g->h, "GET", "/api/v1/me",
        g->user_token, NULL);
    g_autoptr (WrHttpResponse) tokens = wr_api (g->h, "GET",
        "/api/v1/me/tokens", g->user_token, NULL);
    g_string_append_printf (s, "i-user's /me: %u %s\ni-user's tokens: %u "
        "%s\n", me->status, me->body, tokens->status, tokens->body);
  }
  return g_string_free (s, FALSE);
}

static GString *problems;

/* The snapshot is as before, and both passwords still work. */
static void
assert_unchanged (Gateway *g, const char *before)
{
  g_autofree char *after = snapshot (g);
  g_autofree char *t1 = NULL;
  g_autofree char *t2 = NULL;

  if (!g_str_equal (after, before)) {
    if (!problems)
      problems = g_string_new (NULL);
    g_string_append_printf (problems, "  the store changed:\nbefore:\n%s"
        "after:\n%s", before, after);
  }
  t1 = wr_api_login (g->h, USER, WR_TEST_PASSWORD);
  t2 = wr_api_login (g->h, "admin", g->h->admin_password);
}

/* Every wrong answer of a case, so that one run shows them all; the case
 * fails at its end (check_no_problems) when there is any. */
static void
problem (const char *what, WrHttpResponse *r, const char *why)
{
  if (!problems)
    problems = g_string_new (NULL);
  g_string_append_printf (problems, "  %s: %s: HTTP %u %s\n", what, why,
      r->status, r->body);
}

static void
check_no_problems (void)
{
  if (problems && problems->len)
    g_error ("refusals that were not right:\n%s", problems->str);
}

/* A refusal: 4xx (@expected when not 0), JSON {code, message} with
 * non-empty strings, and a message that gives nothing of the inside away. */
static void
check_refusal (WrHttpResponse *r, const char *what, guint expected)
{
  const char *leaks[] = { "SQL", "sqlite", "postgres", "syntax", "relation",
    "constraint", "libpq", "json-glib", ".c:", NULL };
  const char *message = NULL;
  JsonNode *m;

  if (r->status >= 500 || r->status < 400 || (expected
          && r->status != expected)) {
    g_autofree char *why = g_strdup_printf ("expected %u", expected
        ? expected : 400);
    problem (what, r, why);
    return;
  }
  if (!r->json || !JSON_NODE_HOLDS_OBJECT (r->json)
      || g_strcmp0 (r->content_type, "application/json") != 0
      || !wr_http_response_get_code (r)
      || !*wr_http_response_get_code (r)
      || !(m = json_object_get_member (json_node_get_object (r->json),
              "message"))
      || !JSON_NODE_HOLDS_VALUE (m)
      || json_node_get_value_type (m) != G_TYPE_STRING
      || !*(message = json_node_get_string (m))) {
    problem (what, r, "not a JSON {code, message}");
    return;
  }
  for (const char **l = leaks; *l; l++)
    if (strstr (message, *l))
      problem (what, r, "the message tells about the inside");
}

static WrHttpResponse *
send_bytes (Gateway *g, const Endpoint *e, const char *data, gsize len)
{
  g_autoptr (GBytes) body = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  WrHttpResponse *r = wr_harness_request (g->h, e->method, e->path,
      token_for (g, e->auth), NULL, body, NULL, &error);

  if (!r)
    g_error ("%s %s: no answer: %s", e->method, e->path, error->message);
  return r;
}

static void
expect_400 (Gateway *g, const Endpoint *e, const char *data, gsize len)
{
  g_autoptr (WrHttpResponse) r = send_bytes (g, e, data, len);
  g_autofree char *shown = g_strescape (len > 200 ? "(long)" : data, NULL);
  g_autofree char *what = g_strdup_printf ("%s %s with \"%s\"", e->method,
      e->path, shown);

  check_refusal (r, what, 400);
}

/* ---------------------------------------------------------------------- */

static void
test_malformed_bodies (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;
  const char *bodies[] = {
    "", " ", "[]", "[{}]", "\"text\"", "42", "-1.5e300", "true", "null",
    "{", "}", "{\"a\":}", "{\"a\":1,}", "{a:1}", "{\"a\":1} x",
    "\xff\xfe{\x00}", NULL
  };
  /* Not JSON either, but json-glib reads them as an empty object: 400 on
   * every endpoint with a required field; PATCH /users/NAME, which has
   * none, may take them for "change nothing" (reported, see below). */
  const char *lenient[] = { "{'a':1}", "{}{}", "\xef\xbb\xbf{}", NULL };

  wr_watchdog_arm (60);
  g = gateway_for (GPOINTER_TO_INT (data));
  before = snapshot (g);

  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i++) {
    const Endpoint *e = &endpoints[i];
    g_autofree char *first = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *nested = NULL;
    g_auto (GStrv) fields = g_strsplit (e->fields, " ", -1);

    for (const char **b = bodies; *b; b++)
      expect_400 (g, e, *b, strlen (*b));
    for (const char **b = lenient; *b; b++) {
      if (strstr (e->fields, ":S") || strstr (e->fields, ":A")
          || strstr (e->fields, ":B")) {
        expect_400 (g, e, *b, strlen (*b));
      } else {
        g_autoptr (WrHttpResponse) r = send_bytes (g, e, *b, strlen (*b));
        g_autofree char *shown = g_strescape (*b, NULL);
        g_autofree char *what = g_strdup_printf ("%s %s with \"%s\"",
            e->method, e->path, shown);
        if (r->status != 200)
          check_refusal (r, what, 400);
        else
          g_test_message ("%s: HTTP 200 (json-glib is lenient)", what);
      }
    }
    /* a NUL byte inside */
    expect_400 (g, e, "{\"a\":\"x\0y\"}", 11);

    /* invalid UTF-8 in a string: a stray continuation byte, an overlong
     * '/', a UTF-16 surrogate, and bytes past U+10FFFF */
    first = g_strndup (fields[0], strchr (fields[0], ':') - fields[0]);
    {
      const char *invalid[] = { "\x80", "\xc0\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "ok\xff", NULL };
      for (const char **s = invalid; *s; s++) {
        g_free (bad);
        bad = g_strdup_printf ("{\"%s\":\"%s\"}", first, *s);
        expect_400 (g, e, bad, strlen (bad));
      }
    }
    /* invalid UTF-8 in a member name */
    expect_400 (g, e, "{\"\xc3\":1}", 7);

    /* deep nesting: valid JSON, but the parser must not recurse until the
     * stack runs out; a member nobody asked for changes nothing */
    {
      GString *s = g_string_new ("{\"a\":");
      for (guint d = 0; d < 20000; d++)
        g_string_append_c (s, '[');
      for (guint d = 0; d < 20000; d++)
        g_string_append_c (s, ']');
      g_string_append_c (s, '}');
      nested = g_string_free (s, FALSE);
    }
    {
      g_autoptr (WrHttpResponse) r = send_bytes (g, e, nested,
          strlen (nested));
      g_autofree char *what = g_strdup_printf ("%s %s with 20000 nested "
          "arrays", e->method, e->path);
      if (r->status != 200 || strstr (e->fields, ":S")
          || strstr (e->fields, ":A") || strstr (e->fields, ":B"))
        check_refusal (r, what, 400);
    }
  }
  assert_unchanged (g, before);
  check_no_problems ();
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

/* @valid with @field removed (@value NULL) or set to @value (JSON). */
static char *
mutate (const char *valid, const char *field, const char *value)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;

  g_assert_true (json_parser_load_from_data (p, valid, -1, NULL));
  root = json_node_copy (json_parser_get_root (p));
  o = json_node_get_object (root);
  json_object_remove_member (o, field);
  if (value) {
    g_autoptr (JsonParser) vp = json_parser_new ();
    g_assert_true (json_parser_load_from_data (vp, value, -1, NULL));
    json_object_set_member (o, field,
        json_node_copy (json_parser_get_root (vp)));
  }
  return json_to_string (root, FALSE);
}

static void
test_wrong_types (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;
  g_autofree char *long_string = NULL;
  g_autofree char *many = NULL;
  g_autofree char *long_item = NULL;
  const char *not_string[] = { "7", "true", "false", "1.5", "[]", "{}",
    "[\"x\"]", "{\"x\":\"y\"}", NULL };
  const char *not_bool[] = { "\"true\"", "1", "0", "\"\"", "[]", "{}",
    "[true]", NULL };
  const char *not_int[] = { "\"3600\"", "1.5", "3600.0", "true", "[]", "{}",
    "9223372036854775807", "-9223372036854775808", "-1", "0", "1e3", NULL };
  const char *not_strings[] = { "\"view\"", "7", "true", "{}", "[7]",
    "[true]", "[null]", "[[\"view\"]]", "[{}]", "[\"view\",\"\"]",
    "[\"view\",\"root\"]", "[\"view control\"]", NULL };

  wr_watchdog_arm (90);
  g = gateway_for (GPOINTER_TO_INT (data));
  before = snapshot (g);
  {
    GString *s = g_string_new ("\"");
    for (guint i = 0; i < 5000; i++)
      g_string_append_c (s, 'a');
    g_string_append_c (s, '"');
    long_string = g_string_free (s, FALSE);
  }
  {
    GString *s = g_string_new ("[");
    for (guint i = 0; i < 40; i++)
      g_string_append_printf (s, "%s\"view\"", i ? "," : "");
    g_string_append_c (s, ']');
    many = g_string_free (s, FALSE);
  }
  long_item = g_strdup_printf ("[%s]", long_string);

  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i++) {
    const Endpoint *e = &endpoints[i];
    g_auto (GStrv) fields = g_strsplit (e->fields, " ", -1);
    gboolean any_required = FALSE;

    for (char **f = fields; *f; f++) {
      g_autofree char *name = g_strndup (*f, strchr (*f, ':') - *f);
      char kind = strchr (*f, ':')[1];
      gboolean required = g_ascii_isupper (kind);
      const char **wrong = kind == 'S' || kind == 's' ? not_string
          : kind == 'B' || kind == 'b' ? not_bool
          : kind == 'i' ? not_int : not_strings;
      g_autoptr (GPtrArray) values = g_ptr_array_new ();

      any_required |= required;
      for (const char **w = wrong; *w; w++)
        g_ptr_array_add (values, (gpointer) *w);
      if (kind == 'S' || kind == 's')
        g_ptr_array_add (values, long_string);
      if (kind == 'S')
        g_ptr_array_add (values, "\"\"");
      if (kind == 'A') {
        g_ptr_array_add (values, many);
        g_ptr_array_add (values, long_item);
      }
      /* null means absent: only a refusal where the field is required */
      if (required)
        g_ptr_array_add (values, "null");

      for (guint v = 0; v < values->len; v++) {
        g_autofree char *body = mutate (e->valid, name,
            g_ptr_array_index (values, v));
        expect_400 (g, e, body, strlen (body));
      }
      if (required) {
        g_autofree char *body = mutate (e->valid, name, NULL);
        expect_400 (g, e, body, strlen (body));
      }
    }
    if (any_required)
      expect_400 (g, e, "{}", 2);
  }

  /* Values of the right type that the store refuses: control characters
   * in names, an unknown role or group, an unknown subject kind. */
  {
    const struct {
      const char *method;
      const char *path;
      const char *body;
      guint status;
    } refused[] = {
      { "POST", "/api/v1/users", "{\"name\":\"a\\u0001b\",\"password\":\""
        WR_TEST_PASSWORD "\"}", 400 },
      { "POST", "/api/v1/users", "{\"name\":\"line\\nbreak\",\"password\":\""
        WR_TEST_PASSWORD "\"}", 400 },
      { "POST", "/api/v1/users", "{\"name\":\"weak\",\"password\":\"short\"}",
        400 },
      { "POST", "/api/v1/users", "{\"name\":\"" USER "\",\"password\":\""
        WR_TEST_PASSWORD "\"}", 409 },
      { "POST", "/api/v1/roles", "{\"name\":\"tab\\there\","
        "\"permissions\":[\"view\"]}", 400 },
      { "POST", "/api/v1/roles", "{\"name\":\"" ROLE "\","
        "\"permissions\":[\"view\"]}", 409 },
      { "POST", "/api/v1/groups", "{\"name\":\"\\u007f\"}", 400 },
      { "POST", "/api/v1/groups", "{\"name\":\"default\"}", 409 },
      { "POST", "/api/v1/grants", "{\"subject_kind\":\"robot\","
        "\"subject\":\"x\",\"role\":\"viewer\"}", 400 },
      { "POST", "/api/v1/grants", "{\"subject_kind\":\"user\","
        "\"subject\":\"no-such-user\",\"role\":\"viewer\"}", 404 },
      { "POST", "/api/v1/grants", "{\"subject_kind\":\"user\","
        "\"subject\":\"" USER "\",\"role\":\"no-such-role\"}", 404 },
      { "POST", "/api/v1/grants", "{\"subject_kind\":\"user\","
        "\"subject\":\"" USER "\",\"role\":\"viewer\","
        "\"group\":\"no-such-group\"}", 404 },
      { "PATCH", "/api/v1/users/" USER, "{\"totp_enabled\":true}", 400 },
      { "PATCH", "/api/v1/users/" USER, "{\"display_name\":\"\"}", 400 },
      { "PATCH", "/api/v1/users/" USER, "{\"password\":\"short\"}", 400 },
      { "PATCH", "/api/v1/users/admin", "{\"disabled\":true}", 409 },
      { "PATCH", "/api/v1/roles/viewer", "{\"permissions\":[\"view\"]}",
        409 },
      { "DELETE", "/api/v1/roles/" ROLE "-x", NULL, 404 },
      /* null is not false: refused where the field is required */
      { "PATCH", "/api/v1/groups/i-reason", "{\"require_reason\":null}",
        400 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (refused); i++) {
      g_autoptr (WrHttpResponse) r = wr_api (g->h, refused[i].method,
          refused[i].path, g->h->token, refused[i].body);
      g_autofree char *what = g_strdup_printf ("%s %s %s", refused[i].method,
          refused[i].path, refused[i].body);
      check_refusal (r, what, refused[i].status);
    }
  }
  /* ... and where it is optional, it is "no change" or a refusal, never
   * false: the account stays disabled (assert_unchanged) */
  {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "PATCH",
        "/api/v1/users/i-off", g->h->token, "{\"disabled\":null}");
    if (r->status != 200)
      check_refusal (r, "PATCH {\"disabled\":null}", 400);
  }
  assert_unchanged (g, before);

  /* A refused change changes nothing, not even the part that was fine:
   * a good new password next to an invalid display name. */
  {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "PATCH",
        "/api/v1/users/" USER, g->h->token,
        "{\"password\":\"another good password\",\"display_name\":\"\"}");
    check_refusal (r, "PATCH a good password with an empty display name",
        400);
  }
  check_no_problems ();
  assert_unchanged (g, before);
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

/* The gateway's resident memory (@field VmRSS) or its peak since
 * reset_peak() (VmHWM), in KiB. */
static guint64
gateway_memory_kib (Gateway *g, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status",
      wr_harness_gateway_pid (g->h));
  g_autofree char *text = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  line = strstr (text, field);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (field), NULL, 10);
}

/* Resets the gateway's VmHWM to its current size (Linux >= 4.0): the
 * peak must not be a password hash's 19 MiB from before. */
static void
reset_peak (Gateway *g)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/clear_refs",
      wr_harness_gateway_pid (g->h));
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, "5", 1, G_FILE_SET_CONTENTS_NONE, 0600,
      &error);
  g_assert_no_error (error);
}

/* The request head for @e with @extra headers (each ending in \r\n). */
static char *
request_head (Gateway *g, const Endpoint *e, const char *extra)
{
  const char *token = token_for (g, e->auth);
  g_autofree char *auth = token ? g_strdup_printf ("Authorization: Bearer "
      "%s\r\n", token) : g_strdup ("");

  return g_strdup_printf ("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
      "%sContent-Type: application/json\r\n%s\r\n", e->method, e->path,
      g->h->port, auth, extra);
}

/* Sends @request raw; the answer must be @status with a JSON error @code
 * (any 4xx when @status is 0), or the gateway may close the connection
 * early when @may_close. */
static void
expect_raw (Gateway *g, const char *what, const char *request, guint status,
    const char *code, gboolean may_close)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *answer = NULL;
  guint got = 0;
  gint64 start = g_get_monotonic_time ();
  JsonNode *root;

  answer = wr_harness_raw_request (g->h, request, 10000, &got, &error);
  if (!answer) {
    if (may_close && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
      return;
    g_error ("%s: no answer within 10 s: %s", what, error->message);
  }
  if ((status && got != status) || got < 400 || got >= 500)
    g_error ("%s: HTTP %u, expected %u: %s", what, got, status, answer);
  if (!json_parser_load_from_data (parser, answer, -1, NULL)
      || !(root = json_parser_get_root (parser))
      || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), "message"))
    g_error ("%s: HTTP %u with a body that is not {code, message}: %s", what,
        got, answer);
  if (code)
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (
                root), "code"), ==, code);
}

/* Sends @len bytes of @data (spaces) to @e, with a Content-Length or in
 * 64 KiB chunks, and expects a refusal (expect_raw). */
static void
send_body (Gateway *g, const Endpoint *e, const char *what, const char *data,
    gsize len, gboolean chunked, guint status, const char *code)
{
  g_autofree char *extra = chunked
      ? g_strdup ("Transfer-Encoding: chunked\r\n")
      : g_strdup_printf ("Content-Length: %" G_GSIZE_FORMAT "\r\n", len);
  g_autofree char *head = request_head (g, e, extra);
  GString *request = g_string_new (head);
  g_autofree char *text = NULL;

  if (chunked) {
    for (gsize off = 0; off < len; off += 65536) {
      gsize n = MIN (65536, len - off);
      g_string_append_printf (request, "%" G_GSIZE_MODIFIER "x\r\n", n);
      g_string_append_len (request, data + off, (gssize) n);
      g_string_append (request, "\r\n");
    }
    g_string_append (request, "0\r\n\r\n");
  } else {
    g_string_append_len (request, data, (gssize) len);
  }
  text = g_string_free (request, FALSE);
  expect_raw (g, what, text, status, code, TRUE);
}

static void
test_oversized_bodies (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;
  g_autofree char *big = NULL;
  gsize over = 64 * 1024 + 1;
  guint64 rss_before, peak_after;

  wr_watchdog_arm (90);
  g = gateway_for (GPOINTER_TO_INT (data));
  before = snapshot (g);

  /* 10 MiB announced with Expect: 100-continue and not one byte sent: the
   * answer comes anyway, so the gateway refused it before reading it */
  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i++) {
    const Endpoint *e = &endpoints[i];
    g_autofree char *extra = g_strdup_printf ("Content-Length: %d\r\n"
        "Expect: 100-continue\r\n", MIB10);
    g_autofree char *request = request_head (g, e, extra);
    g_autofree char *what = g_strdup_printf ("%s %s announcing 10 MiB with "
        "Expect: 100-continue", e->method, e->path);

    expect_raw (g, what, request, 413, "too_large", FALSE);
  }

  /* Really sent, 10 MiB with a Content-Length and 10 MiB in chunks, on
   * three endpoints: refused. */
  big = g_malloc (MIB64 + 1);
  memset (big, ' ', MIB64);
  big[MIB64] = '\0';
  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i += 5) {
    g_autofree char *what = g_strdup_printf ("%s %s with 10 MiB",
        endpoints[i].method, endpoints[i].path);
    g_autofree char *what_chunked = g_strdup_printf ("%s %s with 10 MiB in "
        "chunks", endpoints[i].method, endpoints[i].path);

    send_body (g, &endpoints[i], what, big, MIB10, FALSE, 413, "too_large");
    send_body (g, &endpoints[i], what_chunked, big, MIB10, TRUE, 0, NULL);
  }

  /* ... and not kept: 64 MiB to the sign-in (which anyone may call), and
   * the gateway's memory does not follow. 64 MiB, because the heap has
   * room for a password hash's 19 MiB it freed. */
  reset_peak (g);
  rss_before = gateway_memory_kib (g, "VmRSS:");
  send_body (g, &endpoints[0], "POST /api/v1/login with 64 MiB", big, MIB64,
      FALSE, 413, "too_large");
  send_body (g, &endpoints[0], "POST /api/v1/login with 64 MiB in chunks",
      big, MIB64, TRUE, 0, NULL);
  peak_after = gateway_memory_kib (g, "VmHWM:");
  g_test_message ("gateway memory: %" G_GUINT64_FORMAT " KiB, peak %"
      G_GUINT64_FORMAT " KiB while refusing 64 MiB bodies", rss_before,
      peak_after);
  if (peak_after > rss_before + 16 * 1024)
    g_error ("the gateway's memory peaked %" G_GUINT64_FORMAT " KiB above "
        "where it was while it refused 64 MiB bodies: it keeps what it "
        "refuses", peak_after - rss_before);

  /* just over the limit, through libsoup */
  for (guint i = 0; i < G_N_ELEMENTS (endpoints); i++) {
    const Endpoint *e = &endpoints[i];
    g_autoptr (GBytes) body = g_bytes_new_static (big, over);
    g_autoptr (WrHttpResponse) r = NULL;
    g_autoptr (GError) error = NULL;
    g_autofree char *what = g_strdup_printf ("%s %s with %" G_GSIZE_FORMAT
        " bytes", e->method, e->path, over);

    r = wr_harness_request (g->h, e->method, e->path, token_for (g, e->auth),
        NULL, body, NULL, &error);
    g_assert_no_error (error);
    check_refusal (r, what, 413);
  }
  assert_unchanged (g, before);
  check_no_problems ();
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

static const char *const nasty[] = {
  "'; DROP TABLE users; --",
  "Robert'); DROP TABLE roles;--",
  "x' OR '1'='1",
  "double\"quote",
  "back\\slash",
  "100%_like",
  "$1 $$dollar$$",
  "semi;colon -- comment",
  "ünïcødé 名前 🙂",
  NULL
};

/* The object in the list at @path (member @key) whose @member is @value. */
static JsonObject *
find_in (Gateway *g, const char *path, const char *key, const char *member,
    const char *value, WrHttpResponse **keep)
{
  WrHttpResponse *r = wr_api_expect (g->h, "GET", path, g->h->token, NULL,
      200, NULL);
  JsonArray *list = json_object_get_array_member (wr_api_object (r), key);

  *keep = r;
  for (guint i = 0; i < json_array_get_length (list); i++) {
    JsonObject *o = json_array_get_object_element (list, i);
    if (g_strcmp0 (json_object_get_string_member_with_default (o, member,
                ""), value) == 0)
      return o;
  }
  return NULL;
}

static void
test_sql_metacharacters (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;

  wr_watchdog_arm (90);
  g = gateway_for (GPOINTER_TO_INT (data));
  before = snapshot (g);

  for (const char *const *n = nasty; *n; n++) {
    g_autofree char *q = wr_json_quote (*n);
    g_autofree char *esc = wr_path_escape (*n);
    g_autofree char *password = g_strdup_printf ("pw %s", *n);
    g_autofree char *qpw = wr_json_quote (password);
    g_autofree char *body = NULL;
    g_autofree char *path = NULL;
    g_autofree char *token = NULL;
    g_autofree char *display = g_strdup_printf ("shown as %s", *n);
    g_autofree char *qdisplay = wr_json_quote (display);
    g_autoptr (WrHttpResponse) r = NULL;
    g_autoptr (WrHttpResponse) list = NULL;
    JsonObject *o;
    gint64 grant_id;

    g_test_message ("the name %s", *n);
    /* a user: made, listed, signs in, changed, deleted */
    body = g_strdup_printf ("{\"name\":%s,\"password\":%s,"
        "\"display_name\":%s}", q, qpw, q);
    r = wr_api_expect (g->h, "POST", "/api/v1/users", g->h->token, body, 201,
        NULL);
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "name"), ==, *n);
    g_clear_pointer (&r, wr_http_response_free);
    o = find_in (g, "/api/v1/users", "users", "name", *n, &list);
    g_assert_nonnull (o);
    g_assert_cmpstr (json_object_get_string_member (o, "display_name"), ==,
        *n);
    g_clear_pointer (&list, wr_http_response_free);
    token = wr_api_login (g->h, *n, password);
    r = wr_api_expect (g->h, "GET", "/api/v1/me", token, NULL, 200, NULL);
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "name"), ==, *n);
    g_clear_pointer (&r, wr_http_response_free);
    /* its API token, named alike */
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"name\":%s,\"scopes\":[\"view\"]}", q);
    r = wr_api_expect (g->h, "POST", "/api/v1/me/tokens", token, body, 201,
        NULL);
    g_clear_pointer (&r, wr_http_response_free);
    r = wr_api_expect (g->h, "GET", "/api/v1/me/tokens", token, NULL, 200,
        NULL);
    g_assert_cmpstr (json_object_get_string_member (
            json_array_get_object_element (json_object_get_array_member (
                    wr_api_object (r), "tokens"), 0), "name"), ==, *n);
    g_clear_pointer (&r, wr_http_response_free);
    path = g_strdup_printf ("/api/v1/me/tokens/%s", esc);
    r = wr_api_expect (g->h, "DELETE", path, token, NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    g_clear_pointer (&path, g_free);

    path = g_strdup_printf ("/api/v1/users/%s", esc);
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"display_name\":%s}", qdisplay);
    r = wr_api_expect (g->h, "PATCH", path, g->h->token, body, 200, NULL);
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "display_name"), ==, display);
    g_clear_pointer (&r, wr_http_response_free);

    /* a role and a group, and a grant tying them to the user */
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"name\":%s,\"permissions\":[\"view\"]}", q);
    r = wr_api_expect (g->h, "POST", "/api/v1/roles", g->h->token, body, 201,
        NULL);
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "name"), ==, *n);
    g_clear_pointer (&r, wr_http_response_free);
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"name\":%s}", q);
    r = wr_api_expect (g->h, "POST", "/api/v1/groups", g->h->token, body, 201,
        NULL);
    g_assert_cmpstr (json_object_get_string_member (wr_api_object (r),
            "name"), ==, *n);
    g_clear_pointer (&r, wr_http_response_free);
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"subject_kind\":\"user\",\"subject\":%s,"
        "\"role\":%s,\"group\":%s}", q, q, q);
    r = wr_api_expect (g->h, "POST", "/api/v1/grants", g->h->token, body, 201,
        NULL);
    grant_id = json_object_get_int_member (wr_api_object (r), "id");
    g_clear_pointer (&r, wr_http_response_free);
    o = find_in (g, "/api/v1/grants", "grants", "subject", *n, &list);
    g_assert_nonnull (o);
    g_assert_cmpstr (json_object_get_string_member (o, "role"), ==, *n);
    g_assert_cmpstr (json_object_get_string_member (o, "group"), ==, *n);
    g_assert_cmpint (json_object_get_int_member (o, "id"), ==, grant_id);
    g_clear_pointer (&list, wr_http_response_free);
    /* an OIDC group claim with the same text */
    g_clear_pointer (&body, g_free);
    body = g_strdup_printf ("{\"subject_kind\":\"oidc-group\",\"subject\":%s,"
        "\"role\":\"viewer\"}", q);
    r = wr_api_expect (g->h, "POST", "/api/v1/grants", g->h->token, body, 201,
        NULL);
    {
      g_autofree char *gpath = g_strdup_printf ("/api/v1/grants/%"
          G_GINT64_FORMAT, json_object_get_int_member (wr_api_object (r),
              "id"));
      g_autoptr (WrHttpResponse) d = wr_api_expect (g->h, "DELETE", gpath,
          g->h->token, NULL, 204, NULL);
    }
    g_clear_pointer (&r, wr_http_response_free);

    /* changed by name in the path */
    {
      g_autofree char *rpath = g_strdup_printf ("/api/v1/roles/%s", esc);
      g_autofree char *gpath = g_strdup_printf ("/api/v1/groups/%s", esc);
      g_autofree char *grpath = g_strdup_printf ("/api/v1/grants/%"
          G_GINT64_FORMAT, grant_id);
      g_autoptr (WrHttpResponse) a = wr_api_expect (g->h, "PATCH", rpath,
          g->h->token, "{\"permissions\":[\"view\",\"control\"]}", 200, NULL);
      g_autoptr (WrHttpResponse) b = wr_api_expect (g->h, "PATCH", gpath,
          g->h->token, "{\"require_reason\":true}", 200, NULL);
      g_autoptr (WrHttpResponse) in_use = wr_api (g->h, "DELETE", rpath,
          g->h->token, NULL);
      g_autoptr (WrHttpResponse) c = NULL;
      g_autoptr (WrHttpResponse) d = NULL;
      g_autoptr (WrHttpResponse) e = NULL;

      g_assert_cmpstr (json_object_get_string_member (wr_api_object (a),
              "name"), ==, *n);
      g_assert_true (json_object_get_boolean_member (wr_api_object (b),
              "require_reason"));
      /* a role in use by a grant cannot go */
      check_refusal (in_use, "DELETE a role in use", 409);
      c = wr_api_expect (g->h, "DELETE", grpath, g->h->token, NULL, 204,
          NULL);
      d = wr_api_expect (g->h, "DELETE", rpath, g->h->token, NULL, 204, NULL);
      e = wr_api_expect (g->h, "DELETE", gpath, g->h->token, NULL, 204, NULL);
    }
    r = wr_api_expect (g->h, "DELETE", path, g->h->token, NULL, 204, NULL);
    g_clear_pointer (&r, wr_http_response_free);
    /* gone, and only it */
    r = wr_api_expect (g->h, "DELETE", path, g->h->token, NULL, 404,
        "not_found");
  }
  /* every table is still there with what it had */
  assert_unchanged (g, before);

  /* A name with a slash: refused, or reachable through its path (escaped
   * as %2F) like any other; never made and then out of reach. */
  {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "POST", "/api/v1/users",
        g->h->token, "{\"name\":\"a/b /* c */\",\"password\":\""
        WR_TEST_PASSWORD "\"}");
    if (r->status == 201) {
      g_autoptr (WrHttpResponse) d = wr_api (g->h, "DELETE",
          "/api/v1/users/a%2Fb%20%2F%2A%20c%20%2A%2F", g->h->token, NULL);
      if (d->status != 204)
        g_error ("the user \"a/b /* c */\" was made, but DELETE "
            "/api/v1/users/a%%2Fb%%20%%2F%%2A%%20c%%20%%2A%%2F answers HTTP %u %s",
            d->status, d->body);
    } else {
      check_refusal (r, "POST /api/v1/users named \"a/b\"", 400);
    }
  }
  assert_unchanged (g, before);

  /* the same texts where no such user exists sign in as nobody */
  for (const char *const *n = nasty; *n; n++) {
    g_autofree char *q = wr_json_quote (*n);
    g_autofree char *body = g_strdup_printf ("{\"username\":%s,"
        "\"password\":%s}", q, q);
    g_autoptr (WrHttpResponse) r = wr_api_expect (g->h, "POST",
        "/api/v1/login", NULL, body, 401, "unauthorized");
  }
  assert_unchanged (g, before);
  check_no_problems ();
  wr_watchdog_disarm ();
}

/* ---------------------------------------------------------------------- */

static void
test_path_arguments (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;
  const struct {
    const char *method;
    const char *path;
    const char *body;
  } paths[] = {
    { "PATCH", "/api/v1/users/%FF", "{\"display_name\":\"x\"}" },
    { "DELETE", "/api/v1/users/%C0%AF", NULL },
    { "DELETE", "/api/v1/users/a%2Fb", NULL },
    { "DELETE", "/api/v1/users/no-such-user", NULL },
    { "PATCH", "/api/v1/roles/%ED%A0%80", "{\"permissions\":[\"view\"]}" },
    { "DELETE", "/api/v1/groups/%27%3B%20DROP%20TABLE%20agent_groups%3B--",
      NULL },
    { "DELETE", "/api/v1/grants/1%20OR%201%3D1", NULL },
    { "DELETE", "/api/v1/grants/-1", NULL },
    { "DELETE", "/api/v1/grants/99999999999999999999999", NULL },
    { "DELETE", "/api/v1/grants/0x10", NULL },
    { "GET", "/api/v1/agents/%FF", NULL },
    { "PUT", "/api/v1/agents/%27%20OR%201%3D1--/group",
      "{\"group\":\"default\"}" },
    { "DELETE", "/api/v1/me/tokens/%FF", NULL },
    { "GET", "/api/v1/users/", NULL },
    { "GET", "/api/v1//users", NULL },
  };

  wr_watchdog_arm (60);
  g = gateway_for (GPOINTER_TO_INT (data));
  before = snapshot (g);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, paths[i].method,
        paths[i].path, g->h->token, paths[i].body);
    g_autofree char *what = g_strdup_printf ("%s %s", paths[i].method,
        paths[i].path);
    check_refusal (r, what, 0);
  }
  /* libsoup itself refuses these before the gateway sees them (a plain
   * 400 without a body): a NUL and a ".." segment in the decoded path */
  {
    const char *raw[] = { "/api/v1/users/a%00b",
      "/api/v1/agents/..%2F..%2Fetc%2Fpasswd", NULL };
    for (const char **p = raw; *p; p++) {
      g_autoptr (WrHttpResponse) r = wr_api (g->h, "DELETE", *p,
          g->h->token, NULL);
      if (r->status < 400 || r->status >= 500)
        g_error ("DELETE %s: HTTP %u %s", *p, r->status, r->body);
    }
  }
  /* a bearer token that is no token at all */
  {
    g_autofree char *huge = g_strnfill (6000, 'A');
    const char *bad[] = { "", " ", "\xff\xfe", "a b c", "' OR '1'='1",
      huge, NULL };
    for (const char **b = bad; *b; b++) {
      g_autoptr (WrHttpResponse) r = wr_api (g->h, "GET", "/api/v1/users",
          *b, NULL);
      check_refusal (r, "GET /api/v1/users with a bogus bearer token", 401);
    }
  }
  assert_unchanged (g, before);
  check_no_problems ();

  /* The path is decoded once: "pct%2541" names the user "pct%41", never
   * "pctA" (which a second decoding would make of it). */
  wr_api_create_user (g->h, "pct%41", WR_TEST_PASSWORD);
  wr_api_create_user (g->h, "pctA", WR_TEST_PASSWORD);
  {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "DELETE",
        "/api/v1/users/pct%2541", g->h->token, NULL);
    g_autoptr (WrHttpResponse) list = NULL;
    g_autoptr (WrHttpResponse) again = NULL;
    gboolean a_left = find_in (g, "/api/v1/users", "users", "name", "pctA",
        &list) != NULL;

    if (!a_left)
      g_error ("DELETE /api/v1/users/pct%%2541 deleted the user \"pctA\" "
          "(HTTP %u %s): the path was decoded twice", r->status, r->body);
    wr_api_check (r, "DELETE /api/v1/users/pct%2541", 204, NULL);
    again = wr_api_expect (g->h, "DELETE", "/api/v1/users/pctA",
        g->h->token, NULL, 204, NULL);
  }
  assert_unchanged (g, before);
  check_no_problems ();
  wr_watchdog_disarm ();
}

/* The JSON of group @name from GET /api/v1/groups (asserted to exist). */
static JsonObject *
group_json (Gateway *g, const char *name, WrHttpResponse **keep)
{
  JsonObject *o = find_in (g, "/api/v1/groups", "groups", "name", name,
      keep);

  if (!o)
    g_error ("GET /api/v1/groups has no group %s", name);
  return o;
}

/* Recording policy and retention of a group through the API: accepted
 * values round-trip (POST, PATCH, GET), bad ones are 400 and change
 * nothing, and only an admin may set them. */
static void
test_group_policy (gconstpointer data)
{
  Gateway *g;
  g_autofree char *before = NULL;
  g_autoptr (WrHttpResponse) created = NULL;
  g_autoptr (WrHttpResponse) patched = NULL;
  g_autoptr (WrHttpResponse) list = NULL;
  JsonObject *o;
  const char *bad_create[] = {
    "{\"name\":\"p-bad\",\"recording\":\"on\"}",
    "{\"name\":\"p-bad\",\"recording\":\"\"}",
    "{\"name\":\"p-bad\",\"recording\":\"STRICT\"}",
    "{\"name\":\"p-bad\",\"recording\":\"strict \"}",
    "{\"name\":\"p-bad\",\"retention_days\":-1}",
    "{\"name\":\"p-bad\",\"retention_days\":36501}",
    "{\"name\":\"p-bad\",\"retention_days\":\"30\"}",
    "{\"name\":\"p-bad\",\"retention_days\":1.5}",
    "{\"name\":\"p-bad\",\"retention_days\":true}",
    "{\"name\":\"p-bad\",\"retention_days\":9223372036854775807}",
  };
  const char *bad_patch[] = {
    "{\"recording\":\"always\"}", "{\"recording\":7}",
    "{\"retention_days\":-5}", "{\"retention_days\":null}",
    "{\"recording\":null}", "{\"require_reason\":false,"
    "\"retention_days\":-1}", "{}",
  };

  wr_watchdog_arm (60);
  g = gateway_for (GPOINTER_TO_INT (data));

  created = wr_api_expect (g->h, "POST", "/api/v1/groups", g->h->token,
      "{\"name\":\"p-vault\",\"recording\":\"strict\","
      "\"retention_days\":30}", 201, NULL);
  o = wr_api_object (created);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==,
      "strict");
  g_assert_cmpint (json_object_get_int_member (o, "retention_days"), ==, 30);
  g_assert_false (json_object_get_boolean_member (o, "require_reason"));

  patched = wr_api_expect (g->h, "PATCH", "/api/v1/groups/p-vault",
      g->h->token, "{\"recording\":\"best-effort\",\"retention_days\":0}",
      200, NULL);
  o = wr_api_object (patched);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==,
      "best-effort");
  g_assert_cmpint (json_object_get_int_member (o, "retention_days"), ==, 0);
  g_clear_pointer (&patched, wr_http_response_free);
  /* one field alone leaves the others */
  patched = wr_api_expect (g->h, "PATCH", "/api/v1/groups/p-vault",
      g->h->token, "{\"require_reason\":true}", 200, NULL);
  o = wr_api_object (patched);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==,
      "best-effort");
  g_assert_true (json_object_get_boolean_member (o, "require_reason"));
  o = group_json (g, "p-vault", &list);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==,
      "best-effort");
  g_assert_cmpint (json_object_get_int_member (o, "retention_days"), ==, 0);
  g_clear_pointer (&list, wr_http_response_free);
  o = group_json (g, "default", &list);
  g_assert_cmpstr (json_object_get_string_member (o, "recording"), ==, "off");
  g_assert_cmpint (json_object_get_int_member (o, "retention_days"), ==, 0);

  before = snapshot (g);
  for (guint i = 0; i < G_N_ELEMENTS (bad_create); i++) {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "POST", "/api/v1/groups",
        g->h->token, bad_create[i]);
    g_autofree char *what = g_strdup_printf ("POST /api/v1/groups %s",
        bad_create[i]);
    check_refusal (r, what, 400);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad_patch); i++) {
    g_autoptr (WrHttpResponse) r = wr_api (g->h, "PATCH",
        "/api/v1/groups/p-vault", g->h->token, bad_patch[i]);
    g_autofree char *what = g_strdup_printf ("PATCH /api/v1/groups/p-vault "
        "%s", bad_patch[i]);
    check_refusal (r, what, 400);
  }
  {
    /* not an admin, or nobody: no change either */
    g_autoptr (WrHttpResponse) r1 = wr_api (g->h, "PATCH",
        "/api/v1/groups/p-vault", g->user_token, "{\"recording\":\"off\"}");
    g_autoptr (WrHttpResponse) r2 = wr_api (g->h, "PATCH",
        "/api/v1/groups/p-vault", NULL, "{\"recording\":\"off\"}");
    g_autoptr (WrHttpResponse) r3 = wr_api (g->h, "PATCH",
        "/api/v1/groups/no-such", g->h->token, "{\"recording\":\"off\"}");

    check_refusal (r1, "PATCH a group's recording as a non-admin", 403);
    check_refusal (r2, "PATCH a group's recording unauthenticated", 401);
    check_refusal (r3, "PATCH an unknown group's recording", 404);
  }
  assert_unchanged (g, before);
  check_no_problems ();
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
      { "malformed-bodies", test_malformed_bodies },
      { "wrong-types-and-missing-fields", test_wrong_types },
      { "oversized-bodies", test_oversized_bodies },
      { "sql-metacharacters-round-trip", test_sql_metacharacters },
      { "path-arguments", test_path_arguments },
      { "group-policy", test_group_policy },
    };
    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/integration/api-input/%s/%s",
          wr_backend_names[b], tests[t].name);
      g_test_add_data_func (path, GINT_TO_POINTER (b), tests[t].func);
    }
  }

  ret = g_test_run ();
  for (int b = 0; b < WR_N_BACKENDS; b++) {
    g_free (gateways[b].user_token);
    g_clear_pointer (&gateways[b].h, wr_harness_free);
  }
  wr_api_cleanup ();
  return ret;
}
