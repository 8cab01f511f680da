/* webremote: the recordings API and its signed media links
 * (api-recordings.h; docs/api.md, "Recordings"). */
#include "config.h"

#include "gateway/api-recordings.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/crypto.h"
#include "common/json-builder.h"
#include "gateway/api-routes.h"
#include "gateway/evidence.h"
#include "gateway/http-response.h"
#include "gateway/recording.h"
#include "gateway/retention.h"
#include "gateway/store-recording.h"

/* ---- media tokens ---- */

static guint8 media_key[32];

static const guint8 *
get_media_key (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    if (RAND_bytes (media_key, sizeof media_key) != 1)
      g_error ("no randomness for the media link key");
    g_once_init_leave (&once, 1);
  }
  return media_key;
}

static char *
media_mac (const char *payload)
{
  guint8 md[32];
  unsigned int md_len = 0;

  HMAC (EVP_sha256 (), get_media_key (), 32, (const guchar *) payload,
      strlen (payload), md, &md_len);
  return wr_base64url_encode (md, md_len);
}

char *
wr_media_token_make (WrMediaKind kind, const char *recording, gint64 index,
    const char *user, gint64 expires)
{
  g_autofree char *payload = g_strdup_printf ("%c\n%s\n%" G_GINT64_FORMAT
      "\n%s\n%" G_GINT64_FORMAT, (char) kind, recording, index, user,
      expires);
  g_autofree char *p64 = wr_base64url_encode ((const guint8 *) payload,
      strlen (payload));
  g_autofree char *mac = media_mac (payload);

  return g_strdup_printf ("%s.%s", p64, mac);
}

gboolean
wr_media_token_check (const char *token, gint64 now, WrMediaKind *kind,
    char **recording, gint64 *index, char **user)
{
  const char *dot;
  g_autofree char *p64 = NULL;
  g_autofree guint8 *payload = NULL;
  g_autofree char *text = NULL;
  g_autofree char *mac = NULL;
  g_auto (GStrv) parts = NULL;
  gsize len = 0;
  gint64 expires;

  if (!token || strlen (token) > 2048 || !(dot = strchr (token, '.')))
    return FALSE;
  p64 = g_strndup (token, dot - token);
  payload = wr_base64url_decode (p64, strlen (p64), &len);
  if (!payload || len == 0 || memchr (payload, 0, len))
    return FALSE;
  text = g_strndup ((const char *) payload, len);
  mac = media_mac (text);
  if (!wr_constant_time_equal (mac, dot + 1))
    return FALSE;
  parts = g_strsplit (text, "\n", 6);
  if (g_strv_length (parts) != 5 || strlen (parts[0]) != 1
      || (parts[0][0] != WR_MEDIA_SEGMENT && parts[0][0] != WR_MEDIA_BUNDLE))
    return FALSE;
  expires = g_ascii_strtoll (parts[4], NULL, 10);
  if (expires < now)
    return FALSE;
  *kind = (WrMediaKind) parts[0][0];
  *recording = g_strdup (parts[1]);
  *index = g_ascii_strtoll (parts[2], NULL, 10);
  *user = g_strdup (parts[3]);
  return TRUE;
}

/* ---- JSON ---- */

static void
add_recording (JsonBuilder *b, const WrStoredRecording *r, const char *user,
    gboolean full)
{
  gint64 expires = g_get_real_time () / G_USEC_PER_SEC
      + WR_MEDIA_TOKEN_LIFETIME_S;
  gint64 size = 0, last_end = r->started_at;
  const char *reason = NULL;

  json_builder_begin_object (b);
  wr_json_add_string (b, "id", r->id);
  wr_json_add_string (b, "session", r->session_id);
  wr_json_add_string (b, "agent", r->agent_id);
  wr_json_add_string (b, "group", r->group_name);
  wr_json_add_string (b, "user", r->user_name);
  wr_json_add_string (b, "recorder", r->recorder);
  wr_json_add_string (b, "codec", r->codec);
  wr_json_add_string (b, "container", r->container);
  wr_json_add_int (b, "started", r->started_at);
  json_builder_set_member_name (b, "ended");
  if (r->ended_at)
    json_builder_add_int_value (b, r->ended_at);
  else
    json_builder_add_null_value (b);
  wr_json_add_string (b, "status", r->status);
  wr_json_add_bool (b, "legal_hold", r->legal_hold);
  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->segments->len; i++) {
    const WrStoredSegment *s = g_ptr_array_index (r->segments, i);
    g_autofree char *token = wr_media_token_make (WR_MEDIA_SEGMENT, r->id,
        s->index, user, expires);
    g_autofree char *url = g_strdup_printf ("/api/v1/media/%s", token);

    size += s->size;
    last_end = MAX (last_end, s->end_ms);
    json_builder_begin_object (b);
    wr_json_add_int (b, "index", s->index);
    wr_json_add_string (b, "file", s->file);
    wr_json_add_int (b, "size", s->size);
    wr_json_add_string (b, "sha256", s->sha256);
    wr_json_add_int (b, "start_ms", s->start_ms);
    wr_json_add_int (b, "end_ms", s->end_ms);
    wr_json_add_bool (b, "partial", s->partial);
    wr_json_add_string (b, "url", url);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  wr_json_add_int (b, "duration_ms", (r->ended_at ? r->ended_at : last_end)
      - r->started_at);
  wr_json_add_int (b, "size", size);
  if (g_strcmp0 (r->status, "interrupted") == 0)
    reason = "the recorder stopped before the session ended";
  else if (g_strcmp0 (r->status, "failed") == 0)
    reason = "the recorder failed";
  wr_json_add_string (b, "reason", reason);
  if (full) {
    g_autoptr (JsonNode) manifest = r->manifest
        ? json_from_string (r->manifest, NULL) : NULL;

    json_builder_set_member_name (b, "manifest");
    if (manifest)
      json_builder_add_value (b, g_steal_pointer (&manifest));
    else
      json_builder_add_null_value (b);
    wr_json_add_string (b, "signature", r->manifest_signature);
    json_builder_set_member_name (b, "bundle_url");
    if (r->manifest) {
      g_autofree char *token = wr_media_token_make (WR_MEDIA_BUNDLE, r->id,
          0, user, expires);
      g_autofree char *url = g_strdup_printf ("/api/v1/media/%s", token);
      json_builder_add_string_value (b, url);
    } else {
      json_builder_add_null_value (b);
    }
  }
  json_builder_end_object (b);
}

static gboolean
audit_call (WrGateway *gw, WrApiCall *call, const char *type,
    const WrStoredRecording *r, JsonObject *detail, GError **error)
{
  g_autoptr (JsonObject) d = detail ? detail : json_object_new ();
  WrAuditEvent ev = {
    .type = type, .outcome = WR_AUDIT_OK,
    .actor = call->user ? call->user->name : "system",
    .agent = r->agent_id, .session = r->session_id,
    .address = call->client_address,
  };

  json_object_set_string_member (d, "recording", r->id);
  if (!gw->audit)
    return TRUE;
  return wr_audit_append (gw->audit, &ev, d, NULL, error);
}

static const char *
query (WrApiCall *call, const char *name)
{
  const char *v = call->query ? g_hash_table_lookup (call->query, name)
      : NULL;
  return v && *v ? v : NULL;
}

static gboolean
query_int (WrApiCall *call, const char *name, gint64 *out)
{
  const char *v = query (call, name);
  char *end = NULL;

  *out = 0;
  if (!v)
    return TRUE;
  *out = g_ascii_strtoll (v, &end, 10);
  if (!end || *end || *out < 0) {
    g_autofree char *m = g_strdup_printf ("'%s' must be a non-negative "
        "integer", name);
    wr_api_call_error (call, 400, "invalid_field", m);
    return FALSE;
  }
  return TRUE;
}

void
wr_api_recordings_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  WrRecordingFilter f = { 0 };
  gint64 limit = 0;

  f.user = query (call, "user");
  f.agent = query (call, "agent");
  f.session = query (call, "session");
  if (!query_int (call, "from", &f.from_ms) || !query_int (call, "to",
          &f.to_ms) || !query_int (call, "limit", &limit))
    return;
  f.limit = (guint) CLAMP (limit, 0, 1000);
  list = wr_store_recording_list (gw->store, &f, &error);
  if (!list) {
    wr_api_store_error (call, error);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "recordings");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    add_recording (b, g_ptr_array_index (list, i), call->user->name, FALSE);
  json_builder_end_array (b);
  json_builder_end_object (b);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

static WrStoredRecording *
get_live (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  WrStoredRecording *r = wr_store_recording_get (gw->store, call->arg,
      &error);

  if (!r) {
    wr_api_store_error (call, error);
    return NULL;
  }
  if (r->deleted_at) {
    wr_stored_recording_free (r);
    wr_api_call_error (call, 404, "not_found", "this recording was deleted");
    return NULL;
  }
  return r;
}

void
wr_api_recordings_get (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (WrStoredRecording) r = get_live (gw, call);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GError) error = NULL;

  if (!r)
    return;
  if (!audit_call (gw, call, "recording.viewed", r, NULL, &error)) {
    wr_api_call_error (call, 503, "unavailable",
        "the audit log cannot be written now");
    return;
  }
  add_recording (b, r, call->user->name, TRUE);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_recordings_hold (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (JsonObject) body = wr_api_call_read_object (call);
  g_autoptr (WrStoredRecording) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean hold = FALSE;

  if (!body)
    return;
  if (!json_object_has_member (body, "hold")) {
    wr_api_call_error (call, 400, "invalid_field", "'hold' is required");
    return;
  }
  if (!wr_api_get_bool (call, body, "hold", &hold))
    return;
  r = get_live (gw, call);
  if (!r)
    return;
  if (!wr_store_begin (gw->store, &error)) {
    wr_api_store_error (call, error);
    return;
  }
  if (!wr_store_session_set_legal_hold (gw->store, r->session_id, hold,
          &error)
      || !audit_call (gw, call, hold ? "recording.hold" : "recording.release",
          r, NULL, &error)
      || !wr_store_commit (gw->store, &error)) {
    wr_store_rollback (gw->store);
    if (error && error->domain == WR_STORE_ERROR)
      wr_api_store_error (call, error);
    else
      wr_api_call_error (call, 503, "unavailable",
          "the audit log cannot be written now");
    return;
  }
  g_message ("%s %s the legal hold on session %s", call->user->name,
      hold ? "set" : "released", r->session_id);
  r->legal_hold = hold;
  add_recording (b, r, call->user->name, TRUE);
  wr_api_call_respond (call, 200, json_builder_get_root (b));
}

void
wr_api_recordings_delete (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (WrStoredRecording) r = get_live (gw, call);
  g_autoptr (GError) error = NULL;

  if (!r)
    return;
  if (r->legal_hold) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    wr_json_add_string (b, "error", "held");
    wr_json_add_string (b, "code", "held");
    wr_json_add_string (b, "message", "the session is under legal hold");
    json_builder_end_object (b);
    wr_api_call_respond (call, 409, json_builder_get_root (b));
    return;
  }
  if (g_strcmp0 (r->status, "recording") == 0) {
    wr_api_call_error (call, 409, "recording",
        "this recording is still running");
    return;
  }
  if (!wr_recording_delete (gw->store, gw->audit, gw->recording_dir, r,
          "admin", call->user->name, call->client_address, &error)) {
    if (error->domain == WR_STORE_ERROR)
      wr_api_store_error (call, error);
    else
      wr_api_call_error (call, 503, "unavailable",
          "the audit log cannot be written now");
    return;
  }
  wr_api_call_respond (call, 204, NULL);
}

/* ---- media links ---- */

typedef struct {
  WrGateway *gw;
  SoupServerMessage *msg;
  WrMediaKind kind;
  char *recording;
  gint64 index;
  char *user;
  char *address;
  /* result */
  guint status;
  char *error_code;
  char *error_message;
  char *path;
  char *content_type;
  char *download_name;
  gboolean unlink_after;
} MediaJob;

static void
media_job_free (MediaJob *j)
{
  g_object_unref (j->msg);
  g_free (j->recording);
  g_free (j->user);
  g_free (j->address);
  g_free (j->error_code);
  g_free (j->error_message);
  if (j->unlink_after && j->path)
    g_unlink (j->path);
  g_free (j->path);
  g_free (j->content_type);
  g_free (j->download_name);
  g_free (j);
}

static void
media_fail (MediaJob *j, guint status, const char *code, const char *message)
{
  j->status = status;
  j->error_code = g_strdup (code);
  j->error_message = g_strdup (message);
}

static void
media_in_thread (GTask *task, gpointer source, gpointer data,
    GCancellable *cancellable)
{
  MediaJob *j = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (WrStoredRecording) r = wr_store_recording_get (j->gw->store,
      j->recording, &error);

  if (!r || r->deleted_at) {
    media_fail (j, r || g_error_matches (error, WR_STORE_ERROR,
            WR_STORE_ERROR_NOT_FOUND) ? 404 : 503, "not_found",
        "no such recording");
    g_task_return_boolean (task, TRUE);
    return;
  }
  if (j->kind == WR_MEDIA_SEGMENT) {
    for (guint i = 0; i < r->segments->len; i++) {
      WrStoredSegment *s = g_ptr_array_index (r->segments, i);
      if (s->index == j->index) {
        g_autofree char *dir = wr_recording_dir (j->gw->recording_dir,
            r->id);
        j->path = g_build_filename (dir, s->file, NULL);
        j->content_type = g_strdup (g_str_has_suffix (s->file, ".webm")
            ? "video/webm" : "video/mp4");
      }
    }
    if (!j->path)
      media_fail (j, 404, "not_found", "no such segment");
  } else {
    g_autofree char *tmp = NULL;
    int fd = g_file_open_tmp ("webremote-evidence-XXXXXX.tar", &tmp, &error);
    WrAuditEvent ev = {
      .type = "recording.downloaded", .outcome = WR_AUDIT_OK,
      .actor = j->user, .agent = r->agent_id, .session = r->session_id,
      .address = j->address,
    };
    g_autoptr (JsonObject) d = json_object_new ();

    if (fd >= 0) {
      close (fd);
      g_unlink (tmp);
    }
    json_object_set_string_member (d, "recording", r->id);
    json_object_set_string_member (d, "what", "evidence bundle");
    if (fd < 0 || !wr_evidence_write (j->gw->store, j->gw->audit,
            j->gw->grant_signer, j->gw->recording_dir, r, tmp, &error)) {
      g_warning ("recording %s: cannot make its evidence bundle: %s", r->id,
          error ? error->message : "?");
      media_fail (j, error && g_error_matches (error, G_IO_ERROR,
              G_IO_ERROR_NOT_FOUND) ? 409 : 503, "unavailable",
          error ? error->message : "cannot make the bundle");
    } else if (j->gw->audit && !wr_audit_append (j->gw->audit, &ev, d, NULL,
            &error)) {
      g_unlink (tmp);
      media_fail (j, 503, "unavailable",
          "the audit log cannot be written now");
    } else {
      j->path = g_steal_pointer (&tmp);
      j->unlink_after = TRUE;
      j->content_type = g_strdup ("application/x-tar");
      j->download_name = g_strdup_printf ("recording-%s.tar", r->id);
    }
  }
  g_task_return_boolean (task, TRUE);
}

guint
wr_http_parse_range (const char *header, gint64 size, gint64 *start,
    gint64 *end)
{
  const char *spec, *dash;
  char *e = NULL;

  *start = 0;
  *end = size - 1;
  if (!header)
    return 200;
  while (*header == ' ')
    header++;
  if (!g_str_has_prefix (header, "bytes="))
    return 200;
  spec = header + 6;
  if (strchr (spec, ','))
    return 200;  /* several ranges: the whole file, which is allowed */
  dash = strchr (spec, '-');
  if (!dash)
    return 416;
  if (dash == spec) {
    gint64 n = g_ascii_strtoll (dash + 1, &e, 10);
    if (!g_ascii_isdigit (dash[1]) || *e || n <= 0 || size == 0)
      return 416;
    *start = MAX (0, size - n);
    *end = size - 1;
    return 206;
  }
  if (!g_ascii_isdigit (*spec))
    return 416;
  *start = g_ascii_strtoll (spec, &e, 10);
  if (e != dash || *start >= size)
    return 416;
  if (dash[1] == '\0') {
    *end = size - 1;
  } else {
    if (!g_ascii_isdigit (dash[1]))
      return 416;
    *end = g_ascii_strtoll (dash + 1, &e, 10);
    if (*e || *end < *start)
      return 416;
    *end = MIN (*end, size - 1);
  }
  return 206;
}

static void
media_done (GObject *source, GAsyncResult *result, gpointer data)
{
  MediaJob *j = data;
  SoupServerMessage *msg = j->msg;
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) all = NULL;
  g_autoptr (GBytes) part = NULL;
  gint64 size, start, end;
  guint status;

  if (j->status) {
    wr_http_respond_error (msg, j->status, j->error_code, j->error_message);
    soup_server_message_unpause (msg);
    return;
  }
  mapped = g_mapped_file_new (j->path, FALSE, &error);
  if (!mapped) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "the file is gone");
    soup_server_message_unpause (msg);
    return;
  }
  all = g_mapped_file_get_bytes (mapped);
  size = (gint64) g_bytes_get_size (all);
  status = wr_http_parse_range (soup_message_headers_get_one (
          soup_server_message_get_request_headers (msg), "Range"), size,
      &start, &end);
  wr_http_set_security_headers (msg);
  soup_message_headers_replace (h, "Cache-Control", "private, max-age=600");
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  if (j->download_name) {
    g_autofree char *cd = g_strdup_printf ("attachment; filename=\"%s\"",
        j->download_name);
    soup_message_headers_replace (h, "Content-Disposition", cd);
  }
  if (status == 416) {
    g_autofree char *cr = g_strdup_printf ("bytes */%" G_GINT64_FORMAT,
        size);
    soup_message_headers_replace (h, "Content-Range", cr);
    soup_server_message_set_status (msg, 416, NULL);
    soup_server_message_unpause (msg);
    return;
  }
  if (status == 206) {
    g_autofree char *cr = g_strdup_printf ("bytes %" G_GINT64_FORMAT "-%"
        G_GINT64_FORMAT "/%" G_GINT64_FORMAT, start, end, size);
    soup_message_headers_replace (h, "Content-Range", cr);
  }
  part = size ? g_bytes_new_from_bytes (all, (gsize) start,
      (gsize) (end - start + 1)) : g_bytes_new (NULL, 0);
  soup_message_headers_set_content_type (h, j->content_type, NULL);
  soup_server_message_set_status (msg, status, NULL);
  if (g_str_equal (soup_server_message_get_method (msg), "HEAD"))
    soup_message_headers_set_content_length (h, g_bytes_get_size (part));
  else
    soup_message_body_append_bytes (
        soup_server_message_get_response_body (msg), part);
  soup_server_message_unpause (msg);
}

void
wr_api_media_handle (SoupServer *server, SoupServerMessage *msg,
    const char *path, GHashTable *query, gpointer user_data)
{
  WrGateway *gw = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *token;
  g_autoptr (GTask) task = NULL;
  MediaJob *j;
  WrMediaKind kind;
  char *recording = NULL, *user = NULL;
  gint64 index = 0;

  if (!g_str_has_prefix (path, "/api/v1/media/")) {
    wr_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
        "no such endpoint");
    return;
  }
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    wr_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        "method_not_allowed", "method not allowed");
    return;
  }
  token = path + strlen ("/api/v1/media/");
  if (!wr_media_token_check (token, g_get_real_time () / G_USEC_PER_SEC,
          &kind, &recording, &index, &user)) {
    wr_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
        "this link is not valid (any more)");
    return;
  }
  j = g_new0 (MediaJob, 1);
  j->gw = gw;
  j->msg = g_object_ref (msg);
  j->kind = kind;
  j->recording = recording;
  j->index = index;
  j->user = user;
  j->address = g_strdup (soup_server_message_get_remote_host (msg));
  soup_server_message_pause (msg);
  task = g_task_new (NULL, NULL, media_done, j);
  g_task_set_task_data (task, j, (GDestroyNotify) media_job_free);
  g_task_run_in_thread (task, media_in_thread);
}
