/* Tests for the OpenID Connect login (gateway/oidc.c).
 *
 * Two providers on loopback:
 * - the real one: tests/oidc/provider.mjs (the certified `oidc-provider`
 *   package) run by node, driven through its login form with libsoup the
 *   way a browser would;
 * - a fake one in this process (a SoupServer on its own thread) that hands
 *   out ID tokens the test crafts: forged, expired, for another audience...
 *   which no real provider would issue. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <libsoup/soup.h>
#include <openssl/evp.h>

#include "common/autocleanups.h"
#include "gateway/jwk.h"
#include "gateway/oidc.h"

#define CLIENT_ID "webremote"
#define CLIENT_SECRET "webremote-test-secret"
#define REDIRECT_URI "https://127.0.0.1:8443/api/v1/oidc/callback"
/* Seconds a single test may take before the watchdog fails it. */
#define WATCHDOG_SECONDS 30

/* --- watchdog --- */

static GMutex watchdog_lock;
static gint64 watchdog_deadline;
static const char *watchdog_test;

static gpointer
watchdog_thread (gpointer data)
{
  for (;;) {
    gint64 deadline;

    g_usleep (100 * 1000);
    g_mutex_lock (&watchdog_lock);
    deadline = watchdog_deadline;
    g_mutex_unlock (&watchdog_lock);
    if (deadline && g_get_monotonic_time () > deadline) {
      g_printerr ("watchdog: %s took longer than %d s\n", watchdog_test,
          WATCHDOG_SECONDS);
      abort ();
    }
  }
  return NULL;
}

static void
watchdog_arm (void)
{
  g_mutex_lock (&watchdog_lock);
  watchdog_test = g_test_get_path ();
  watchdog_deadline = g_get_monotonic_time ()
      + WATCHDOG_SECONDS * G_USEC_PER_SEC;
  g_mutex_unlock (&watchdog_lock);
}

/* --- the real provider (node) --- */

static GSubprocess *node_provider;
static char *real_issuer;

static void
die_with_parent (gpointer data)
{
  /* A test that crashes must not leave the provider running. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_real_provider (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *dir = g_build_filename (WR_SOURCE_ROOT, "tests", "oidc",
      NULL);
  g_autofree char *modules = g_build_filename (dir, "node_modules",
      "oidc-provider", NULL);
  g_autofree char *script = g_build_filename (dir, "provider.mjs", NULL);
  g_autofree char *line = NULL;
  JsonObject *ready;

  if (node == NULL)
    g_error ("node is not installed (scripts/install-deps installs it)");
  if (!g_file_test (modules, G_FILE_TEST_IS_DIR))
    g_error ("%s is missing: run `npm ci` in tests/oidc "
        "(scripts/install-deps does)", modules);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL,
      NULL);
  node_provider = g_subprocess_launcher_spawn (launcher, &error, node, script,
      "--port", "0", "--client-id", CLIENT_ID, "--client-secret",
      CLIENT_SECRET, "--redirect-uri", REDIRECT_URI, NULL);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (node_provider));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (json_parser_load_from_data (parser, line, -1, NULL));
  ready = json_node_get_object (json_parser_get_root (parser));
  real_issuer = g_strdup (json_object_get_string_member (ready, "issuer"));
  g_assert_true (g_str_has_prefix (real_issuer, "http://127.0.0.1:"));
}

static void
stop_real_provider (void)
{
  if (node_provider == NULL)
    return;
  g_subprocess_send_signal (node_provider, SIGTERM);
  g_subprocess_wait (node_provider, NULL, NULL);
  g_clear_object (&node_provider);
}

static WrOidcProvider *
real_provider_new_full (const char *client_id, const char *secret,
    const char *redirect_uri)
{
  g_autoptr (GError) error = NULL;
  WrOidcConfig config = {
    .issuer = real_issuer,
    .client_id = client_id,
    .client_secret = secret,
    .redirect_uri = redirect_uri,
  };
  WrOidcProvider *provider = wr_oidc_provider_new (&config, NULL, &error);

  g_assert_no_error (error);
  return provider;
}

static WrOidcProvider *
real_provider_new (const char *client_id, const char *secret)
{
  return real_provider_new_full (client_id, secret, REDIRECT_URI);
}

/* Plays the browser: follows the authorization URL to the login form,
 * posts it and stops at the redirect to @redirect_uri, returning its code
 * and state parameters. */
static void
browser_login_to (const char *authorize_url, const char *redirect_uri,
    const char *username, char **code, char **state)
{
  g_autofree char *prefix = g_strconcat (redirect_uri, "?", NULL);
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup (authorize_url);
  char *form = NULL;
  guint i;

  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  for (i = 0; i < 10; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SoupMessage) msg = form
        ? soup_message_new_from_encoded_form ("POST", url, form)
        : soup_message_new ("GET", url);
    g_autoptr (GBytes) body = NULL;
    g_autoptr (GRegex) action = NULL;
    g_autoptr (GMatchInfo) match = NULL;
    g_autofree char *html = NULL;
    guint status;

    form = NULL;
    g_assert_nonnull (msg);
    soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
    /* The provider's cookies are SameSite=Lax: act as a top-level
     * navigation on its own site, as the browser would. */
    soup_message_set_site_for_cookies (msg, soup_message_get_uri (msg));
    soup_message_set_first_party (msg, soup_message_get_uri (msg));
    soup_message_set_is_top_level_navigation (msg, TRUE);
    body = soup_session_send_and_read (session, msg, NULL, &error);
    g_assert_no_error (error);
    status = soup_message_get_status (msg);

    if (SOUP_STATUS_IS_REDIRECTION (status)) {
      const char *location = soup_message_headers_get_one (
          soup_message_get_response_headers (msg), "Location");
      g_autofree char *next = NULL;

      g_assert_nonnull (location);
      next = g_uri_resolve_relative (url, location, G_URI_FLAGS_NONE, &error);
      g_assert_no_error (error);
      if (g_str_has_prefix (next, prefix)) {
        g_autoptr (GHashTable) params = g_uri_parse_params (
            next + strlen (prefix), -1, "&", G_URI_PARAMS_NONE, &error);

        g_assert_no_error (error);
        *code = g_strdup (g_hash_table_lookup (params, "code"));
        *state = g_strdup (g_hash_table_lookup (params, "state"));
        g_assert_nonnull (*code);
        return;
      }
      g_free (url);
      url = g_steal_pointer (&next);
      continue;
    }

    /* The login form: <form ... action="/interaction/UID/login">. */
    g_assert_cmpuint (status, ==, 200);
    html = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    action = g_regex_new ("<form[^>]*action=\"([^\"]+)\"", 0, 0, NULL);
    if (!g_regex_match (action, html, 0, &match))
      g_error ("no login form at %s:\n%s", url, html);
    {
      g_autofree char *path = g_match_info_fetch (match, 1);
      g_autofree char *next = g_uri_resolve_relative (url, path,
          G_URI_FLAGS_NONE, &error);

      g_assert_no_error (error);
      g_free (url);
      url = g_steal_pointer (&next);
    }
    form = soup_form_encode ("username", username, "password", "test", NULL);
  }
  g_error ("the login did not reach the redirect URI");
}

static void
browser_login (const char *authorize_url, const char *username,
    char **code, char **state)
{
  browser_login_to (authorize_url, REDIRECT_URI, username, code, state);
}

typedef struct {
  WrOidcProvider *provider;
  WrOidcLogin *login;
  char *code;
  char *state;
} Flow;

/* Begins a login with @client_id and completes the provider side as
 * @username; the gateway side (wr_oidc_finish) is up to the test. */
static void
flow_start (Flow *flow, const char *client_id, const char *secret,
    const char *username)
{
  g_autoptr (GError) error = NULL;

  watchdog_arm ();
  flow->provider = real_provider_new (client_id, secret);
  flow->login = wr_oidc_begin (flow->provider, &error);
  g_assert_no_error (error);
  browser_login (flow->login->authorize_url, username, &flow->code,
      &flow->state);
  g_assert_cmpstr (flow->state, ==, flow->login->state);
}

static void
flow_clear (Flow *flow)
{
  wr_oidc_provider_unref (flow->provider);
  wr_oidc_login_free (flow->login);
  g_free (flow->code);
  g_free (flow->state);
}

static void
check_identity (WrOidcIdentity *id, const char *user, const char *email,
    const char *const *groups)
{
  g_assert_nonnull (id);
  g_assert_cmpstr (id->issuer, ==, real_issuer);
  g_assert_cmpstr (id->subject, ==, user);
  g_assert_cmpstr (id->username, ==, user);
  g_assert_cmpstr (id->email, ==, email);
  g_assert_true (g_strv_equal ((const char *const *) id->groups, groups));
}

/* --- tests against the real provider --- */

static void
test_discovery (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcProvider) provider = NULL;
  g_autofree char *slash = g_strconcat (real_issuer, "/", NULL);
  WrOidcConfig config = {
    .issuer = slash,
    .client_id = CLIENT_ID,
    .redirect_uri = REDIRECT_URI,
  };

  watchdog_arm ();
  provider = real_provider_new (CLIENT_ID, CLIENT_SECRET);
  g_assert_true (wr_oidc_provider_discover (provider, &error));
  g_assert_no_error (error);

  /* The provider's "issuer" has no trailing slash: not the same issuer. */
  g_clear_pointer (&provider, wr_oidc_provider_unref);
  provider = wr_oidc_provider_new (&config, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (wr_oidc_provider_discover (provider, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY);
}

static void
test_authorize_url (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcProvider) provider = NULL;
  g_autoptr (WrOidcLogin) login = NULL;
  g_autoptr (WrOidcLogin) other = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GHashTable) params = NULL;
  guchar md[32];
  unsigned int md_len = 0;
  g_autofree char *challenge = NULL;
  const char *p;

  watchdog_arm ();
  provider = real_provider_new (CLIENT_ID, CLIENT_SECRET);
  login = wr_oidc_begin (provider, &error);
  g_assert_no_error (error);
  other = wr_oidc_begin (provider, &error);
  g_assert_no_error (error);

  /* RFC 7636 4.1: 43 to 128 unreserved characters, fresh every time. */
  g_assert_cmpuint (strlen (login->code_verifier), >=, 43);
  g_assert_cmpuint (strlen (login->code_verifier), <=, 128);
  for (p = login->code_verifier; *p; p++)
    g_assert_true (g_ascii_isalnum (*p) || strchr ("-._~", *p));
  g_assert_cmpstr (login->code_verifier, !=, other->code_verifier);
  g_assert_cmpstr (login->state, !=, other->state);
  g_assert_cmpstr (login->nonce, !=, other->nonce);
  g_assert_cmpstr (login->state, !=, login->nonce);

  uri = g_uri_parse (login->authorize_url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (login->authorize_url, real_issuer));
  params = g_uri_parse_params (g_uri_get_query (uri), -1, "&",
      G_URI_PARAMS_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (params, "response_type"), ==, "code");
  g_assert_cmpstr (g_hash_table_lookup (params, "client_id"), ==, CLIENT_ID);
  g_assert_cmpstr (g_hash_table_lookup (params, "redirect_uri"), ==,
      REDIRECT_URI);
  g_assert_cmpstr (g_hash_table_lookup (params, "scope"), ==,
      WR_OIDC_DEFAULT_SCOPES);
  g_assert_cmpstr (g_hash_table_lookup (params, "state"), ==, login->state);
  g_assert_cmpstr (g_hash_table_lookup (params, "nonce"), ==, login->nonce);
  g_assert_cmpstr (g_hash_table_lookup (params, "code_challenge_method"), ==,
      "S256");
  g_assert_cmpint (EVP_Digest (login->code_verifier,
          strlen (login->code_verifier), md, &md_len, EVP_sha256 (), NULL),
      ==, 1);
  challenge = wr_base64url_encode (md, md_len);
  g_assert_cmpstr (g_hash_table_lookup (params, "code_challenge"), ==,
      challenge);
  /* The verifier itself never leaves the gateway. */
  g_assert_null (strstr (login->authorize_url, login->code_verifier));
}

static void
test_alice_logs_in (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  const char *groups[] = { "support", NULL };
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  check_identity (id, "alice", "alice@example.test", groups);
  g_assert_cmpstr (id->name, ==, "Alice Support");
  flow_clear (&flow);
}

/* ES256 ID tokens and client_secret_post at the token endpoint. */
static void
test_bob_logs_in_with_es256 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  const char *groups[] = { "auditors", NULL };
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID "-es256", CLIENT_SECRET, "bob");
  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  check_identity (id, "bob", "bob@example.test", groups);
  flow_clear (&flow);
}

/* A public client: no secret, PKCE alone. */
static void
test_public_client_logs_in (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  const char *groups[] = { "admins", "support", NULL };
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID "-public", NULL, "carol");
  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  check_identity (id, "carol", "carol@example.test", groups);
  flow_clear (&flow);
}

static void
test_user_without_groups (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  const char *groups[] = { NULL };
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "dave");
  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  check_identity (id, "dave", "dave@example.test", groups);
  flow_clear (&flow);
}

/* The gateway under test picks its port at run time: the test provider
 * takes any loopback port for a registered callback path. */
static void
test_gateway_on_another_port (void)
{
  const char *redirect = "https://127.0.0.1:39999/api/v1/oidc/callback";
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcProvider) provider = NULL;
  g_autoptr (WrOidcLogin) login = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autofree char *code = NULL, *state = NULL;

  watchdog_arm ();
  provider = real_provider_new_full (CLIENT_ID, CLIENT_SECRET, redirect);
  login = wr_oidc_begin (provider, &error);
  g_assert_no_error (error);
  browser_login_to (login->authorize_url, redirect, "bob", &code, &state);
  id = wr_oidc_finish (provider, login, state, code, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->username, ==, "bob");
}

/* A callback whose state is not the login's is refused before the code is
 * spent: the right callback still works afterwards. */
static void
test_wrong_state_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autofree char *almost = NULL;
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  almost = g_strdup (flow.state);
  almost[0] = almost[0] == 'A' ? 'B' : 'A';
  g_assert_null (wr_oidc_finish (flow.provider, flow.login, almost, flow.code,
          &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_STATE);
  g_clear_error (&error);
  g_assert_null (wr_oidc_finish (flow.provider, flow.login, NULL, flow.code,
          &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_STATE);
  g_clear_error (&error);
  g_assert_null (wr_oidc_finish (flow.provider, flow.login, "", flow.code,
          &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_STATE);
  g_clear_error (&error);

  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->username, ==, "alice");
  flow_clear (&flow);
}

static void
test_replayed_code_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autoptr (WrOidcIdentity) again = NULL;
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  id = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_no_error (error);
  again = wr_oidc_finish (flow.provider, flow.login, flow.state, flow.code,
      &error);
  g_assert_null (again);
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE);
  g_assert_nonnull (strstr (error->message, "invalid_grant"));
  g_assert_null (strstr (error->message, flow.code));
  flow_clear (&flow);
}

/* The ID token carries the nonce of the login that started the flow; a
 * login with another nonce (an injected code) is refused. */
static void
test_nonce_mismatch_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  g_free (flow.login->nonce);
  flow.login->nonce = g_strdup ("another-login-s-nonce-0123456789abcdefghij");
  g_assert_null (wr_oidc_finish (flow.provider, flow.login, flow.state,
          flow.code, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_NONCE);
  flow_clear (&flow);
}

/* PKCE: a code without the right verifier is worthless. */
static void
test_wrong_code_verifier_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  g_free (flow.login->code_verifier);
  flow.login->code_verifier =
      g_strdup ("an-attacker-s-verifier-0123456789abcdefghijklmn");
  g_assert_null (wr_oidc_finish (flow.provider, flow.login, flow.state,
          flow.code, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE);
  g_assert_null (strstr (error->message, flow.login->code_verifier));
  flow_clear (&flow);
}

static void
test_wrong_client_secret_is_refused (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcProvider) wrong = NULL;
  Flow flow = { 0 };

  flow_start (&flow, CLIENT_ID, CLIENT_SECRET, "alice");
  wrong = real_provider_new (CLIENT_ID, "not-the-secret");
  g_assert_null (wr_oidc_finish (wrong, flow.login, flow.state, flow.code,
          &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_TOKEN_EXCHANGE);
  g_assert_null (strstr (error->message, "not-the-secret"));
  flow_clear (&flow);
}

/* Several worker threads log users in on one provider at once. */
typedef struct {
  Flow flow;
  WrOidcIdentity *id;
  GError *error;
} ThreadLogin;

static gpointer
finish_in_thread (gpointer data)
{
  ThreadLogin *t = data;

  t->id = wr_oidc_finish (t->flow.provider, t->flow.login, t->flow.state,
      t->flow.code, &t->error);
  return NULL;
}

static void
test_concurrent_logins (void)
{
  g_autoptr (WrOidcProvider) shared = NULL;
  ThreadLogin logins[4] = { 0 };
  GThread *threads[G_N_ELEMENTS (logins)];
  const char *users[] = { "alice", "bob", "carol", "dave" };
  guint i;

  watchdog_arm ();
  shared = real_provider_new (CLIENT_ID, CLIENT_SECRET);
  for (i = 0; i < G_N_ELEMENTS (logins); i++) {
    g_autoptr (GError) error = NULL;

    logins[i].flow.provider = wr_oidc_provider_ref (shared);
    logins[i].flow.login = wr_oidc_begin (shared, &error);
    g_assert_no_error (error);
    browser_login (logins[i].flow.login->authorize_url, users[i],
        &logins[i].flow.code, &logins[i].flow.state);
  }
  for (i = 0; i < G_N_ELEMENTS (logins); i++)
    threads[i] = g_thread_new ("login", finish_in_thread, &logins[i]);
  for (i = 0; i < G_N_ELEMENTS (logins); i++) {
    g_thread_join (threads[i]);
    g_assert_no_error (logins[i].error);
    g_assert_cmpstr (logins[i].id->username, ==, users[i]);
    wr_oidc_identity_free (logins[i].id);
    flow_clear (&logins[i].flow);
  }
}

static void
test_unreachable_provider (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetSocketAddress) any = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (WrOidcProvider) provider = NULL;
  g_autofree char *issuer = NULL;
  WrOidcConfig config = {
    .client_id = CLIENT_ID,
    .redirect_uri = REDIRECT_URI,
  };

  watchdog_arm ();
  /* A port that was free a moment ago and nobody listens on. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  any = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (
          "127.0.0.1", 0));
  g_assert_true (g_socket_bind (socket, G_SOCKET_ADDRESS (any), FALSE,
          &error));
  bound = g_socket_get_local_address (socket, &error);
  issuer = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (
          G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  config.issuer = issuer;
  provider = wr_oidc_provider_new (&config, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (wr_oidc_begin (provider, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER);
}

/* --- configuration --- */

static void
check_bad_config (const char *issuer, const char *client_id,
    const char *redirect_uri, const char *scopes)
{
  g_autoptr (GError) error = NULL;
  WrOidcConfig config = {
    .issuer = issuer,
    .client_id = client_id,
    .redirect_uri = redirect_uri,
    .scopes = scopes,
  };

  g_assert_null (wr_oidc_provider_new (&config, NULL, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_CONFIG);
}

static void
test_config_is_checked (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcProvider) ok = NULL;
  WrOidcConfig config = {
    .issuer = "https://idp.example.com/realms/x",
    .client_id = CLIENT_ID,
    .redirect_uri = REDIRECT_URI,
  };

  ok = wr_oidc_provider_new (&config, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_oidc_provider_get_issuer (ok), ==, config.issuer);

  /* http only on loopback; a real deployment needs https. */
  check_bad_config ("http://idp.example.com", CLIENT_ID, REDIRECT_URI, NULL);
  check_bad_config ("http://10.0.0.1:8080", CLIENT_ID, REDIRECT_URI, NULL);
  check_bad_config ("ftp://idp.example.com", CLIENT_ID, REDIRECT_URI, NULL);
  check_bad_config ("https://idp.example.com/?tenant=1", CLIENT_ID,
      REDIRECT_URI, NULL);
  check_bad_config ("https://idp.example.com/#x", CLIENT_ID, REDIRECT_URI,
      NULL);
  check_bad_config ("idp.example.com", CLIENT_ID, REDIRECT_URI, NULL);
  check_bad_config (NULL, CLIENT_ID, REDIRECT_URI, NULL);
  check_bad_config ("https://idp.example.com", "", REDIRECT_URI, NULL);
  check_bad_config ("https://idp.example.com", NULL, REDIRECT_URI, NULL);
  check_bad_config ("https://idp.example.com", CLIENT_ID,
      "http://gateway.example.com/cb", NULL);
  check_bad_config ("https://idp.example.com", CLIENT_ID, NULL, NULL);
  check_bad_config ("https://idp.example.com", CLIENT_ID, REDIRECT_URI,
      "profile email");
}

/* --- the fake provider (crafted ID tokens) --- */

typedef struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  char *issuer;

  GMutex lock; /* guards everything below */
  char *advertised_issuer; /* what discovery says; normally == issuer */
  char *jwks;              /* the JWKS document served */
  char *id_token;          /* what the token endpoint hands out */
  gboolean huge_discovery; /* serve a discovery document over 1 MiB */
  guint jwks_fetches;
  char *token_request;     /* the last token request body */
  char *token_authorization;
} Fake;

static Fake fake;

static void
fake_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  g_autofree char *body = NULL;

  g_mutex_lock (&fake.lock);
  if (strcmp (path, "/.well-known/openid-configuration") == 0) {
    if (fake.huge_discovery) {
      GString *s = g_string_new ("{\"padding\":\"");

      while (s->len < 2 * 1024 * 1024)
        g_string_append (s, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
      g_string_append (s, "\"}");
      body = g_string_free (s, FALSE);
    } else {
      body = g_strdup_printf ("{\"issuer\":\"%s\","
          "\"authorization_endpoint\":\"%s/auth\","
          "\"token_endpoint\":\"%s/token\",\"jwks_uri\":\"%s/jwks\","
          "\"response_types_supported\":[\"code\"],"
          "\"subject_types_supported\":[\"public\"],"
          "\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"]}",
          fake.advertised_issuer, fake.issuer, fake.issuer, fake.issuer);
    }
  } else if (strcmp (path, "/jwks") == 0) {
    body = g_strdup (fake.jwks);
    fake.jwks_fetches++;
  } else if (strcmp (path, "/token") == 0) {
    SoupMessageBody *request = soup_server_message_get_request_body (msg);
    const char *auth = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "Authorization");

    g_free (fake.token_request);
    fake.token_request = g_strndup (request->data, request->length);
    g_free (fake.token_authorization);
    fake.token_authorization = g_strdup (auth);
    body = g_strdup_printf ("{\"access_token\":\"at\",\"token_type\":"
        "\"Bearer\",\"expires_in\":60,\"id_token\":\"%s\"}", fake.id_token);
  }
  g_mutex_unlock (&fake.lock);

  if (body == NULL) {
    soup_server_message_set_status (msg, 404, NULL);
    return;
  }
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, g_steal_pointer (&body), strlen (body));
}

static gpointer
fake_thread (gpointer data)
{
  g_main_context_push_thread_default (fake.context);
  g_main_loop_run (fake.loop);
  g_main_context_pop_thread_default (fake.context);
  return NULL;
}

static void
start_fake_provider (void)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_mutex_init (&fake.lock);
  fake.context = g_main_context_new ();
  fake.loop = g_main_loop_new (fake.context, FALSE);
  g_main_context_push_thread_default (fake.context);
  fake.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fake.server, NULL, fake_handler, NULL, NULL);
  g_assert_true (soup_server_listen_local (fake.server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  g_main_context_pop_thread_default (fake.context);
  uris = soup_server_get_uris (fake.server);
  fake.issuer = g_strdup_printf ("http://127.0.0.1:%d",
      g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  fake.thread = g_thread_new ("fake-provider", fake_thread, NULL);
}

static void
stop_fake_provider (void)
{
  g_main_loop_quit (fake.loop);
  g_thread_join (fake.thread);
  g_main_context_push_thread_default (fake.context);
  g_clear_object (&fake.server);
  g_main_context_pop_thread_default (fake.context);
  g_main_loop_unref (fake.loop);
  g_main_context_unref (fake.context);
  g_free (fake.issuer);
  g_free (fake.advertised_issuer);
  g_free (fake.jwks);
  g_free (fake.id_token);
  g_free (fake.token_request);
  g_free (fake.token_authorization);
}

/* Per-test keys: the provider's RSA and EC keys, and a forger's. */
typedef struct {
  EVP_PKEY *rsa;
  EVP_PKEY *ec;
  EVP_PKEY *forger;
  WrOidcProvider *provider;
  WrOidcLogin *login;
} FakeFixture;

static char *
jwks_document (EVP_PKEY **keys, const char **kids, guint n)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonObject *object = json_object_new ();
  JsonArray *array = json_array_new ();
  guint i;

  for (i = 0; i < n; i++)
    json_array_add_object_element (array, wr_jwk_to_json (keys[i], kids[i],
            NULL));
  json_object_set_array_member (object, "keys", array);
  json_node_take_object (root, object);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
fake_set_keys (EVP_PKEY **keys, const char **kids, guint n)
{
  g_autofree char *doc = jwks_document (keys, kids, n);

  g_mutex_lock (&fake.lock);
  g_free (fake.jwks);
  fake.jwks = g_steal_pointer (&doc);
  g_mutex_unlock (&fake.lock);
}

static void
fake_setup (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  EVP_PKEY *keys[2];
  const char *kids[] = { "rsa-1", "ec-1" };
  WrOidcConfig config = {
    .issuer = fake.issuer,
    .client_id = CLIENT_ID,
    .client_secret = CLIENT_SECRET,
    .redirect_uri = REDIRECT_URI,
    .groups_claim = "roles",
    .username_claim = "upn",
  };

  watchdog_arm ();
  f->rsa = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  f->ec = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  f->forger = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  keys[0] = f->rsa;
  keys[1] = f->ec;
  fake_set_keys (keys, kids, 2);
  g_mutex_lock (&fake.lock);
  g_free (fake.advertised_issuer);
  fake.advertised_issuer = g_strdup (fake.issuer);
  fake.huge_discovery = FALSE;
  fake.jwks_fetches = 0;
  g_mutex_unlock (&fake.lock);

  f->provider = wr_oidc_provider_new (&config, NULL, &error);
  g_assert_no_error (error);
  f->login = wr_oidc_begin (f->provider, &error);
  g_assert_no_error (error);
}

static void
fake_teardown (FakeFixture *f, gconstpointer data)
{
  EVP_PKEY_free (f->rsa);
  EVP_PKEY_free (f->ec);
  EVP_PKEY_free (f->forger);
  wr_oidc_provider_unref (f->provider);
  wr_oidc_login_free (f->login);
}

/* Claims that the gateway accepts, for tests to spoil one at a time. */
static JsonObject *
good_claims (FakeFixture *f)
{
  JsonObject *claims = json_object_new ();
  JsonArray *roles = json_array_new ();
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  json_object_set_string_member (claims, "iss", fake.issuer);
  json_object_set_string_member (claims, "sub", "u-1234");
  json_object_set_string_member (claims, "aud", CLIENT_ID);
  json_object_set_int_member (claims, "iat", now);
  json_object_set_int_member (claims, "exp", now + 300);
  json_object_set_string_member (claims, "nonce", f->login->nonce);
  json_object_set_string_member (claims, "upn", "erin@corp");
  json_object_set_string_member (claims, "email", "erin@example.test");
  json_array_add_string_element (roles, "support");
  json_array_add_string_element (roles, "remote-admins");
  json_object_set_array_member (claims, "roles", roles);
  return claims;
}

static char *
sign_claims (JsonObject *claims, WrJwsAlg alg, EVP_PKEY *key, const char *kid)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *payload = NULL;
  char *token;

  json_node_set_object (root, claims);
  json_generator_set_root (gen, root);
  payload = json_generator_to_data (gen, NULL);
  token = wr_jws_sign (alg, key, kid, payload, strlen (payload), &error);
  g_assert_no_error (error);
  return token;
}

/* Makes the fake token endpoint hand out @token, then finishes the login
 * the way the gateway would. */
static WrOidcIdentity *
finish_with_token (FakeFixture *f, const char *token, GError **error)
{
  g_mutex_lock (&fake.lock);
  g_free (fake.id_token);
  fake.id_token = g_strdup (token);
  g_mutex_unlock (&fake.lock);
  return wr_oidc_finish (f->provider, f->login, f->login->state, "the-code",
      error);
}

static void
finish_with_claims (FakeFixture *f, JsonObject *claims, int domain_code,
    GError **error_out)
{
  g_autofree char *token = sign_claims (claims, WR_JWS_ALG_RS256, f->rsa,
      "rsa-1");
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = finish_with_token (f, token, &error);

  g_assert_null (id);
  g_assert_error (error, WR_OIDC_ERROR, domain_code);
  /* Messages never quote the token. */
  g_assert_null (strstr (error->message, token));
}

static void
test_fake_good_token (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autofree char *rs = sign_claims (claims, WR_JWS_ALG_RS256, f->rsa,
      "rsa-1");
  g_autofree char *es = sign_claims (claims, WR_JWS_ALG_ES256, f->ec, "ec-1");
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autoptr (WrOidcIdentity) id_es = NULL;
  g_autofree char *basic = NULL;
  g_autofree char *expected_basic = g_base64_encode (
      (const guchar *) CLIENT_ID ":" CLIENT_SECRET,
      strlen (CLIENT_ID ":" CLIENT_SECRET));
  const char *roles[] = { "support", "remote-admins", NULL };

  id = finish_with_token (f, rs, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->issuer, ==, fake.issuer);
  g_assert_cmpstr (id->subject, ==, "u-1234");
  /* The configured claims: "upn" for the name, "roles" for the groups. */
  g_assert_cmpstr (id->username, ==, "erin@corp");
  g_assert_cmpstr (id->email, ==, "erin@example.test");
  g_assert_true (g_strv_equal ((const char *const *) id->groups, roles));

  /* What the token endpoint saw: the code, the verifier, Basic auth. */
  g_mutex_lock (&fake.lock);
  g_assert_nonnull (strstr (fake.token_request, "grant_type=authorization_code"));
  g_assert_nonnull (strstr (fake.token_request, "code=the-code"));
  g_assert_nonnull (strstr (fake.token_request, f->login->code_verifier));
  g_assert_null (strstr (fake.token_request, CLIENT_SECRET));
  basic = g_strdup (fake.token_authorization);
  g_mutex_unlock (&fake.lock);
  g_assert_cmpstr (basic + strlen ("Basic "), ==, expected_basic);

  id_es = finish_with_token (f, es, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id_es->username, ==, "erin@corp");
}

static void
test_fake_forged_token (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) claims = good_claims (f);
  /* The forger's key under the provider's kid. */
  g_autofree char *token = sign_claims (claims, WR_JWS_ALG_RS256, f->forger,
      "rsa-1");

  g_assert_null (finish_with_token (f, token, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE);
}

static void
test_fake_unknown_key (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autofree char *token = sign_claims (claims, WR_JWS_ALG_RS256, f->forger,
      "forger");

  g_assert_null (finish_with_token (f, token, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE);
}

static char *
unsigned_token (JsonObject *claims, const char *header, const char *sig)
{
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *payload = NULL, *h = NULL, *p = NULL;

  json_node_set_object (root, claims);
  json_generator_set_root (gen, root);
  payload = json_generator_to_data (gen, NULL);
  h = wr_base64url_encode ((const guchar *) header, strlen (header));
  p = wr_base64url_encode ((const guchar *) payload, strlen (payload));
  return g_strconcat (h, ".", p, ".", sig, NULL);
}

static void
test_fake_alg_none (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autofree char *none = unsigned_token (claims, "{\"alg\":\"none\"}", "");
  g_autofree char *hs = unsigned_token (claims,
      "{\"alg\":\"HS256\",\"kid\":\"rsa-1\"}", "AAAA");

  g_assert_null (finish_with_token (f, none, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE);
  g_clear_error (&error);
  g_assert_null (finish_with_token (f, hs, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE);
}

static void
test_fake_expired (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autoptr (JsonObject) skewed = good_claims (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autofree char *token = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  json_object_set_int_member (claims, "iat", now - 3600);
  json_object_set_int_member (claims, "exp", now - 120);
  finish_with_claims (f, claims, WR_OIDC_ERROR_CLAIMS, NULL);

  /* Within the 60 s skew it still counts. */
  json_object_set_int_member (skewed, "exp", now - 30);
  token = sign_claims (skewed, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
}

static void
test_fake_issued_in_future (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autoptr (JsonObject) no_exp = good_claims (f);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  json_object_set_int_member (claims, "iat", now + 600);
  json_object_set_int_member (claims, "exp", now + 900);
  finish_with_claims (f, claims, WR_OIDC_ERROR_CLAIMS, NULL);

  json_object_remove_member (no_exp, "exp");
  finish_with_claims (f, no_exp, WR_OIDC_ERROR_CLAIMS, NULL);
}

static void
test_fake_audience (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) other = good_claims (f);
  g_autoptr (JsonObject) several = good_claims (f);
  g_autoptr (JsonObject) azp = good_claims (f);
  g_autoptr (JsonObject) none = good_claims (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autofree char *token = NULL;
  JsonArray *aud = json_array_new ();

  json_object_set_string_member (other, "aud", "another-client");
  finish_with_claims (f, other, WR_OIDC_ERROR_CLAIMS, NULL);

  /* Several audiences, no azp: refused (Core 3.1.3.7 steps 4-5). */
  json_array_add_string_element (aud, "another-client");
  json_array_add_string_element (aud, CLIENT_ID);
  json_object_set_array_member (several, "aud", json_array_ref (aud));
  finish_with_claims (f, several, WR_OIDC_ERROR_CLAIMS, NULL);

  /* ... azp for someone else: refused; azp for us: accepted. */
  json_object_set_string_member (several, "azp", "another-client");
  finish_with_claims (f, several, WR_OIDC_ERROR_CLAIMS, NULL);
  json_object_set_array_member (azp, "aud", aud);
  json_object_set_string_member (azp, "azp", CLIENT_ID);
  token = sign_claims (azp, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);

  json_object_remove_member (none, "aud");
  finish_with_claims (f, none, WR_OIDC_ERROR_CLAIMS, NULL);
}

static void
test_fake_issuer (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) claims = good_claims (f);

  json_object_set_string_member (claims, "iss", "https://evil.example");
  finish_with_claims (f, claims, WR_OIDC_ERROR_CLAIMS, NULL);
}

static void
test_fake_nonce (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autoptr (JsonObject) missing = good_claims (f);

  json_object_set_string_member (claims, "nonce", "someone-else-s-nonce");
  finish_with_claims (f, claims, WR_OIDC_ERROR_NONCE, NULL);
  json_object_remove_member (missing, "nonce");
  finish_with_claims (f, missing, WR_OIDC_ERROR_NONCE, NULL);
}

static void
test_fake_groups_are_bounded (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) many = good_claims (f);
  g_autoptr (JsonObject) longest = good_claims (f);
  g_autoptr (JsonObject) too_long = good_claims (f);
  g_autoptr (JsonObject) typed = good_claims (f);
  g_autoptr (JsonObject) max = good_claims (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autofree char *token = NULL;
  g_autofree char *name = g_strnfill (WR_OIDC_MAX_GROUP_LENGTH, 'g');
  g_autofree char *name_plus = g_strnfill (WR_OIDC_MAX_GROUP_LENGTH + 1, 'g');
  JsonArray *a = json_array_new (), *b = json_array_new ();
  JsonArray *c = json_array_new (), *d = json_array_new ();
  JsonArray *e = json_array_new ();
  guint i;

  for (i = 0; i <= WR_OIDC_MAX_GROUPS; i++) {
    g_autofree char *g = g_strdup_printf ("group-%u", i);

    json_array_add_string_element (a, g);
    if (i < WR_OIDC_MAX_GROUPS)
      json_array_add_string_element (e, g);
  }
  json_object_set_array_member (many, "roles", a);
  finish_with_claims (f, many, WR_OIDC_ERROR_CLAIMS, NULL);

  json_array_add_string_element (b, name_plus);
  json_object_set_array_member (too_long, "roles", b);
  finish_with_claims (f, too_long, WR_OIDC_ERROR_CLAIMS, NULL);

  json_array_add_string_element (c, "support");
  json_array_add_int_element (c, 7);
  json_object_set_array_member (typed, "roles", c);
  finish_with_claims (f, typed, WR_OIDC_ERROR_CLAIMS, NULL);

  /* The bounds themselves are fine. */
  json_array_add_string_element (d, name);
  json_object_set_array_member (longest, "roles", d);
  token = sign_claims (longest, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->groups[0], ==, name);
  g_clear_pointer (&id, wr_oidc_identity_free);
  g_clear_pointer (&token, g_free);

  json_object_set_array_member (max, "roles", e);
  token = sign_claims (max, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (id->groups), ==, WR_OIDC_MAX_GROUPS);
}

/* Without the username claim the identity falls back to email, then sub. */
static void
test_fake_username_fallback (FakeFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrOidcIdentity) id = NULL;
  g_autoptr (WrOidcIdentity) id2 = NULL;
  g_autofree char *token = NULL, *token2 = NULL;

  json_object_remove_member (claims, "upn");
  json_object_remove_member (claims, "roles");
  token = sign_claims (claims, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->username, ==, "erin@example.test");
  g_assert_nonnull (id->groups);
  g_assert_cmpuint (g_strv_length (id->groups), ==, 0);

  json_object_remove_member (claims, "email");
  token2 = sign_claims (claims, WR_JWS_ALG_RS256, f->rsa, "rsa-1");
  id2 = finish_with_token (f, token2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id2->username, ==, "u-1234");
}

/* The provider rotates its keys after we cached the JWKS: one refetch
 * finds the new key; an unknown kid costs one fetch per login, no more. */
static void
test_fake_key_rotation (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) claims = good_claims (f);
  g_autoptr (EVP_PKEY) next = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  EVP_PKEY *keys[] = { next };
  const char *kids[] = { "ec-2" };
  g_autofree char *token = sign_claims (claims, WR_JWS_ALG_ES256, next,
      "ec-2");
  g_autoptr (WrOidcIdentity) id = NULL;
  guint fetches;

  g_mutex_lock (&fake.lock);
  fetches = fake.jwks_fetches;
  g_mutex_unlock (&fake.lock);
  g_assert_cmpuint (fetches, ==, 1); /* at discovery, in setup */

  /* Before the rotation the new key is unknown even after a refetch. */
  g_assert_null (finish_with_token (f, token, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_SIGNATURE);
  g_clear_error (&error);
  g_mutex_lock (&fake.lock);
  g_assert_cmpuint (fake.jwks_fetches, ==, 2);
  g_mutex_unlock (&fake.lock);

  fake_set_keys (keys, kids, 1);
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id->subject, ==, "u-1234");
  g_mutex_lock (&fake.lock);
  g_assert_cmpuint (fake.jwks_fetches, ==, 3);
  g_mutex_unlock (&fake.lock);

  /* The refreshed set is cached: no fetch for the next login. */
  g_clear_pointer (&id, wr_oidc_identity_free);
  id = finish_with_token (f, token, &error);
  g_assert_no_error (error);
  g_mutex_lock (&fake.lock);
  g_assert_cmpuint (fake.jwks_fetches, ==, 3);
  g_mutex_unlock (&fake.lock);
}

static void
test_fake_discovery_checks (FakeFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&fake.lock);
  g_free (fake.advertised_issuer);
  fake.advertised_issuer = g_strdup ("https://evil.example");
  g_mutex_unlock (&fake.lock);
  g_assert_false (wr_oidc_provider_discover (f->provider, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY);
  g_clear_error (&error);

  /* A body over 1 MiB is cut off, not read into memory. */
  g_mutex_lock (&fake.lock);
  g_free (fake.advertised_issuer);
  fake.advertised_issuer = g_strdup (fake.issuer);
  fake.huge_discovery = TRUE;
  g_mutex_unlock (&fake.lock);
  g_assert_false (wr_oidc_provider_discover (f->provider, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_PROVIDER);
  g_clear_error (&error);

  /* A JWKS without a usable key. */
  g_mutex_lock (&fake.lock);
  fake.huge_discovery = FALSE;
  g_free (fake.jwks);
  fake.jwks = g_strdup ("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}");
  g_mutex_unlock (&fake.lock);
  g_assert_false (wr_oidc_provider_discover (f->provider, &error));
  g_assert_error (error, WR_OIDC_ERROR, WR_OIDC_ERROR_DISCOVERY);
}

/* The token endpoint's answer is not trusted either. */
static void
test_fake_bad_token_responses (FakeFixture *f, gconstpointer data)
{
  const char *tokens[] = { "", "not-a-jwt", "a.b.c", "\\\"", };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (tokens); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_null (finish_with_token (f, tokens[i], &error));
    g_assert_nonnull (error);
    g_assert_true (error->domain == WR_OIDC_ERROR);
  }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_thread_unref (g_thread_new ("watchdog", watchdog_thread, NULL));
  watchdog_arm ();

  start_real_provider ();
  start_fake_provider ();

  g_test_add_func ("/gateway/oidc/config-is-checked", test_config_is_checked);
  g_test_add_func ("/gateway/oidc/discovery-needs-the-exact-issuer",
      test_discovery);
  g_test_add_func ("/gateway/oidc/authorize-url-carries-pkce-state-nonce",
      test_authorize_url);
  g_test_add_func ("/gateway/oidc/alice-logs-in-with-her-groups",
      test_alice_logs_in);
  g_test_add_func ("/gateway/oidc/bob-logs-in-with-es256-and-secret-post",
      test_bob_logs_in_with_es256);
  g_test_add_func ("/gateway/oidc/public-client-logs-in-with-pkce-only",
      test_public_client_logs_in);
  g_test_add_func ("/gateway/oidc/user-without-groups-has-none",
      test_user_without_groups);
  g_test_add_func ("/gateway/oidc/gateway-port-is-free-on-loopback",
      test_gateway_on_another_port);
  g_test_add_func ("/gateway/oidc/wrong-state-is-refused",
      test_wrong_state_is_refused);
  g_test_add_func ("/gateway/oidc/replayed-code-is-refused",
      test_replayed_code_is_refused);
  g_test_add_func ("/gateway/oidc/nonce-mismatch-is-refused",
      test_nonce_mismatch_is_refused);
  g_test_add_func ("/gateway/oidc/wrong-code-verifier-is-refused",
      test_wrong_code_verifier_is_refused);
  g_test_add_func ("/gateway/oidc/wrong-client-secret-is-refused",
      test_wrong_client_secret_is_refused);
  g_test_add_func ("/gateway/oidc/concurrent-logins-in-threads",
      test_concurrent_logins);
  g_test_add_func ("/gateway/oidc/unreachable-provider-is-a-provider-error",
      test_unreachable_provider);

#define FAKE_TEST(path, func) \
  g_test_add ("/gateway/oidc/crafted/" path, FakeFixture, NULL, fake_setup, \
      func, fake_teardown)
  FAKE_TEST ("valid-token-maps-configured-claims", test_fake_good_token);
  FAKE_TEST ("forged-signature-is-refused", test_fake_forged_token);
  FAKE_TEST ("unknown-key-is-refused", test_fake_unknown_key);
  FAKE_TEST ("alg-none-and-hmac-are-refused", test_fake_alg_none);
  FAKE_TEST ("expired-token-is-refused", test_fake_expired);
  FAKE_TEST ("token-from-the-future-is-refused", test_fake_issued_in_future);
  FAKE_TEST ("audience-mismatch-is-refused", test_fake_audience);
  FAKE_TEST ("other-issuer-is-refused", test_fake_issuer);
  FAKE_TEST ("nonce-mismatch-is-refused", test_fake_nonce);
  FAKE_TEST ("groups-are-bounded", test_fake_groups_are_bounded);
  FAKE_TEST ("username-falls-back-to-email-then-sub",
      test_fake_username_fallback);
  FAKE_TEST ("key-rotation-refetches-the-jwks-once", test_fake_key_rotation);
  FAKE_TEST ("discovery-is-checked", test_fake_discovery_checks);
  FAKE_TEST ("bad-token-responses-are-refused",
      test_fake_bad_token_responses);
#undef FAKE_TEST

  rc = g_test_run ();
  stop_fake_provider ();
  stop_real_provider ();
  return rc;
}
