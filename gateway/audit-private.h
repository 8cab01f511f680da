/* webremote: the audit log's canonical forms, shared by audit.c (writing)
 * and audit-verify.c (checking). docs/compliance.md describes them for
 * independent verifiers. */
#pragma once

#include "gateway/audit.h"
#include "gateway/store-audit.h"

G_BEGIN_DECLS

#define WR_AUDIT_CHECKPOINT_DOMAIN "webremote.audit.checkpoint.v1\n"
#define WR_AUDIT_ZERO_HASH \
  "0000000000000000000000000000000000000000000000000000000000000000"

/* Bounds on what one row may hold. */
#define WR_AUDIT_MAX_TYPE 64
#define WR_AUDIT_MAX_FIELD 1024      /* actor, agent, session, address */
#define WR_AUDIT_MAX_DETAIL 16384    /* canonical detail JSON */
/* An exported line longer than this is refused by the verifier. */
#define WR_AUDIT_MAX_LINE (64 * 1024)

const char *wr_audit_outcome_to_string (WrAuditOutcome outcome);

/* Appends @s as a JSON string: '"', '\\' escaped, control characters as
 * \b \f \n \r \t or \u00xx (lower-case hex), everything else (UTF-8)
 * as is. */
void wr_audit_append_json_string (GString *out, const char *s);

/* The canonical form of a detail object: keys sorted by byte value,
 * values strings, integers, booleans or null. %NULL @detail is "{}".
 * Returns: (transfer full) (nullable): %NULL with WR_AUDIT_ERROR_INVALID
 * when a value is of another kind. */
char *wr_audit_canonical_detail (JsonObject *detail, GError **error);

/* The canonical form of a row, with @detail_canonical (from
 * wr_audit_canonical_detail()) inserted verbatim. */
char *wr_audit_canonical_row (gint64 seq, gint64 ts, const char *type,
    const char *outcome, const char *actor, const char *agent,
    const char *session, const char *address, const char *detail_canonical);

/* hex SHA-256 of prev_hash "\n" digest. */
char *wr_audit_chain_hash (const char *prev_hash, const char *digest);

/* The signed payload of a checkpoint: {"seq":N,"hash":"HEX","ts":MS}. */
char *wr_audit_checkpoint_payload (gint64 seq, const char *hash, gint64 ts);

/* A stored row's digest (hex SHA-256 of its canonical form); %NULL when
 * its detail column is not a valid detail object. */
char *wr_audit_row_digest (const WrAuditRow *row, GError **error);

/* Parses a detail column / JSON text into an object; %NULL on junk. */
JsonObject *wr_audit_parse_object (const char *text, gssize len,
    GError **error);

G_END_DECLS
