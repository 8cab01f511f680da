/* webremote: the SQLite backend of WrDb: one file, WAL, foreign keys on. */
#include "config.h"

#include "gateway/db.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

/* How long a statement waits for another connection's write lock (another
 * process on the same file) before failing. */
#define WR_DB_SQLITE_BUSY_TIMEOUT_MS 10000

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static void
set_error_from_sqlite (sqlite3 *conn, int rc, const char *sql,
    GError **error)
{
  int extended = sqlite3_extended_errcode (conn);
  WrDbError code = WR_DB_ERROR_FAILED;

  if (extended == SQLITE_CONSTRAINT_UNIQUE ||
      extended == SQLITE_CONSTRAINT_PRIMARYKEY)
    code = WR_DB_ERROR_UNIQUE;
  else if (extended == SQLITE_CONSTRAINT_FOREIGNKEY)
    code = WR_DB_ERROR_FOREIGN_KEY;

  g_debug ("sqlite: %s (%d) in: %s", sqlite3_errmsg (conn), extended,
      sql ? sql : "?");
  g_set_error (error, WR_DB_ERROR, code, "SQLite: %s", sqlite3_errmsg (conn));
}

static gboolean
bind_params (sqlite3 *conn, sqlite3_stmt *stmt, const char *sql,
    const WrDbParam *params, guint n_params, GError **error)
{
  for (guint i = 0; i < n_params; i++) {
    char name[16];
    int index;
    int rc;

    g_snprintf (name, sizeof name, "$%u", i + 1);
    index = sqlite3_bind_parameter_index (stmt, name);
    if (index == 0) {
      /* PostgreSQL refuses unused parameters too; keep both honest. */
      g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED,
          "parameter %s is not used by the statement", name);
      g_debug ("sqlite: unused parameter %s in: %s", name, sql);
      return FALSE;
    }

    if (params[i].is_null)
      rc = sqlite3_bind_null (stmt, index);
    else if (params[i].type == WR_DB_PARAM_INT)
      rc = sqlite3_bind_int64 (stmt, index, params[i].integer);
    else
      rc = sqlite3_bind_text (stmt, index, params[i].text, -1,
          SQLITE_TRANSIENT);

    if (rc != SQLITE_OK) {
      set_error_from_sqlite (conn, rc, sql, error);
      return FALSE;
    }
  }

  if ((guint) sqlite3_bind_parameter_count (stmt) != n_params) {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED,
        "statement wants %d parameters, got %u",
        sqlite3_bind_parameter_count (stmt), n_params);
    g_debug ("sqlite: parameter count mismatch in: %s", sql);
    return FALSE;
  }
  return TRUE;
}

static gboolean
sqlite_exec (gpointer data, gboolean in_transaction, const char *sql,
    const WrDbParam *params, guint n_params, WrDbResult **out,
    GError **error)
{
  sqlite3 *conn = data;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (WrDbResult) result = NULL;
  const char *tail = NULL;
  guint n_columns;
  int rc;

  rc = sqlite3_prepare_v2 (conn, sql, -1, &stmt, &tail);
  if (rc != SQLITE_OK) {
    set_error_from_sqlite (conn, rc, sql, error);
    return FALSE;
  }
  if (!stmt) {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED, "empty statement");
    return FALSE;
  }
  while (tail && g_ascii_isspace (*tail))
    tail++;
  if (tail && *tail && *tail != ';') {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED,
        "more than one statement");
    g_debug ("sqlite: more than one statement in: %s", sql);
    return FALSE;
  }

  if (!bind_params (conn, stmt, sql, params, n_params, error))
    return FALSE;

  n_columns = (guint) sqlite3_column_count (stmt);
  result = wr_db_result_new (n_columns);
  for (guint i = 0; i < n_columns; i++)
    result->column_names[i] = g_strdup (sqlite3_column_name (stmt, (int) i));

  for (;;) {
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
      g_autofree const char **cells = g_new0 (const char *, n_columns + 1);

      for (guint i = 0; i < n_columns; i++)
        cells[i] = (const char *) sqlite3_column_text (stmt, (int) i);
      wr_db_result_add_row (result, cells);
    } else if (rc == SQLITE_DONE) {
      break;
    } else {
      set_error_from_sqlite (conn, rc, sql, error);
      return FALSE;
    }
  }
  /* sqlite3_changes() keeps the last write's count across SELECTs. */
  result->changes = sqlite3_stmt_readonly (stmt) ? 0 :
      sqlite3_changes64 (conn);

  if (out)
    *out = g_steal_pointer (&result);
  return TRUE;
}

static gboolean
sqlite_exec_script (gpointer data, const char *sql, GError **error)
{
  sqlite3 *conn = data;
  int rc = sqlite3_exec (conn, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK) {
    set_error_from_sqlite (conn, rc, "(script)", error);
    return FALSE;
  }
  return TRUE;
}

static void
sqlite_close (gpointer data)
{
  sqlite3_close_v2 (data);
}

gpointer
wr_db_sqlite_open (const char *path, GError **error)
{
  sqlite3 *conn = NULL;
  char *message = NULL;
  int rc;

  if (*path == '\0') {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
        "no database file given");
    return NULL;
  }

  /* Password hashes live here: the file is created private. SQLite gives
   * its -wal and -shm files the same mode. Only a new file is opened here:
   * close() drops every POSIX lock this process holds on the file, so
   * opening and closing an existing database would strip the locks of
   * this process's other connections to it, and another process could
   * then delete the WAL under them. */
  if (strcmp (path, ":memory:") != 0) {
    int fd = g_open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0 && errno == EEXIST) {
      /* exists: sqlite3_open_v2() below */
    } else if (fd < 0) {
      int saved = errno;

      g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
          "cannot open database file %s: %s", path, g_strerror (saved));
      return NULL;
    } else {
      close (fd);
    }
  }

  rc = sqlite3_open_v2 (path, &conn, SQLITE_OPEN_READWRITE |
      SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK) {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
        "cannot open database file %s: %s", path,
        conn ? sqlite3_errmsg (conn) : sqlite3_errstr (rc));
    sqlite3_close_v2 (conn);
    return NULL;
  }

  sqlite3_extended_result_codes (conn, 1);
  sqlite3_busy_timeout (conn, WR_DB_SQLITE_BUSY_TIMEOUT_MS);

  rc = sqlite3_exec (conn,
      "PRAGMA journal_mode = WAL;"
      "PRAGMA synchronous = NORMAL;"
      "PRAGMA foreign_keys = ON;",
      NULL, NULL, &message);
  if (rc != SQLITE_OK) {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
        "cannot use database file %s: %s", path,
        message ? message : sqlite3_errstr (rc));
    sqlite3_free (message);
    sqlite3_close_v2 (conn);
    return NULL;
  }

  return conn;
}

const WrDbBackend wr_db_sqlite_backend = {
  .name = "sqlite",
  .begin_sql = "BEGIN IMMEDIATE",
  .id_column_sql = "INTEGER PRIMARY KEY AUTOINCREMENT",
  .exec = sqlite_exec,
  .exec_script = sqlite_exec_script,
  .close = sqlite_close,
};
