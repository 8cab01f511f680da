/* webremote: the audit export bundle (audit-bundle.h). */
#include "config.h"

#include "gateway/audit-bundle.h"

#include <string.h>

#include "gateway/bundle.h"

static char *
describe_time (gint64 ms)
{
  g_autoptr (GDateTime) t = NULL;

  if (ms <= 0)
    return g_strdup ("-");
  t = g_date_time_new_from_unix_utc (ms / 1000);
  return t ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ")
      : g_strdup_printf ("%" G_GINT64_FORMAT, ms);
}

static char *
make_readme (const WrAuditFilter *f, const char *made_by)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *now_text = g_date_time_format_iso8601 (now);
  g_autofree char *from = describe_time (f->from_ms);
  g_autofree char *to = describe_time (f->to_ms);

  return g_strdup_printf (
      "webremote audit export\n"
      "======================\n\n"
      "Made by %s (webremote %s) on %s.\n"
      "Filter: from=%s to=%s user=%s agent=%s session=%s type=%s\n\n"
      "Files:\n"
      "  events.jsonl       one audit event per line, in sequence order.\n"
      "                     Events that match the filter are complete; the\n"
      "                     others in between carry only seq, prev_hash,\n"
      "                     digest and hash, so the hash chain can be checked\n"
      "                     without showing them.\n"
      "  checkpoints.jsonl  the gateway's signed checkpoints in that range;\n"
      "                     the last one covers the last event.\n"
      "  public-key.txt     the Ed25519 key that signed the checkpoints.\n\n"
      "To verify (no database or gateway needed):\n\n"
      "  webremotectl audit verify --bundle THIS.tar --key ed25519:...\n\n"
      "with the gateway's published key (webremote-gateway\n"
      "--print-grant-key) for --key. Without --key the key in\n"
      "public-key.txt is used and printed for you to compare. Exit status 0\n"
      "means intact; 1 names the first bad row. The unpacked directory can\n"
      "be checked the same way. The formats (canonical JSON, hash chain,\n"
      "checkpoint signature) are described in docs/compliance.md, so the\n"
      "check can be redone with other tools.\n",
      made_by, WR_VERSION, now_text, from, to, f->user ? f->user : "-",
      f->agent ? f->agent : "-", f->session ? f->session : "-",
      f->type ? f->type : "-");
}

gboolean
wr_audit_write_bundle (WrAudit *audit, const WrAuditFilter *filter,
    const char *path, const char *made_by, guint *n_events,
    char **public_key, GError **error)
{
  g_autoptr (GString) events = g_string_new (NULL);
  g_autoptr (GString) checkpoints = g_string_new (NULL);
  g_autoptr (WrBundleWriter) writer = NULL;
  g_autofree char *key = NULL;
  g_autofree char *key_line = NULL;
  g_autofree char *readme = NULL;
  guint lines = 0;
  const char *k;

  if (!wr_audit_export (audit, filter, events, checkpoints, error))
    return FALSE;
  if (events->len + checkpoints->len > WR_AUDIT_BUNDLE_MAX) {
    g_set_error_literal (error, WR_AUDIT_ERROR, WR_AUDIT_ERROR_INVALID,
        "the export is too large; narrow the time range");
    return FALSE;
  }
  for (const char *p = events->str; (p = strchr (p, '\n')); p++)
    lines++;
  /* The key the last checkpoint names. */
  k = g_strrstr (checkpoints->str, "\"key\":\"");
  if (k) {
    const char *start = k + strlen ("\"key\":\"");
    const char *end = strchr (start, '"');

    if (end) {
      key = g_strndup (start, end - start);
      key_line = g_strconcat (key, "\n", NULL);
    }
  }
  readme = make_readme (filter, made_by);

  writer = wr_bundle_writer_new (path, error);
  if (!writer)
    return FALSE;
  if (!wr_bundle_writer_add_data (writer, "events.jsonl", events->str,
          events->len, error)
      || !wr_bundle_writer_add_data (writer, "checkpoints.jsonl",
          checkpoints->str, checkpoints->len, error)
      || (key_line && !wr_bundle_writer_add_data (writer, "public-key.txt",
          key_line, strlen (key_line), error))
      || !wr_bundle_writer_add_data (writer, "README.txt", readme,
          strlen (readme), error)
      || !wr_bundle_writer_close (writer, error))
    return FALSE;
  if (n_events)
    *n_events = lines;
  if (public_key)
    *public_key = g_steal_pointer (&key);
  return TRUE;
}
