/* webremote: one recording of a session (recording.h). */
#include "config.h"

#include "gateway/recording.h"

#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>

#include "common/crypto.h"
#include "gateway/manifest.h"

WrRecordingMode
wr_recording_mode_from_string (const char *text)
{
  if (g_strcmp0 (text, "strict") == 0)
    return WR_RECORDING_MODE_STRICT;
  if (g_strcmp0 (text, "best-effort") == 0)
    return WR_RECORDING_MODE_BEST_EFFORT;
  return WR_RECORDING_MODE_OFF;
}

WrRecording *
wr_recording_new (const char *session, const char *agent_id,
    const char *group, const char *user, const char *recorder_name,
    WrConnection *recorder)
{
  WrRecording *rec = g_new0 (WrRecording, 1);

  rec->id = wr_random_hex (16);
  rec->session = g_strdup (session);
  rec->agent_id = g_strdup (agent_id);
  rec->group = g_strdup (group);
  rec->user = g_strdup (user);
  rec->recorder_name = g_strdup (recorder_name);
  rec->recorder = g_object_ref (recorder);
  rec->started_ms = g_get_real_time () / 1000;
  return rec;
}

void
wr_recording_free (WrRecording *rec)
{
  if (!rec)
    return;
  g_clear_handle_id (&rec->timer_id, g_source_remove);
  g_free (rec->id);
  g_free (rec->session);
  g_free (rec->agent_id);
  g_free (rec->group);
  g_free (rec->user);
  g_free (rec->recorder_name);
  g_clear_object (&rec->recorder);
  g_free (rec);
}

char *
wr_recording_dir (const char *dir, const char *id)
{
  return g_build_filename (dir, id, NULL);
}

gboolean
wr_recording_file_name_is_valid (const char *file)
{
  const char *p;

  if (!file || !g_str_has_prefix (file, "segment-"))
    return FALSE;
  p = file + strlen ("segment-");
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return g_str_equal (p, ".mp4") || g_str_equal (p, ".webm");
}

gboolean
wr_recording_hash_file (const char *path, char **sha256, gint64 *size,
    GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);
  g_autofree guchar *buf = NULL;
  guchar md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX *ctx;
  gint64 total = 0;
  gssize n;

  if (!in)
    return FALSE;
  buf = g_malloc (64 * 1024);
  ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, 64 * 1024, NULL,
              error)) > 0) {
    EVP_DigestUpdate (ctx, buf, (size_t) n);
    total += n;
  }
  EVP_DigestFinal_ex (ctx, md, &md_len);
  EVP_MD_CTX_free (ctx);
  if (n < 0)
    return FALSE;
  {
    GString *hex = g_string_new (NULL);
    for (unsigned int i = 0; i < md_len; i++)
      g_string_append_printf (hex, "%02x", md[i]);
    *sha256 = g_string_free (hex, FALSE);
  }
  *size = total;
  return TRUE;
}

/* Whether the MP4 file @path has a media fragment (a top-level `moof`
 * box). A recorder that died within a second of opening a segment leaves
 * only ftyp+moov: nothing to play, so it is not registered. Other
 * containers are taken as they are. */
static gboolean
has_media (const char *path)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileInputStream) in = NULL;
  goffset pos = 0;

  if (!g_str_has_suffix (path, ".mp4"))
    return TRUE;
  file = g_file_new_for_path (path);
  in = g_file_read (file, NULL, NULL);
  if (!in)
    return TRUE;  /* hashing it reports the error */
  for (int boxes = 0; boxes < 64; boxes++) {
    guint8 head[16];
    gsize got = 0;
    guint64 size;

    if (!g_seekable_seek (G_SEEKABLE (in), pos, G_SEEK_SET, NULL, NULL)
        || !g_input_stream_read_all (G_INPUT_STREAM (in), head, 8, &got,
            NULL, NULL) || got < 8)
      return FALSE;
    if (memcmp (head + 4, "moof", 4) == 0)
      return TRUE;
    size = (guint64) head[0] << 24 | (guint64) head[1] << 16
        | (guint64) head[2] << 8 | head[3];
    if (size == 1) {
      if (!g_input_stream_read_all (G_INPUT_STREAM (in), head + 8, 8, &got,
              NULL, NULL) || got < 8)
        return FALSE;
      size = 0;
      for (int i = 8; i < 16; i++)
        size = size << 8 | head[i];
    }
    if (size < 8 || size > G_MAXINT64 - (guint64) pos)
      return FALSE;  /* size 0 (to the end) or broken: no fragment follows */
    pos += (goffset) size;
  }
  return FALSE;
}

static gint
name_cmp (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Segment files on disk the store does not know: a lost recorder's last,
 * unfinished one (fragmented MP4 plays up to its last whole fragment). */
static gboolean
register_partial (WrStore *store, WrAudit *audit, const char *dir,
    WrStoredRecording *rec, GError **error)
{
  g_autofree char *path = wr_recording_dir (dir, rec->id);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (!d)
    return TRUE;
  while ((name = g_dir_read_name (d)))
    if (wr_recording_file_name_is_valid (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, name_cmp);
  for (guint i = 0; i < names->len; i++) {
    const char *file = g_ptr_array_index (names, i);
    g_autofree char *full = g_build_filename (path, file, NULL);
    g_autofree char *sha = NULL;
    g_autoptr (JsonObject) detail = NULL;
    gboolean known = FALSE;
    gint64 size = 0, prev_end = rec->started_at;
    WrStoredSegment seg = { 0 };
    struct stat st;

    for (guint j = 0; j < rec->segments->len; j++) {
      WrStoredSegment *s = g_ptr_array_index (rec->segments, j);
      if (g_str_equal (s->file, file))
        known = TRUE;
      prev_end = MAX (prev_end, s->end_ms);
    }
    if (known)
      continue;
    if (!has_media (full)) {
      g_message ("recording %s: %s holds no media (header only); not "
          "registered", rec->id, file);
      continue;
    }
    if (!wr_recording_hash_file (full, &sha, &size, error))
      return FALSE;
    if (size == 0)
      continue;
    seg.index = g_ascii_strtoll (file + strlen ("segment-"), NULL, 10);
    seg.file = (char *) file;
    seg.size = size;
    seg.sha256 = sha;
    seg.start_ms = prev_end;
    seg.end_ms = stat (full, &st) == 0 ? (gint64) st.st_mtim.tv_sec * 1000
        + st.st_mtim.tv_nsec / 1000000 : prev_end;
    seg.end_ms = MAX (seg.end_ms, seg.start_ms);
    seg.partial = TRUE;
    if (!wr_store_recording_add_segment (store, rec->id, &seg, error))
      return FALSE;
    {
      WrStoredSegment *copy = g_memdup2 (&seg, sizeof seg);
      copy->file = g_strdup (file);
      copy->sha256 = g_strdup (sha);
      g_ptr_array_add (rec->segments, copy);
    }
    g_message ("recording %s: registered the unfinished segment %s "
        "(%" G_GINT64_FORMAT " bytes)", rec->id, file, size);
    if (audit) {
      WrAuditEvent ev = { .type = "recording.segment", .outcome = WR_AUDIT_OK,
        .actor = "system", .agent = rec->agent_id, .session = rec->session_id };
      detail = json_object_new ();
      json_object_set_string_member (detail, "recording", rec->id);
      json_object_set_int_member (detail, "index", seg.index);
      json_object_set_string_member (detail, "file", file);
      json_object_set_int_member (detail, "size", size);
      json_object_set_string_member (detail, "sha256", sha);
      json_object_set_boolean_member (detail, "partial", TRUE);
      if (!wr_audit_append (audit, &ev, detail, NULL, error))
        return FALSE;
    }
  }
  return TRUE;
}

static gint
segment_cmp (gconstpointer a, gconstpointer b)
{
  const WrStoredSegment *x = *(WrStoredSegment *const *) a;
  const WrStoredSegment *y = *(WrStoredSegment *const *) b;

  return x->index < y->index ? -1 : x->index > y->index;
}

gboolean
wr_recording_finish (WrStore *store, WrGrantSigner *signer, WrAudit *audit,
    const char *dir, const char *id, const char *status,
    gboolean scan_partial, GError **error)
{
  g_autoptr (WrStoredRecording) rec = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *signature = NULL;
  gint64 ended = g_get_real_time () / 1000;
  gint64 size = 0;

  rec = wr_store_recording_get (store, id, error);
  if (!rec)
    return FALSE;
  if (scan_partial && !register_partial (store, audit, dir, rec, error))
    return FALSE;
  g_ptr_array_sort (rec->segments, segment_cmp);
  for (guint i = 0; i < rec->segments->len; i++)
    size += ((WrStoredSegment *) g_ptr_array_index (rec->segments, i))->size;
  /* Nothing was written: whatever the ending, there is no recording to
   * show, and an auditor must not read it as a complete one. */
  if (rec->segments->len == 0)
    status = "failed";
  manifest = wr_manifest_build (rec, status, ended);
  if (signer) {
    signature = wr_manifest_sign (signer, manifest, error);
    if (!signature)
      return FALSE;
  }
  if (!wr_store_recording_finish (store, id, status, ended, manifest,
          signature, error))
    return FALSE;
  if (audit) {
    WrAuditEvent ev = { .type = "recording.ended", .outcome = WR_AUDIT_OK,
      .actor = "system", .agent = rec->agent_id, .session = rec->session_id };
    g_autoptr (JsonObject) detail = json_object_new ();
    g_autofree char *digest = wr_sha256_hex (manifest, strlen (manifest));

    json_object_set_string_member (detail, "recording", id);
    json_object_set_string_member (detail, "status", status);
    json_object_set_int_member (detail, "segments", rec->segments->len);
    json_object_set_int_member (detail, "size", size);
    json_object_set_string_member (detail, "manifest_sha256", digest);
    if (!wr_audit_append (audit, &ev, detail, NULL, error))
      return FALSE;
  }
  g_message ("recording %s: %s, %u segment(s), %" G_GINT64_FORMAT
      " bytes, manifest %s", id, status, rec->segments->len, size,
      signature ? "signed" : "unsigned (no signing key)");
  return TRUE;
}

typedef struct {
  WrStore *store;
  WrGrantSigner *signer;
  WrAudit *audit;
  char *dir;
  char *id;
  char *status;
  gboolean scan_partial;
} FinishJob;

static void
finish_job_free (FinishJob *job)
{
  g_free (job->dir);
  g_free (job->id);
  g_free (job->status);
  g_free (job);
}

static void
finish_in_thread (GTask *task, gpointer source, gpointer data,
    GCancellable *cancellable)
{
  FinishJob *job = data;
  g_autoptr (GError) error = NULL;

  if (!wr_recording_finish (job->store, job->signer, job->audit, job->dir,
          job->id, job->status, job->scan_partial, &error))
    g_warning ("recording %s: cannot finish it: %s", job->id,
        error->message);
  g_task_return_boolean (task, TRUE);
}

void
wr_recording_finish_async (WrStore *store, WrGrantSigner *signer,
    WrAudit *audit, const char *dir, const char *id, const char *status,
    gboolean scan_partial)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);
  FinishJob *job = g_new0 (FinishJob, 1);

  job->store = store;
  job->signer = signer;
  job->audit = audit;
  job->dir = g_strdup (dir);
  job->id = g_strdup (id);
  job->status = g_strdup (status);
  job->scan_partial = scan_partial;
  g_task_set_task_data (task, job, (GDestroyNotify) finish_job_free);
  g_task_run_in_thread (task, finish_in_thread);
}
