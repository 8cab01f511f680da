/* webremote: the signed manifest of a recording (docs/compliance.md).
 *
 * The manifest is canonical JSON (compact, keys in this fixed order):
 *
 *   {"recording", "session", "agent", "user", "recorder", "codec",
 *    "container", "started", "ended", "status",
 *    "segments": [{"index", "file", "size", "sha256", "start_ms",
 *                  "end_ms", "partial"}]}
 *
 * (times unix milliseconds), signed with the gateway's Ed25519 key over
 * WR_MANIFEST_SIGN_DOMAIN followed by the manifest's bytes. The signature
 * travels as standard base64.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "gateway/grant-signer.h"
#include "gateway/store-recording.h"

G_BEGIN_DECLS

#define WR_MANIFEST_SIGN_DOMAIN "webremote.recording.manifest.v1\n"

/* (transfer full): the canonical manifest of @rec with @status and
 * @ended_ms (both override the stored ones). */
char *wr_manifest_build (const WrStoredRecording *rec, const char *status,
    gint64 ended_ms);

/* (transfer full) (nullable): base64 of the Ed25519 signature. */
char *wr_manifest_sign (WrGrantSigner *signer, const char *manifest,
    GError **error);

/**
 * wr_manifest_verify:
 * @public_key: "ed25519:BASE64"
 * @signature: base64 (white space around it ignored)
 *
 * Returns: %TRUE when @signature is @public_key's over the domain and
 * @manifest's @len bytes.
 */
gboolean wr_manifest_verify (const char *public_key, const char *manifest,
    gsize len, const char *signature, GError **error);

G_END_DECLS
