/* Tests for the built-in authenticator (gateway/auth-local.c). */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "gateway/auth-local.h"

#define AGENT_TOKEN "0123456789abcdef0123456789abcdef"

typedef struct {
  char *dir;
  WrAuth *auth;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("wr-auth-XXXXXX", NULL);
  g_setenv ("WEBREMOTE_ADMIN_PASSWORD", "correct horse", TRUE);
  f->auth = WR_AUTH (wr_auth_local_new ("admin", f->dir, AGENT_TOKEN, 3600,
          &error));
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *hash = g_build_filename (f->dir, "admin-password", NULL);

  g_clear_object (&f->auth);
  g_unlink (hash);
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
login (Fixture *f, const char *user, const char *password, const char *addr,
    GError **error)
{
  g_autoptr (WrPrincipal) who = NULL;
  gint64 expires = 0;
  char *token = wr_auth_login (f->auth, user, password, addr, &expires, &who,
      error);

  if (token) {
    g_assert_cmpint (expires, ==, 3600);
    g_assert_cmpstr (who->name, ==, "admin");
  }
  return token;
}

static void
test_login_and_token (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *token = login (f, "admin", "correct horse", "10.0.0.1",
      &error);
  g_autoptr (WrPrincipal) who = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (token);
  who = wr_auth_authenticate_token (f->auth, token);
  g_assert_nonnull (who);
  g_assert_true (who->admin);
  g_assert_null (wr_auth_authenticate_token (f->auth, "not-a-token"));
  g_assert_null (wr_auth_authenticate_token (f->auth, ""));

  wr_auth_logout (f->auth, token);
  g_assert_null (wr_auth_authenticate_token (f->auth, token));
}

static void
test_wrong_credentials (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = login (f, "admin", "wrong", "10.0.0.2", &error);

  g_assert_null (a);
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  g_assert_null (login (f, "root", "correct horse", "10.0.0.2", &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
}

static void
test_failures_are_rate_limited_per_address (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other = NULL;
  g_autofree char *limited = NULL;

  for (int i = 0; i < 10; i++) {
    g_assert_null (login (f, "admin", "wrong", "10.0.0.3", &error));
    g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
    g_clear_error (&error);
  }
  /* even the right password is refused from that address now */
  limited = login (f, "admin", "correct horse", "10.0.0.3", &error);
  g_assert_null (limited);
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_RATE_LIMITED);
  g_clear_error (&error);
  /* another address is not affected */
  other = login (f, "admin", "correct horse", "10.0.0.4", &error);
  g_assert_no_error (error);
  g_assert_nonnull (other);
}

static void
test_agent_token (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = wr_auth_authenticate_agent (f->auth, AGENT_TOKEN,
      &error);

  g_assert_no_error (error);
  g_assert_cmpstr (id, ==, "");
  g_assert_null (wr_auth_authenticate_agent (f->auth,
          "0123456789abcdef0123456789abcdeX", &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  g_assert_null (wr_auth_authenticate_agent (f->auth, NULL, &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
}

static void
test_generated_password_is_kept_hashed (void)
{
  g_autofree char *dir = g_dir_make_tmp ("wr-auth-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "admin-password", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAuthLocal) a = NULL;
  g_autoptr (WrAuthLocal) b = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  GStatBuf st;

  g_unsetenv ("WEBREMOTE_ADMIN_PASSWORD");
  a = wr_auth_local_new ("admin", dir, NULL, 60, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &first, NULL, NULL));
  g_assert_true (g_str_has_prefix (first, "$argon2id$"));
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  /* a second start keeps the same hash instead of making a new password */
  b = wr_auth_local_new ("admin", dir, NULL, 60, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &second, NULL, NULL));
  g_assert_cmpstr (first, ==, second);
  /* without an agent token every agent is refused */
  g_assert_null (wr_auth_authenticate_agent (WR_AUTH (b), AGENT_TOKEN,
          &error));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gateway/auth/login-gives-a-token-that-logout-revokes",
      Fixture, NULL, setup, test_login_and_token, teardown);
  g_test_add ("/gateway/auth/wrong-credentials-are-refused", Fixture, NULL,
      setup, test_wrong_credentials, teardown);
  g_test_add ("/gateway/auth/failures-are-rate-limited-per-address", Fixture,
      NULL, setup, test_failures_are_rate_limited_per_address, teardown);
  g_test_add ("/gateway/auth/agent-token-is-checked", Fixture, NULL, setup,
      test_agent_token, teardown);
  g_test_add_func ("/gateway/auth/generated-password-is-kept-hashed",
      test_generated_password_is_kept_hashed);
  return g_test_run ();
}
