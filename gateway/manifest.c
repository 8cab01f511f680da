/* webremote: the signed manifest of a recording (manifest.h). */
#include "config.h"

#include "gateway/manifest.h"

#include <string.h>

static void
add_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

char *
wr_manifest_build (const WrStoredRecording *rec, const char *status,
    gint64 ended_ms)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  /* json-glib keeps members in insertion order: this order is the
   * canonical one. */
  json_builder_begin_object (b);
  add_str (b, "recording", rec->id);
  add_str (b, "session", rec->session_id);
  add_str (b, "agent", rec->agent_id);
  add_str (b, "user", rec->user_name);
  add_str (b, "recorder", rec->recorder);
  add_str (b, "codec", rec->codec);
  add_str (b, "container", rec->container);
  add_int (b, "started", rec->started_at);
  add_int (b, "ended", ended_ms);
  add_str (b, "status", status);
  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (guint i = 0; rec->segments && i < rec->segments->len; i++) {
    const WrStoredSegment *s = g_ptr_array_index (rec->segments, i);

    json_builder_begin_object (b);
    add_int (b, "index", s->index);
    add_str (b, "file", s->file);
    add_int (b, "size", s->size);
    add_str (b, "sha256", s->sha256);
    add_int (b, "start_ms", s->start_ms);
    add_int (b, "end_ms", s->end_ms);
    json_builder_set_member_name (b, "partial");
    json_builder_add_boolean_value (b, s->partial);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, FALSE);
  return json_generator_to_data (gen, NULL);
}

char *
wr_manifest_sign (WrGrantSigner *signer, const char *manifest,
    GError **error)
{
  return wr_grant_signer_sign (signer, WR_MANIFEST_SIGN_DOMAIN, manifest,
      strlen (manifest), error);
}

gboolean
wr_manifest_verify (const char *public_key, const char *manifest, gsize len,
    const char *signature, GError **error)
{
  g_autofree char *sig = g_strstrip (g_strdup (signature ? signature : ""));

  return wr_grant_signer_verify (public_key, WR_MANIFEST_SIGN_DOMAIN,
      manifest, len, sig, error);
}
