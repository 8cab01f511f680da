/* webremote: the store's audit tables (audit_events, audit_checkpoints).
 *
 * Plain rows in and out; the hash chain, canonical form and signatures
 * are gateway/audit.c's business. Same rules as store.h: synchronous,
 * thread-safe, bound parameters only. Appends run inside a transaction
 * (wr_store_begin()) that first takes wr_store_audit_lock().
 */
#pragma once

#include "gateway/audit.h"
#include "gateway/store.h"

G_BEGIN_DECLS

/* One row of audit_events, as stored. */
typedef struct {
  gint64 seq;
  gint64 ts;          /* unix ms */
  char *type;
  char *outcome;      /* "ok", "denied", "failed" */
  char *actor;        /* nullable */
  char *agent;        /* nullable */
  char *session;      /* nullable */
  char *address;      /* nullable */
  char *detail;       /* JSON object text */
  char *prev_hash;
  char *hash;
} WrAuditRow;

void wr_audit_row_free (WrAuditRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAuditRow, wr_audit_row_free)

/* One row of audit_checkpoints. */
typedef struct {
  gint64 seq;
  char *hash;
  gint64 ts;          /* unix ms */
  char *key;          /* "ed25519:BASE64" */
  char *signature;    /* base64 */
} WrAuditCheckpoint;

void wr_audit_checkpoint_free (WrAuditCheckpoint *cp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAuditCheckpoint, wr_audit_checkpoint_free)

/* Inside a transaction: serialises appenders across connections and
 * gateways (PostgreSQL: a transaction-scoped advisory lock; SQLite: the
 * write lock BEGIN IMMEDIATE took already). */
gboolean wr_store_audit_lock (WrStore *store, GError **error);

/* The newest row: @seq 0 and @hash %NULL when the log is empty. */
gboolean wr_store_audit_head (WrStore *store, gint64 *seq, char **hash,
    GError **error);

/* Inserts @row; a taken seq fails with WR_STORE_ERROR_CONFLICT. */
gboolean wr_store_audit_insert (WrStore *store, const WrAuditRow *row,
    GError **error);

/* (transfer full) (element-type WrAuditRow): up to @limit rows with
 * seq > @after_seq (and <= @to_seq unless it is 0), ascending. */
GPtrArray *wr_store_audit_list (WrStore *store, gint64 after_seq,
    gint64 to_seq, guint limit, GError **error);

/* (transfer full) (element-type WrAuditRow): rows matching @filter
 * (user = actor, agent, session, type exact or prefix ending in '.',
 * from_ms/to_ms inclusive, seq < before_seq), newest first, at most
 * @filter->limit (callers normalise it). */
GPtrArray *wr_store_audit_query (WrStore *store, const WrAuditFilter *filter,
    GError **error);

/* The lowest and highest seq matching @filter (paging fields ignored);
 * both 0 when nothing matches. */
gboolean wr_store_audit_match_range (WrStore *store,
    const WrAuditFilter *filter, gint64 *first, gint64 *last, GError **error);

/* The ts of row @seq; @found %FALSE when there is no such row. */
gboolean wr_store_audit_row_ts (WrStore *store, gint64 seq, gint64 *ts,
    gboolean *found, GError **error);

/* The highest checkpoint seq, 0 when none. */
gboolean wr_store_audit_last_checkpoint (WrStore *store, gint64 *seq,
    GError **error);

/* The first checkpoint with seq >= @seq; %NULL without error when none. */
WrAuditCheckpoint *wr_store_audit_checkpoint_at_or_after (WrStore *store,
    gint64 seq, GError **error);

/* (transfer full) (element-type WrAuditCheckpoint): checkpoints with
 * @from_seq <= seq <= @to_seq (0 = unbounded above), ascending. */
GPtrArray *wr_store_audit_checkpoints (WrStore *store, gint64 from_seq,
    gint64 to_seq, GError **error);

/* Inserts a checkpoint; an existing one at @seq is CONFLICT. */
gboolean wr_store_audit_checkpoint_insert (WrStore *store,
    const WrAuditCheckpoint *cp, GError **error);

G_END_DECLS
