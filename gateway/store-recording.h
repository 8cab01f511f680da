/* webremote: the store's recorder credentials, recordings, their segments
 * and legal holds (docs/compliance.md, "Recordings").
 *
 * Same rules as store.h: synchronous, thread-safe, bound parameters.
 * Times of recordings and segments are unix milliseconds; created_at of a
 * recorder is unix seconds.
 */
#pragma once

#include "gateway/store.h"

G_BEGIN_DECLS

/* ---- recorder credentials (webremotectl recorder add/list/revoke) ---- */

typedef struct {
  char *name;
  gboolean revoked;
  gint64 created_at;
} WrStoredRecorder;

void wr_stored_recorder_free (WrStoredRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStoredRecorder, wr_stored_recorder_free)

/* @token_hash: hex SHA-256 of the token; the token itself is never
 * stored. An existing name: CONFLICT. */
gboolean wr_store_recorder_add (WrStore *store, const char *name,
    const char *token_hash, gint64 now, GError **error);
/* (element-type WrStoredRecorder): by name. */
GPtrArray *wr_store_recorder_list (WrStore *store, GError **error);
gboolean wr_store_recorder_revoke (WrStore *store, const char *name,
    GError **error);
/**
 * wr_store_recorder_authenticate:
 * The recorder whose token hashes to @token_hash (compared in constant
 * time after the indexed lookup), or %NULL: NOT_FOUND for an unknown or
 * revoked token, FAILED when the store did not answer.
 */
WrStoredRecorder *wr_store_recorder_authenticate (WrStore *store,
    const char *token_hash, GError **error);

/* ---- recordings ---- */

typedef struct {
  gint64 index;
  char *file;
  gint64 size;
  char *sha256;
  gint64 start_ms;
  gint64 end_ms;
  gboolean partial;
} WrStoredSegment;

void wr_stored_segment_free (WrStoredSegment *segment);

typedef struct {
  char *id;
  char *session_id;
  char *agent_id;
  char *group_name;
  char *user_name;
  char *recorder;
  char *codec;              /* nullable until record.started */
  char *container;          /* nullable */
  gint64 started_at;        /* ms */
  gint64 ended_at;          /* ms, 0 while recording */
  char *status;             /* recording | complete | interrupted | failed */
  char *manifest;           /* nullable: the signed manifest's JSON */
  char *manifest_signature; /* nullable: base64 */
  gint64 deleted_at;        /* ms, 0 = present */
  gboolean legal_hold;      /* of its session */
  GPtrArray *segments;      /* (element-type WrStoredSegment), by index */
} WrStoredRecording;

void wr_stored_recording_free (WrStoredRecording *recording);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrStoredRecording, wr_stored_recording_free)

gboolean wr_store_recording_insert (WrStore *store, const char *id,
    const char *session_id, const char *agent_id, const char *group_name,
    const char *user_name, const char *recorder, gint64 started_ms,
    GError **error);
gboolean wr_store_recording_set_format (WrStore *store, const char *id,
    const char *codec, const char *container, GError **error);
/* Sets status, ended_at and the signed manifest. */
gboolean wr_store_recording_finish (WrStore *store, const char *id,
    const char *status, gint64 ended_ms, const char *manifest,
    const char *signature, GError **error);
/* Inserts or replaces segment @seg->index of @id. */
gboolean wr_store_recording_add_segment (WrStore *store, const char *id,
    const WrStoredSegment *seg, GError **error);
/* With its segments; deleted ones too (deleted_at set). */
WrStoredRecording *wr_store_recording_get (WrStore *store, const char *id,
    GError **error);

typedef struct {
  const char *user;
  const char *agent;
  const char *session;
  gint64 from_ms;      /* started at or after; 0 = any */
  gint64 to_ms;        /* started at or before; 0 = any */
  guint limit;         /* 0 = 100, at most 1000 */
} WrRecordingFilter;

/* (element-type WrStoredRecording): newest first, not deleted. */
GPtrArray *wr_store_recording_list (WrStore *store,
    const WrRecordingFilter *filter, GError **error);

/* Recordings not deleted, started before @now_ms minus their group's
 * retention (groups with retention_days > 0), whose session is not on
 * legal hold. (element-type WrStoredRecording) with their segments. */
GPtrArray *wr_store_recording_list_expired (WrStore *store, gint64 now_ms,
    GError **error);
gboolean wr_store_recording_mark_deleted (WrStore *store, const char *id,
    gint64 now_ms, GError **error);
/* Test helper and repair: moves started_at (and ended_at) of @id. */
gboolean wr_store_recording_set_started (WrStore *store, const char *id,
    gint64 started_ms, GError **error);

/* ---- legal hold (on a session: all its recordings) ---- */

gboolean wr_store_session_set_legal_hold (WrStore *store, const char *sid,
    gboolean hold, GError **error);

/* The recording policy of @agent_id's group: "off", "best-effort" or
 * "strict" (transfer full), and its retention days. */
char *wr_store_agent_recording_policy (WrStore *store, const char *agent_id,
    char **group_name, gint64 *retention_days, GError **error);

G_END_DECLS
