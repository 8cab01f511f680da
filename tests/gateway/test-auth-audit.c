/* Tests for the audit of sign-ins (gateway/auth-store.c with
 * gateway/audit.c), on SQLite and PostgreSQL: every attempt of password,
 * TOTP-less and SSO sign-in, refresh token reuse and sign-out leaves its
 * row; when no row can be written (a real trigger refuses them) a sign-in
 * fails with WR_AUTH_ERROR_UNAVAILABLE and no token works. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "common/keyring.h"
#include "common/totp.h"
#include "gateway/audit.h"
#include "gateway/auth-store.h"
#include "gateway/db.h"
#include "gateway/store-audit.h"
#include "gateway/store.h"
#include "tests/lib/store-backend.h"

#define TEST_TIMEOUT_S 120
#define PASSWORD "alice's good password"
#define ADDRESS "192.0.2.7"

typedef struct {
  char *dir;
  char *location;
  WrStore *store;
  WrAudit *audit;
  WrKeyring *keyring;
  WrAuthStore *auth;
} Fixture;

static void
open_all (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  WrAuthPolicy policy;

  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  f->audit = wr_audit_new (f->store, NULL, 1000, 3600);
  wr_auth_policy_init_defaults (&policy);
  f->auth = wr_auth_store_new (f->store, f->keyring, &policy);
  wr_auth_store_set_audit (f->auth, f->audit);
}

static void
close_all (Fixture *f)
{
  g_clear_object (&f->auth);
  g_clear_pointer (&f->audit, wr_audit_free);
  g_clear_pointer (&f->store, wr_store_close);
}

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autoptr (WrUser) alice = NULL;

  alarm (TEST_TIMEOUT_S);
  if (!backend->pg) {
    f->dir = g_dir_make_tmp ("wr-auth-audit-XXXXXX", &error);
    g_assert_no_error (error);
  }
  f->location = wr_test_backend_location (backend, f->dir, "store.db");
  f->keyring = wr_keyring_new_from_data (
      "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", &error);
  g_assert_no_error (error);
  open_all (f);
  hash = wr_auth_hash_password (PASSWORD, &error);
  g_assert_no_error (error);
  alice = wr_store_user_create (f->store, "alice", NULL, hash, &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  close_all (f);
  g_clear_pointer (&f->keyring, wr_keyring_free);
  if (f->dir) {
    wr_test_sqlite_remove (f->location);
    g_rmdir (f->dir);
  }
  g_free (f->dir);
  g_free (f->location);
  alarm (0);
}

/* The rows, oldest first. */
static GPtrArray *
rows_of (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  WrAuditFilter filter = { .limit = 1000 };
  g_autoptr (GPtrArray) newest = wr_store_audit_query (f->store, &filter,
      &error);
  GPtrArray *rows = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_audit_row_free);

  g_assert_no_error (error);
  for (guint i = newest->len; i > 0; i--)
    g_ptr_array_add (rows, g_ptr_array_steal_index (newest, i - 1));
  return rows;
}

static void
assert_row (const WrAuditRow *row, const char *type, const char *outcome,
    const char *actor, const char *address, const char *detail_part)
{
  g_assert_cmpstr (row->type, ==, type);
  g_assert_cmpstr (row->outcome, ==, outcome);
  g_assert_cmpstr (row->actor, ==, actor);
  g_assert_cmpstr (row->address, ==, address);
  if (detail_part && !strstr (row->detail, detail_part))
    g_error ("row %s: detail %s lacks %s", type, row->detail, detail_part);
}

static WrLogin *
password_login (Fixture *f, const char *user, const char *password,
    GError **error)
{
  WrLoginRequest req = {
    .username = user, .password = password, .client_address = ADDRESS,
  };

  return wr_auth_login (WR_AUTH (f->auth), &req, error);
}

static void
test_rows (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrLogin) login = NULL;
  g_autoptr (WrLogin) refreshed = NULL;
  g_autoptr (WrLogin) sso = NULL;
  g_autoptr (WrLogin) again = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *first_refresh = NULL;
  const char *groups[] = { "ops", NULL };

  login = password_login (f, "alice", PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_null (password_login (f, "alice", "wrong password!", &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  g_assert_null (password_login (f, "mallory-typed-" PASSWORD, "x-x-x-x-x",
          &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);

  first_refresh = g_strdup (login->refresh_token);
  refreshed = wr_auth_refresh (WR_AUTH (f->auth), first_refresh, ADDRESS,
      &error);
  g_assert_no_error (error);
  g_assert_null (wr_auth_refresh (WR_AUTH (f->auth), first_refresh, ADDRESS,
          &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);

  sso = wr_auth_login_sso (WR_AUTH (f->auth), "https://idp.example",
      "sub-42", "sam", "Sam", groups, ADDRESS, &error);
  g_assert_no_error (error);

  again = password_login (f, "alice", PASSWORD, &error);
  g_assert_no_error (error);
  wr_auth_logout (WR_AUTH (f->auth), again->access_token,
      again->refresh_token, ADDRESS);
  g_assert_null (wr_auth_authenticate_token (WR_AUTH (f->auth),
          again->access_token, &error));
  g_assert_no_error (error);

  rows = rows_of (f);
  g_assert_cmpuint (rows->len, ==, 7);
  assert_row (rows->pdata[0], "login", "ok", "alice", ADDRESS,
      "\"method\":\"password\"");
  assert_row (rows->pdata[1], "login", "failed", "alice", ADDRESS,
      "\"reason\":\"wrong_password\"");
  assert_row (rows->pdata[2], "login", "failed", NULL, ADDRESS,
      "\"reason\":\"unknown_user\"");
  assert_row (rows->pdata[3], "token.refresh_reuse", "denied", "alice",
      ADDRESS, "\"family\":\"");
  assert_row (rows->pdata[4], "login", "ok", "sam", ADDRESS,
      "\"method\":\"sso\"");
  assert_row (rows->pdata[5], "login", "ok", "alice", ADDRESS, NULL);
  assert_row (rows->pdata[6], "logout", "ok", "alice", ADDRESS, NULL);
  for (guint i = 0; i < rows->len; i++) {
    const WrAuditRow *row = rows->pdata[i];

    g_assert_null (strstr (row->detail, PASSWORD));
    g_assert_null (strstr (row->detail, "wrong password"));
    g_assert_null (strstr (row->detail, first_refresh));
    g_assert_null (strstr (row->detail, login->access_token));
    if (row->actor)
      g_assert_null (strstr (row->actor, PASSWORD));
  }
}

/* Two-factor sign-ins: the method is totp or recovery; a missing or wrong
 * code is a failed row with its reason, never the code. */
static void
test_second_factor (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) alice = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autofree char *secret = wr_totp_generate_secret ();
  g_autofree char *aad = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *code = NULL;
  g_autofree char *recovery_hash = NULL;
  const char *recovery = "abcd-efgh-ijkl";
  const char *hashes[2] = { NULL, NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  WrLoginRequest req = {
    .username = "alice", .password = PASSWORD, .client_address = ADDRESS,
  };
  WrLogin *login;

  alice = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_no_error (error);
  aad = g_strdup_printf ("totp:%" G_GINT64_FORMAT, alice->id);
  sealed = wr_keyring_seal (f->keyring, (const guint8 *) secret,
      strlen (secret), aad);
  g_assert_true (wr_store_user_set_totp (f->store, alice->id, sealed, TRUE,
          &error));
  recovery_hash = wr_recovery_code_hash (recovery);
  hashes[0] = recovery_hash;
  g_assert_true (wr_store_recovery_codes_replace (f->store, alice->id,
          hashes, &error));
  g_assert_no_error (error);

  /* no code, a wrong code, the right code, a recovery code */
  g_assert_null (wr_auth_login (WR_AUTH (f->auth), &req, &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_REQUIRED);
  g_clear_error (&error);
  req.totp_code = "000000";
  code = wr_totp_code (secret, now, 6);
  if (g_str_equal (code, "000000"))
    req.totp_code = "111111";
  g_assert_null (wr_auth_login (WR_AUTH (f->auth), &req, &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_TOTP_INVALID);
  g_clear_error (&error);
  req.totp_code = code;
  login = wr_auth_login (WR_AUTH (f->auth), &req, &error);
  g_assert_no_error (error);
  wr_login_free (login);
  req.totp_code = NULL;
  req.recovery_code = recovery;
  login = wr_auth_login (WR_AUTH (f->auth), &req, &error);
  g_assert_no_error (error);
  wr_login_free (login);

  rows = rows_of (f);
  g_assert_cmpuint (rows->len, ==, 4);
  assert_row (rows->pdata[0], "login", "failed", "alice", ADDRESS,
      "\"reason\":\"code_required\"");
  assert_row (rows->pdata[1], "login", "failed", "alice", ADDRESS,
      "\"reason\":\"code_invalid\"");
  assert_row (rows->pdata[2], "login", "ok", "alice", ADDRESS,
      "\"method\":\"totp\"");
  assert_row (rows->pdata[3], "login", "ok", "alice", ADDRESS,
      "\"method\":\"recovery\"");
  for (guint i = 0; i < rows->len; i++) {
    const WrAuditRow *row = rows->pdata[i];

    g_assert_null (strstr (row->detail, code));
    g_assert_null (strstr (row->detail, recovery));
    g_assert_null (strstr (row->detail, secret));
  }
}

/* A trigger that refuses every audit row, or none. */
static void
break_audit (Fixture *f, gboolean broken)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDb) db = NULL;
  const char *sql;

  /* one connection of this process at a time on SQLite */
  close_all (f);
  db = wr_db_open (f->location, &error);
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
  g_clear_pointer (&db, wr_db_close);
  open_all (f);
}

static void
test_fail_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrLogin) login = NULL;
  g_autoptr (WrUser) sam = NULL;
  g_autoptr (WrUser) alice = NULL;
  const char *groups[] = { "ops", NULL };

  /* sam exists, with the groups of an earlier sign-in */
  login = wr_auth_login_sso (WR_AUTH (f->auth), "https://idp.example",
      "sub-42", "sam", "Sam", NULL, ADDRESS, &error);
  g_assert_no_error (error);
  g_clear_pointer (&login, wr_login_free);

  /* the gateway warns about each refusal: expected here */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  break_audit (f, TRUE);
  login = password_login (f, "alice", PASSWORD, &error);
  g_assert_null (login);
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  /* a refused attempt whose row cannot be written: unavailable too */
  g_assert_null (password_login (f, "alice", "wrong password!", &error));
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  login = wr_auth_login_sso (WR_AUTH (f->auth), "https://idp.example",
      "sub-42", "sam", "Sam", groups, ADDRESS, &error);
  g_assert_null (login);
  g_assert_error (error, WR_AUTH_ERROR, WR_AUTH_ERROR_UNAVAILABLE);
  g_clear_error (&error);
  /* nothing of the SSO sign-in stayed: not the groups of this sign-in */
  sam = wr_store_user_get_by_name (f->store, "sam", &error);
  g_assert_no_error (error);
  g_assert_true (sam->oidc_groups == NULL || sam->oidc_groups[0] == NULL);
  /* the refused password sign-in reset nothing either: the wrong password
   * still counts */
  alice = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpint (alice->failed_logins, ==, 1);
  g_clear_pointer (&alice, wr_user_free);

  break_audit (f, FALSE);
  login = password_login (f, "alice", PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_nonnull (login);
  {
    g_autoptr (WrPrincipal) p = wr_auth_authenticate_token (WR_AUTH (f->auth),
        login->access_token, &error);

    g_assert_no_error (error);
    g_assert_nonnull (p);
    g_assert_cmpstr (p->name, ==, "alice");
  }
  alice = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_cmpint (alice->failed_logins, ==, 0);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL
      | G_LOG_LEVEL_WARNING);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (wr_test_backends); i++) {
    g_autofree char *rows = g_strdup_printf ("/gateway/auth-audit/%s/"
        "sign-ins-leave-rows", wr_test_backends[i].name);
    g_autofree char *closed = g_strdup_printf ("/gateway/auth-audit/%s/"
        "no-row-no-sign-in", wr_test_backends[i].name);
    g_autofree char *totp = g_strdup_printf ("/gateway/auth-audit/%s/"
        "second-factor", wr_test_backends[i].name);

    g_test_add (rows, Fixture, &wr_test_backends[i], setup, test_rows, teardown);
    g_test_add (closed, Fixture, &wr_test_backends[i], setup, test_fail_closed,
        teardown);
    g_test_add (totp, Fixture, &wr_test_backends[i], setup, test_second_factor,
        teardown);
  }
  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
