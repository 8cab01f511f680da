/* Tests for the gateway's store (gateway/store.c). Every test runs against
 * SQLite (a temp file) and PostgreSQL (a fresh database in a throwaway
 * cluster started once per program, tests/lib/pg-server.h). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gateway/db.h"
#include "gateway/migrations.h"
#include "gateway/store.h"
#include "tests/lib/store-backend.h"

/* Per-test watchdog: SIGALRM's default action ends the program, which
 * fails the test (and the pg-server guard stops the cluster). */
#define TEST_TIMEOUT_S 60

typedef struct {
  char *dir;
  char *location;   /* SQLite path or PostgreSQL URL */
  WrStore *store;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;

  alarm (TEST_TIMEOUT_S);
  if (!backend->pg) {
    f->dir = g_dir_make_tmp ("wr-store-XXXXXX", &error);
    g_assert_no_error (error);
  }
  f->location = wr_test_backend_location (backend, f->dir, "store.db");
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_store_get_backend_name (f->store), ==, backend->name);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_store_close (f->store);
  if (f->dir) {
    wr_test_sqlite_remove (f->location);
    g_rmdir (f->dir);
    g_free (f->dir);
  }
  g_free (f->location);
  alarm (0);
}

static gint64
make_user (WrStore *store, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = wr_store_user_create (store, name, NULL,
      "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", &error);

  g_assert_no_error (error);
  g_assert_nonnull (user);
  return user ? user->id : 0;
}

static guint
count_users (WrStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = wr_store_user_list (store, &error);

  g_assert_no_error (error);
  return users->len;
}

/* ------------------------------------------------------------------ */

static void
test_migrations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDb) db = NULL;
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GPtrArray) roles = NULL;
  g_autoptr (GPtrArray) groups = NULL;

  g_assert_cmpint (wr_store_get_schema_version (f->store), ==,
      WR_SCHEMA_VERSION);

  /* Seeds: the four built-in roles and the default group. */
  roles = wr_store_role_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (roles->len, ==, 4);
  groups = wr_store_group_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (groups->len, ==, 1);
  g_assert_cmpstr (((WrAgentGroup *) groups->pdata[0])->name, ==, "default");

  /* Reopening migrates nothing twice. */
  wr_store_close (f->store);
  f->store = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  g_clear_pointer (&roles, g_ptr_array_unref);
  roles = wr_store_role_list (f->store, &error);
  g_assert_cmpuint (roles->len, ==, 4);

  db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  wr_db_exec (db, "SELECT version FROM schema_version ORDER BY version",
      NULL, 0, &res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (res->n_rows, ==, WR_SCHEMA_VERSION);
  g_assert_cmpint (wr_db_result_get_int (res, res->n_rows - 1, 0), ==,
      WR_SCHEMA_VERSION);
}

static void
test_newer_schema_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDb) db = NULL;
  g_autofree char *expected = NULL;
  WrDbParam params[] = { WR_DB_INT (WR_SCHEMA_VERSION + 1) };
  WrStore *store;

  make_user (f->store, "alice");
  wr_store_close (f->store);
  f->store = NULL;

  /* What a newer gateway would leave behind. */
  db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  wr_db_exec (db, "INSERT INTO schema_version (version, applied_at) "
      "VALUES ($1, 0)", params, 1, NULL, &error);
  g_assert_no_error (error);

  store = wr_store_open (f->location, &error);
  g_assert_null (store);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_SCHEMA_TOO_NEW);
  expected = g_strdup_printf ("database schema version %d is newer than "
      "this gateway (%d); upgrade the gateway", WR_SCHEMA_VERSION + 1,
      WR_SCHEMA_VERSION);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  /* Nothing was touched: the data is still there. */
  {
    g_autoptr (WrDbResult) res = NULL;

    wr_db_exec (db, "SELECT name FROM users", NULL, 0, &res, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (res->n_rows, ==, 1);
  }
  /* teardown closes f->store, which is NULL now. */
}

static void
test_users_crud (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) alice = NULL;
  g_autoptr (WrUser) again = NULL;
  g_autoptr (GPtrArray) users = NULL;
  gint64 before, after;

  before = g_get_real_time () / G_USEC_PER_SEC;
  alice = wr_store_user_create (f->store, "alice", "Alice A.", "hash-1",
      &error);
  after = g_get_real_time () / G_USEC_PER_SEC;
  g_assert_no_error (error);
  g_assert_cmpint (alice->id, >, 0);
  g_assert_cmpstr (alice->name, ==, "alice");
  g_assert_cmpstr (alice->display_name, ==, "Alice A.");
  g_assert_cmpstr (alice->password_hash, ==, "hash-1");
  g_assert_null (alice->oidc_issuer);
  g_assert_false (alice->disabled);
  g_assert_false (alice->totp_enabled);
  g_assert_cmpint (alice->failed_logins, ==, 0);
  g_assert_cmpint (alice->locked_until, ==, 0);
  g_assert_cmpint (alice->created_at, >=, before);
  g_assert_cmpint (alice->created_at, <=, after);

  again = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->id, ==, alice->id);
  g_clear_pointer (&again, wr_user_free);
  again = wr_store_user_get_by_id (f->store, alice->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->name, ==, "alice");
  g_clear_pointer (&again, wr_user_free);

  /* SSO-only account: no password; display name defaults to the name. */
  again = wr_store_user_create (f->store, "bob", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (again->password_hash);
  g_assert_cmpstr (again->display_name, ==, "bob");
  g_clear_pointer (&again, wr_user_free);

  users = wr_store_user_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (users->len, ==, 2);
  g_assert_cmpstr (((WrUser *) users->pdata[0])->name, ==, "alice");
  g_assert_cmpstr (((WrUser *) users->pdata[1])->name, ==, "bob");

  g_assert_true (wr_store_user_set_password (f->store, alice->id, "hash-2",
          &error));
  g_assert_true (wr_store_user_set_disabled (f->store, alice->id, TRUE,
          &error));
  g_assert_true (wr_store_user_set_totp (f->store, alice->id, "c2VjcmV0",
          TRUE, &error));
  g_assert_no_error (error);
  again = wr_store_user_get_by_id (f->store, alice->id, &error);
  g_assert_cmpstr (again->password_hash, ==, "hash-2");
  g_assert_true (again->disabled);
  g_assert_cmpstr (again->totp_secret, ==, "c2VjcmV0");
  g_assert_true (again->totp_enabled);
  g_clear_pointer (&again, wr_user_free);

  g_assert_false (wr_store_user_set_totp (f->store, alice->id, NULL, TRUE,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (wr_store_user_set_totp (f->store, alice->id, NULL, FALSE,
          &error));
  g_assert_true (wr_store_user_set_disabled (f->store, alice->id, FALSE,
          &error));
  g_assert_no_error (error);

  g_assert_true (wr_store_user_delete (f->store, alice->id, &error));
  g_assert_no_error (error);
  again = wr_store_user_get_by_id (f->store, alice->id, &error);
  g_assert_null (again);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  again = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no user named 'alice'");
  g_clear_error (&error);

  g_assert_false (wr_store_user_delete (f->store, alice->id, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_user_set_password (f->store, 999999, "x",
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_assert_cmpuint (count_users (f->store), ==, 1);
}

static const char *const awkward_names[] = {
  "o'brien",
  "Robert'); DROP TABLE users; --",
  "x' OR '1'='1",
  "\"double\" `back`",
  "back\\slash",
  "100%_like",
  "$1",
  "?",
  "Grüße 日本語 🎉",
  "  spaced  ",
};

static void
test_users_awkward_names (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (awkward_names); i++)
    make_user (f->store, awkward_names[i]);

  for (guint i = 0; i < G_N_ELEMENTS (awkward_names); i++) {
    g_autoptr (WrUser) user = wr_store_user_get_by_name (f->store,
        awkward_names[i], &error);

    g_assert_no_error (error);
    g_assert_cmpstr (user->name, ==, awkward_names[i]);
  }
  /* The users table is intact and nothing matched more than it should. */
  g_assert_cmpuint (count_users (f->store), ==, G_N_ELEMENTS (awkward_names));
  {
    g_autoptr (WrUser) user = wr_store_user_get_by_name (f->store, "%",
        &error);

    g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  }
}

static void
test_users_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *long_name = g_strnfill (WR_STORE_MAX_NAME + 1, 'a');
  g_autofree char *max_name = g_strnfill (WR_STORE_MAX_NAME, 'b');
  struct {
    const char *name;
    const char *display_name;
    const char *message;
  } bad[] = {
    { "bad\xff\xfe", NULL, "user name is not valid UTF-8" },
    { "\xc3\x28", NULL, "user name is not valid UTF-8" },
    { "ok", "bad \xe2\x82", "display name is not valid UTF-8" },
    { "new\nline", NULL, "user name must not contain control characters" },
    { "nul\x01", NULL, "user name must not contain control characters" },
    { "", NULL, "user name must not be empty" },
    { NULL, NULL, "user name is missing" },
    { long_name, NULL, "user name is longer than 128 bytes" },
  };
  WrUser *user;

  make_user (f->store, "existing");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    user = wr_store_user_create (f->store, bad[i].name, bad[i].display_name,
        NULL, &error);
    g_assert_null (user);
    g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
    g_assert_cmpstr (error->message, ==, bad[i].message);
    g_clear_error (&error);
  }
  /* Nothing was written. */
  g_assert_cmpuint (count_users (f->store), ==, 1);

  /* Look-ups refuse the same way instead of reaching the database. */
  user = wr_store_user_get_by_name (f->store, "bad\xff", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* A hash is ASCII. */
  g_assert_false (wr_store_user_set_password (f->store, 1, "h\xc3\xa9",
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);

  make_user (f->store, max_name);

  user = wr_store_user_create (f->store, "existing", NULL, NULL, &error);
  g_assert_null (user);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_assert_cmpstr (error->message, ==,
      "a user named 'existing' already exists");
  g_assert_cmpuint (count_users (f->store), ==, 2);
}

static void
test_oidc_users (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *iss = "https://idp.example/realms/x";
  g_autoptr (WrUser) first = NULL;
  g_autoptr (WrUser) again = NULL;
  g_autoptr (WrUser) other = NULL;
  g_autoptr (WrUser) nameless = NULL;
  g_autoptr (WrUser) bad = NULL;

  make_user (f->store, "alice");

  /* An SSO identity never takes over the local account of that name. */
  first = wr_store_user_upsert_oidc (f->store, iss, "sub-1", "alice",
      "Alice from SSO", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->name, ==, "alice-2");
  g_assert_cmpstr (first->display_name, ==, "Alice from SSO");
  g_assert_cmpstr (first->oidc_issuer, ==, iss);
  g_assert_cmpstr (first->oidc_subject, ==, "sub-1");
  g_assert_null (first->password_hash);

  again = wr_store_user_upsert_oidc (f->store, iss, "sub-1", "renamed",
      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->id, ==, first->id);
  g_assert_cmpstr (again->name, ==, "alice-2");

  other = wr_store_user_upsert_oidc (f->store, iss, "sub-2", "alice", NULL,
      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (other->name, ==, "alice-3");

  nameless = wr_store_user_upsert_oidc (f->store, iss, "sub-3", "bad\xff",
      NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (nameless->name, ==, "user");

  bad = wr_store_user_upsert_oidc (f->store, iss, "sub\xff", "x", NULL,
      &error);
  g_assert_null (bad);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_assert_cmpuint (count_users (f->store), ==, 4);
}

static void
test_lockout (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrUser) user = NULL;
  gint64 id = make_user (f->store, "alice");
  gint64 locked = -1;
  guint failures = 99;

  g_assert_true (wr_store_user_record_failure (f->store, id, 1000, 3, 60,
          &failures, &locked, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (failures, ==, 1);
  g_assert_cmpint (locked, ==, 0);
  g_assert_true (wr_store_user_record_failure (f->store, id, 1001, 3, 60,
          &failures, &locked, &error));
  g_assert_cmpuint (failures, ==, 2);
  g_assert_cmpint (locked, ==, 0);

  /* The third failure locks for 60 s and restarts the count. */
  g_assert_true (wr_store_user_record_failure (f->store, id, 1002, 3, 60,
          &failures, &locked, &error));
  g_assert_cmpuint (failures, ==, 0);
  g_assert_cmpint (locked, ==, 1062);
  user = wr_store_user_get_by_id (f->store, id, &error);
  g_assert_cmpint (user->locked_until, ==, 1062);
  g_assert_cmpint (user->failed_logins, ==, 0);
  g_clear_pointer (&user, wr_user_free);

  /* After the lock, it takes three more failures again. */
  g_assert_true (wr_store_user_record_failure (f->store, id, 1100, 3, 60,
          &failures, &locked, &error));
  g_assert_cmpuint (failures, ==, 1);
  g_assert_cmpint (locked, ==, 1062);

  g_assert_true (wr_store_user_reset_failures (f->store, id, &error));
  g_assert_no_error (error);
  user = wr_store_user_get_by_id (f->store, id, &error);
  g_assert_cmpint (user->locked_until, ==, 0);
  g_assert_cmpint (user->failed_logins, ==, 0);

  /* Threshold 0 counts but never locks. */
  for (int i = 0; i < 5; i++)
    g_assert_true (wr_store_user_record_failure (f->store, id, 2000, 0, 60,
            &failures, &locked, &error));
  g_assert_cmpuint (failures, ==, 5);
  g_assert_cmpint (locked, ==, 0);

  g_assert_false (wr_store_user_record_failure (f->store, 424242, 0, 3, 60,
          NULL, NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
}

static void
test_address_rate_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint n = 99;

  for (guint i = 1; i <= 3; i++) {
    g_assert_true (wr_store_address_record_failure (f->store, "192.0.2.7",
            1000 + i, 60, &n, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n, ==, i);
  }
  g_assert_true (wr_store_address_record_failure (f->store, "2001:db8::1",
          1010, 60, &n, &error));
  g_assert_cmpuint (n, ==, 1);

  g_assert_true (wr_store_address_failures (f->store, "192.0.2.7", 1059, 60,
          &n, &error));
  g_assert_cmpuint (n, ==, 3);
  g_assert_true (wr_store_address_failures (f->store, "198.51.100.1", 1059,
          60, &n, &error));
  g_assert_cmpuint (n, ==, 0);

  /* The window (started at 1001) is over at 1061: counts restart. */
  g_assert_true (wr_store_address_failures (f->store, "192.0.2.7", 1061, 60,
          &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_true (wr_store_address_record_failure (f->store, "192.0.2.7",
          1061, 60, &n, &error));
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (wr_store_address_record_failure (f->store, "192.0.2.7",
          1062, 60, &n, &error));
  g_assert_cmpuint (n, ==, 2);

  g_assert_true (wr_store_address_reset (f->store, "192.0.2.7", &error));
  g_assert_true (wr_store_address_failures (f->store, "192.0.2.7", 1062, 60,
          &n, &error));
  g_assert_cmpuint (n, ==, 0);
  g_assert_no_error (error);

  g_assert_false (wr_store_address_record_failure (f->store, "evil'\xff",
          1000, 60, &n, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
}

static void
test_recovery_codes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = make_user (f->store, "alice");
  gint64 other = make_user (f->store, "bob");
  const char *codes[] = { "h1", "h2", "h3", NULL };
  const char *fresh[] = { "h4", NULL };
  const char *dupes[] = { "h5", "h5", NULL };
  guint left = 0;

  g_assert_true (wr_store_recovery_codes_replace (f->store, id, codes,
          &error));
  g_assert_no_error (error);

  g_assert_true (wr_store_recovery_code_consume (f->store, id, "h2", 10,
          &error));
  /* Single use. */
  g_assert_false (wr_store_recovery_code_consume (f->store, id, "h2", 11,
          &error));
  g_assert_no_error (error);
  g_assert_false (wr_store_recovery_code_consume (f->store, id, "nope", 11,
          &error));
  g_assert_no_error (error);
  /* Another user's code is no good. */
  g_assert_false (wr_store_recovery_code_consume (f->store, other, "h1", 11,
          &error));
  g_assert_no_error (error);
  g_assert_true (wr_store_recovery_codes_remaining (f->store, id, &left,
          &error));
  g_assert_cmpuint (left, ==, 2);

  /* Replacing invalidates the old set. */
  g_assert_true (wr_store_recovery_codes_replace (f->store, id, fresh,
          &error));
  g_assert_false (wr_store_recovery_code_consume (f->store, id, "h1", 12,
          &error));
  g_assert_true (wr_store_recovery_code_consume (f->store, id, "h4", 12,
          &error));
  g_assert_no_error (error);

  g_assert_false (wr_store_recovery_codes_replace (f->store, id, dupes,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_recovery_codes_replace (f->store, 999999, fresh,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
}

static void
test_permission_strings (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) names = NULL;
  WrPermission perms = WR_PERM_NONE;

  g_assert_true (wr_permissions_from_string ("record  view,control",
          &perms, &error));
  g_assert_no_error (error);
  g_assert_cmpint (perms, ==, WR_PERM_VIEW | WR_PERM_CONTROL |
      WR_PERM_RECORD);
  text = wr_permissions_to_string (perms);
  g_assert_cmpstr (text, ==, "view control record");
  g_clear_pointer (&text, g_free);

  text = wr_permissions_to_string (WR_PERM_ALL);
  g_assert_cmpstr (text, ==, "view control clipboard file-transfer command "
      "record admin audit enroll");
  g_clear_pointer (&text, g_free);
  g_assert_true (wr_permissions_from_string (
          "view control clipboard file-transfer command record admin audit "
          "enroll", &perms, &error));
  g_assert_cmpint (perms, ==, WR_PERM_ALL);

  names = wr_permissions_to_strv (WR_PERM_ADMIN | WR_PERM_VIEW);
  g_assert_cmpstrv (names, ((const char *[]) { "view", "admin", NULL }));
  g_assert_cmpstr (wr_permission_get_name (WR_PERM_FILE_TRANSFER), ==,
      "file-transfer");

  g_assert_true (wr_permissions_from_string ("", &perms, &error));
  g_assert_cmpint (perms, ==, WR_PERM_NONE);

  g_assert_false (wr_permissions_from_string ("view fly", &perms, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'fly'"));
  g_clear_error (&error);
  g_assert_false (wr_permissions_from_string ("View", &perms, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
}

static WrPermission
perms_of (const char *text)
{
  WrPermission perms;

  g_assert_true (wr_permissions_from_string (text, &perms, NULL));
  return perms;
}

static void
test_roles (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrRole) role = NULL;
  g_autoptr (GPtrArray) roles = NULL;
  struct {
    const char *name;
    const char *perms;
  } builtin[] = {
    { "admin", "view control clipboard file-transfer command record admin "
      "audit enroll" },
    { "auditor", "audit" },
    { "operator", "view control clipboard file-transfer command record" },
    { "viewer", "view" },
  };
  gint64 grant = 0;

  roles = wr_store_role_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (roles->len, ==, G_N_ELEMENTS (builtin));
  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++) {
    WrRole *r = roles->pdata[i];

    g_assert_cmpstr (r->name, ==, builtin[i].name);
    g_assert_true (r->builtin);
    g_assert_cmpint (r->permissions, ==, perms_of (builtin[i].perms));
  }

  role = wr_store_role_create (f->store, "support", "clipboard view control",
      &error);
  g_assert_no_error (error);
  g_assert_false (role->builtin);
  g_assert_cmpint (role->permissions, ==, WR_PERM_VIEW | WR_PERM_CONTROL |
      WR_PERM_CLIPBOARD);
  g_clear_pointer (&role, wr_role_free);

  role = wr_store_role_create (f->store, "support", "view", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  role = wr_store_role_create (f->store, "flyer", "view fly", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "'fly'"));
  g_clear_error (&error);
  role = wr_store_role_create (f->store, "x'; DELETE FROM roles; --", "view",
      &error);
  g_assert_no_error (error);
  g_clear_pointer (&role, wr_role_free);

  g_assert_true (wr_store_role_update_permissions (f->store, "support",
          "view record", &error));
  g_assert_no_error (error);
  role = wr_store_role_get_by_name (f->store, "support", &error);
  g_assert_cmpint (role->permissions, ==, WR_PERM_VIEW | WR_PERM_RECORD);
  g_clear_pointer (&role, wr_role_free);

  /* Built-in roles are fixed. */
  g_assert_false (wr_store_role_update_permissions (f->store, "viewer",
          "view control", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
      "role 'viewer' is built in and cannot be changed");
  g_clear_error (&error);
  g_assert_false (wr_store_role_delete (f->store, "admin", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  role = wr_store_role_get_by_name (f->store, "viewer", &error);
  g_assert_cmpint (role->permissions, ==, WR_PERM_VIEW);
  g_clear_pointer (&role, wr_role_free);

  /* A role in use is not deleted from under its grants. */
  make_user (f->store, "alice");
  g_assert_true (wr_store_grant_create (f->store, "user", "alice", "support",
          NULL, &grant, &error));
  g_assert_false (wr_store_role_delete (f->store, "support", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_true (wr_store_grant_delete (f->store, grant, &error));
  g_assert_true (wr_store_role_delete (f->store, "support", &error));
  g_assert_no_error (error);
  role = wr_store_role_get_by_name (f->store, "support", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_role_delete (f->store, "support", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
}

static void
test_groups_and_agents (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  g_autoptr (WrStoredAgent) agent = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  g_autoptr (GPtrArray) grants = NULL;

  group = wr_store_group_create (f->store, "servers", TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (group->require_reason);
  g_clear_pointer (&group, wr_agent_group_free);
  group = wr_store_group_create (f->store, "servers", FALSE, &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  g_assert_true (wr_store_agent_upsert (f->store, "agent-1", "Desk 1", 100,
          &error));
  g_assert_no_error (error);
  agent = wr_store_agent_get (f->store, "agent-1", &error);
  g_assert_cmpstr (agent->group_name, ==, "default");
  g_assert_false (agent->require_reason);
  g_assert_cmpint (agent->created_at, ==, 100);
  g_clear_pointer (&agent, wr_stored_agent_free);

  g_assert_true (wr_store_agent_set_group (f->store, "agent-1", "servers",
          &error));
  g_assert_no_error (error);
  /* A reconnect refreshes name and last_seen and keeps the group. */
  g_assert_true (wr_store_agent_upsert (f->store, "agent-1", "Desk One", 200,
          &error));
  agent = wr_store_agent_get (f->store, "agent-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agent->name, ==, "Desk One");
  g_assert_cmpstr (agent->group_name, ==, "servers");
  g_assert_true (agent->require_reason);
  g_assert_cmpint (agent->created_at, ==, 100);
  g_assert_cmpint (agent->last_seen, ==, 200);
  g_clear_pointer (&agent, wr_stored_agent_free);

  g_assert_true (wr_store_group_set_require_reason (f->store, "servers",
          FALSE, &error));
  agent = wr_store_agent_get (f->store, "agent-1", &error);
  g_assert_false (agent->require_reason);
  g_clear_pointer (&agent, wr_stored_agent_free);

  g_assert_false (wr_store_agent_set_group (f->store, "agent-1", "nope",
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_agent_set_group (f->store, "ghost", "servers",
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (wr_store_agent_upsert (f->store, "agent-'2'", "Ärger 🎉",
          300, &error));
  agents = wr_store_agent_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agents->len, ==, 2);
  for (guint i = 0; i < agents->len; i++) {
    WrStoredAgent *a = agents->pdata[i];

    if (g_str_equal (a->id, "agent-'2'"))
      g_assert_cmpstr (a->name, ==, "Ärger 🎉");
    else
      g_assert_cmpstr (a->name, ==, "Desk One");
  }

  /* Groups: default stays; a group with agents stays; its grants go with
   * it. */
  g_assert_false (wr_store_group_delete (f->store, "default", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_group_delete (f->store, "servers", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  make_user (f->store, "alice");
  g_assert_true (wr_store_grant_create (f->store, "user", "alice", "viewer",
          "servers", NULL, &error));
  g_assert_true (wr_store_agent_delete (f->store, "agent-1", &error));
  g_assert_no_error (error);
  g_assert_true (wr_store_group_delete (f->store, "servers", &error));
  g_assert_no_error (error);
  grants = wr_store_grant_list (f->store, &error);
  g_assert_cmpuint (grants->len, ==, 0);
  group = wr_store_group_get_by_name (f->store, "servers", &error);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (wr_store_agent_delete (f->store, "agent-1", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
}

static WrPermission
effective (WrStore *store, gint64 user, const char *const *oidc_groups,
    const char *group)
{
  g_autoptr (GError) error = NULL;
  WrPermission perms = (WrPermission) 0xffff;

  g_assert_true (wr_store_permissions_for (store, user, oidc_groups, group,
          &perms, &error));
  g_assert_no_error (error);
  return perms;
}

static void
add_grant (WrStore *store, const char *kind, const char *subject,
    const char *role, const char *group)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_store_grant_create (store, kind, subject, role, group,
          NULL, &error));
  g_assert_no_error (error);
}

static void
test_grants_and_permissions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) grants = NULL;
  const char *const ops[] = { "ops", NULL };
  const char *const opsx[] = { "opsx", "other", NULL };
  const WrPermission operator = perms_of ("view control clipboard "
      "file-transfer command record");
  gint64 alice = make_user (f->store, "alice");
  gint64 bob = make_user (f->store, "bob");
  gint64 carol = make_user (f->store, "carol");
  WrPermission perms;
  gint64 id = 0;

  wr_agent_group_free (wr_store_group_create (f->store, "servers", FALSE,
          &error));
  wr_agent_group_free (wr_store_group_create (f->store, "desktops", FALSE,
          &error));
  g_assert_no_error (error);

  /* Nothing granted, nothing allowed. */
  g_assert_cmpint (effective (f->store, alice, NULL, "servers"), ==, 0);
  g_assert_cmpint (effective (f->store, alice, NULL, NULL), ==, 0);

  /* A user grant on one group. */
  add_grant (f->store, "user", "alice", "viewer", "servers");
  g_assert_cmpint (effective (f->store, alice, NULL, "servers"), ==,
      WR_PERM_VIEW);
  g_assert_cmpint (effective (f->store, alice, NULL, "desktops"), ==, 0);
  g_assert_cmpint (effective (f->store, alice, NULL, "default"), ==, 0);
  g_assert_cmpint (effective (f->store, alice, NULL, NULL), ==, 0);
  g_assert_cmpint (effective (f->store, bob, NULL, "servers"), ==, 0);

  /* A grant on every group adds to every group. */
  add_grant (f->store, "user", "alice", "operator", NULL);
  g_assert_cmpint (effective (f->store, alice, NULL, "desktops"), ==,
      operator);
  g_assert_cmpint (effective (f->store, alice, NULL, "servers"), ==,
      operator);
  g_assert_cmpint (effective (f->store, alice, NULL, NULL), ==, 0);

  /* OIDC group grants apply to members of this login only. */
  add_grant (f->store, "oidc-group", "ops", "operator", "desktops");
  g_assert_cmpint (effective (f->store, bob, ops, "desktops"), ==, operator);
  g_assert_cmpint (effective (f->store, bob, ops, "servers"), ==, 0);
  g_assert_cmpint (effective (f->store, bob, NULL, "desktops"), ==, 0);
  g_assert_cmpint (effective (f->store, bob, opsx, "desktops"), ==, 0);

  /* System permissions come only from every-group grants. */
  add_grant (f->store, "user", "bob", "admin", "servers");
  g_assert_cmpint (effective (f->store, bob, NULL, NULL), ==, 0);
  g_assert_cmpint (effective (f->store, bob, NULL, "servers"), ==,
      WR_PERM_AGENT_MASK);
  add_grant (f->store, "user", "bob", "auditor", NULL);
  g_assert_cmpint (effective (f->store, bob, NULL, NULL), ==, WR_PERM_AUDIT);
  add_grant (f->store, "oidc-group", "admins", "admin", NULL);
  g_assert_cmpint (effective (f->store, carol,
          (const char *const[]) { "admins", NULL }, NULL), ==,
      WR_PERM_SYSTEM_MASK);
  g_assert_cmpint (effective (f->store, carol,
          (const char *const[]) { "admins", NULL }, "default"), ==,
      WR_PERM_AGENT_MASK);
  g_assert_cmpint (effective (f->store, carol, NULL, NULL), ==, 0);

  /* Disabled users have nothing. */
  g_assert_true (wr_store_user_set_disabled (f->store, alice, TRUE, &error));
  g_assert_cmpint (effective (f->store, alice, NULL, "servers"), ==, 0);
  g_assert_true (wr_store_user_set_disabled (f->store, alice, FALSE, &error));

  g_assert_false (wr_store_permissions_for (f->store, alice, NULL, "nope",
          &perms, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_permissions_for (f->store, 999999, NULL, NULL,
          &perms, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Bad grants. */
  g_assert_false (wr_store_grant_create (f->store, "user", "alice", "viewer",
          "servers", NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (wr_store_grant_create (f->store, "user", "alice",
          "operator", NULL, NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (wr_store_grant_create (f->store, "user", "nobody",
          "viewer", NULL, NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_grant_create (f->store, "user", "alice", "nope",
          NULL, NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_grant_create (f->store, "user", "alice", "viewer",
          "nope", NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_grant_create (f->store, "group", "alice",
          "viewer", NULL, NULL, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);

  grants = wr_store_grant_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (grants->len, ==, 6);
  {
    WrStoredGrant *first = grants->pdata[0];
    WrStoredGrant *second = grants->pdata[1];

    g_assert_cmpstr (first->subject_kind, ==, "user");
    g_assert_cmpstr (first->subject, ==, "alice");
    g_assert_cmpstr (first->role_name, ==, "viewer");
    g_assert_cmpstr (first->group_name, ==, "servers");
    g_assert_null (second->group_name);
    id = first->id;
  }

  g_assert_true (wr_store_grant_delete (f->store, id, &error));
  g_assert_cmpint (effective (f->store, alice, NULL, "servers"), ==,
      operator);
  g_assert_false (wr_store_grant_delete (f->store, id, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Deleting a user deletes the grants naming them: a new account of the
   * same name starts with nothing. */
  g_assert_true (wr_store_user_delete (f->store, alice, &error));
  alice = make_user (f->store, "alice");
  g_assert_cmpint (effective (f->store, alice, NULL, "desktops"), ==, 0);
}

static void
test_access_tokens (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTokenInfo) info = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gint64 alice = make_user (f->store, "alice");

  g_assert_true (wr_store_access_token_insert (f->store, "hash-a", alice,
          WR_TOKEN_ACCESS, NULL, NULL, 2000, 1000, &error));
  g_assert_no_error (error);
  info = wr_store_access_token_lookup (f->store, "hash-a", 1999, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpint (info->user_id, ==, alice);
  g_assert_cmpstr (info->user_name, ==, "alice");
  g_assert_cmpint (info->kind, ==, WR_TOKEN_ACCESS);
  g_assert_null (info->scopes);
  g_assert_cmpint (info->scope_mask, ==, WR_PERM_ALL);
  g_assert_cmpint (info->expires_at, ==, 2000);
  g_clear_pointer (&info, wr_token_info_free);

  /* Expired, unknown, malformed: NULL without an error. */
  g_assert_null (wr_store_access_token_lookup (f->store, "hash-a", 2000,
          &error));
  g_assert_null (wr_store_access_token_lookup (f->store, "hash-x", 1500,
          &error));
  g_assert_null (wr_store_access_token_lookup (f->store, "bad\xff", 1500,
          &error));
  g_assert_no_error (error);

  g_assert_true (wr_store_access_token_revoke (f->store, "hash-a", &error));
  g_assert_null (wr_store_access_token_lookup (f->store, "hash-a", 1500,
          &error));
  g_assert_true (wr_store_access_token_revoke (f->store, "hash-unknown",
          &error));
  g_assert_no_error (error);

  /* API tokens: named, scoped. */
  g_assert_true (wr_store_access_token_insert (f->store, "hash-api", alice,
          WR_TOKEN_API, "ci bot", "control view", 100000, 1000, &error));
  g_assert_no_error (error);
  info = wr_store_access_token_lookup (f->store, "hash-api", 1500, &error);
  g_assert_nonnull (info);
  g_assert_cmpint (info->kind, ==, WR_TOKEN_API);
  g_assert_cmpstr (info->name, ==, "ci bot");
  g_assert_cmpstr (info->scopes, ==, "view control");
  g_assert_cmpint (info->scope_mask, ==, WR_PERM_VIEW | WR_PERM_CONTROL);
  g_clear_pointer (&info, wr_token_info_free);

  g_assert_false (wr_store_access_token_insert (f->store, "hash-api2", alice,
          WR_TOKEN_API, "ci bot", NULL, 100000, 1000, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (wr_store_access_token_insert (f->store, "hash-api2", alice,
          WR_TOKEN_API, NULL, NULL, 100000, 1000, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_access_token_insert (f->store, "hash-api2", alice,
          WR_TOKEN_API, "x", "view sudo", 100000, 1000, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_access_token_insert (f->store, "hash-api2", alice,
          WR_TOKEN_API, "x", NULL, 1000, 1000, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_access_token_insert (f->store, "hash-api2",
          999999, WR_TOKEN_API, "x", NULL, 100000, 1000, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = wr_store_access_token_list_api (f->store, alice, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((WrApiToken *) list->pdata[0])->name, ==, "ci bot");
  g_assert_cmpstr (((WrApiToken *) list->pdata[0])->scopes, ==,
      "view control");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A disabled user's tokens are refused; enabling restores API tokens. */
  g_assert_true (wr_store_user_set_disabled (f->store, alice, TRUE, &error));
  g_assert_null (wr_store_access_token_lookup (f->store, "hash-api", 1500,
          &error));
  g_assert_true (wr_store_user_set_disabled (f->store, alice, FALSE, &error));
  info = wr_store_access_token_lookup (f->store, "hash-api", 1500, &error);
  g_assert_nonnull (info);
  g_clear_pointer (&info, wr_token_info_free);

  g_assert_true (wr_store_access_token_revoke_api (f->store, alice, "ci bot",
          &error));
  g_assert_no_error (error);
  g_assert_null (wr_store_access_token_lookup (f->store, "hash-api", 1500,
          &error));
  list = wr_store_access_token_list_api (f->store, alice, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_false (wr_store_access_token_revoke_api (f->store, alice,
          "ci bot", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A revoked token frees its name. */
  g_assert_true (wr_store_access_token_insert (f->store, "hash-api3", alice,
          WR_TOKEN_API, "ci bot", NULL, 100000, 1000, &error));
  g_assert_no_error (error);
}

static void
test_password_change_revokes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrTokenInfo) info = NULL;
  gint64 alice = make_user (f->store, "alice");
  gint64 bob = make_user (f->store, "bob");
  gint64 user = 0;

  g_assert_true (wr_store_access_token_insert (f->store, "a-alice", alice,
          WR_TOKEN_ACCESS, NULL, NULL, 5000, 1000, &error));
  g_assert_true (wr_store_access_token_insert (f->store, "api-alice", alice,
          WR_TOKEN_API, "backup", NULL, 5000, 1000, &error));
  g_assert_true (wr_store_access_token_insert (f->store, "a-bob", bob,
          WR_TOKEN_ACCESS, NULL, NULL, 5000, 1000, &error));
  g_assert_true (wr_store_refresh_insert (f->store, "r-alice", "fam-a",
          alice, 5000, 1000, &error));
  g_assert_true (wr_store_refresh_insert (f->store, "r-bob", "fam-b", bob,
          5000, 1000, &error));
  g_assert_no_error (error);

  g_assert_true (wr_store_user_set_password (f->store, alice, "new-hash",
          &error));
  g_assert_no_error (error);

  g_assert_null (wr_store_access_token_lookup (f->store, "a-alice", 1500,
          &error));
  g_assert_cmpint (wr_store_refresh_use (f->store, "r-alice", 1500, &user,
          NULL, &error), ==, WR_REFRESH_INVALID);
  g_assert_no_error (error);
  /* API tokens stay (documented), other users are untouched. */
  info = wr_store_access_token_lookup (f->store, "api-alice", 1500, &error);
  g_assert_nonnull (info);
  g_clear_pointer (&info, wr_token_info_free);
  info = wr_store_access_token_lookup (f->store, "a-bob", 1500, &error);
  g_assert_nonnull (info);
  g_assert_cmpint (wr_store_refresh_use (f->store, "r-bob", 1500, &user,
          NULL, &error), ==, WR_REFRESH_OK);
  g_assert_cmpint (user, ==, bob);

  /* Disabling revokes login sessions the same way. */
  g_assert_true (wr_store_user_set_disabled (f->store, bob, TRUE, &error));
  g_assert_true (wr_store_user_set_disabled (f->store, bob, FALSE, &error));
  g_clear_pointer (&info, wr_token_info_free);
  g_assert_null (wr_store_access_token_lookup (f->store, "a-bob", 1500,
          &error));
  g_assert_no_error (error);
}

static void
test_refresh_rotation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *family = NULL;
  gint64 alice = make_user (f->store, "alice");
  gint64 user = 0;

  g_assert_true (wr_store_refresh_insert (f->store, "r1", "fam-1", alice,
          5000, 1000, &error));
  g_assert_no_error (error);

  /* Rotate r1 -> r2 -> r3. */
  g_assert_cmpint (wr_store_refresh_rotate (f->store, "r1", "r2", 5100, 1100,
          &user, &family, &error), ==, WR_REFRESH_OK);
  g_assert_no_error (error);
  g_assert_cmpint (user, ==, alice);
  g_assert_cmpstr (family, ==, "fam-1");
  g_clear_pointer (&family, g_free);
  g_assert_cmpint (wr_store_refresh_rotate (f->store, "r2", "r3", 5200, 1200,
          &user, &family, &error), ==, WR_REFRESH_OK);
  g_clear_pointer (&family, g_free);

  /* A stolen r1 comes back: reuse, and the whole login is revoked. */
  user = 0;
  g_assert_cmpint (wr_store_refresh_use (f->store, "r1", 1300, &user,
          &family, &error), ==, WR_REFRESH_REUSED);
  g_assert_no_error (error);
  g_assert_cmpint (user, ==, alice);
  g_assert_cmpstr (family, ==, "fam-1");
  g_clear_pointer (&family, g_free);
  /* The sibling the legitimate client holds is dead too. */
  g_assert_cmpint (wr_store_refresh_rotate (f->store, "r3", "r4", 5300, 1300,
          &user, &family, &error), ==, WR_REFRESH_INVALID);
  g_assert_no_error (error);
  g_assert_null (family);

  /* Unknown, expired. */
  g_assert_cmpint (wr_store_refresh_use (f->store, "nope", 1300, NULL, NULL,
          &error), ==, WR_REFRESH_INVALID);
  g_assert_true (wr_store_refresh_insert (f->store, "old", "fam-2", alice,
          2000, 1000, &error));
  g_assert_cmpint (wr_store_refresh_use (f->store, "old", 2000, NULL, NULL,
          &error), ==, WR_REFRESH_INVALID);
  g_assert_no_error (error);

  /* Explicit revocation: by family (logout) and by user. */
  g_assert_true (wr_store_refresh_insert (f->store, "f3a", "fam-3", alice,
          5000, 1000, &error));
  g_assert_true (wr_store_refresh_revoke_family (f->store, "fam-3", &error));
  g_assert_cmpint (wr_store_refresh_use (f->store, "f3a", 1500, NULL, NULL,
          &error), ==, WR_REFRESH_INVALID);
  g_assert_true (wr_store_refresh_insert (f->store, "f4a", "fam-4", alice,
          5000, 1000, &error));
  g_assert_true (wr_store_refresh_revoke_user (f->store, alice, &error));
  g_assert_cmpint (wr_store_refresh_use (f->store, "f4a", 1500, NULL, NULL,
          &error), ==, WR_REFRESH_INVALID);
  g_assert_no_error (error);

  /* Housekeeping drops expired rows. */
  g_assert_true (wr_store_purge_expired (f->store, 10000, 60, &error));
  g_assert_no_error (error);
}

static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrStoredSession) session = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gint64 alice = make_user (f->store, "alice");
  const char *reason = "ticket #42: 'urgent'; DROP TABLE sessions; --\n"
      "Grüße";

  g_assert_true (wr_store_session_insert (f->store, "sid-1", alice, "agent-1",
          ":0", "control view", reason, 100, &error));
  g_assert_no_error (error);
  g_assert_true (wr_store_session_insert (f->store, "sid-2", alice, "agent-2",
          ":1", "view", NULL, 150, &error));
  g_assert_no_error (error);

  session = wr_store_session_get (f->store, "sid-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (session->user_id, ==, alice);
  g_assert_cmpstr (session->agent_id, ==, "agent-1");
  g_assert_cmpstr (session->display, ==, ":0");
  g_assert_cmpstr (session->scopes, ==, "view control");
  g_assert_cmpstr (session->reason, ==, reason);
  g_assert_cmpint (session->started_at, ==, 100);
  g_assert_cmpint (session->ended_at, ==, 0);
  g_assert_null (session->end_reason);
  g_clear_pointer (&session, wr_stored_session_free);

  g_assert_true (wr_store_session_end (f->store, "sid-1", "closed by user",
          200, &error));
  g_assert_true (wr_store_session_end (f->store, "sid-1", "again", 300,
          &error));
  g_assert_no_error (error);
  session = wr_store_session_get (f->store, "sid-1", &error);
  g_assert_cmpint (session->ended_at, ==, 200);
  g_assert_cmpstr (session->end_reason, ==, "closed by user");
  g_clear_pointer (&session, wr_stored_session_free);

  list = wr_store_session_list (f->store, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((WrStoredSession *) list->pdata[0])->sid, ==, "sid-2");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = wr_store_session_list (f->store, FALSE, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((WrStoredSession *) list->pdata[0])->sid, ==, "sid-2");

  g_assert_false (wr_store_session_end (f->store, "sid-x", NULL, 300,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_session_insert (f->store, "sid-1", alice, "a",
          ":0", "view", NULL, 100, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (wr_store_session_insert (f->store, "sid-3", alice, "a",
          ":0", "view", "bad \xff", 100, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_session_insert (f->store, "sid-3", alice, "a",
          ":0", "view steal", NULL, 100, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_session_insert (f->store, "sid-3", 999999, "a",
          ":0", "view", NULL, 100, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Sessions are history: they outlive their user. */
  g_assert_true (wr_store_user_delete (f->store, alice, &error));
  session = wr_store_session_get (f->store, "sid-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (session->user_id, ==, 0);
  g_assert_cmpstr (session->reason, ==, reason);
}

/* ------------------------------------------------------------------ */
/* Two stores on one database, like two gateways */

typedef struct {
  WrStore *store;
  gint64 user;
  int n;
} HammerData;

static gpointer
hammer_failures (gpointer data)
{
  HammerData *h = data;

  for (int i = 0; i < h->n; i++) {
    g_autoptr (GError) error = NULL;

    wr_store_user_record_failure (h->store, h->user, 1000, 0, 60, NULL,
        NULL, &error);
    g_assert_no_error (error);
  }
  return NULL;
}

typedef struct {
  WrStore *store;
  const char *hash;
  WrRefreshResult result;
} UseData;

static gpointer
use_refresh (gpointer data)
{
  UseData *u = data;
  g_autoptr (GError) error = NULL;

  u->result = wr_store_refresh_use (u->store, u->hash, 1500, NULL, NULL,
      &error);
  g_assert_no_error (error);
  return NULL;
}

static void
test_two_gateways (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrStore) other = NULL;
  g_autoptr (WrUser) user = NULL;
  gint64 alice;
  gint64 locked = 0;
  guint failures = 0;

  other = wr_store_open (f->location, &error);
  g_assert_no_error (error);
  alice = make_user (f->store, "alice");

  /* Lockout counts are shared: two failures here, the third there locks. */
  g_assert_true (wr_store_user_record_failure (f->store, alice, 1000, 3, 60,
          &failures, &locked, &error));
  g_assert_true (wr_store_user_record_failure (f->store, alice, 1001, 3, 60,
          &failures, &locked, &error));
  g_assert_true (wr_store_user_record_failure (other, alice, 1002, 3, 60,
          &failures, &locked, &error));
  g_assert_no_error (error);
  g_assert_cmpint (locked, ==, 1062);
  user = wr_store_user_get_by_name (f->store, "alice", &error);
  g_assert_cmpint (user->locked_until, ==, 1062);
  g_clear_pointer (&user, wr_user_free);

  /* So are per-address counts. */
  g_assert_true (wr_store_address_record_failure (f->store, "192.0.2.1",
          1000, 60, &failures, &error));
  g_assert_true (wr_store_address_record_failure (other, "192.0.2.1", 1001,
          60, &failures, &error));
  g_assert_cmpuint (failures, ==, 2);
  g_assert_true (wr_store_address_failures (f->store, "192.0.2.1", 1002, 60,
          &failures, &error));
  g_assert_cmpuint (failures, ==, 2);
  g_assert_no_error (error);

  /* Concurrent failures from both, in threads: none is lost. */
  g_assert_true (wr_store_user_reset_failures (other, alice, &error));
  {
    HammerData h[4] = {
      { f->store, alice, 25 }, { other, alice, 25 },
      { f->store, alice, 25 }, { other, alice, 25 },
    };
    GThread *threads[4];

    for (int i = 0; i < 4; i++)
      threads[i] = g_thread_new ("hammer", hammer_failures, &h[i]);
    for (int i = 0; i < 4; i++)
      g_thread_join (threads[i]);
  }
  user = wr_store_user_get_by_id (other, alice, &error);
  g_assert_no_error (error);
  g_assert_cmpint (user->failed_logins, ==, 100);

  /* One refresh token presented to both at once: exactly one wins, the
   * other sees reuse. */
  g_assert_true (wr_store_refresh_insert (f->store, "race", "fam-race",
          alice, 5000, 1000, &error));
  g_assert_no_error (error);
  {
    UseData u[2] = {
      { f->store, "race", WR_REFRESH_INVALID },
      { other, "race", WR_REFRESH_INVALID },
    };
    GThread *threads[2];

    for (int i = 0; i < 2; i++)
      threads[i] = g_thread_new ("use", use_refresh, &u[i]);
    for (int i = 0; i < 2; i++)
      g_thread_join (threads[i]);
    g_assert_cmpint (u[0].result + u[1].result, ==,
        WR_REFRESH_OK + WR_REFRESH_REUSED);
    g_assert_cmpint (u[0].result, !=, u[1].result);
  }
}

/* The recording policy and retention of a group: defaults, setters,
 * validation (nothing written on bad input), and the agent lookup the
 * gateway decides a session's recording with. */
static void
test_group_policy (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;
  g_autoptr (WrStoredAgent) agent = NULL;
  g_autoptr (GPtrArray) groups = NULL;
  g_autoptr (GPtrArray) agents = NULL;
  const char *bad_modes[] = { "", "OFF", "on", "best effort", "strict ",
    "stric", NULL };

  group = wr_store_group_create (f->store, "vault", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (group->recording, ==, "off");
  g_assert_cmpint (group->retention_days, ==, 0);
  g_clear_pointer (&group, wr_agent_group_free);

  g_assert_true (wr_store_group_set_recording (f->store, "vault", "strict",
          &error));
  g_assert_no_error (error);
  g_assert_true (wr_store_group_set_retention_days (f->store, "vault", 90,
          &error));
  g_assert_no_error (error);
  group = wr_store_group_get_by_name (f->store, "vault", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (group->recording, ==, "strict");
  g_assert_cmpint (group->retention_days, ==, 90);
  g_clear_pointer (&group, wr_agent_group_free);

  /* bad values: INVALID, and the group keeps its policy */
  for (guint i = 0; bad_modes[i]; i++) {
    g_assert_false (wr_store_group_set_recording (f->store, "vault",
            bad_modes[i], &error));
    g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_false (wr_store_group_set_recording (f->store, "vault", NULL,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_group_set_retention_days (f->store, "vault", -1,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wr_store_group_set_retention_days (f->store, "vault",
          WR_STORE_MAX_RETENTION_DAYS + 1, &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID);
  g_clear_error (&error);
  group = wr_store_group_get_by_name (f->store, "vault", &error);
  g_assert_cmpstr (group->recording, ==, "strict");
  g_assert_cmpint (group->retention_days, ==, 90);
  g_clear_pointer (&group, wr_agent_group_free);

  /* unknown groups */
  g_assert_false (wr_store_group_set_recording (f->store, "nope",
          "best-effort", &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (wr_store_group_set_retention_days (f->store, "nope", 1,
          &error));
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* every mode and the bounds round-trip */
  g_assert_true (wr_store_group_set_recording (f->store, "vault",
          "best-effort", &error));
  g_assert_true (wr_store_group_set_retention_days (f->store, "vault",
          WR_STORE_MAX_RETENTION_DAYS, &error));
  g_assert_no_error (error);

  /* the agent lookup carries its group's policy */
  g_assert_true (wr_store_agent_upsert (f->store, "a1", "Vault 1", 100,
          &error));
  g_assert_no_error (error);
  agent = wr_store_agent_get (f->store, "a1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agent->recording, ==, "off");
  g_assert_cmpint (agent->retention_days, ==, 0);
  g_clear_pointer (&agent, wr_stored_agent_free);
  g_assert_true (wr_store_agent_set_group (f->store, "a1", "vault", &error));
  g_assert_no_error (error);
  agent = wr_store_agent_get (f->store, "a1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agent->recording, ==, "best-effort");
  g_assert_cmpint (agent->retention_days, ==, WR_STORE_MAX_RETENTION_DAYS);
  g_clear_pointer (&agent, wr_stored_agent_free);
  g_assert_true (wr_store_group_set_retention_days (f->store, "vault", 0,
          &error));
  g_assert_true (wr_store_group_set_recording (f->store, "vault", "off",
          &error));
  g_assert_no_error (error);
  agents = wr_store_agent_list (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (agents->len, ==, 1);
  agent = g_ptr_array_steal_index (agents, 0);
  g_assert_cmpstr (agent->recording, ==, "off");
  g_assert_cmpint (agent->retention_days, ==, 0);

  groups = wr_store_group_list (f->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < groups->len; i++) {
    const WrAgentGroup *g = groups->pdata[i];

    g_assert_true (wr_store_recording_mode_is_valid (g->recording));
  }
}

/* A transaction around a change (what the audit uses): rollback undoes
 * the group and its policy; commit keeps them. */
static void
test_group_policy_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrAgentGroup) group = NULL;

  g_assert_true (wr_store_begin (f->store, &error));
  group = wr_store_group_create (f->store, "tx", FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (wr_store_group_set_recording (f->store, "tx", "strict",
          &error));
  wr_store_rollback (f->store);
  g_clear_pointer (&group, wr_agent_group_free);
  group = wr_store_group_get_by_name (f->store, "tx", &error);
  g_assert_null (group);
  g_assert_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (wr_store_begin (f->store, &error));
  group = wr_store_group_create (f->store, "tx", FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (wr_store_group_set_recording (f->store, "tx", "strict",
          &error));
  g_assert_true (wr_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_clear_pointer (&group, wr_agent_group_free);
  group = wr_store_group_get_by_name (f->store, "tx", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (group->recording, ==, "strict");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gateway/store/permission-strings",
      test_permission_strings);

  for (guint i = 0; i < G_N_ELEMENTS (wr_test_backends); i++) {
    const WrTestBackend *b = &wr_test_backends[i];
    struct {
      const char *name;
      void (*func) (Fixture *, gconstpointer);
    } tests[] = {
      { "migrations-are-applied-and-recorded", test_migrations },
      { "newer-schema-is-refused", test_newer_schema_refused },
      { "users-crud", test_users_crud },
      { "user-names-with-sql-and-unicode-round-trip",
        test_users_awkward_names },
      { "bad-user-input-is-refused-and-nothing-written",
        test_users_bad_input },
      { "oidc-users-get-unique-names", test_oidc_users },
      { "lockout-after-repeated-failures", test_lockout },
      { "address-rate-limit-windows", test_address_rate_limit },
      { "recovery-codes-are-single-use", test_recovery_codes },
      { "roles", test_roles },
      { "groups-and-agents", test_groups_and_agents },
      { "group-recording-policy-and-retention", test_group_policy },
      { "group-policy-in-a-transaction", test_group_policy_transaction },
      { "grants-and-effective-permissions", test_grants_and_permissions },
      { "access-and-api-tokens", test_access_tokens },
      { "password-change-revokes-login-tokens",
        test_password_change_revokes },
      { "refresh-rotation-and-reuse-detection", test_refresh_rotation },
      { "sessions", test_sessions },
      { "two-gateways-share-lockout-and-tokens", test_two_gateways },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/gateway/store/%s/%s",
          b->name, tests[t].name);

      g_test_add (path, Fixture, b, setup, tests[t].func, teardown);
    }
  }

  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
