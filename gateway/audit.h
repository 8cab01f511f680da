/* webremote: the tamper-evident audit log (docs/compliance.md).
 *
 * Every security-relevant event becomes one row of `audit_events`. Rows
 * form a hash chain:
 *
 *   canonical = the row as compact JSON, keys in the fixed order
 *               seq, ts, type, outcome, actor, agent, session, address,
 *               detail (detail's own keys sorted; values are strings,
 *               integers or booleans; absent fields are null)
 *   digest    = hex SHA-256 of canonical
 *   hash      = hex SHA-256 of (prev_hash "\n" digest)
 *
 * with prev_hash of the first row 64 zeros. Every checkpoint-rows rows or
 * checkpoint-seconds seconds a checkpoint signs (seq, hash, ts) with the
 * gateway's Ed25519 key (grant-signer.h), under the domain string
 * "webremote.audit.checkpoint.v1\n". Because the digest alone enters the
 * chain, an export can leave out the content of rows that are none of the
 * reader's business and still prove the chain up to a signed checkpoint.
 *
 * Fail closed: wr_audit_append() returns %FALSE when the row could not be
 * written, and the caller then does not perform the action.
 *
 * Thread-safe; synchronous (a store write); callable from any thread.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/grant-signer.h"
#include "gateway/store.h"

G_BEGIN_DECLS

#define WR_AUDIT_ERROR (wr_audit_error_quark ())
GQuark wr_audit_error_quark (void);

typedef enum {
  WR_AUDIT_ERROR_FAILED,   /* the row could not be written */
  WR_AUDIT_ERROR_INVALID,  /* a bad filter or argument */
  WR_AUDIT_ERROR_BROKEN,   /* verification found tampering */
} WrAuditError;

typedef enum {
  WR_AUDIT_OK,       /* "ok" */
  WR_AUDIT_DENIED,   /* "denied": refused by policy or permission */
  WR_AUDIT_FAILED,   /* "failed": wrong credentials, a failure */
} WrAuditOutcome;

/* One event. Strings may be %NULL. Event types are listed in
 * docs/compliance.md, e.g. "login", "session.granted", "recording.segment". */
typedef struct {
  const char *type;
  WrAuditOutcome outcome;
  const char *actor;    /* user name, "agent:ID", "recorder:NAME", "system",
                         * "ctl:UNIXUSER" */
  const char *agent;    /* agent id the event concerns */
  const char *session;  /* session id the event concerns */
  const char *address;  /* the caller's network address */
} WrAuditEvent;

typedef struct _WrAudit WrAudit;

/**
 * wr_audit_new:
 * @signer: (nullable): the key that signs checkpoints; %NULL writes none
 * @checkpoint_rows: a checkpoint at least every this many rows
 * @checkpoint_seconds: and when rows are older than this (see
 *   wr_audit_checkpoint_if_due())
 */
WrAudit *wr_audit_new (WrStore *store, WrGrantSigner *signer,
    guint checkpoint_rows, guint checkpoint_seconds);
void wr_audit_free (WrAudit *audit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrAudit, wr_audit_free)

/**
 * wr_audit_append:
 * @detail: (nullable): flat object of strings, integers and booleans
 *   (sizes, SHA-256s, reasons, argv as one string...); never secrets
 * @seq: (out) (optional): the row's sequence number
 *
 * Appends one row (and a checkpoint when one is due) in one transaction.
 * When the caller is already inside a store transaction
 * (wr_store_begin()), the row commits or rolls back with it.
 *
 * Returns: %FALSE with WR_AUDIT_ERROR_FAILED when nothing was written.
 */
gboolean wr_audit_append (WrAudit *audit, const WrAuditEvent *event,
    JsonObject *detail, gint64 *seq, GError **error);

/* Writes a checkpoint when rows exist after the last one and the oldest of
 * them is older than checkpoint-seconds; the gateway calls it on a timer.
 * @force: write one whenever any row is not yet covered. */
gboolean wr_audit_checkpoint_if_due (WrAudit *audit, gboolean force,
    GError **error);

/* A query over the log. Strings may be %NULL (no condition); times are
 * unix milliseconds, 0 = unbounded. */
typedef struct {
  const char *user;     /* actor */
  const char *agent;
  const char *session;
  const char *type;     /* exact, or a prefix ending in '.' ("session.") */
  gint64 from_ms;
  gint64 to_ms;
  gint64 before_seq;    /* paging: rows with seq < this; 0 = newest */
  guint limit;          /* 0 = 100; at most 1000 */
} WrAuditFilter;

/**
 * wr_audit_query:
 *
 * Returns: (transfer full): a JSON array of events, newest first, each
 * {seq, ts, type, outcome, actor, agent, session, address, detail, hash}.
 */
JsonArray *wr_audit_query (WrAudit *audit, const WrAuditFilter *filter,
    GError **error);

/**
 * wr_audit_export:
 * @filter: the events the reader asked for (limit and before_seq ignored)
 * @events: (out): JSON Lines, one row per line in seq order: every row
 *   from the first match through the first checkpoint at or after the
 *   last match (a checkpoint is written now when none covers it); rows
 *   that do not match carry only seq, prev_hash, digest and hash
 * @checkpoints: (out): JSON Lines of the checkpoints in that range
 *
 * Returns: %FALSE on a store failure; no matching row is not an error
 * (empty output).
 */
gboolean wr_audit_export (WrAudit *audit, const WrAuditFilter *filter,
    GString *events, GString *checkpoints, GError **error);

/* The result of a verification. */
typedef struct {
  gint64 rows;             /* rows checked */
  gint64 first_seq;
  gint64 last_seq;
  gint64 checkpoints;      /* valid checkpoints seen */
  gint64 last_checkpoint_seq;
  gint64 unanchored;       /* rows after the last checkpoint */
  gint64 bad_seq;          /* the first bad row, or 0 */
  char *key;               /* the signing key, "ed25519:BASE64" */
  char *problem;           /* (nullable): what is wrong at bad_seq */
} WrAuditReport;

void wr_audit_report_clear (WrAuditReport *report);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WrAuditReport, wr_audit_report_clear)

/**
 * wr_audit_verify_store:
 * @pinned_key: (nullable): "ed25519:BASE64"; checkpoints signed by any
 *   other key are bad. %NULL trusts the key in the checkpoints.
 *
 * Walks the whole chain and every checkpoint.
 *
 * Returns: %TRUE when intact; %FALSE with WR_AUDIT_ERROR_BROKEN (and
 * @report->bad_seq / problem set) on any edit, deletion, insertion or
 * reordering, or another error when the store cannot be read.
 */
gboolean wr_audit_verify_store (WrStore *store, const char *pinned_key,
    WrAuditReport *report, GError **error);

/**
 * wr_audit_verify_lines:
 * @events: JSON Lines as written by wr_audit_export()
 * @checkpoints: JSON Lines of checkpoints
 *
 * The offline check of an exported slice: each full row's digest, the
 * chain from the first to the last row, and that the last row is covered
 * by a checkpoint whose signature verifies.
 */
gboolean wr_audit_verify_lines (const char *events, gsize events_len,
    const char *checkpoints, gsize checkpoints_len, const char *pinned_key,
    WrAuditReport *report, GError **error);

G_END_DECLS
