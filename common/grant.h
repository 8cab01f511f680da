/* webremote: session grants, Ed25519-signed by the gateway, checked by the
 * agent.
 *
 * A grant says: user U may use display D of agent A with these scopes,
 * for session S, until EXP. The gateway signs it; the agent verifies it
 * with the gateway's public key from its own configuration and enforces
 * the scopes itself, so neither a compromised browser nor a forged relay
 * message can widen anyone's rights (docs/security.md).
 *
 * Token: base64url(payload) "." base64url(signature), no padding, where
 * payload is compact JSON
 *   {"v":1,"sid":..,"user":..,"agent":..,"display":..,"scopes":[..],
 *    "iat":..,"exp":..}
 * (times in unix seconds) and the signature is Ed25519 over
 * WR_GRANT_SIGNING_CONTEXT followed by the payload bytes.
 */
#pragma once

#include "common/crypto.h"

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

/* Prefixed to the payload before signing, so that a signature made with
 * the grant key can never be passed off as anything else. */
#define WR_GRANT_SIGNING_CONTEXT "webremote.grant.v1\n"

/* Bounds; a token outside them is refused as malformed before any
 * crypto or JSON work. */
#define WR_GRANT_MAX_TOKEN_SIZE 4096
#define WR_GRANT_MAX_SCOPES 16
#define WR_GRANT_MAX_SCOPE_LEN 32
#define WR_GRANT_MAX_SID_LEN 64
#define WR_GRANT_MAX_USER_LEN 128
#define WR_GRANT_MAX_AGENT_LEN 64
#define WR_GRANT_MAX_DISPLAY_LEN 32
/* No grant lives longer than this (iat to exp), whatever its signer says. */
#define WR_GRANT_MAX_LIFETIME (3600)
/* Tolerated clock difference between gateway and agent, seconds: a grant
 * stays valid until exp + skew and may be issued up to skew in the
 * future. */
#define WR_GRANT_CLOCK_SKEW 30

#define WR_GRANT_ERROR (wr_grant_error_quark ())
GQuark wr_grant_error_quark (void);

typedef enum {
  WR_GRANT_ERROR_MALFORMED,      /* not a grant: syntax, sizes, fields */
  WR_GRANT_ERROR_BAD_SIGNATURE,  /* not signed by the expected key */
  WR_GRANT_ERROR_EXPIRED,        /* past exp (+ skew), or iat in the future */
  WR_GRANT_ERROR_WRONG_AGENT,    /* signed for another agent */
  WR_GRANT_ERROR_KEY,            /* key files and key strings */
} WrGrantError;

typedef struct {
  char *sid;
  char *user;
  char *agent;
  char *display;
  GStrv scopes;
  gint64 iat;      /* unix seconds */
  gint64 exp;      /* unix seconds */
} WrGrant;

void wr_grant_free (WrGrant *grant);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WrGrant, wr_grant_free)

/**
 * wr_grant_sign:
 * @key: an Ed25519 private key
 * @grant: what to sign; every string must be within the bounds above
 *
 * Returns: (transfer full) (nullable): the token, or %NULL with @error.
 */
char *wr_grant_sign (EVP_PKEY *key, const WrGrant *grant, GError **error);

/**
 * wr_grant_verify:
 * @pubkey: the gateway's Ed25519 public key
 * @token: the token as received (untrusted)
 * @expected_agent: (nullable): the verifier's own agent id
 * @now: the current time, unix seconds
 *
 * Checks sizes and syntax, then the signature, and only then parses the
 * payload (json-glib) and checks its fields, the time window and the
 * agent id.
 *
 * Returns: (transfer full) (nullable): the grant, or %NULL with a
 * WR_GRANT_ERROR whose message is safe to send back (it never quotes the
 * token).
 */
WrGrant *wr_grant_verify (EVP_PKEY *pubkey, const char *token,
    const char *expected_agent, gint64 now, GError **error);

/**
 * wr_grant_error_reason:
 * Returns: (transfer none): a short reason for @code ("bad signature",
 * "expired", ...), for logs and session.ended reasons.
 */
const char *wr_grant_error_reason (WrGrantError code);

/* ---- keys ---- */

/** wr_grant_key_generate: Returns: (transfer full): a new Ed25519 key. */
EVP_PKEY *wr_grant_key_generate (GError **error);

/**
 * wr_grant_key_load_or_create:
 * @path: a PEM (PKCS#8) Ed25519 private key file
 * @created: (out) (optional): whether the key was made now
 *
 * Loads the key, or when @path does not exist makes one and writes it
 * there with mode 0600.
 *
 * Returns: (transfer full) (nullable): the private key.
 */
EVP_PKEY *wr_grant_key_load_or_create (const char *path, gboolean *created,
    GError **error);

/**
 * wr_grant_public_key_to_string:
 * @key: an Ed25519 key (private or public)
 * Returns: (transfer full): `ed25519:BASE64` of the raw 32-byte public key.
 */
char *wr_grant_public_key_to_string (EVP_PKEY *key);

/**
 * wr_grant_public_key_from_string:
 * @text: `ed25519:BASE64` (surrounding white space is ignored)
 * Returns: (transfer full) (nullable): the public key.
 */
EVP_PKEY *wr_grant_public_key_from_string (const char *text, GError **error);

/**
 * wr_grant_public_key_load_file:
 * @path: a PEM public key (`-----BEGIN PUBLIC KEY-----`) or a file holding
 *   the `ed25519:BASE64` line
 * Returns: (transfer full) (nullable): the public key.
 */
EVP_PKEY *wr_grant_public_key_load_file (const char *path, GError **error);


G_END_DECLS
