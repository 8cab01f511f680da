/* webremote: the PostgreSQL backend of WrDb, through libpq.
 *
 * Blocking libpq calls are fine here: the gateway runs store calls in
 * worker threads (store.h). A connection that dropped is re-established on
 * the next statement outside a transaction.
 */
#include "config.h"

#include "gateway/db.h"

#include <string.h>

#include <libpq-fe.h>

/* Type OIDs from pg_type.h (stable since forever); libpq does not export
 * them. Typing parameters lets `$2 - $3` and `$1 IS NULL` work. */
#define WR_PG_OID_INT8 20
#define WR_PG_OID_TEXT 25

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PGresult, PQclear)

/* libpq messages end with a newline. */
static char *
pg_message (const char *message)
{
  char *copy = g_strdup (message ? message : "");

  return g_strstrip (copy);
}

static gboolean
ensure_connected (PGconn *conn, gboolean in_transaction, GError **error)
{
  if (PQstatus (conn) == CONNECTION_OK)
    return TRUE;

  if (!in_transaction) {
    g_debug ("postgresql: connection lost, reconnecting");
    PQreset (conn);
    if (PQstatus (conn) == CONNECTION_OK)
      return TRUE;
  }

  {
    g_autofree char *message = pg_message (PQerrorMessage (conn));

    g_debug ("postgresql: not connected: %s", message);
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_FAILED,
        "PostgreSQL connection lost: %s", message);
  }
  return FALSE;
}

static gboolean
check_result (PGconn *conn, PGresult *res, const char *sql, GError **error)
{
  ExecStatusType status = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;
  const char *state;
  const char *primary;
  g_autofree char *message = NULL;
  WrDbError code = WR_DB_ERROR_FAILED;

  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return TRUE;

  state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  /* The primary message only: DETAIL quotes the offending values, which
   * may be token hashes or other data that does not belong in logs. */
  primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  message = pg_message (primary ? primary : PQerrorMessage (conn));
  if (g_strcmp0 (state, "23505") == 0)
    code = WR_DB_ERROR_UNIQUE;
  else if (g_strcmp0 (state, "23503") == 0)
    code = WR_DB_ERROR_FOREIGN_KEY;

  g_debug ("postgresql: %s (SQLSTATE %s) in: %s", message,
      state ? state : "?", sql);
  g_set_error (error, WR_DB_ERROR, code, "PostgreSQL: %s", message);
  return FALSE;
}

static gboolean
pg_exec (gpointer data, gboolean in_transaction, const char *sql,
    const WrDbParam *params, guint n_params, WrDbResult **out,
    GError **error)
{
  PGconn *conn = data;
  g_autoptr (PGresult) res = NULL;
  g_autoptr (WrDbResult) result = NULL;
  g_autofree Oid *types = g_new0 (Oid, n_params + 1);
  g_autofree const char **values = g_new0 (const char *, n_params + 1);
  g_autoptr (GPtrArray) numbers = g_ptr_array_new_with_free_func (g_free);
  guint n_columns, n_rows;

  if (!ensure_connected (conn, in_transaction, error))
    return FALSE;

  for (guint i = 0; i < n_params; i++) {
    if (params[i].type == WR_DB_PARAM_INT) {
      types[i] = WR_PG_OID_INT8;
      if (!params[i].is_null) {
        char *number = g_strdup_printf ("%" G_GINT64_FORMAT,
            params[i].integer);

        g_ptr_array_add (numbers, number);
        values[i] = number;
      }
    } else {
      types[i] = WR_PG_OID_TEXT;
      values[i] = params[i].is_null ? NULL : params[i].text;
    }
  }

  res = PQexecParams (conn, sql, (int) n_params, types, values, NULL, NULL,
      0);
  if (!check_result (conn, res, sql, error))
    return FALSE;

  n_columns = (guint) PQnfields (res);
  n_rows = (guint) PQntuples (res);
  result = wr_db_result_new (n_columns);
  for (guint i = 0; i < n_columns; i++)
    result->column_names[i] = g_strdup (PQfname (res, (int) i));

  {
    g_autofree const char **cells = g_new0 (const char *, n_columns + 1);

    for (guint row = 0; row < n_rows; row++) {
      for (guint i = 0; i < n_columns; i++) {
        cells[i] = PQgetisnull (res, (int) row, (int) i) ? NULL :
            PQgetvalue (res, (int) row, (int) i);
      }
      wr_db_result_add_row (result, cells);
    }
  }

  {
    const char *changes = PQcmdTuples (res);

    if (changes && *changes)
      result->changes = g_ascii_strtoll (changes, NULL, 10);
  }

  if (out)
    *out = g_steal_pointer (&result);
  return TRUE;
}

static gboolean
pg_exec_script (gpointer data, const char *sql, GError **error)
{
  PGconn *conn = data;
  g_autoptr (PGresult) res = NULL;

  if (!ensure_connected (conn, TRUE, error))
    return FALSE;
  res = PQexec (conn, sql);
  return check_result (conn, res, "(script)", error);
}

static void
pg_close (gpointer data)
{
  PQfinish (data);
}

/* libpq writes NOTICEs (e.g. "relation already exists, skipping") to
 * stderr by default. */
static void
pg_notice (void *arg, const char *message)
{
  g_autofree char *text = pg_message (message);

  g_debug ("postgresql notice: %s", text);
}

gpointer
wr_db_pg_open (const char *url, GError **error)
{
  /* The URL is expanded in place of "dbname"; options before it are
   * defaults the URL may override, options after it are forced. */
  const char *const keywords[] = {
    "connect_timeout", "application_name", "dbname", "client_encoding", NULL
  };
  const char *const values[] = {
    "10", "webremote-gateway", url, "UTF8", NULL
  };
  PGconn *conn;

  conn = PQconnectdbParams (keywords, values, 1);
  if (!conn) {
    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
        "cannot connect to PostgreSQL: out of memory");
    return NULL;
  }
  if (PQstatus (conn) != CONNECTION_OK) {
    /* libpq's message names host and port and the reason, never the
     * password. */
    g_autofree char *message = pg_message (PQerrorMessage (conn));

    g_set_error (error, WR_DB_ERROR, WR_DB_ERROR_OPEN,
        "cannot connect to PostgreSQL: %s", message);
    PQfinish (conn);
    return NULL;
  }
  PQsetNoticeProcessor (conn, pg_notice, NULL);
  return conn;
}

const WrDbBackend wr_db_pg_backend = {
  .name = "postgresql",
  .begin_sql = "BEGIN",
  .id_column_sql = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
  .exec = pg_exec,
  .exec_script = pg_exec_script,
  .close = pg_close,
};
