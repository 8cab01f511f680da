/* Tests for the SQL driver interface (gateway/db.c, db-sqlite.c, db-pg.c),
 * each against SQLite and a throwaway PostgreSQL (tests/lib/pg-server.h). */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "gateway/db.h"
#include "tests/lib/store-backend.h"

/* Per-test watchdog: SIGALRM's default action ends the program, which
 * fails the test (and the pg-server guard cleans up). */
#define TEST_TIMEOUT_S 60

typedef struct {
  char *dir;
  char *location;
  WrDb *db;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  const WrTestBackend *backend = data;
  g_autoptr (GError) error = NULL;

  alarm (TEST_TIMEOUT_S);
  if (!backend->pg) {
    f->dir = g_dir_make_tmp ("wr-db-XXXXXX", &error);
    g_assert_no_error (error);
  }
  f->location = wr_test_backend_location (backend, f->dir, "test.db");
  f->db = wr_db_open (f->location, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_db_get_backend_name (f->db), ==, backend->name);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  wr_db_close (f->db);
  if (f->dir) {
    wr_test_sqlite_remove (f->location);
    g_rmdir (f->dir);
    g_free (f->dir);
  }
  g_free (f->location);
  alarm (0);
}

static void
exec_ok (WrDb *db, const char *sql)
{
  g_autoptr (GError) error = NULL;

  wr_db_exec (db, sql, NULL, 0, NULL, &error);
  g_assert_no_error (error);
}

static const char *const awkward[] = {
  "plain",
  "o'brien",
  "Robert'); DROP TABLE t; --",
  "\"double\" and `back`",
  "back\\slash",
  "100%_like$1?",
  "Grüße, 日本語, 🎉",
  "",
};

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDbResult) res = NULL;
  const gint64 numbers[] = { G_MININT64, -1, 0, 1, G_MAXINT64 };

  exec_ok (f->db, "CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT, n BIGINT)");

  for (guint i = 0; i < G_N_ELEMENTS (awkward); i++) {
    WrDbParam params[] = {
      WR_DB_INT (i), WR_DB_TEXT (awkward[i]),
      WR_DB_INT (numbers[i % G_N_ELEMENTS (numbers)]),
    };

    wr_db_exec (f->db, "INSERT INTO t (k, s, n) VALUES ($1, $2, $3)", params,
        G_N_ELEMENTS (params), &res, &error);
    g_assert_no_error (error);
    g_assert_cmpint (res->changes, ==, 1);
    g_clear_pointer (&res, wr_db_result_free);
  }
  {
    WrDbParam params[] = {
      WR_DB_INT (100), WR_DB_TEXT (NULL), WR_DB_INT_NULL,
    };

    wr_db_exec (f->db, "INSERT INTO t (k, s, n) VALUES ($1, $2, $3)", params,
        G_N_ELEMENTS (params), NULL, &error);
    g_assert_no_error (error);
  }

  /* The table survived the would-be injection, and every value came back
   * byte for byte. */
  wr_db_exec (f->db, "SELECT k, s, n FROM t ORDER BY k", NULL, 0, &res,
      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (res->n_rows, ==, G_N_ELEMENTS (awkward) + 1);
  g_assert_cmpuint (res->n_columns, ==, 3);
  g_assert_cmpint (wr_db_result_column (res, "s"), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (awkward); i++) {
    g_assert_cmpstr (wr_db_result_get (res, i, 1), ==, awkward[i]);
    g_assert_cmpint (wr_db_result_get_int (res, i, 2), ==,
        numbers[i % G_N_ELEMENTS (numbers)]);
  }
  g_assert_null (wr_db_result_get (res, G_N_ELEMENTS (awkward), 1));
  g_assert_null (wr_db_result_get (res, G_N_ELEMENTS (awkward), 2));
  g_clear_pointer (&res, wr_db_result_free);

  /* Look-ups by a bound awkward value match exactly that row. */
  {
    WrDbParam params[] = { WR_DB_TEXT (awkward[2]) };

    wr_db_exec (f->db, "SELECT k FROM t WHERE s = $1", params, 1, &res,
        &error);
    g_assert_no_error (error);
    g_assert_cmpuint (res->n_rows, ==, 1);
    g_assert_cmpint (wr_db_result_get_int (res, 0, 0), ==, 2);
  }
}

static void
test_constraint_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  WrDbParam one[] = { WR_DB_INT (1) };
  WrDbParam two[] = { WR_DB_INT (2) };

  exec_ok (f->db, "CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  exec_ok (f->db, "CREATE TABLE child (parent_id INTEGER NOT NULL "
      "REFERENCES parent (id))");

  wr_db_exec (f->db, "INSERT INTO parent (id) VALUES ($1)", one, 1, NULL,
      &error);
  g_assert_no_error (error);
  wr_db_exec (f->db, "INSERT INTO parent (id) VALUES ($1)", one, 1, NULL,
      &error);
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_UNIQUE);
  g_clear_error (&error);

  wr_db_exec (f->db, "INSERT INTO child (parent_id) VALUES ($1)", two, 1,
      NULL, &error);
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FOREIGN_KEY);
  g_clear_error (&error);

  /* Programmer errors are errors, not crashes. */
  wr_db_exec (f->db, "SELECT $1, $2", one, 1, NULL, &error);
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED);
  g_clear_error (&error);
  wr_db_exec (f->db, "SELECT nonsense FROM nowhere", NULL, 0, NULL, &error);
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED);
  g_clear_error (&error);

  /* The connection is still usable afterwards. */
  wr_db_exec (f->db, "INSERT INTO child (parent_id) VALUES ($1)", one, 1,
      NULL, &error);
  g_assert_no_error (error);
}

static gboolean
insert_then_fail (WrDb *db, gpointer user_data, GError **error)
{
  WrDbParam params[] = { WR_DB_INT (GPOINTER_TO_INT (user_data)) };

  if (!wr_db_exec (db, "INSERT INTO t (k) VALUES ($1)", params, 1, NULL,
          error))
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "on purpose");
  return FALSE;
}

static gboolean
insert_ok (WrDb *db, gpointer user_data, GError **error)
{
  WrDbParam params[] = { WR_DB_INT (GPOINTER_TO_INT (user_data)) };

  return wr_db_exec (db, "INSERT INTO t (k) VALUES ($1)", params, 1, NULL,
      error);
}

static gint64
count_rows (WrDb *db)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDbResult) res = NULL;

  wr_db_exec (db, "SELECT COUNT (*) FROM t", NULL, 0, &res, &error);
  g_assert_no_error (error);
  return wr_db_result_get_int (res, 0, 0);
}

static void
test_transactions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  exec_ok (f->db, "CREATE TABLE t (k INTEGER PRIMARY KEY)");

  g_assert_false (wr_db_transaction (f->db, insert_then_fail,
          GINT_TO_POINTER (1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (f->db), ==, 0);

  g_assert_true (wr_db_transaction (f->db, insert_ok, GINT_TO_POINTER (2),
          &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->db), ==, 1);

  /* A statement failing inside a transaction rolls all of it back. */
  g_assert_true (wr_db_begin (f->db, &error));
  g_assert_true (insert_ok (f->db, GINT_TO_POINTER (3), &error));
  g_assert_false (insert_ok (f->db, GINT_TO_POINTER (2), &error));
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_UNIQUE);
  g_clear_error (&error);
  wr_db_rollback (f->db);
  g_assert_cmpint (count_rows (f->db), ==, 1);

  /* A nested rollback dooms the outer transaction. */
  g_assert_true (wr_db_begin (f->db, &error));
  g_assert_true (insert_ok (f->db, GINT_TO_POINTER (4), &error));
  g_assert_true (wr_db_begin (f->db, &error));
  wr_db_rollback (f->db);
  g_assert_false (wr_db_commit (f->db, &error));
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (f->db), ==, 1);

  /* Nested commit joins the outer one. */
  g_assert_true (wr_db_begin (f->db, &error));
  g_assert_true (wr_db_begin (f->db, &error));
  g_assert_true (insert_ok (f->db, GINT_TO_POINTER (5), &error));
  g_assert_true (wr_db_commit (f->db, &error));
  g_assert_true (wr_db_commit (f->db, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->db), ==, 2);
}

static void
test_script (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (wr_db_exec_script (f->db,
          "CREATE TABLE t (k INTEGER PRIMARY KEY);"
          "INSERT INTO t (k) VALUES (1);"
          "INSERT INTO t (k) VALUES (2);", &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->db), ==, 2);

  /* wr_db_exec takes exactly one statement. */
  g_assert_false (wr_db_exec (f->db, "INSERT INTO t (k) VALUES (3); "
          "DELETE FROM t", NULL, 0, NULL, &error));
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED);
  g_assert_cmpint (count_rows (f->db), ==, 2);
}

#define N_THREADS 4
#define N_INCREMENTS 50

static gboolean
increment (WrDb *db, gpointer user_data, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[1];

  /* Read-modify-write: only correct when transactions do not interleave
   * on the shared connection. */
  if (!wr_db_exec (db, "SELECT n FROM counter", NULL, 0, &res, error))
    return FALSE;
  params[0] = WR_DB_INT (wr_db_result_get_int (res, 0, 0) + 1);
  g_thread_yield ();
  return wr_db_exec (db, "UPDATE counter SET n = $1", params, 1, NULL, error);
}

static gpointer
increment_thread (gpointer data)
{
  WrDb *db = data;

  for (int i = 0; i < N_INCREMENTS; i++) {
    g_autoptr (GError) error = NULL;

    wr_db_transaction (db, increment, NULL, &error);
    g_assert_no_error (error);
  }
  return NULL;
}

static void
test_threads (Fixture *f, gconstpointer data)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GError) error = NULL;
  GThread *threads[N_THREADS];

  exec_ok (f->db, "CREATE TABLE counter (n BIGINT NOT NULL)");
  exec_ok (f->db, "INSERT INTO counter (n) VALUES (0)");

  for (int i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("db", increment_thread, f->db);
  for (int i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);

  wr_db_exec (f->db, "SELECT n FROM counter", NULL, 0, &res, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wr_db_result_get_int (res, 0, 0), ==,
      N_THREADS * N_INCREMENTS);
}

static void
test_pg_reconnects (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WrDbResult) res = NULL;
  g_autofree char *pid = NULL;
  g_autofree char *kill = NULL;

  wr_db_exec (f->db, "SELECT pg_backend_pid ()", NULL, 0, &res, &error);
  g_assert_no_error (error);
  pid = g_strdup (wr_db_result_get (res, 0, 0));
  g_clear_pointer (&res, wr_db_result_free);

  /* What a server restart or an idle-connection reaper does. */
  kill = g_strdup_printf ("SELECT pg_terminate_backend (%s)", pid);
  g_assert_true (wr_pg_server_exec (wr_pg_server_get_url (
              wr_test_backend_get_pg_server ()), kill, &error));
  g_assert_no_error (error);

  /* The statement that finds the connection dead may fail; the next one
   * reconnects. */
  if (!wr_db_exec (f->db, "SELECT 1", NULL, 0, NULL, &error)) {
    g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED);
    g_clear_error (&error);
  }
  wr_db_exec (f->db, "SELECT pg_backend_pid ()", NULL, 0, &res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (wr_db_result_get (res, 0, 0), !=, pid);
}

static void
test_open_errors (void)
{
  g_autoptr (GError) error = NULL;
  WrDb *db;
  guint16 port;

  alarm (TEST_TIMEOUT_S);
  db = wr_db_open ("/nonexistent-dir/sub/test.db", &error);
  g_assert_null (db);
  g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/sub/test.db"));
  g_clear_error (&error);

  /* Nothing listens on a port we just closed. */
  {
    GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (
        G_SOCKET_FAMILY_IPV4);
    g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
    g_autoptr (GSocketAddress) bound = NULL;

    g_assert_true (g_socket_bind (sock, addr, TRUE, NULL));
    bound = g_socket_get_local_address (sock, NULL);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_object_unref (sock);
  }
  {
    g_autofree char *url = g_strdup_printf (
        "postgresql://nobody:secret-password@127.0.0.1:%u/x", port);

    db = wr_db_open (url, &error);
    g_assert_null (db);
    g_assert_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN);
    g_assert_null (strstr (error->message, "secret-password"));
  }
  alarm (0);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (wr_test_backends); i++) {
    const WrTestBackend *b = &wr_test_backends[i];
    struct {
      const char *name;
      void (*func) (Fixture *, gconstpointer);
    } tests[] = {
      { "bound-values-round-trip", test_round_trip },
      { "constraint-errors-are-typed", test_constraint_errors },
      { "transactions-commit-or-roll-back", test_transactions },
      { "script-runs-several-statements", test_script },
      { "threads-share-one-connection", test_threads },
    };

    for (guint t = 0; t < G_N_ELEMENTS (tests); t++) {
      g_autofree char *path = g_strdup_printf ("/gateway/db/%s/%s", b->name,
          tests[t].name);

      g_test_add (path, Fixture, b, setup, tests[t].func, teardown);
    }
  }
  g_test_add ("/gateway/db/postgresql/reconnects-after-connection-loss",
      Fixture, &wr_test_backends[1], setup, test_pg_reconnects, teardown);
  g_test_add_func ("/gateway/db/open-errors-are-clear", test_open_errors);

  ret = g_test_run ();
  wr_test_backends_shutdown ();
  return ret;
}
