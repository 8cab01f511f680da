/* webremote: the audit log over REST (docs/api.md "Audit"): a filtered,
 * paged read and a tar export, for holders of the `audit` permission.
 * Every read is itself audited (audit.read / audit.export) before any
 * event is returned; when that row cannot be written the answer is 503
 * and nothing is read (fail closed). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gateway/api-routes.h"
#include "gateway/audit-bundle.h"

#define MAX_FILTER_LEN 256

/* A request's filter, with the text it points into. */
typedef struct {
  WrAuditFilter filter;
  JsonObject *detail;   /* the filter, for the audit row */
} Query;

static void
query_clear (Query *q)
{
  g_clear_pointer (&q->detail, json_object_unref);
}

static gboolean
bad_param (WrApiCall *call, const char *name, const char *why)
{
  g_autofree char *message = g_strdup_printf ("bad query parameter '%s': %s",
      name, why);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, "bad_request");
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "parameter");
  json_builder_add_string_value (b, name);
  json_builder_end_object (b);
  wr_api_call_respond (call, 400, json_builder_get_root (b));
  return FALSE;
}

static gboolean
get_text (WrApiCall *call, const char *name, const char **out)
{
  const char *v = call->query ? g_hash_table_lookup (call->query, name)
      : NULL;

  *out = NULL;
  if (!v)
    return TRUE;
  if (!*v || strlen (v) > MAX_FILTER_LEN || !g_utf8_validate (v, -1, NULL))
    return bad_param (call, name, "empty, too long or not UTF-8");
  for (const char *p = v; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return bad_param (call, name, "control characters");
  *out = v;
  return TRUE;
}

static gboolean
get_int (WrApiCall *call, const char *name, gint64 min, gint64 max,
    gint64 *out)
{
  const char *v = call->query ? g_hash_table_lookup (call->query, name)
      : NULL;
  guint64 n;

  if (!v)
    return TRUE;
  if (!*v || strlen (v) > 19 || strspn (v, "0123456789") != strlen (v))
    return bad_param (call, name, "not a non-negative integer");
  n = g_ascii_strtoull (v, NULL, 10);
  if (n < (guint64) min || n > (guint64) max)
    return bad_param (call, name, "out of range");
  *out = (gint64) n;
  return TRUE;
}

static gboolean
parse_query (WrApiCall *call, gboolean paging, Query *q)
{
  WrAuditFilter *f = &q->filter;
  gint64 limit = 0;
  /* Year 9999 in ms: beyond that is junk. */
  const gint64 max_ms = G_GINT64_CONSTANT (253402300799999);

  memset (q, 0, sizeof *q);
  if (!get_text (call, "user", &f->user)
      || !get_text (call, "agent", &f->agent)
      || !get_text (call, "session", &f->session)
      || !get_text (call, "type", &f->type)
      || !get_int (call, "from", 0, max_ms, &f->from_ms)
      || !get_int (call, "to", 0, max_ms, &f->to_ms))
    return FALSE;
  if (f->type) {
    for (const char *p = f->type; *p; p++)
      if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
        return bad_param (call, "type", "an event type is letters, digits, "
            "'.', '_' and '-'");
  }
  if (f->from_ms && f->to_ms && f->from_ms > f->to_ms)
    return bad_param (call, "from", "later than 'to'");
  if (paging) {
    if (!get_int (call, "limit", 1, 1000, &limit)
        || !get_int (call, "before", 1, G_MAXINT64, &f->before_seq))
      return FALSE;
    f->limit = limit ? (guint) limit : 100;
  }

  q->detail = json_object_new ();
  if (f->user)
    json_object_set_string_member (q->detail, "user", f->user);
  if (f->agent)
    json_object_set_string_member (q->detail, "agent", f->agent);
  if (f->session)
    json_object_set_string_member (q->detail, "session", f->session);
  if (f->type)
    json_object_set_string_member (q->detail, "type", f->type);
  if (f->from_ms)
    json_object_set_int_member (q->detail, "from", f->from_ms);
  if (f->to_ms)
    json_object_set_int_member (q->detail, "to", f->to_ms);
  if (f->before_seq)
    json_object_set_int_member (q->detail, "before", f->before_seq);
  if (paging)
    json_object_set_int_member (q->detail, "limit", f->limit);
  return TRUE;
}

/* The audit row for this read; %FALSE with 503 set when it cannot be
 * written (then nothing may be read). */
static gboolean
audit_read (WrGateway *gw, WrApiCall *call, const char *type, Query *q)
{
  if (!gw->audit) {
    wr_api_call_error (call, 503, "unavailable",
        "the audit log is not available");
    return FALSE;
  }
  return wr_api_audit (gw, call, type, WR_AUDIT_OK, NULL, NULL,
      g_steal_pointer (&q->detail));
}

static void
audit_failed (WrApiCall *call, const GError *error)
{
  if (g_error_matches (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID)) {
    wr_api_call_error (call, 400, "bad_request", error->message);
    return;
  }
  g_warning ("audit API: %s", error->message);
  wr_api_call_error (call, 503, "unavailable",
      "the audit log cannot be read right now");
}

void
wr_api_audit_list (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) events = NULL;
  g_autoptr (JsonObject) out = NULL;
  guint n;
  Query q;

  if (!parse_query (call, TRUE, &q))
    return;
  if (!audit_read (gw, call, "audit.read", &q)) {
    query_clear (&q);
    return;
  }
  events = wr_audit_query (gw->audit, &q.filter, &error);
  query_clear (&q);
  if (!events) {
    audit_failed (call, error);
    return;
  }
  n = json_array_get_length (events);
  out = json_object_new ();
  json_object_set_array_member (out, "events", json_array_ref (events));
  /* Another page when this one is full. */
  if (n > 0 && n == q.filter.limit)
    json_object_set_int_member (out, "next_before", json_object_get_int_member (
            json_array_get_object_element (events, n - 1), "seq"));
  else
    json_object_set_null_member (out, "next_before");
  wr_api_call_respond (call, 200, json_node_init_object (json_node_alloc (),
          out));
}

void
wr_api_audit_export (WrGateway *gw, WrApiCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *made_by = NULL;
  g_autofree char *name = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  gboolean ok;
  Query q;

  if (!parse_query (call, FALSE, &q))
    return;
  if (!audit_read (gw, call, "audit.export", &q)) {
    query_clear (&q);
    return;
  }
  dir = g_dir_make_tmp ("wr-audit-export-XXXXXX", &error);
  if (!dir) {
    query_clear (&q);
    audit_failed (call, error);
    return;
  }
  path = g_build_filename (dir, "export.tar", NULL);
  made_by = g_strdup_printf ("the gateway's API for %s", call->user->name);
  ok = wr_audit_write_bundle (gw->audit, &q.filter, path, made_by, NULL,
      NULL, &error)
      && g_file_get_contents (path, &contents, &len, &error);
  g_unlink (path);
  g_rmdir (dir);
  if (!ok) {
    query_clear (&q);
    audit_failed (call, error);
    return;
  }
  name = g_strdup_printf ("webremote-audit-%" G_GINT64_FORMAT "-%"
      G_GINT64_FORMAT ".tar", q.filter.from_ms, q.filter.to_ms);
  query_clear (&q);
  wr_api_call_respond_download (call, "application/x-tar", name,
      g_bytes_new_take (g_steal_pointer (&contents), len));
}
