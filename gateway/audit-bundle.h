/* webremote: the audit export bundle (docs/compliance.md): a tar file of
 * events.jsonl, checkpoints.jsonl, public-key.txt and README.txt, written
 * by `webremotectl audit export` and GET /api/v1/audit/export and checked
 * offline by `webremotectl audit verify --bundle`. */
#pragma once

#include "gateway/audit.h"

G_BEGIN_DECLS

/* Bundles larger than this are refused: narrow the filter. */
#define WR_AUDIT_BUNDLE_MAX (256 * 1024 * 1024)

/**
 * wr_audit_write_bundle:
 * @filter: the events asked for (see wr_audit_export())
 * @path: the tar file to create (must not exist; 0600)
 * @made_by: who made it, for the README ("webremotectl", "API (alice)")
 * @n_events: (out) (optional): lines in events.jsonl
 * @public_key: (out) (optional) (transfer full): the key that signed the
 *   last checkpoint, "ed25519:BASE64", or %NULL when nothing matched
 *
 * Returns: %FALSE (and no file) on any failure.
 */
gboolean wr_audit_write_bundle (WrAudit *audit, const WrAuditFilter *filter,
    const char *path, const char *made_by, guint *n_events,
    char **public_key, GError **error);

G_END_DECLS
