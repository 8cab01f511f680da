/* webremote: a recording's evidence bundle and its offline check
 * (evidence.h). */
#include "config.h"

#include "gateway/evidence.h"

#include <string.h>

#include "gateway/bundle.h"
#include "gateway/manifest.h"
#include "gateway/recording.h"

static const char readme[] =
  "webremote evidence bundle of one recorded session\n"
  "\n"
  "manifest.json          what was recorded: session, agent, user, times,\n"
  "                       and every segment's size and SHA-256\n"
  "manifest.sig           Ed25519 signature (base64) over the bytes\n"
  "                       \"webremote.recording.manifest.v1\\n\" followed by\n"
  "                       manifest.json, by the gateway's key\n"
  "public-key.txt         that key, ed25519:BASE64; compare it with the\n"
  "                       one the operator published\n"
  "segments/              the recording (fragmented MP4 or WebM)\n"
  "audit/events.jsonl     the session's audit events, hash-chained\n"
  "audit/checkpoints.jsonl signed checkpoints of that chain\n"
  "\n"
  "Check it offline:\n"
  "  webremotectl recording verify THIS.tar --key ed25519:PUBLISHED-KEY\n"
  "It exits 0 when the signature, every segment and the audit slice are\n"
  "intact, and 1 naming what is not.\n";

gboolean
wr_evidence_write (WrStore *store, WrAudit *audit, WrGrantSigner *signer,
    const char *dir, const WrStoredRecording *rec, const char *path,
    GError **error)
{
  g_autoptr (WrBundleWriter) w = NULL;
  g_autoptr (GString) events = g_string_new (NULL);
  g_autoptr (GString) checkpoints = g_string_new (NULL);
  g_autoptr (JsonNode) manifest = NULL;
  g_autofree char *sig = NULL;
  g_autofree char *key = NULL;
  g_autofree char *rec_dir = wr_recording_dir (dir, rec->id);
  WrAuditFilter filter = { 0 };
  JsonArray *segments;

  if (!rec->manifest || !rec->manifest_signature) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
        "recording %s has no signed manifest yet", rec->id);
    return FALSE;
  }
  manifest = json_from_string (rec->manifest, error);
  if (!manifest || !JSON_NODE_HOLDS_OBJECT (manifest))
    return FALSE;
  filter.session = rec->session_id;
  if (audit && !wr_audit_export (audit, &filter, events, checkpoints, error))
    return FALSE;
  w = wr_bundle_writer_new (path, error);
  if (!w)
    return FALSE;
  sig = g_strdup_printf ("%s\n", rec->manifest_signature);
  key = g_strdup_printf ("%s\n", signer ? wr_grant_signer_get_public_key (
          signer) : "");
  if (!wr_bundle_writer_add_data (w, "manifest.json", rec->manifest,
          strlen (rec->manifest), error)
      || !wr_bundle_writer_add_data (w, "manifest.sig", sig, strlen (sig),
          error)
      || !wr_bundle_writer_add_data (w, "public-key.txt", key, strlen (key),
          error))
    return FALSE;
  segments = json_object_get_array_member (json_node_get_object (manifest),
      "segments");
  for (guint i = 0; segments && i < json_array_get_length (segments); i++) {
    JsonObject *s = json_array_get_object_element (segments, i);
    const char *file = json_object_get_string_member (s, "file");
    g_autofree char *src = NULL;
    g_autofree char *name = NULL;

    if (!wr_recording_file_name_is_valid (file)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "the manifest names a bad file");
      return FALSE;
    }
    src = g_build_filename (rec_dir, file, NULL);
    name = g_strdup_printf ("segments/%s", file);
    if (!wr_bundle_writer_add_file (w, name, src, error))
      return FALSE;
  }
  if (!wr_bundle_writer_add_data (w, "audit/events.jsonl", events->str,
          events->len, error)
      || !wr_bundle_writer_add_data (w, "audit/checkpoints.jsonl",
          checkpoints->str, checkpoints->len, error)
      || !wr_bundle_writer_add_data (w, "README.txt", readme,
          strlen (readme), error))
    return FALSE;
  return wr_bundle_writer_close (w, error);
}

static gboolean
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, message);
  return FALSE;
}

static char *
member_text (const WrBundleMember *m)
{
  gsize len = 0;
  const char *data = m && m->data ? g_bytes_get_data (m->data, &len) : NULL;

  return data ? g_strndup (data, len) : NULL;
}

gboolean
wr_evidence_verify (const char *path, const char *pinned_key, char **key_out,
    char **summary, GError **error)
{
  g_autoptr (WrBundle) bundle = wr_bundle_read (path, error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  g_auto (WrAuditReport) report = { 0 };
  g_autofree char *key = NULL;
  g_autofree char *sig = NULL;
  const WrBundleMember *manifest, *events, *checkpoints;
  GPtrArray *members;
  JsonObject *root;
  JsonArray *segments;
  gsize mlen = 0;
  const char *mdata;
  guint n_segments;

  if (!bundle)
    return FALSE;
  manifest = wr_bundle_get (bundle, "manifest.json");
  if (!manifest || !manifest->data)
    return invalid (error, "manifest.json is missing");
  sig = member_text (wr_bundle_get (bundle, "manifest.sig"));
  if (!sig)
    return invalid (error, "manifest.sig is missing");
  if (pinned_key) {
    key = g_strstrip (g_strdup (pinned_key));
  } else {
    key = member_text (wr_bundle_get (bundle, "public-key.txt"));
    if (!key)
      return invalid (error, "public-key.txt is missing (or pass --key)");
    g_strstrip (key);
  }
  if (key_out)
    *key_out = g_strdup (key);
  mdata = g_bytes_get_data (manifest->data, &mlen);
  {
    g_autoptr (GError) local = NULL;
    if (!wr_manifest_verify (key, mdata, mlen, sig, &local))
      return invalid (error, "manifest.sig: the manifest's signature does "
          "not verify with %s (%s)", key, local->message);
  }
  if (!json_parser_load_from_data (parser, mdata, (gssize) mlen, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return invalid (error, "manifest.json is not a JSON object");
  root = json_node_get_object (json_parser_get_root (parser));
  segments = json_object_has_member (root, "segments")
      ? json_object_get_array_member (root, "segments") : NULL;
  if (!segments)
    return invalid (error, "manifest.json lists no segments array");
  n_segments = json_array_get_length (segments);
  for (guint i = 0; i < n_segments; i++) {
    JsonObject *s = json_array_get_object_element (segments, i);
    const char *file = s ? json_object_get_string_member_with_default (s,
        "file", NULL) : NULL;
    const char *sha = s ? json_object_get_string_member_with_default (s,
        "sha256", "") : "";
    gint64 size = s ? json_object_get_int_member_with_default (s, "size",
        -1) : -1;
    g_autofree char *name = NULL;
    const WrBundleMember *m;

    if (!file)
      return invalid (error, "manifest.json: segment %u has no file", i);
    name = g_strdup_printf ("segments/%s", file);
    m = wr_bundle_get (bundle, name);
    if (!m)
      return invalid (error, "%s: missing (the manifest lists it)", name);
    if (m->size != size)
      return invalid (error, "%s: size %" G_GINT64_FORMAT " but the "
          "manifest says %" G_GINT64_FORMAT, name, m->size, size);
    if (g_ascii_strcasecmp (m->sha256, sha) != 0)
      return invalid (error, "%s: SHA-256 %s does not match the manifest's "
          "%s", name, m->sha256, sha);
    g_hash_table_add (listed, g_steal_pointer (&name));
  }
  members = wr_bundle_get_members (bundle);
  for (guint i = 0; i < members->len; i++) {
    const WrBundleMember *m = g_ptr_array_index (members, i);
    if (g_str_has_prefix (m->name, "segments/")
        && !g_hash_table_contains (listed, m->name))
      return invalid (error, "%s: not in the manifest", m->name);
  }
  events = wr_bundle_get (bundle, "audit/events.jsonl");
  checkpoints = wr_bundle_get (bundle, "audit/checkpoints.jsonl");
  if (!events || !checkpoints || !events->data || !checkpoints->data)
    return invalid (error, "the audit slice (audit/events.jsonl, "
        "audit/checkpoints.jsonl) is missing");
  {
    g_autoptr (GError) local = NULL;
    gsize elen = 0, clen = 0;
    const char *e = g_bytes_get_data (events->data, &elen);
    const char *c = g_bytes_get_data (checkpoints->data, &clen);

    if (!wr_audit_verify_lines (e, elen, c, clen, key, &report, &local)) {
      g_autofree char *where = report.bad_seq ? g_strdup_printf (" (seq %"
          G_GINT64_FORMAT ")", report.bad_seq) : g_strdup ("");
      return invalid (error, "audit/events.jsonl: %s%s", local->message,
          where);
    }
  }
  if (summary)
    *summary = g_strdup_printf ("recording %s: signature ok, %u segment(s) "
        "intact, audit slice of %" G_GINT64_FORMAT " row(s) intact (%"
        G_GINT64_FORMAT " checkpoint(s))",
        json_object_get_string_member_with_default (root, "recording", "?"),
        n_segments, report.rows, report.checkpoints);
  return TRUE;
}
