/* webremote: recording retention and deletion (docs/operations.md).
 *
 * Every [recording] retention-interval seconds the gateway deletes
 * recordings older than their agent group's retention_days, unless their
 * session is on legal hold: the row is marked deleted together with its
 * audit row (recording.deleted, fail closed), then the files go.
 */
#pragma once

#include "gateway/audit.h"
#include "gateway/store-recording.h"

G_BEGIN_DECLS

/**
 * wr_recording_delete:
 * @reason: "retention" or "admin"
 * @actor: "system" or the admin's name
 *
 * Marks @rec deleted and audits recording.deleted in one transaction,
 * then removes its files (DIR/<id>/).
 */
gboolean wr_recording_delete (WrStore *store, WrAudit *audit,
    const char *dir, const WrStoredRecording *rec, const char *reason,
    const char *actor, const char *address, GError **error);

/* One retention pass; returns how many recordings were deleted, -1 on a
 * store failure. Thread-safe (run it in a worker thread). */
gint wr_retention_run (WrStore *store, WrAudit *audit, const char *dir,
    gint64 now_ms, GError **error);

G_END_DECLS
