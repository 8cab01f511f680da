/* webremote: the signed manifest of a recording (manifest.h). */
#include "config.h"

#include "gateway/manifest.h"

#include <string.h>

#include "common/json-builder.h"

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
  wr_json_add_string (b, "recording", rec->id);
  wr_json_add_string (b, "session", rec->session_id);
  wr_json_add_string (b, "agent", rec->agent_id);
  wr_json_add_string (b, "user", rec->user_name);
  wr_json_add_string (b, "recorder", rec->recorder);
  wr_json_add_string (b, "codec", rec->codec);
  wr_json_add_string (b, "container", rec->container);
  wr_json_add_int (b, "started", rec->started_at);
  wr_json_add_int (b, "ended", ended_ms);
  wr_json_add_string (b, "status", status);
  json_builder_set_member_name (b, "segments");
  json_builder_begin_array (b);
  for (guint i = 0; rec->segments && i < rec->segments->len; i++) {
    const WrStoredSegment *s = g_ptr_array_index (rec->segments, i);

    json_builder_begin_object (b);
    wr_json_add_int (b, "index", s->index);
    wr_json_add_string (b, "file", s->file);
    wr_json_add_int (b, "size", s->size);
    wr_json_add_string (b, "sha256", s->sha256);
    wr_json_add_int (b, "start_ms", s->start_ms);
    wr_json_add_int (b, "end_ms", s->end_ms);
    wr_json_add_bool (b, "partial", s->partial);
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
