/* webremote: a recording's evidence bundle, and its offline check
 * (docs/compliance.md, "Recordings").
 *
 * The bundle is a tar file (bundle.h):
 *   manifest.json        the signed manifest, byte for byte
 *   manifest.sig         base64 Ed25519 over
 *                        "webremote.recording.manifest.v1\n" + manifest.json
 *   public-key.txt       "ed25519:BASE64\n", the gateway's key
 *   segments/<file>      every segment the manifest lists
 *   audit/events.jsonl   the session's audit slice (audit.h export)
 *   audit/checkpoints.jsonl
 *   README.txt
 */
#pragma once

#include "gateway/audit.h"
#include "gateway/grant-signer.h"
#include "gateway/store-recording.h"

G_BEGIN_DECLS

/**
 * wr_evidence_write:
 * @path: the tar file to make (must not exist)
 *
 * Returns: %FALSE with G_IO_ERROR_NOT_FOUND when the recording has no
 * signed manifest yet, or another error.
 */
gboolean wr_evidence_write (WrStore *store, WrAudit *audit,
    WrGrantSigner *signer, const char *dir, const WrStoredRecording *rec,
    const char *path, GError **error);

/**
 * wr_evidence_verify:
 * @path: a bundle (tar file or unpacked directory)
 * @pinned_key: (nullable): "ed25519:BASE64"; %NULL trusts public-key.txt
 * @key: (out) (transfer full) (optional): the key the bundle was checked
 *   with
 * @summary: (out) (transfer full) (optional): what was checked
 *
 * Checks the manifest's signature, every segment's size and SHA-256
 * against the manifest, that no segment is missing or extra, and the
 * audit slice (wr_audit_verify_lines()).
 *
 * Returns: %FALSE with G_IO_ERROR_INVALID_DATA naming what is wrong, or
 * another error when the bundle cannot be read at all.
 */
gboolean wr_evidence_verify (const char *path, const char *pinned_key,
    char **key, char **summary, GError **error);

G_END_DECLS
