/* webremote: the gateway's session grant signer (docs/security.md).
 *
 * Holds the Ed25519 key that signs session grants. The key lives in a PEM
 * file (by default STATE/grant-signing.key, made on first start, 0600);
 * agents trust its public half (`webremote-gateway --print-grant-key`).
 * Gateways that share agents must share this file.
 */
#pragma once

#include <glib.h>

#include "common/command-envelope.h"

G_BEGIN_DECLS

/* How long a grant is valid, and how often the gateway renews the grants
 * of live sessions: twice per lifetime, so one lost renewal costs
 * nothing. */
#define WR_GRANT_LIFETIME_S 120
#define WR_GRANT_RENEW_INTERVAL_S 60

#define WR_GRANT_KEY_FILE_NAME "grant-signing.key"

typedef struct _WrGrantSigner WrGrantSigner;

/**
 * wr_grant_signer_new:
 * @path: the private key file; made when missing
 * @created: (out) (optional): whether the key was made now
 *
 * Returns: (transfer full) (nullable): the signer.
 */
WrGrantSigner *wr_grant_signer_new (const char *path, gboolean *created,
    GError **error);
void wr_grant_signer_free (WrGrantSigner *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrGrantSigner, wr_grant_signer_free)

/**
 * wr_grant_signer_get_public_key:
 * Returns: (transfer none): `ed25519:BASE64`, for agents' configuration.
 */
const char *wr_grant_signer_get_public_key (WrGrantSigner *self);

/**
 * wr_grant_signer_issue:
 * @now: unix seconds
 * @expires: (out) (optional): the grant's exp
 *
 * Signs a grant valid from @now for WR_GRANT_LIFETIME_S seconds.
 * Callable from any thread.
 *
 * Returns: (transfer full) (nullable): the token.
 */
char *wr_grant_signer_issue (WrGrantSigner *self, const char *sid,
    const char *user, const char *agent, const char *display,
    const char *const *scopes, gint64 now, gint64 *expires, GError **error);

/**
 * wr_grant_signer_sign_command:
 * @env: the command envelope to sign (common/command-envelope.h); signed
 *   with the same key under the command domain-separation prefix
 *
 * Returns: (transfer full) (nullable): the token.
 */
char *wr_grant_signer_sign_command (WrGrantSigner *self,
    const WrCommandEnvelope *env, GError **error);

/**
 * wr_grant_signer_sign:
 * @domain: a domain-separation prefix ending in "\n", e.g.
 *   "webremote.audit.checkpoint.v1\n"; never the grant or command prefix
 * @data: (array length=len): the bytes to sign
 *
 * Signs @domain followed by @data with the gateway's Ed25519 key (audit
 * checkpoints, recording manifests). Callable from any thread.
 *
 * Returns: (transfer full) (nullable): the 64-byte signature as standard
 * base64 with padding.
 */
char *wr_grant_signer_sign (WrGrantSigner *self, const char *domain,
    const void *data, gsize len, GError **error);

/**
 * wr_grant_signer_verify:
 * @public_key: `ed25519:BASE64`
 * @signature: standard base64 as wr_grant_signer_sign() makes
 *
 * Checks a signature made by wr_grant_signer_sign() without any private
 * key (offline verifiers).
 *
 * Returns: %TRUE when @signature is @public_key's over @domain + @data;
 * %FALSE with a WR_GRANT_ERROR (KEY for a bad key string, BAD_SIGNATURE
 * otherwise).
 */
gboolean wr_grant_signer_verify (const char *public_key, const char *domain,
    const void *data, gsize len, const char *signature, GError **error);

G_END_DECLS
