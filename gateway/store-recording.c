/* webremote: recorder credentials, recordings, segments and legal holds in
 * the store (store-recording.h). */
#include "config.h"

#include "gateway/store-recording.h"

#include <string.h>

#include "common/crypto.h"
#include "gateway/db.h"
#include "gateway/store-private.h"

#define REC_COLUMNS \
  "r.id, r.session_id, r.agent_id, r.group_name, r.user_name, r.recorder, " \
  "r.codec, r.container, r.started_at, r.ended_at, r.status, r.manifest, " \
  "r.manifest_signature, r.deleted_at, COALESCE (s.legal_hold, 0)"
#define REC_FROM \
  " FROM recordings r LEFT JOIN sessions s ON s.sid = r.session_id"

static gboolean
run (WrStore *store, const char *sql, const WrDbParam *params, guint n,
    WrDbResult **out, const char *conflict, GError **error)
{
  g_autoptr (GError) db_error = NULL;

  if (wr_db_exec (store->db, sql, params, n, out, &db_error))
    return TRUE;
  g_debug ("store: %s", db_error->message);
  if (conflict && db_error->code == WR_DB_ERROR_UNIQUE)
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_CONFLICT,
        conflict);
  else
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        "the database failed; the gateway's debug log has details");
  return FALSE;
}

#define RUN(sql, params, out) \
  run (store, (sql), (params), G_N_ELEMENTS (params), (out), NULL, error)

static gboolean
check_name (const char *what, const char *value, gsize max, GError **error)
{
  if (!value || !*value || strlen (value) > max
      || !g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
        "%s is empty, too long or not valid UTF-8", what);
    return FALSE;
  }
  for (const char *p = value; *p; p++) {
    if ((guchar) *p < 0x20 || *p == 0x7f) {
      g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
          "%s has control characters", what);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
not_found (GError **error, const char *what)
{
  g_set_error (error, WR_STORE_ERROR, WR_STORE_ERROR_NOT_FOUND,
      "no such %s", what);
  return FALSE;
}

/* ---- recorders ---- */

void
wr_stored_recorder_free (WrStoredRecorder *r)
{
  if (!r)
    return;
  g_free (r->name);
  g_free (r);
}

gboolean
wr_store_recorder_add (WrStore *store, const char *name,
    const char *token_hash, gint64 now, GError **error)
{
  WrDbParam params[] = {
    WR_DB_TEXT (name), WR_DB_TEXT (token_hash), WR_DB_INT (now),
  };

  if (!check_name ("recorder name", name, WR_STORE_MAX_NAME, error)
      || !check_name ("token hash", token_hash, WR_STORE_MAX_HASH, error))
    return FALSE;
  return run (store, "INSERT INTO recorders (name, token_hash, revoked, "
      "created_at) VALUES ($1, $2, 0, $3)", params, G_N_ELEMENTS (params),
      NULL, "a recorder with this name exists already", error);
}

GPtrArray *
wr_store_recorder_list (WrStore *store, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  GPtrArray *out;

  if (!wr_db_exec (store->db, "SELECT name, revoked, created_at FROM "
          "recorders ORDER BY name", NULL, 0, &res, NULL)) {
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        "the database failed; the gateway's debug log has details");
    return NULL;
  }
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_stored_recorder_free);
  for (guint i = 0; i < res->n_rows; i++) {
    WrStoredRecorder *r = g_new0 (WrStoredRecorder, 1);
    r->name = g_strdup (wr_db_result_get (res, i, 0));
    r->revoked = wr_db_result_get_int (res, i, 1) != 0;
    r->created_at = wr_db_result_get_int (res, i, 2);
    g_ptr_array_add (out, r);
  }
  return out;
}

gboolean
wr_store_recorder_revoke (WrStore *store, const char *name, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (name) };

  if (!RUN ("UPDATE recorders SET revoked = 1 WHERE name = $1", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "recorder");
  return TRUE;
}

WrStoredRecorder *
wr_store_recorder_authenticate (WrStore *store, const char *token_hash,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (token_hash) };
  WrStoredRecorder *r;

  if (!token_hash || strlen (token_hash) > WR_STORE_MAX_HASH) {
    not_found (error, "recorder");
    return NULL;
  }
  if (!RUN ("SELECT name, revoked, created_at, token_hash FROM recorders "
          "WHERE token_hash = $1", params, &res))
    return NULL;
  if (res->n_rows != 1
      || !wr_constant_time_equal (wr_db_result_get (res, 0, 3), token_hash)
      || wr_db_result_get_int (res, 0, 1) != 0) {
    not_found (error, "recorder");
    return NULL;
  }
  r = g_new0 (WrStoredRecorder, 1);
  r->name = g_strdup (wr_db_result_get (res, 0, 0));
  r->created_at = wr_db_result_get_int (res, 0, 2);
  return r;
}

/* ---- recordings ---- */

void
wr_stored_segment_free (WrStoredSegment *s)
{
  if (!s)
    return;
  g_free (s->file);
  g_free (s->sha256);
  g_free (s);
}

void
wr_stored_recording_free (WrStoredRecording *r)
{
  if (!r)
    return;
  g_free (r->id);
  g_free (r->session_id);
  g_free (r->agent_id);
  g_free (r->group_name);
  g_free (r->user_name);
  g_free (r->recorder);
  g_free (r->codec);
  g_free (r->container);
  g_free (r->status);
  g_free (r->manifest);
  g_free (r->manifest_signature);
  g_clear_pointer (&r->segments, g_ptr_array_unref);
  g_free (r);
}

gboolean
wr_store_recording_insert (WrStore *store, const char *id,
    const char *session_id, const char *agent_id, const char *group_name,
    const char *user_name, const char *recorder, gint64 started_ms,
    GError **error)
{
  WrDbParam params[] = {
    WR_DB_TEXT (id), WR_DB_TEXT (session_id), WR_DB_TEXT (agent_id),
    WR_DB_TEXT (group_name), WR_DB_TEXT (user_name), WR_DB_TEXT (recorder),
    WR_DB_INT (started_ms),
  };

  if (!check_name ("recording id", id, WR_STORE_MAX_NAME, error)
      || !check_name ("session id", session_id, WR_STORE_MAX_NAME, error)
      || !check_name ("agent id", agent_id, WR_STORE_MAX_NAME, error)
      || !check_name ("group", group_name, WR_STORE_MAX_NAME, error)
      || !check_name ("user", user_name, WR_STORE_MAX_NAME * 2, error)
      || !check_name ("recorder", recorder, WR_STORE_MAX_NAME * 2, error))
    return FALSE;
  return run (store, "INSERT INTO recordings (id, session_id, agent_id, "
      "group_name, user_name, recorder, started_at, status) VALUES ($1, $2, "
      "$3, $4, $5, $6, $7, 'recording')", params, G_N_ELEMENTS (params),
      NULL, "a recording with this id exists already", error);
}

gboolean
wr_store_recording_set_format (WrStore *store, const char *id,
    const char *codec, const char *container, GError **error)
{
  WrDbParam params[] = {
    WR_DB_TEXT (id), WR_DB_TEXT (codec), WR_DB_TEXT (container),
  };

  return RUN ("UPDATE recordings SET codec = $2, container = $3 "
      "WHERE id = $1", params, NULL);
}

gboolean
wr_store_recording_finish (WrStore *store, const char *id,
    const char *status, gint64 ended_ms, const char *manifest,
    const char *signature, GError **error)
{
  WrDbParam params[] = {
    WR_DB_TEXT (id), WR_DB_TEXT (status), WR_DB_INT (ended_ms),
    WR_DB_TEXT (manifest), WR_DB_TEXT (signature),
  };

  return RUN ("UPDATE recordings SET status = $2, ended_at = $3, "
      "manifest = $4, manifest_signature = $5 WHERE id = $1", params, NULL);
}

gboolean
wr_store_recording_add_segment (WrStore *store, const char *id,
    const WrStoredSegment *seg, GError **error)
{
  WrDbParam del[] = { WR_DB_TEXT (id), WR_DB_INT (seg->index) };
  WrDbParam params[] = {
    WR_DB_TEXT (id), WR_DB_INT (seg->index), WR_DB_TEXT (seg->file),
    WR_DB_INT (seg->size), WR_DB_TEXT (seg->sha256),
    WR_DB_INT (seg->start_ms), WR_DB_INT (seg->end_ms),
    WR_DB_BOOL (seg->partial),
  };
  g_autoptr (GError) db_error = NULL;

  if (!check_name ("segment file", seg->file, 128, error)
      || strchr (seg->file, '/') || g_str_has_prefix (seg->file, ".")) {
    if (error && !*error)
      g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_INVALID,
          "a segment file is a plain file name");
    return FALSE;
  }
  if (!wr_db_begin (store->db, &db_error)) {
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        db_error->message);
    return FALSE;
  }
  if (!RUN ("DELETE FROM recording_segments WHERE recording_id = $1 "
          "AND idx = $2", del, NULL)
      || !RUN ("INSERT INTO recording_segments (recording_id, idx, "
          "file_name, size, sha256, start_ms, end_ms, partial) VALUES ($1, "
          "$2, $3, $4, $5, $6, $7, $8)", params, NULL)) {
    wr_db_rollback (store->db);
    return FALSE;
  }
  if (!wr_db_commit (store->db, &db_error)) {
    g_set_error_literal (error, WR_STORE_ERROR, WR_STORE_ERROR_FAILED,
        db_error->message);
    return FALSE;
  }
  return TRUE;
}

static WrStoredRecording *
recording_from_row (WrDbResult *res, guint i)
{
  WrStoredRecording *r = g_new0 (WrStoredRecording, 1);

  r->id = g_strdup (wr_db_result_get (res, i, 0));
  r->session_id = g_strdup (wr_db_result_get (res, i, 1));
  r->agent_id = g_strdup (wr_db_result_get (res, i, 2));
  r->group_name = g_strdup (wr_db_result_get (res, i, 3));
  r->user_name = g_strdup (wr_db_result_get (res, i, 4));
  r->recorder = g_strdup (wr_db_result_get (res, i, 5));
  r->codec = g_strdup (wr_db_result_get (res, i, 6));
  r->container = g_strdup (wr_db_result_get (res, i, 7));
  r->started_at = wr_db_result_get_int (res, i, 8);
  r->ended_at = wr_db_result_get_int (res, i, 9);
  r->status = g_strdup (wr_db_result_get (res, i, 10));
  r->manifest = g_strdup (wr_db_result_get (res, i, 11));
  r->manifest_signature = g_strdup (wr_db_result_get (res, i, 12));
  r->deleted_at = wr_db_result_get_int (res, i, 13);
  r->legal_hold = wr_db_result_get_int (res, i, 14) != 0;
  r->segments = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_stored_segment_free);
  return r;
}

static gboolean
load_segments (WrStore *store, WrStoredRecording *r, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (r->id) };

  if (!RUN ("SELECT idx, file_name, size, sha256, start_ms, end_ms, partial "
          "FROM recording_segments WHERE recording_id = $1 ORDER BY idx",
          params, &res))
    return FALSE;
  for (guint i = 0; i < res->n_rows; i++) {
    WrStoredSegment *s = g_new0 (WrStoredSegment, 1);
    s->index = wr_db_result_get_int (res, i, 0);
    s->file = g_strdup (wr_db_result_get (res, i, 1));
    s->size = wr_db_result_get_int (res, i, 2);
    s->sha256 = g_strdup (wr_db_result_get (res, i, 3));
    s->start_ms = wr_db_result_get_int (res, i, 4);
    s->end_ms = wr_db_result_get_int (res, i, 5);
    s->partial = wr_db_result_get_int (res, i, 6) != 0;
    g_ptr_array_add (r->segments, s);
  }
  return TRUE;
}

WrStoredRecording *
wr_store_recording_get (WrStore *store, const char *id, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (WrStoredRecording) r = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id) };

  if (!RUN ("SELECT " REC_COLUMNS REC_FROM " WHERE r.id = $1", params, &res))
    return NULL;
  if (res->n_rows != 1) {
    not_found (error, "recording");
    return NULL;
  }
  r = recording_from_row (res, 0);
  if (!load_segments (store, r, error))
    return NULL;
  return g_steal_pointer (&r);
}

GPtrArray *
wr_store_recording_list (WrStore *store, const WrRecordingFilter *f,
    GError **error)
{
  g_autoptr (GString) sql = g_string_new ("SELECT " REC_COLUMNS REC_FROM
      " WHERE r.deleted_at IS NULL");
  g_autoptr (WrDbResult) res = NULL;
  g_autoptr (GPtrArray) out = NULL;
  WrDbParam params[6];
  guint n = 0;
  guint limit = f->limit ? MIN (f->limit, 1000) : 100;

  if (f->user) {
    params[n++] = WR_DB_TEXT (f->user);
    g_string_append_printf (sql, " AND r.user_name = $%u", n);
  }
  if (f->agent) {
    params[n++] = WR_DB_TEXT (f->agent);
    g_string_append_printf (sql, " AND r.agent_id = $%u", n);
  }
  if (f->session) {
    params[n++] = WR_DB_TEXT (f->session);
    g_string_append_printf (sql, " AND r.session_id = $%u", n);
  }
  if (f->from_ms > 0) {
    params[n++] = WR_DB_INT (f->from_ms);
    g_string_append_printf (sql, " AND r.started_at >= $%u", n);
  }
  if (f->to_ms > 0) {
    params[n++] = WR_DB_INT (f->to_ms);
    g_string_append_printf (sql, " AND r.started_at <= $%u", n);
  }
  params[n++] = WR_DB_INT (limit);
  g_string_append_printf (sql, " ORDER BY r.started_at DESC, r.id LIMIT $%u",
      n);
  if (!run (store, sql->str, params, n, &res, NULL, error))
    return NULL;
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_stored_recording_free);
  for (guint i = 0; i < res->n_rows; i++) {
    WrStoredRecording *r = recording_from_row (res, i);
    g_ptr_array_add (out, r);
    if (!load_segments (store, r, error))
      return NULL;
  }
  return g_steal_pointer (&out);
}

GPtrArray *
wr_store_recording_list_expired (WrStore *store, gint64 now_ms,
    GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_INT (now_ms) };
  GPtrArray *out;

  /* retention_days * 86400000 as integer arithmetic on both backends */
  if (!RUN ("SELECT " REC_COLUMNS REC_FROM
          " JOIN agent_groups g ON g.name = r.group_name"
          " WHERE r.deleted_at IS NULL AND r.status <> 'recording'"
          " AND g.retention_days > 0"
          " AND r.started_at < CAST ($1 AS BIGINT)"
          " - CAST (g.retention_days AS BIGINT) * 86400000"
          " AND COALESCE (s.legal_hold, 0) = 0", params, &res))
    return NULL;
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify) wr_stored_recording_free);
  for (guint i = 0; i < res->n_rows; i++) {
    WrStoredRecording *r = recording_from_row (res, i);
    g_ptr_array_add (out, r);
    if (!load_segments (store, r, error)) {
      g_ptr_array_unref (out);
      return NULL;
    }
  }
  return out;
}

gboolean
wr_store_recording_mark_deleted (WrStore *store, const char *id,
    gint64 now_ms, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (id), WR_DB_INT (now_ms) };

  if (!RUN ("UPDATE recordings SET deleted_at = $2 WHERE id = $1 "
          "AND deleted_at IS NULL", params, &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "recording");
  return TRUE;
}

gboolean
wr_store_recording_set_started (WrStore *store, const char *id,
    gint64 started_ms, GError **error)
{
  WrDbParam params[] = { WR_DB_TEXT (id), WR_DB_INT (started_ms) };

  return RUN ("UPDATE recordings SET ended_at = CASE WHEN ended_at IS NULL "
      "THEN NULL ELSE $2 + (ended_at - started_at) END, started_at = $2 "
      "WHERE id = $1", params, NULL);
}

gboolean
wr_store_session_set_legal_hold (WrStore *store, const char *sid,
    gboolean hold, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (sid), WR_DB_BOOL (hold) };

  if (!RUN ("UPDATE sessions SET legal_hold = $2 WHERE sid = $1", params,
          &res))
    return FALSE;
  if (res->changes == 0)
    return not_found (error, "session");
  return TRUE;
}

char *
wr_store_agent_recording_policy (WrStore *store, const char *agent_id,
    char **group_name, gint64 *retention_days, GError **error)
{
  g_autoptr (WrDbResult) res = NULL;
  WrDbParam params[] = { WR_DB_TEXT (agent_id) };

  if (!RUN ("SELECT g.recording, g.name, g.retention_days FROM agents a "
          "JOIN agent_groups g ON g.id = a.group_id WHERE a.id = $1",
          params, &res))
    return NULL;
  if (res->n_rows != 1) {
    not_found (error, "agent");
    return NULL;
  }
  if (group_name)
    *group_name = g_strdup (wr_db_result_get (res, 0, 1));
  if (retention_days)
    *retention_days = wr_db_result_get_int (res, 0, 2);
  return g_strdup (wr_db_result_get (res, 0, 0));
}
