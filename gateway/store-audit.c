/* webremote: the store's audit tables. */
#include "config.h"

#include "gateway/store-audit.h"

#include <string.h>

#include "gateway/store-private.h"

#define ROW_COLUMNS \
  "seq, ts, type, outcome, actor, agent, session, address, detail, " \
  "prev_hash, hash"

/* An arbitrary constant naming the audit appenders' advisory lock. */
#define AUDIT_LOCK_KEY "7795000001"

void
wr_audit_row_free (WrAuditRow *row)
{
  if (!row)
    return;
  g_free (row->type);
  g_free (row->outcome);
  g_free (row->actor);
  g_free (row->agent);
  g_free (row->session);
  g_free (row->address);
  g_free (row->detail);
  g_free (row->prev_hash);
  g_free (row->hash);
  g_free (row);
}

void
wr_audit_checkpoint_free (WrAuditCheckpoint *cp)
{
  if (!cp)
    return;
  g_free (cp->hash);
  g_free (cp->key);
  g_free (cp->signature);
  g_free (cp);
}

static gboolean
run (WrStore *store, const char *sql, const WrDbParam *params,
    guint n_params, WrDbResult **out, GError **error)
{
  g_autoptr (GError) db_error = NULL;

  if (wr_db_exec (store->db, sql, params, n_params, out, &db_error))
    return TRUE;
  g_debug ("store: audit: %s", db_error->message);
  if (db_error->code == WR_DB_ERROR_UNIQUE)
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT,
        "another writer took this sequence number; try again");
  else
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        "the database failed; the gateway's debug log has details");
  return FALSE;
}

static char *
dup_cell (WrDbResult *res, guint row, guint column)
{
  return g_strdup (wr_db_result_get (res, row, column));
}

static GPtrArray *
rows_from_result (WrDbResult *res)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_audit_row_free);

  for (guint i = 0; i < res->n_rows; i++) {
    WrAuditRow *row = g_new0 (WrAuditRow, 1);

    row->seq = wr_db_result_get_int (res, i, 0);
    row->ts = wr_db_result_get_int (res, i, 1);
    row->type = dup_cell (res, i, 2);
    row->outcome = dup_cell (res, i, 3);
    row->actor = dup_cell (res, i, 4);
    row->agent = dup_cell (res, i, 5);
    row->session = dup_cell (res, i, 6);
    row->address = dup_cell (res, i, 7);
    row->detail = dup_cell (res, i, 8);
    row->prev_hash = dup_cell (res, i, 9);
    row->hash = dup_cell (res, i, 10);
    g_ptr_array_add (rows, row);
  }
  return rows;
}

gboolean
wr_store_audit_lock (WrStore *store, GError **error)
{
  if (g_strcmp0 (wr_db_get_backend_name (store->db), "postgresql") != 0)
    return TRUE;
  return run (store, "SELECT pg_advisory_xact_lock(" AUDIT_LOCK_KEY ")",
      NULL, 0, NULL, error);
}

gboolean
wr_store_audit_head (WrStore *store, gint64 *seq, char **hash,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;

  if (!run (store, "SELECT seq, hash FROM audit_events "
          "ORDER BY seq DESC LIMIT 1", NULL, 0, &res, error))
    return FALSE;
  *seq = res->n_rows ? wr_db_result_get_int (res, 0, 0) : 0;
  *hash = res->n_rows ? dup_cell (res, 0, 1) : NULL;
  return TRUE;
}

gboolean
wr_store_audit_insert (WrStore *store, const WrAuditRow *row,
    GError **error)
{
  WrDbParam params[] = {
    WR_DB_INT (row->seq), WR_DB_INT (row->ts), WR_DB_TEXT (row->type),
    WR_DB_TEXT (row->outcome), WR_DB_TEXT (row->actor),
    WR_DB_TEXT (row->agent), WR_DB_TEXT (row->session),
    WR_DB_TEXT (row->address), WR_DB_TEXT (row->detail),
    WR_DB_TEXT (row->prev_hash), WR_DB_TEXT (row->hash),
  };

  return run (store, "INSERT INTO audit_events (" ROW_COLUMNS ") VALUES "
      "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", params,
      G_N_ELEMENTS (params), NULL, error);
}

GPtrArray *
wr_store_audit_list (WrStore *store, gint64 after_seq, gint64 to_seq,
    guint limit, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = {
    WR_DB_INT (after_seq), WR_DB_INT (to_seq), WR_DB_INT (limit),
  };

  if (!run (store, "SELECT " ROW_COLUMNS " FROM audit_events "
          "WHERE seq > $1 AND ($2 = 0 OR seq <= $2) ORDER BY seq LIMIT $3",
          params, G_N_ELEMENTS (params), &res, error))
    return NULL;
  return rows_from_result (res);
}

/* Appends the filter's conditions (" AND ...") with their parameters. */
static void
add_conditions (GString *sql, GArray *params, const WrAuditFilter *f,
    gboolean paging)
{
#define ADD(cond, param) G_STMT_START { \
    WrDbParam p_ = (param); \
    g_array_append_val (params, p_); \
    g_string_append_printf (sql, cond, params->len); \
  } G_STMT_END

  if (f->user)
    ADD (" AND actor = $%u", WR_DB_TEXT (f->user));
  if (f->agent)
    ADD (" AND agent = $%u", WR_DB_TEXT (f->agent));
  if (f->session)
    ADD (" AND session = $%u", WR_DB_TEXT (f->session));
  if (f->type && g_str_has_suffix (f->type, "."))
  {
    ADD (" AND substr(type, 1, length($%u))", WR_DB_TEXT (f->type));
    ADD (" = $%u", WR_DB_TEXT (f->type));
  }
  else if (f->type)
    ADD (" AND type = $%u", WR_DB_TEXT (f->type));
  if (f->from_ms > 0)
    ADD (" AND ts >= $%u", WR_DB_INT (f->from_ms));
  if (f->to_ms > 0)
    ADD (" AND ts <= $%u", WR_DB_INT (f->to_ms));
  if (paging && f->before_seq > 0)
    ADD (" AND seq < $%u", WR_DB_INT (f->before_seq));
#undef ADD
}

GPtrArray *
wr_store_audit_query (WrStore *store, const WrAuditFilter *filter,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GArray) params = g_array_new (FALSE, FALSE, sizeof (WrDbParam));
  g_autoptr (GString) sql = g_string_new ("SELECT " ROW_COLUMNS
      " FROM audit_events WHERE 1 = 1");
  WrDbParam limit;

  add_conditions (sql, params, filter, TRUE);
  limit = WR_DB_INT (filter->limit);
  g_array_append_val (params, limit);
  g_string_append_printf (sql, " ORDER BY seq DESC LIMIT $%u", params->len);
  if (!run (store, sql->str, (WrDbParam *) params->data, params->len, &res,
          error))
    return NULL;
  return rows_from_result (res);
}

gboolean
wr_store_audit_match_range (WrStore *store, const WrAuditFilter *filter,
    gint64 *first, gint64 *last, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GArray) params = g_array_new (FALSE, FALSE, sizeof (WrDbParam));
  g_autoptr (GString) sql = g_string_new ("SELECT MIN(seq), MAX(seq) "
      "FROM audit_events WHERE 1 = 1");

  add_conditions (sql, params, filter, FALSE);
  if (!run (store, sql->str, (WrDbParam *) params->data, params->len, &res,
          error))
    return FALSE;
  *first = res->n_rows ? wr_db_result_get_int (res, 0, 0) : 0;
  *last = res->n_rows ? wr_db_result_get_int (res, 0, 1) : 0;
  return TRUE;
}

gboolean
wr_store_audit_row_ts (WrStore *store, gint64 seq, gint64 *ts,
    gboolean *found, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (seq) };

  if (!run (store, "SELECT ts FROM audit_events WHERE seq = $1", params,
          G_N_ELEMENTS (params), &res, error))
    return FALSE;
  *found = res->n_rows > 0;
  *ts = res->n_rows ? wr_db_result_get_int (res, 0, 0) : 0;
  return TRUE;
}

gboolean
wr_store_audit_last_checkpoint (WrStore *store, gint64 *seq, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;

  if (!run (store, "SELECT MAX(seq) FROM audit_checkpoints", NULL, 0, &res,
          error))
    return FALSE;
  *seq = res->n_rows ? wr_db_result_get_int (res, 0, 0) : 0;
  return TRUE;
}

static GPtrArray *
checkpoints_from_result (WrDbResult *res)
{
  GPtrArray *cps = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_audit_checkpoint_free);

  for (guint i = 0; i < res->n_rows; i++) {
    WrAuditCheckpoint *cp = g_new0 (WrAuditCheckpoint, 1);

    cp->seq = wr_db_result_get_int (res, i, 0);
    cp->hash = dup_cell (res, i, 1);
    cp->ts = wr_db_result_get_int (res, i, 2);
    cp->key = dup_cell (res, i, 3);
    cp->signature = dup_cell (res, i, 4);
    g_ptr_array_add (cps, cp);
  }
  return cps;
}

WrAuditCheckpoint *
wr_store_audit_checkpoint_at_or_after (WrStore *store, gint64 seq,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GPtrArray) cps = NULL;
  WrDbParam params[] = { WR_DB_INT (seq) };

  if (!run (store, "SELECT seq, hash, ts, key, signature "
          "FROM audit_checkpoints WHERE seq >= $1 ORDER BY seq LIMIT 1",
          params, G_N_ELEMENTS (params), &res, error))
    return NULL;
  cps = checkpoints_from_result (res);
  return cps->len ? g_ptr_array_steal_index (cps, 0) : NULL;
}

GPtrArray *
wr_store_audit_checkpoints (WrStore *store, gint64 from_seq, gint64 to_seq,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (from_seq), WR_DB_INT (to_seq) };

  if (!run (store, "SELECT seq, hash, ts, key, signature "
          "FROM audit_checkpoints WHERE seq >= $1 AND ($2 = 0 OR seq <= $2) "
          "ORDER BY seq", params, G_N_ELEMENTS (params), &res, error))
    return NULL;
  return checkpoints_from_result (res);
}

gboolean
wr_store_audit_checkpoint_insert (WrStore *store,
    const WrAuditCheckpoint *cp, GError **error)
{
  WrDbParam params[] = {
    WR_DB_INT (cp->seq), WR_DB_TEXT (cp->hash), WR_DB_INT (cp->ts),
    WR_DB_TEXT (cp->key), WR_DB_TEXT (cp->signature),
  };

  return run (store, "INSERT INTO audit_checkpoints "
      "(seq, hash, ts, key, signature) VALUES ($1, $2, $3, $4, $5)",
      params, G_N_ELEMENTS (params), NULL, error);
}
