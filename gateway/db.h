/* webremote: a tiny SQL driver interface with two backends.
 *
 * WrStore (store.h) is written once against this: SQL with `$1..$n`
 * placeholders, typed bound parameters (never string-built SQL), and results
 * as rows of nullable strings. PostgreSQL takes `$n` natively; SQLite takes
 * it as a named parameter. Backends: db-sqlite.c (a file path) and db-pg.c
 * (a `postgresql://` or `postgres://` URL).
 *
 * Thread safety: one WrDb is one connection guarded by a recursive mutex;
 * every call may come from any thread. A transaction holds the mutex from
 * BEGIN to COMMIT, so statements of other threads never interleave with it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WR_DB_ERROR (wr_db_error_quark ())
GQuark wr_db_error_quark (void);

typedef enum {
  WR_DB_ERROR_FAILED,       /* anything else: syntax, connection, I/O */
  WR_DB_ERROR_UNIQUE,       /* a UNIQUE or PRIMARY KEY constraint */
  WR_DB_ERROR_FOREIGN_KEY,  /* a FOREIGN KEY constraint */
  WR_DB_ERROR_OPEN,         /* cannot open or connect */
} WrDbError;

typedef enum {
  WR_DB_PARAM_TEXT,
  WR_DB_PARAM_INT,
} WrDbParamType;

/* A bound parameter. Text may be %NULL for SQL NULL; @is_null makes an
 * integer NULL. Build them with the macros below. */
typedef struct {
  WrDbParamType type;
  gboolean is_null;
  const char *text;
  gint64 integer;
} WrDbParam;

#define WR_DB_TEXT(s) \
  ((WrDbParam) { WR_DB_PARAM_TEXT, (s) == NULL, (s), 0 })
#define WR_DB_INT(v) \
  ((WrDbParam) { WR_DB_PARAM_INT, FALSE, NULL, (gint64) (v) })
#define WR_DB_INT_NULL \
  ((WrDbParam) { WR_DB_PARAM_INT, TRUE, NULL, 0 })
#define WR_DB_BOOL(v) WR_DB_INT ((v) ? 1 : 0)

/* Rows of nullable strings; integers come back in decimal. */
typedef struct {
  guint n_rows;
  guint n_columns;
  char **column_names;   /* n_columns */
  char **cells;          /* n_rows * n_columns, row-major; NULL = SQL NULL */
  gint64 changes;        /* rows inserted, updated or deleted */
} WrDbResult;

void wr_db_result_free (WrDbResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrDbResult, wr_db_result_free)

/* (nullable): the cell, or %NULL for SQL NULL. */
const char *wr_db_result_get (const WrDbResult *result, guint row,
    guint column);
/* The cell as an integer; SQL NULL and junk read as 0. */
gint64 wr_db_result_get_int (const WrDbResult *result, guint row,
    guint column);
/* (nullable): the index of a named column, or -1. */
int wr_db_result_column (const WrDbResult *result, const char *name);

typedef struct _WrDb WrDb;

/**
 * wr_db_open:
 * @url_or_path: `postgresql://...` or `postgres://...` for PostgreSQL;
 *   anything else is an SQLite file path (created 0600 if missing)
 *
 * Returns: (transfer full) (nullable): the connection, or %NULL with
 * WR_DB_ERROR_OPEN.
 */
WrDb *wr_db_open (const char *url_or_path, GError **error);

/* Closes the connection. %NULL is ignored. */
void wr_db_close (WrDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrDb, wr_db_close)

/* "sqlite" or "postgresql". */
const char *wr_db_get_backend_name (WrDb *db);

/* TRUE for a `postgresql://` / `postgres://` URL. */
gboolean wr_db_url_is_postgresql (const char *url_or_path);

/**
 * wr_db_exec:
 * @sql: one statement with `$1..$n` placeholders
 * @params: (array length=n_params) (nullable): the bound values
 * @out: (out) (optional) (transfer full): the rows, also for statements
 *   without any
 *
 * Runs one statement. Backend details go to g_debug; @error carries a
 * WrDbError code and a message meant for logs, not for users.
 */
gboolean wr_db_exec (WrDb *db, const char *sql, const WrDbParam *params,
    guint n_params, WrDbResult **out, GError **error);

/* Runs several statements without parameters (migrations). */
gboolean wr_db_exec_script (WrDb *db, const char *sql, GError **error);

typedef gboolean (*WrDbTransactionFunc) (WrDb *db, gpointer user_data,
    GError **error);

/**
 * wr_db_transaction:
 *
 * BEGIN, @func, then COMMIT when it returns %TRUE or ROLLBACK when it
 * returns %FALSE (with @error set). Nested calls join the outer
 * transaction. On SQLite the write lock is taken at BEGIN (IMMEDIATE) so
 * two connections never deadlock upgrading a read lock.
 */
gboolean wr_db_transaction (WrDb *db, WrDbTransactionFunc func,
    gpointer user_data, GError **error);

/**
 * wr_db_begin:
 *
 * The linear form of wr_db_transaction(): takes the connection lock and
 * starts a transaction. On success, exactly one of wr_db_commit() or
 * wr_db_rollback() must follow on the same thread; on failure nothing is
 * held. Nested begins join the outer transaction; a nested rollback makes
 * the outer commit fail.
 */
gboolean wr_db_begin (WrDb *db, GError **error);
/* Commits (or, after a nested rollback, rolls back and fails) and releases
 * the lock. */
gboolean wr_db_commit (WrDb *db, GError **error);
/* Rolls back and releases the lock. */
void wr_db_rollback (WrDb *db);

/* Backend interface, for db-sqlite.c and db-pg.c only. */
typedef struct {
  const char *name;
  /* the statement that starts a transaction */
  const char *begin_sql;
  /* DDL for an auto-increment integer primary key column */
  const char *id_column_sql;
  gboolean (*exec) (gpointer conn, gboolean in_transaction, const char *sql,
      const WrDbParam *params, guint n_params, WrDbResult **out,
      GError **error);
  gboolean (*exec_script) (gpointer conn, const char *sql, GError **error);
  void (*close) (gpointer conn);
} WrDbBackend;

extern const WrDbBackend wr_db_sqlite_backend;
extern const WrDbBackend wr_db_pg_backend;

gpointer wr_db_sqlite_open (const char *path, GError **error);
gpointer wr_db_pg_open (const char *url, GError **error);

/* The backend's spelling of an auto-increment primary key column. */
const char *wr_db_get_id_column_sql (WrDb *db);

/* For backends: a result with room for @n_columns and no rows yet. */
WrDbResult *wr_db_result_new (guint n_columns);
/* For backends: appends a row; @cells are copied (NULL = SQL NULL). */
void wr_db_result_add_row (WrDbResult *result, const char *const *cells);

G_END_DECLS
