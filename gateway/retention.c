/* webremote: recording retention and deletion (retention.h). */
#include "config.h"

#include "gateway/retention.h"

#include <glib/gstdio.h>

#include "gateway/recording.h"

static void
remove_files (const char *dir, const char *id)
{
  g_autofree char *path = wr_recording_dir (dir, id);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    g_autofree char *file = g_build_filename (path, name, NULL);
    if (g_unlink (file) < 0)
      g_warning ("recording %s: cannot delete %s: %s", id, file,
          g_strerror (errno));
  }
  if (g_rmdir (path) < 0)
    g_warning ("recording %s: cannot delete %s: %s", id, path,
        g_strerror (errno));
}

gboolean
wr_recording_delete (WrStore *store, WrAudit *audit, const char *dir,
    const WrStoredRecording *rec, const char *reason, const char *actor,
    const char *address, GError **error)
{
  g_autoptr (JsonObject) d = json_object_new ();
  WrAuditEvent ev = {
    .type = "recording.deleted", .outcome = WR_AUDIT_OK, .actor = actor,
    .agent = rec->agent_id, .session = rec->session_id, .address = address,
  };
  gint64 size = 0;

  for (guint i = 0; rec->segments && i < rec->segments->len; i++)
    size += ((WrStoredSegment *) g_ptr_array_index (rec->segments, i))->size;
  json_object_set_string_member (d, "recording", rec->id);
  json_object_set_string_member (d, "reason", reason);
  json_object_set_int_member (d, "started", rec->started_at);
  if (rec->segments) {
    json_object_set_int_member (d, "segments", rec->segments->len);
    json_object_set_int_member (d, "size", size);
  }
  if (!wr_store_begin (store, error))
    return FALSE;
  if (!wr_store_recording_mark_deleted (store, rec->id,
          g_get_real_time () / 1000, error)
      || (audit && !wr_audit_append (audit, &ev, d, NULL, error))
      || !wr_store_commit (store, error)) {
    wr_store_rollback (store);
    return FALSE;
  }
  remove_files (dir, rec->id);
  g_message ("recording %s deleted (%s, by %s)", rec->id, reason, actor);
  return TRUE;
}

gint
wr_retention_run (WrStore *store, WrAudit *audit, const char *dir,
    gint64 now_ms, GError **error)
{
  g_autoptr (GPtrArray) expired = wr_store_recording_list_expired (store,
      now_ms, error);
  gint n = 0;

  if (!expired)
    return -1;
  for (guint i = 0; i < expired->len; i++) {
    g_autoptr (GError) local = NULL;
    if (wr_recording_delete (store, audit, dir, g_ptr_array_index (expired,
                i), "retention", "system", NULL, &local))
      n++;
    else
      g_warning ("retention: %s", local->message);
  }
  return n;
}
