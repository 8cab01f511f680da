/* webremote: the backend-independent half of WrDb: locking, transactions
 * and result rows. */
#include "config.h"

#include "gateway/db.h"

#include <string.h>

G_DEFINE_QUARK (wr-db-error-quark, wr_db_error)

struct _WrDb {
  const WrDbBackend *backend;
  /* Guards conn and depth. Recursive so a transaction function can call
   * wr_db_exec on the same thread while the transaction holds it. */
  GRecMutex lock;
  gpointer conn;
  guint depth;
  /* a nested transaction rolled back: the outer one must not commit */
  gboolean doomed;
};

void
wr_db_result_free (WrDbResult *result)
{
  if (!result)
    return;
  g_strfreev (result->column_names);
  for (gsize i = 0; i < (gsize) result->n_rows * result->n_columns; i++)
    g_free (result->cells[i]);
  g_free (result->cells);
  g_free (result);
}

WrDbResult *
wr_db_result_new (guint n_columns)
{
  WrDbResult *result = g_new0 (WrDbResult, 1);

  result->n_columns = n_columns;
  result->column_names = g_new0 (char *, n_columns + 1);
  return result;
}

void
wr_db_result_add_row (WrDbResult *result, const char *const *cells)
{
  gsize base = (gsize) result->n_rows * result->n_columns;

  result->cells = g_renew (char *, result->cells,
      base + result->n_columns);
  for (guint i = 0; i < result->n_columns; i++)
    result->cells[base + i] = g_strdup (cells[i]);
  result->n_rows++;
}

const char *
wr_db_result_get (const WrDbResult *result, guint row, guint column)
{
  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (row < result->n_rows, NULL);
  g_return_val_if_fail (column < result->n_columns, NULL);

  return result->cells[(gsize) row * result->n_columns + column];
}

gint64
wr_db_result_get_int (const WrDbResult *result, guint row, guint column)
{
  const char *cell = wr_db_result_get (result, row, column);
  gint64 value = 0;

  if (!cell || !g_ascii_string_to_signed (cell, 10, G_MININT64, G_MAXINT64,
          &value, NULL))
    return 0;
  return value;
}

int
wr_db_result_column (const WrDbResult *result, const char *name)
{
  for (guint i = 0; i < result->n_columns; i++) {
    if (g_strcmp0 (result->column_names[i], name) == 0)
      return (int) i;
  }
  return -1;
}

gboolean
wr_db_url_is_postgresql (const char *url_or_path)
{
  return g_str_has_prefix (url_or_path, "postgresql://") ||
      g_str_has_prefix (url_or_path, "postgres://");
}

WrDb *
wr_db_open (const char *url_or_path, GError **error)
{
  const WrDbBackend *backend;
  gpointer conn;
  WrDb *db;

  g_return_val_if_fail (url_or_path != NULL, NULL);

  if (wr_db_url_is_postgresql (url_or_path)) {
    backend = &wr_db_pg_backend;
    conn = wr_db_pg_open (url_or_path, error);
  } else {
    backend = &wr_db_sqlite_backend;
    conn = wr_db_sqlite_open (url_or_path, error);
  }
  if (!conn)
    return NULL;

  db = g_new0 (WrDb, 1);
  db->backend = backend;
  db->conn = conn;
  g_rec_mutex_init (&db->lock);
  return db;
}

void
wr_db_close (WrDb *db)
{
  if (!db)
    return;
  g_rec_mutex_lock (&db->lock);
  db->backend->close (db->conn);
  db->conn = NULL;
  g_rec_mutex_unlock (&db->lock);
  g_rec_mutex_clear (&db->lock);
  g_free (db);
}

const char *
wr_db_get_backend_name (WrDb *db)
{
  return db->backend->name;
}

const char *
wr_db_get_id_column_sql (WrDb *db)
{
  return db->backend->id_column_sql;
}

gboolean
wr_db_exec (WrDb *db, const char *sql, const WrDbParam *params,
    guint n_params, WrDbResult **out, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);
  g_return_val_if_fail (n_params == 0 || params != NULL, FALSE);

  g_rec_mutex_lock (&db->lock);
  ok = db->backend->exec (db->conn, db->depth > 0, sql, params, n_params, out,
      error);
  g_rec_mutex_unlock (&db->lock);
  return ok;
}

gboolean
wr_db_exec_script (WrDb *db, const char *sql, GError **error)
{
  gboolean ok;

  g_rec_mutex_lock (&db->lock);
  ok = db->backend->exec_script (db->conn, sql, error);
  g_rec_mutex_unlock (&db->lock);
  return ok;
}

gboolean
wr_db_begin (WrDb *db, GError **error)
{
  g_return_val_if_fail (db != NULL, FALSE);

  g_rec_mutex_lock (&db->lock);
  if (db->depth > 0) {
    db->depth++;
    return TRUE;
  }
  if (!db->backend->exec (db->conn, FALSE, db->backend->begin_sql, NULL, 0,
          NULL, error)) {
    g_rec_mutex_unlock (&db->lock);
    return FALSE;
  }
  db->depth = 1;
  db->doomed = FALSE;
  return TRUE;
}

static void
rollback_locked (WrDb *db)
{
  g_autoptr (GError) error = NULL;

  if (!db->backend->exec (db->conn, TRUE, "ROLLBACK", NULL, 0, NULL, &error))
    g_debug ("ROLLBACK failed: %s", error->message);
}

gboolean
wr_db_commit (WrDb *db, GError **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (db != NULL && db->depth > 0, FALSE);

  if (--db->depth > 0) {
    g_rec_mutex_unlock (&db->lock);
    return TRUE;
  }

  if (db->doomed) {
    rollback_locked (db);
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED,
        "a nested transaction was rolled back");
    ok = FALSE;
  } else if (!db->backend->exec (db->conn, TRUE, "COMMIT", NULL, 0, NULL,
          error)) {
    /* A failed COMMIT may leave SQLite inside the transaction. */
    rollback_locked (db);
    ok = FALSE;
  }
  db->doomed = FALSE;
  g_rec_mutex_unlock (&db->lock);
  return ok;
}

void
wr_db_rollback (WrDb *db)
{
  g_return_if_fail (db != NULL && db->depth > 0);

  if (--db->depth > 0) {
    db->doomed = TRUE;
  } else {
    rollback_locked (db);
    db->doomed = FALSE;
  }
  g_rec_mutex_unlock (&db->lock);
}

gboolean
wr_db_transaction (WrDb *db, WrDbTransactionFunc func, gpointer user_data,
    GError **error)
{
  if (!wr_db_begin (db, error))
    return FALSE;
  if (!func (db, user_data, error)) {
    wr_db_rollback (db);
    return FALSE;
  }
  return wr_db_commit (db, error);
}
